"""Small expressions every profile module shares: source timestamps, amounts, yes/no values.

Sources write dates their own way (`31.03.2025`, ISO with an offset, `…Z`); profiles compare
them, so they are parsed once here. A value that parses in no known format stays null and the
caller falls back to when the record was ingested.
"""

from __future__ import annotations

import polars as pl

#: Formats tried in order; a time without an offset is taken as UTC.
TIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)

TIME = pl.Datetime("us", "UTC")

_YES = (
    "да",
    "д",
    "yes",
    "y",
    "1",
    "true",
    "истина",
    "on",
    "+",
    "✓",
    "✔",
    "☑",
    "v",
    "x",
    "согласен",
)
_NO = ("нет", "н", "no", "n", "0", "false", "ложь", "off", "-", "✗", "✘", "☐", "не согласен")


def parse_time(expr: pl.Expr) -> pl.Expr:
    """A source date/time string as a UTC timestamp, or null when no known format fits."""
    text = expr.str.strip_chars()
    return pl.coalesce(
        [
            text.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us")
            for f in TIME_FORMATS
        ]
    )


def record_time() -> pl.Expr:
    """When a staged record was true: its own date (``observed_at``) if readable, else ingestion."""
    return pl.coalesce(parse_time(pl.col("observed_at")), pl.col("ingested_at").cast(TIME))


def parse_amount(expr: pl.Expr) -> pl.Expr:
    """`38 970,50 ₽` / `38970.50` → 38970.5; null when it is not a number."""
    cleaned = (
        expr.str.replace_all(r"[\s\u00a0\u202f]|руб\.?|₽|RUB", "")
        .str.replace(",", ".", literal=True)
        .str.extract(r"^(-?\d+(?:\.\d+)?)$", 1)
    )
    return cleaned.cast(pl.Float64, strict=False)


def parse_yes_no(expr: pl.Expr) -> pl.Expr:
    """True for да/yes/1/true/Y/✓…, False for нет/no/0/false/N…, null for anything else."""
    folded = expr.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all("ё", "е")
    return (
        pl.when(folded.is_in(_YES))
        .then(pl.lit(True))
        .when(folded.is_in(_NO))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


def with_customer(staged: pl.DataFrame | pl.LazyFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Staged records joined to their customer, with ``record_at`` (see ``record_time``).

    ``staged`` may be a scan of the staged file: then the records are read straight into the
    joined frame and never held twice.
    """
    keys = links.lazy().select("record_key", "customer_id")
    joined = staged.lazy().join(keys, on="record_key").with_columns(record_at=record_time())
    return joined.collect()
