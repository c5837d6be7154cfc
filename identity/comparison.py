"""Comparisons: for each candidate pair, one agreement level per field, computed vectorised.

Level ``-1`` means "not comparable" (a side has no value) and carries no weight; ``0`` is
disagreement; higher levels are stronger agreement. Each field's levels are documented in
:data:`COMPARISONS`. String similarity uses rapidfuzz ``cpdist`` over whole columns; pairs are
processed in chunks so memory stays bounded at millions of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

CHUNK = 250_000
NAME_TYPO = 0.9  # Jaro-Winkler of Latin keys: «Alen»/«Allen», «Kuznecov»/«Kuznetsov»
NAME_SIMILAR = 0.8  # further apart, still worth a (learned) weight: «oNah»/«Noah»
DOB_NEAR_DAYS = 31  # a day or the month typed wrong
EMAIL_NEAR_EDITS = 3  # typed by hand: a few edits anywhere in the address, digits included
EMAIL_TYPO_EDITS = 1  # a local-part typo at the same domain: «ivanov_a» / «ivnaov_a»


@dataclass(frozen=True)
class Comparison:
    """A field comparison: level labels from 0 (disagree) upward, and its TF-adjusted level."""

    name: str
    levels: tuple[str, ...]
    tf_level: int | None = None  # the exact level whose weight depends on the value's frequency


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("first_name", ("different", "initial", "similar", "typo", "variant", "exact"), 5),
    Comparison("last_name", ("different", "similar", "typo", "exact"), 3),
    Comparison("middle_name", ("different", "initial", "exact")),
    Comparison(
        "birth_date",
        ("different", "within_10y", "within_1y", "year_typo", "within_month", "typo", "exact"),
    ),
    Comparison("phone", ("different", "shared_weak", "shared_mobile"), 2),
    Comparison("email", ("different", "shared_weak", "near", "similar", "exact"), 4),
    Comparison("city", ("different", "similar", "exact"), 2),
    Comparison("company", ("different", "name", "inn")),
    # a person's employer: colleagues share it, so it counts only beside a matching name
    Comparison("employer", ("different", "name", "inn"), 1),
    # СНИЛС is one person's for life; a passport is replaced at 20 and 45, so two different
    # passports are "not comparable", two different valid СНИЛС a disagreement (and a conflict)
    Comparison("national_id", ("different", "passport", "snils")),
)
NAMES: tuple[str, ...] = tuple(c.name for c in COMPARISONS)
TF_VALUE: dict[str, str] = {
    "first_name": "fn",
    "last_name": "lln",
    "phone": "mobiles",
    "email": "emails",
    "city": "city",
    "employer": "company",
}
FLAGS: tuple[str, ...] = (
    "dob_conflict", "gender_conflict", "inn_conflict", "snils_conflict", "same_inn",
    "same_national_id",
)  # fmt: skip
_SIDES = (
    "kind", "fn", "lfn", "fn_alts", "fi", "full_first", "ln", "lln", "mn", "mi", "gender",
    "dob", "mobiles", "lands", "emails", "elocals", "efree", "ework", "city", "inn", "company",
    "smobiles", "semails", "snils", "passport",
)  # fmt: skip


def _sides(features: pl.DataFrame, rid_l: pl.Series, rid_r: pl.Series) -> pl.DataFrame:
    cols = features.select(_SIDES)
    left = cols.select(pl.all().gather(rid_l)).rename(lambda c: f"{c}_l")
    right = cols.select(pl.all().gather(rid_r)).rename(lambda c: f"{c}_r")
    return pl.concat([left, right], how="horizontal")


def _sim(
    frame: pl.DataFrame, left: pl.Expr, right: pl.Expr, scorer: Any, same: float, missing: float
) -> pl.Series:
    """``scorer`` on the pairs where both sides are present and differ; ``same`` where they are
    equal, ``missing`` where one is absent (so most pairs never reach rapidfuzz)."""
    pair = frame.select(a=left, b=right).with_row_index("i")
    both = pl.col("a").is_not_null() & pl.col("b").is_not_null()
    todo = pair.filter(both & (pl.col("a") != pl.col("b")))
    out = np.where(pair.select(both).to_series().to_numpy(), same, missing).astype(np.float64)
    if todo.height:
        got = process.cpdist(todo["a"].to_list(), todo["b"].to_list(), scorer=scorer, workers=-1)
        out[todo["i"].to_numpy()] = np.asarray(got)
    return pl.Series(out)


def _lvl(*branches: tuple[pl.Expr, int], null: pl.Expr) -> pl.Expr:
    expr: Any = pl.when(null).then(pl.lit(-1, pl.Int8))
    for cond, level in branches:
        expr = expr.when(cond).then(pl.lit(level, pl.Int8))
    out: pl.Expr = expr.otherwise(pl.lit(0, pl.Int8))
    return out


def _chunk_levels(frame: pl.DataFrame, dob_conflict_days: int) -> pl.DataFrame:
    c = pl.col
    jw = JaroWinkler.normalized_similarity
    dl = DamerauLevenshtein.distance
    frame = frame.with_columns(
        jw_fn=_sim(frame, c("lfn_l"), c("lfn_r"), jw, 1.0, 0.0),
        jw_ln=_sim(frame, c("lln_l"), c("lln_r"), jw, 1.0, 0.0),
        jw_city=_sim(frame, c("city_l"), c("city_r"), jw, 1.0, 0.0),
        jw_x1=_sim(frame, c("lfn_l"), c("lln_r"), jw, 1.0, 0.0),
        jw_x2=_sim(frame, c("lln_l"), c("lfn_r"), jw, 1.0, 0.0),
        dl_year=_sim(frame, c("dob_l").dt.strftime("%Y"), c("dob_r").dt.strftime("%Y"), dl, 0, 99),
        dl_el=_sim(frame, c("elocals_l").list.first(), c("elocals_r").list.first(), dl, 0, 99),
        dl_em=_sim(frame, c("emails_l").list.first(), c("emails_r").list.first(), dl, 0, 99),
        dl_dob=_sim(
            frame, c("dob_l").dt.strftime("%Y%m%d"), c("dob_r").dt.strftime("%Y%m%d"), dl, 0, 99
        ),
        anyphone=c("mobiles_l")
        .list.concat(c("lands_l"))
        .list.set_intersection(c("mobiles_r").list.concat(c("lands_r"))),
        mail=c("emails_l").list.set_intersection(c("emails_r")),
    )
    strong_mob = c("smobiles_l").list.set_intersection(c("smobiles_r"))
    strong_mail = c("semails_l").list.set_intersection(c("semails_r"))
    email_typo = (
        (c("dl_el") <= EMAIL_TYPO_EDITS)
        & (c("elocals_l").list.first().str.len_chars() >= 5)
        # «ivanov84» / «ivanov85» are two people born a year apart, not a typo
        & (
            c("elocals_l").list.first().str.replace_all(r"\D", "")
            == c("elocals_r").list.first().str.replace_all(r"\D", "")
        )
        & (
            c("emails_l").list.first().str.split("@").list.last()
            == c("emails_r").list.first().str.split("@").list.last()
        )
    )
    email_near = (c("dl_em") <= EMAIL_NEAR_EDITS) & (
        c("emails_l").list.first().str.len_chars() >= 10
    )
    swapped = (c("lfn_l") == c("lln_r")) & (c("lln_l") == c("lfn_r"))
    full = c("full_first_l") & c("full_first_r")
    # names typed into each other's column, one of them mistyped: «Смирнов Олег» / «Олег Смирнав»
    swapped_typo = (c("jw_x1") >= NAME_TYPO) & (c("jw_x2") >= NAME_TYPO)
    days = (c("dob_l") - c("dob_r")).dt.total_days().abs()
    dm_swap = (
        (c("dob_l").dt.year() == c("dob_r").dt.year())
        & (c("dob_l").dt.month() == c("dob_r").dt.day())
        & (c("dob_l").dt.day() == c("dob_r").dt.month())
    )
    dob_typo = (c("dl_dob") <= 1) | dm_swap
    # one digit of the year mistyped, month and day about right: «1975-09-10» / «1985-09-07»
    month_day = (c("dob_l").dt.month().cast(pl.Int32) * 31 + c("dob_l").dt.day()) - (
        c("dob_r").dt.month().cast(pl.Int32) * 31 + c("dob_r").dt.day()
    )
    year_typo = (c("dl_year") == 1) & (month_day.abs() <= DOB_NEAR_DAYS)
    company = c("kind_l") == "company"
    both_snils = c("snils_l").is_not_null() & c("snils_r").is_not_null()
    prefix = (pl.min_horizontal(c("lfn_l").str.len_chars(), c("lfn_r").str.len_chars()) >= 3) & (
        c("lfn_l").str.starts_with(c("lfn_r")) | c("lfn_r").str.starts_with(c("lfn_l"))
    )
    levels = frame.select(
        first_name=_lvl(
            ((c("fn_l") == c("fn_r")) & full, 5),
            (swapped, 5),
            (c("fn_alts_l").list.set_intersection(c("fn_alts_r")).list.len() > 0, 4),
            (full & ((c("jw_fn") >= NAME_TYPO) | prefix | swapped_typo), 3),
            (full & (c("jw_fn") >= NAME_SIMILAR), 2),
            ((c("fi_l") == c("fi_r")) & ~full, 1),
            null=c("fi_l").is_null() | c("fi_r").is_null() | company,
        ),
        last_name=_lvl(
            ((c("ln_l") == c("ln_r")) | (c("lln_l") == c("lln_r")) | swapped, 3),
            ((c("jw_ln") >= NAME_TYPO) | swapped_typo, 2),
            (c("jw_ln") >= NAME_SIMILAR, 1),
            null=c("lln_l").is_null() | c("lln_r").is_null() | company,
        ),
        middle_name=_lvl(
            (c("mn_l") == c("mn_r"), 2),
            ((c("mi_l") == c("mi_r")) & (c("mn_l").is_null() | c("mn_r").is_null()), 1),
            null=c("mi_l").is_null() | c("mi_r").is_null() | company,
        ),
        birth_date=_lvl(
            (days == 0, 6),
            (dob_typo, 5),
            (days <= DOB_NEAR_DAYS, 4),
            (year_typo, 3),
            (days <= 365, 2),
            (days <= 3653, 1),
            null=c("dob_l").is_null() | c("dob_r").is_null(),
        ),
        phone=_lvl(
            (strong_mob.list.len() > 0, 2),
            (c("anyphone").list.len() > 0, 1),
            # an office line and a mobile are not two answers to one question: only two
            # mobiles that differ count as disagreement
            null=(c("anyphone").list.len() == 0)
            & ((c("mobiles_l").list.len() == 0) | (c("mobiles_r").list.len() == 0)),
        ),
        email=_lvl(
            (strong_mail.list.len() > 0, 4),
            (email_typo, 3),
            (c("mail").list.len() > 0, 1),
            (email_near, 2),
            # a work address and a personal one differ by nature: only like against like counts
            null=(c("emails_l").list.len() == 0)
            | (c("emails_r").list.len() == 0)
            | ~((c("efree_l") & c("efree_r")) | (c("ework_l") & c("ework_r"))),
        ),
        city=_lvl(
            (c("city_l") == c("city_r"), 2),
            (c("jw_city") >= NAME_SIMILAR, 1),  # «Londno» / «London»: typed by hand
            null=c("city_l").is_null() | c("city_r").is_null(),
        ),
        company=_lvl(
            (c("inn_l") == c("inn_r"), 2),
            (c("company_l") == c("company_r"), 1),
            null=~company
            | (c("inn_l").is_null() & c("company_l").is_null())
            | (c("inn_r").is_null() & c("company_r").is_null()),
        ),
        employer=_lvl(
            (c("inn_l") == c("inn_r"), 2),
            (c("company_l") == c("company_r"), 1),
            null=company
            | (c("inn_l").is_null() & c("company_l").is_null())
            | (c("inn_r").is_null() & c("company_r").is_null()),
        ),
        national_id=_lvl(
            (c("snils_l") == c("snils_r"), 2),
            (both_snils, 0),
            (c("passport_l") == c("passport_r"), 1),
            null=~both_snils & (c("passport_l") != c("passport_r")).fill_null(True),
        ),
        tf_fn=c("fn_l"),
        tf_lln=c("lln_l"),
        tf_mobiles=strong_mob.list.first(),
        tf_emails=strong_mail.list.first(),
        tf_city=c("city_l"),
        tf_company=c("company_l"),
        dob_conflict=(days > dob_conflict_days) & ~dob_typo.fill_null(False),
        gender_conflict=full & (c("gender_l") != c("gender_r")),
        inn_conflict=company & (c("inn_l") != c("inn_r")),
        same_inn=company & (c("inn_l") == c("inn_r")),
        snils_conflict=both_snils & (c("snils_l") != c("snils_r")),
        same_national_id=~company
        & ((c("snils_l") == c("snils_r")) | (~both_snils & (c("passport_l") == c("passport_r")))),
    )
    return levels.with_columns(pl.col(FLAGS).fill_null(False))


def _tf_shares(levels: pl.DataFrame, tf: dict[str, pl.DataFrame] | None) -> pl.DataFrame:
    """Replace the agreed values (``tf_<column>``) by their term-frequency share (Float32)."""
    for comp, column in TF_VALUE.items():
        name = f"tf_{column}"
        if tf is not None and comp in tf:
            share = levels.select(pl.col(name).alias("value")).join(
                tf[comp], on="value", how="left", maintain_order="left"
            )
            levels = levels.with_columns(
                share.get_column("tf").cast(pl.Float32).fill_null(0.0).alias(name)
            )
        else:
            levels = levels.with_columns(pl.lit(0.0, pl.Float32).alias(name))
    return levels


def compare(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    dob_conflict_years: int = 5,
    tf: dict[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Levels (Int8 per comparison), TF shares and conflict flags, one row per pair, same order.

    ``features`` carry ``smobiles`` / ``semails``: the identifiers strong enough to link (see
    :mod:`identity.guards`); sharing any other phone or e-mail agrees only at the weak level.
    ``tf`` (value → share, per comparison, see :func:`identity.model.tf_tables`) turns each
    agreed value into its frequency; without it the shares are 0 (no adjustment).
    """
    parts = []
    for start in range(0, max(pairs.height, 1), CHUNK):
        chunk = pairs.slice(start, CHUNK)
        sides = _sides(features, chunk["rid_l"], chunk["rid_r"])
        parts.append(_tf_shares(_chunk_levels(sides, int(dob_conflict_years * 365.25)), tf))
    return pl.concat(parts) if parts else pl.DataFrame()
