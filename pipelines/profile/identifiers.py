"""Every contact identifier of every customer, valid or not, with where and when it was seen.

The golden record keeps one phone and one e-mail; this table keeps all of them, and also the
raw cells that yielded no valid value (``valid = false``), so nothing a source said is lost and a
call-centre lookup by a number typed in an odd way still finds its customer.
"""

from __future__ import annotations

import polars as pl

from pipelines.profile.common import SourceSets, typed
from pipelines.profile.golden import candidates
from quality.suites import strictly_increasing

#: identifier type → golden attribute whose candidates it lists
IDENTIFIER_TYPES: tuple[str, ...] = ("phone", "email", "inn", "company_inn")

IDENTIFIERS_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "type": pl.String(),
    "value": pl.String(),
    "valid": pl.Boolean(),
    "is_golden": pl.Boolean(),
    "sources": pl.List(pl.String()),
    "record_count": pl.UInt32(),
    "first_seen": pl.Datetime("us", "UTC"),
    "last_seen": pl.Datetime("us", "UTC"),
}


def build_identifiers(frame: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """One row per (customer, type, value); ``frame`` is staged records with customer_id.

    Each type's candidates are grouped on their own, by customer and value (the type is one
    value per part: no key of it to hash), and records are counted by row number when their
    keys are unique and in order (a number, not the key text, to count distinct): the same
    groups as one grouping by (customer, type, value), ~0.6 of ~3.4 CPU-s less at 1M records.
    """
    lazy = frame.lazy()
    if strictly_increasing(frame.get_column("record_key")):
        lazy = lazy.with_columns(record_key=pl.int_range(pl.len(), dtype=pl.UInt32))
    parts = pl.collect_all([candidates(lazy, kind) for kind in IDENTIFIER_TYPES])
    sources = SourceSets(pl.concat([p.get_column("source") for p in parts]))
    per_type = [
        part.lazy()
        .group_by("customer_id", "value")
        .agg(
            pl.col("valid").any(),
            sources.agg(),
            record_count=pl.col("record_key").n_unique(),
            first_seen=pl.col("record_at").min(),
            last_seen=pl.col("record_at").max(),
        )
        .with_columns(type=pl.lit(kind))
        for part, kind in zip(parts, IDENTIFIER_TYPES, strict=True)
    ]
    grouped = pl.concat(pl.collect_all(per_type))
    chosen = golden.filter(pl.col("attribute").is_in(IDENTIFIER_TYPES)).select(
        "customer_id", type="attribute", value="value", is_golden=pl.lit(True)
    )
    return (
        sources.lists(grouped)
        .join(chosen, on=["customer_id", "type", "value"], how="left")
        .with_columns(pl.col("is_golden").fill_null(False))
        .pipe(typed, IDENTIFIERS_SCHEMA)
        .sort(
            ["customer_id", "type", "is_golden", "valid", "record_count", "value"],
            descending=[False, False, True, True, True, False],
        )
    )


def ranked_lists(identifiers: pl.DataFrame) -> pl.DataFrame:
    """customer_id → ``phones`` and ``emails``: every valid value, golden first."""
    valid = identifiers.filter(pl.col("valid") & pl.col("type").is_in(["phone", "email"]))
    lists = valid.group_by("customer_id", "type", maintain_order=True).agg(pl.col("value"))
    wide = lists.pivot(
        on="type", index="customer_id", values="value", on_columns=["phone", "email"]
    )
    return wide.rename({"phone": "phones", "email": "emails"})
