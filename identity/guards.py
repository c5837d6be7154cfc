"""Guards against over-merging: weak identifiers, and hard conflicts that forbid a merge.

An identifier shared by many distinct people — an office switchboard, a family mailbox, a test
number reused by every manager — says little about any one of them: it stops linking on its own
(it still counts as weak evidence) and is listed with the reason. Hard conflicts between records
(two birth dates that no typo explains, opposite genders on full names, different ИНН of a
company, two different valid СНИЛС, a steward's cannot-link) forbid a merge whatever the score; see
:class:`identity.clustering.ClusterState`.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from identity.settings import EngineSettings

GUARDS_SCHEMA: dict[str, pl.DataType] = {
    "type": pl.String(),
    "value": pl.String(),
    "records": pl.Int64(),
    "reason": pl.String(),
}
WEAK_PHONE = "landline or service number: weak evidence, not used for linking on its own"
WEAK_EMAIL = "role mailbox: shared by colleagues, not used for linking on its own"

#: why a candidate link was refused; the values used in ``link_evidence.reason``
CONFLICT_REASONS: dict[str, str] = {
    "dob_conflict": "birth dates differ by more than a typo explains",
    "gender_conflict": "opposite genders on full names",
    "inn_conflict": "different ИНН of a company",
    "snils_conflict": "different valid СНИЛС",
    "cannot_link": "steward cannot-link override",
}


def _shared(features: pl.DataFrame, column: str, kind: str) -> pl.DataFrame:
    """(type, value, records, people, role) for identifiers held by at least two records."""
    cols = ["rid", "fn", column] + (["eroles"] if column == "emails" else [])
    frame = features.select(cols).explode([column] + (["eroles"] if column == "emails" else []))
    frame = frame.drop_nulls(column)
    role = pl.col("eroles").any() if column == "emails" else pl.lit(False)
    return (
        frame.group_by(pl.col(column).alias("value"))
        .agg(records=pl.len(), people=pl.col("fn").drop_nulls().n_unique(), role=role)
        .filter(pl.col("records") > 1)
        .with_columns(type=pl.lit(kind))
    )


def identifier_guards(
    features: pl.DataFrame, settings: EngineSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Features with ``smobiles`` / ``semails`` (identifiers that may link on their own), and
    the guards table listing every shared identifier that may not, with the reason."""
    max_records, max_people = (
        settings.max_records_per_identifier,
        settings.max_people_per_identifier,
    )
    shared = pl.concat(
        [_shared(features, "mobiles", "phone"), _shared(features, "emails", "email")]
    )
    reason = (
        pl.when(pl.col("role"))
        .then(pl.lit(WEAK_EMAIL))
        .when(pl.col("records") > max_records)
        .then(
            pl.format(
                "shared by {} records (limit {}); not used for linking on its own",
                pl.col("records"),
                pl.lit(max_records),
            )
        )
        .when(pl.col("people") > max_people)
        .then(
            pl.format(
                "shared by {} people with different first names (limit {}); "
                "not used for linking on its own",
                pl.col("people"),
                pl.lit(max_people),
            )
        )
    )
    guarded = shared.with_columns(reason=reason).drop_nulls("reason")
    lands = _shared(features, "lands", "phone").with_columns(reason=pl.lit(WEAK_PHONE))
    table = (
        pl.concat([guarded.select(list(GUARDS_SCHEMA)), lands.select(list(GUARDS_SCHEMA))])
        .cast(GUARDS_SCHEMA)  # type: ignore[arg-type]
        .sort("type", "value")
    )
    return strong_identifiers(features, guarded.get_column("value")), table


def strong_identifiers(features: pl.DataFrame, weak: pl.Series) -> pl.DataFrame:
    """``features`` with ``smobiles`` / ``semails``: the mobiles and non-role e-mails of each
    record that are not in ``weak`` (the identifiers that may link on their own)."""
    roles = pl.Series(_flat(features.get_column("eroles"))[1]).fill_null(False)
    return features.with_columns(
        smobiles=_keep(features.get_column("mobiles"), weak),
        semails=_keep(features.get_column("emails"), weak, ~roles.to_numpy()),
    )


def _flat(lists: pl.Series) -> tuple[np.ndarray, pa.Array]:
    """The offsets (from 0) of each list and the elements of all of them, in order."""
    array = lists.rechunk().to_arrow()
    assert isinstance(array, pa.LargeListArray | pa.ListArray)
    offsets = array.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    first = int(offsets[0]) if len(offsets) else 0  # a slice starts inside the values
    values = array.values.slice(first, int(offsets[-1]) - first if len(offsets) else 0)
    return offsets - first, values


def _keep(lists: pl.Series, weak: pl.Series, also: np.ndarray | None = None) -> pl.Series:
    """Per record, its values of ``lists`` that are not null and not in ``weak`` (and whose
    flag in ``also``, a list parallel to them, is set), in their order (the lists are sorted).

    Filtered on the flat values and re-cut at the lists' offsets: no per-record grouping.
    """
    offsets, flat = _flat(lists)
    values = pl.Series(flat)
    keep = (values.is_not_null() & ~values.is_in(weak.implode())).to_numpy()
    if also is not None:
        if len(also) != len(keep):
            raise ValueError("e-mail role flags are not parallel to the e-mails")
        keep &= also
    starts = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    kept = pa.LargeListArray.from_arrays(
        pa.array(starts[offsets], type=pa.int64()), flat.filter(pa.array(keep))
    )
    return pl.Series(lists.name, kept, dtype=pl.List(pl.String()))
