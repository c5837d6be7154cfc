"""Which normalised rows cannot be used and why: the staging quarantine rule."""

from __future__ import annotations

import polars as pl

from pipelines.schema import QUARANTINE_LINEAGE, QUARANTINE_SCHEMA


def usable_expr() -> pl.Expr:
    """True where a row identifies someone: a valid phone, e-mail, ИНН or СНИЛС, or a real name."""
    has_contact = (
        (pl.col("phones").list.len() > 0)
        | (pl.col("emails").list.len() > 0)
        | pl.col("inn").is_not_null()
        | pl.col("snils").is_not_null()
    )
    has_name = pl.col("name_kind").is_in(["person", "company"]) & (
        pl.col("last_name").is_not_null()
        | pl.col("first_name").is_not_null()
        | pl.col("company_name").is_not_null()
    )
    has_company = pl.col("company_name").is_not_null()
    return has_contact | has_name | has_company


def split_unusable(normalized: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split normalised rows into (usable, quarantine entries) with a reason per row."""
    usable = normalized.select(usable_expr()).to_series()
    # nearly every row is usable: keep the frame itself instead of a filtered copy of it
    kept = normalized if usable.all(ignore_nulls=False) is True else normalized.filter(usable)
    bad = normalized.filter(~usable)
    raw_cols = [c for c in bad.columns if c.startswith("raw_")]
    quarantine = bad.select(
        *QUARANTINE_LINEAGE,
        stage=pl.lit("stage"),
        reason=pl.when(pl.col("name_kind") == "junk")
        .then(pl.lit("junk_record"))
        .otherwise(pl.lit("no_identifier")),
        field=pl.lit(None, dtype=pl.String()),
        detail=pl.col("quality_flags").list.join(", "),
        raw=pl.struct(
            [pl.col(c).alias(c.removeprefix("raw_")) for c in raw_cols]
        ).struct.json_encode(),
    )
    return kept, quarantine.select(list(QUARANTINE_SCHEMA))
