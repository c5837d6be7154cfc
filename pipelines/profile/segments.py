"""Segment-ready attributes: B2B/B2C, business unit (configurable), age and age band.

They are derived from the golden values only, so a segment query needs no joins. Ages are
counted at the run date; the band labels come from ``[profile] age_bands``.
"""

from __future__ import annotations

import itertools
from datetime import date

import polars as pl

from pipelines.config import ProfileConfig


def age_band_labels(bands: list[int]) -> list[str]:
    """`[18, 25]` → `["<18", "18-24", "25+"]`."""
    if not bands:
        return ["all"]
    labels = [f"<{bands[0]}"]
    labels += [f"{a}-{b - 1}" for a, b in itertools.pairwise(bands)]
    return [*labels, f"{bands[-1]}+"]


def _age(birth: pl.Expr, today: date) -> pl.Expr:
    before_birthday = (birth.dt.month() > today.month) | (
        (birth.dt.month() == today.month) & (birth.dt.day() > today.day)
    )
    return (pl.lit(today.year) - birth.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def segment_columns(
    profiles: pl.DataFrame, linked: pl.Series, config: ProfileConfig, today: date
) -> pl.DataFrame:
    """Add customer_type, business_unit, age, age_band; ``linked`` = IDs with a company link."""
    c = pl.col
    units = config.business_units
    unit_of = {k.strip().lower().replace("ё", "е"): v for k, v in units.items()}

    def unit(col: str) -> pl.Expr:
        key = c(col).str.to_lowercase().str.replace_all("ё", "е")
        return key.replace_strict(unit_of, default=None, return_dtype=pl.String)

    age = _age(c("birth_date"), today)
    labels = age_band_labels(config.age_bands)
    band: pl.Expr = pl.lit(labels[-1])
    for limit, label in reversed(list(zip(config.age_bands, labels, strict=False))):
        band = pl.when(age < limit).then(pl.lit(label)).otherwise(band)
    return profiles.with_columns(
        customer_type=pl.when(
            (c("entity_kind") == "company")
            | c("customer_id").is_in(linked.implode())
            | c("company_name").is_not_null()
        )
        .then(pl.lit("B2B"))
        .otherwise(pl.lit("B2C")),
        business_unit=pl.coalesce(
            unit("region"), unit("city"), pl.lit(config.default_business_unit, pl.String)
        ),
        age=pl.when(age.is_between(0, 120)).then(age),
        age_band=pl.when(age.is_between(0, 120)).then(band),
    )
