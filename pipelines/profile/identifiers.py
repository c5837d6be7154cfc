"""Every contact identifier of every customer, valid or not, with where and when it was seen.

The golden record keeps one phone and one e-mail; this table keeps all of them, and also the
raw cells that yielded no valid value (``valid = false``), so nothing a source said is lost and a
call-centre lookup by a number typed in an odd way still finds its customer.
"""

from __future__ import annotations

import polars as pl

from pipelines.profile.common import SourceSets, typed
from pipelines.profile.golden import candidates

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
    """One row per (customer, type, value); ``frame`` is staged records with customer_id."""
    lazy = frame.lazy()
    parts = pl.collect_all(
        [candidates(lazy, kind).with_columns(type=pl.lit(kind)) for kind in IDENTIFIER_TYPES]
    )
    chosen = golden.filter(pl.col("attribute").is_in(IDENTIFIER_TYPES)).select(
        "customer_id", type="attribute", value="value", is_golden=pl.lit(True)
    )
    seen = pl.concat(parts)
    sources = SourceSets(seen.get_column("source"))
    grouped = seen.group_by("customer_id", "type", "value").agg(
        pl.col("valid").any(),
        sources.agg(),
        record_count=pl.col("record_key").n_unique(),
        first_seen=pl.col("record_at").min(),
        last_seen=pl.col("record_at").max(),
    )
    del seen
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
