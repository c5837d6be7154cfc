"""Expectation suites per layer: raw, staged, identity, published.

Each ``*_suite`` function takes polars frames, builds the small datasets its expectations need
(only the columns they read) and returns them with the expectations. Nothing here imports GX or
Dagster, so the suites run from a test, a notebook or ``quality.expectations.validate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from .expectations import Expectation
from .report import given

Datasets = dict[str, pl.DataFrame]
Suite = tuple[Datasets, list[Expectation]]

#: Lineage every raw record must carry.
REQUIRED_LINEAGE: tuple[str, ...] = (
    "record_key",
    "source",
    "source_record_id",
    "source_file",
    "batch_id",
    "ingested_at",
)

COUNTS = ("rows_in", "staged", "quarantined")

#: Published tables that must never be empty after a publish.
NON_EMPTY_TABLES: tuple[str, ...] = ("profiles", "identifiers", "record_links")


@dataclass(frozen=True)
class Floors:
    """Configurable limits (``[quality]`` in svod.toml)."""

    phone_valid_min: float = 0.5
    email_valid_min: float = 0.5
    quarantined_max: float = 0.5


def _not_null(dataset: str, column: str, *, name: str, describe: str) -> Expectation:
    return Expectation(
        name, dataset, "ExpectColumnValuesToNotBeNull", {"column": column}, describe=describe
    )


def _unique(dataset: str, column: str, *, name: str) -> Expectation:
    return Expectation(
        name,
        dataset,
        "ExpectColumnValuesToBeUnique",
        {"column": column},
        describe=f"{column} must be unique (source|source_record_id)",
    )


def raw_suite(raw: pl.DataFrame) -> Suite:
    """Raw records of the batches in force: lineage present, record keys unique."""
    data = raw.select(list(REQUIRED_LINEAGE))
    specs = [
        _not_null("raw", c, name="lineage_present", describe=f"every raw record has {c}")
        for c in REQUIRED_LINEAGE
    ]
    specs.append(_unique("raw", "record_key", name="record_keys_unique"))
    return {"raw": data}, specs


#: What ``validity_flags`` keeps per staged record.
VALIDITY_COLUMNS: tuple[str, ...] = ("record_key", "source", "batch_id", "phone_ok", "email_ok")


def validity_exprs() -> list[pl.Expr]:
    """Per staged record: phone_ok / email_ok (null where the source gave no value)."""
    return [
        pl.col("record_key"),
        pl.col("source"),
        pl.col("batch_id"),
        *(
            pl.when(given(f"raw_{c}")).then(pl.col(f"{c}s").list.len() > 0).alias(f"{c}_ok")
            for c in ("phone", "email")
        ),
    ]


def validity_flags(staged: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """``validity_exprs`` per record; from a ``scan_parquet`` it streams seven columns."""
    return staged.lazy().select(validity_exprs()).collect(engine="streaming")


def reconcile_frame(
    rows_in: Mapping[str, int], staged: pl.DataFrame, quarantine: pl.DataFrame
) -> pl.DataFrame:
    """Per source: rows read, staged, quarantined (whole unreadable files are not rows)."""
    rows = quarantine.filter(pl.col("reason") != "file_unreadable")
    staged_n = dict(staged.group_by("source").len().iter_rows())
    quarantined_n = dict(rows.group_by("source").len().iter_rows())
    sources = sorted(set(rows_in) | set(staged_n) | set(quarantined_n))
    frame = pl.DataFrame(
        {
            "source": sources,
            "rows_in": [rows_in.get(s, 0) for s in sources],
            "staged": [staged_n.get(s, 0) for s in sources],
            "quarantined": [quarantined_n.get(s, 0) for s in sources],
        },
        schema={"source": pl.String, **dict.fromkeys(COUNTS, pl.Int64)},
    )
    return frame.with_columns(
        accounted=pl.col("staged") + pl.col("quarantined"),
        quarantined_share=pl.when(pl.col("rows_in") > 0)
        .then(pl.col("quarantined") / pl.col("rows_in"))
        .otherwise(0.0),
    )


def staged_suite(
    staged: pl.DataFrame | pl.LazyFrame,
    quarantine: pl.DataFrame,
    rows_in: Mapping[str, int],
    floors: Floors,
    sources: Sequence[str],
    flags: pl.DataFrame | None = None,
) -> Suite:
    """Staged records: reconciliation, unique keys, per-source validity and quarantine share.

    ``flags`` is ``validity_flags(staged)`` when the caller has it already.
    """
    if flags is None:
        flags = validity_flags(staged)
    reconcile = reconcile_frame(rows_in, flags, quarantine)
    specs = [
        _unique("staged", "record_key", name="record_keys_unique"),
        _not_null("staged", "batch_id", name="lineage_present", describe="batch_id present"),
    ]
    present = set(reconcile["source"])
    for source in sorted(set(sources) & present):
        specs += [
            Expectation(
                "rows_reconcile",
                "reconcile",
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "rows_in", "column_B": "accounted"},
                source=source,
                describe="rows read = staged + quarantined",
            ),
            Expectation(
                "quarantine_share",
                "reconcile",
                "ExpectColumnValuesToBeBetween",
                {"column": "quarantined_share", "max_value": floors.quarantined_max},
                source=source,
                threshold=floors.quarantined_max,
                describe=f"at most {floors.quarantined_max:.0%} of rows quarantined",
                observe="quarantined_share",
            ),
        ]
        for field, floor in (("phone", floors.phone_valid_min), ("email", floors.email_valid_min)):
            specs.append(
                Expectation(
                    f"{field}_validity",
                    "staged",
                    "ExpectColumnValuesToBeInSet",
                    {"column": f"{field}_ok", "value_set": [True], "mostly": floor},
                    source=source,
                    threshold=floor,
                    describe=f"at least {floor:.0%} of given {field}s valid",
                )
            )
    return {"staged": flags, "reconcile": reconcile}, specs


def strictly_increasing(keys: pl.Series) -> bool:
    """No null and each key above the one before: every key is one row, in key order."""
    n = keys.len()
    return not keys.null_count() and (n < 2 or bool((keys.slice(1) > keys.slice(0, n - 1)).all()))


def keys_aligned(keys: pl.Series, other: pl.Series) -> bool:
    """Whether ``other`` holds ``keys`` row for row, with no nulls, in strictly increasing order.

    Staged records, links and assignments are all written sorted by record_key, so this is the
    usual case; two comparisons tell, and a join of such tables on the key is a side-by-side
    stack (no hashing of a million keys, and the rows stay in key order).
    """
    return keys.len() == other.len() and keys.equals(other) and strictly_increasing(keys)


def aligned(staged: pl.DataFrame, links: pl.DataFrame) -> bool:
    """True when ``links`` has one row per staged record, in the same order, keys unique."""
    return keys_aligned(staged.get_column("record_key"), links.get_column("record_key"))


def linked_records(staged: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Every link with its staged record's source, birth date and ИНН (``in_staged`` marks a
    match): one join serves the hard-attribute check and the identity metrics."""
    if aligned(staged, links):  # row i of each is the same record: the join is a side by side
        found = staged.select("source", "birth_date", "inn", in_staged=pl.lit(True))
        return pl.concat([links.select("record_key", "customer_id"), found], how="horizontal")
    return links.select("record_key", "customer_id").join(
        staged.select("record_key", "source", "birth_date", "inn", in_staged=pl.lit(True)),
        on="record_key",
        how="left",
    )


def customer_stats(linked: pl.DataFrame) -> pl.DataFrame:
    """Per customer_id: links, any staged, distinct birth dates and ИНН (unstaged rows have
    none) — one grouping serves the hard-attribute check and the largest clusters."""
    return linked.group_by("customer_id").agg(
        records=pl.len(),
        staged=pl.col("in_staged").any(),
        birth_dates=pl.col("birth_date").drop_nulls().n_unique(),
        inns=pl.col("inn").drop_nulls().n_unique(),
    )


def identity_suite(
    staged: pl.DataFrame,
    links: pl.DataFrame,
    linked: pl.DataFrame | None = None,
    stats: pl.DataFrame | None = None,
) -> Suite:
    """Every staged record has exactly one customer_id; no customer mixes hard attributes.

    ``linked`` (``linked_records``) and ``stats`` (``customer_stats``): if the caller has them.
    """
    if aligned(staged, links):  # every staged record has exactly one link, and no other link
        coverage = staged.select(
            "record_key", in_staged=pl.lit(True), links_per_record=pl.lit(1, pl.UInt32)
        )
    else:
        per_key = links.group_by("record_key").agg(links_per_record=pl.len())
        coverage = (
            staged.select("record_key", in_staged=pl.lit(True))
            .join(per_key, on="record_key", how="full", coalesce=True)
            .with_columns(
                pl.col("links_per_record").fill_null(0), pl.col("in_staged").fill_null(False)
            )
        )
    if stats is None:
        stats = customer_stats(linked_records(staged, links) if linked is None else linked)
    customers = stats.filter(pl.col("staged")).select("customer_id", "birth_dates", "inns")
    one = "each staged record has exactly one customer_id"
    specs = [
        Expectation(
            "one_customer_per_record",
            "coverage",
            "ExpectColumnValuesToBeBetween",
            {"column": "links_per_record", "min_value": 1, "max_value": 1},
            describe=one,
        ),
        Expectation(
            "one_customer_per_record",
            "coverage",
            "ExpectColumnValuesToBeInSet",
            {"column": "in_staged", "value_set": [True]},
            describe="no customer_id for a record that is not staged",
        ),
    ]
    for column, words in (("birth_dates", "birth date"), ("inns", "ИНН")):
        specs.append(
            Expectation(
                "hard_attributes_agree",
                "customers",
                "ExpectColumnValuesToBeBetween",
                {"column": column, "max_value": 1},
                blocking=False,
                describe=f"no customer whose records carry different {words}s",
            )
        )
    return {"coverage": coverage, "customers": customers}, specs


def published_suite(table_rows: Mapping[str, int], record_links: pl.DataFrame) -> Suite:
    """Published tables are non-empty; record_links gives every record one customer."""
    tables = pl.DataFrame(
        {"source": list(table_rows), "rows": list(table_rows.values())},
        schema={"source": pl.String, "rows": pl.Int64},
    )
    specs = [
        Expectation(
            "tables_not_empty",
            "tables",
            "ExpectColumnValuesToBeBetween",
            {"column": "rows", "min_value": 1},
            source=table,  # the "source" column holds the table name here
            describe=f"published table {table} has rows",
            observe="rows",
        )
        for table in NON_EMPTY_TABLES
        if table in table_rows
    ]
    links = record_links.select("record_key", "customer_id")
    specs += [
        _unique("record_links", "record_key", name="record_links_consistent"),
        _not_null(
            "record_links",
            "customer_id",
            name="record_links_consistent",
            describe="every published record has a customer_id",
        ),
    ]
    return {"tables": tables, "record_links": links}, specs
