"""Comparisons: for each candidate pair, one agreement level per field, computed vectorised.

Level ``-1`` means "not comparable" (a side has no value) and carries no weight; ``0`` is
disagreement; higher levels are stronger agreement. Each field's levels are documented in
:data:`COMPARISONS`. Records are prepared once (:mod:`identity.prepared`: strings become codes)
and each distinct pair of values is scored once with rapidfuzz (:mod:`identity.pairsim`); pairs
are processed in chunks so memory stays bounded at millions of pairs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from identity.arrays import union_ints
from identity.pairframe import pair_frame
from identity.prepared import THREADS, Prepared, prepare

CHUNK = 500_000
#: fewer pairs than two chunks are split in two halves of at least this many, one per thread
MIN_CHUNK = 50_000
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


def _lvl(*branches: tuple[pl.Expr, int], null: pl.Expr) -> pl.Expr:
    expr: Any = pl.when(null).then(pl.lit(-1, pl.Int8))
    for cond, level in branches:
        expr = expr.when(cond).then(pl.lit(level, pl.Int8))
    out: pl.Expr = expr.otherwise(pl.lit(0, pl.Int8))
    return out


def _chunk_levels(frame: pl.DataFrame, dob_conflict_days: int) -> pl.DataFrame:
    """Levels from :func:`identity.pairframe.pair_frame` (codes compare as their values do)."""
    c = pl.col
    email_typo = (
        (c("dl_el") <= EMAIL_TYPO_EDITS)
        & c("el_long_l")
        # «ivanov84» / «ivanov85» are two people born a year apart, not a typo
        & (c("digits_l") == c("digits_r"))
        & (c("domain_l") == c("domain_r"))
    )
    email_near = (c("dl_em") <= EMAIL_NEAR_EDITS) & c("em_long_l")
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
    company = c("is_co_l")
    both_snils = c("snils_l").is_not_null() & c("snils_r").is_not_null()
    levels = frame.select(
        first_name=_lvl(
            ((c("fn_l") == c("fn_r")) & full, 5),
            (swapped, 5),
            (c("alts"), 4),
            (full & ((c("jw_fn") >= NAME_TYPO) | c("prefix") | swapped_typo), 3),
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
            (c("strong_mob"), 2),
            (c("anyphone"), 1),
            # an office line and a mobile are not two answers to one question: only two
            # mobiles that differ count as disagreement
            null=~c("anyphone") & ((c("mob_n_l") == 0) | (c("mob_n_r") == 0)),
        ),
        email=_lvl(
            (c("strong_mail"), 4),
            (email_typo, 3),
            (c("mail"), 1),
            (email_near, 2),
            # a work address and a personal one differ by nature: only like against like counts
            null=(c("em_n_l") == 0)
            | (c("em_n_r") == 0)
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
        tf_fn=c("tf_fn_l"),
        tf_lln=c("tf_lln_l"),
        tf_mobiles=c("tf_mobiles"),
        tf_emails=c("tf_emails"),
        tf_city=c("tf_city_l"),
        tf_company=c("tf_company_l"),
        dob_conflict=(days > dob_conflict_days) & ~dob_typo.fill_null(False),
        gender_conflict=full & (c("gender_l") != c("gender_r")),
        inn_conflict=company & (c("inn_l") != c("inn_r")),
        same_inn=company & (c("inn_l") == c("inn_r")),
        snils_conflict=both_snils & (c("snils_l") != c("snils_r")),
        same_national_id=~company
        & ((c("snils_l") == c("snils_r")) | (~both_snils & (c("passport_l") == c("passport_r")))),
    )
    return levels.with_columns(pl.col(FLAGS).fill_null(False))


def compare(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    dob_conflict_years: int = 5,
    tf: dict[str, pl.DataFrame] | None = None,
    prepared: Prepared | None = None,
) -> pl.DataFrame:
    """Levels (Int8 per comparison), TF shares and conflict flags, one row per pair, same order.

    ``features`` carry ``smobiles`` / ``semails``: the identifiers strong enough to link (see
    :mod:`identity.guards`); sharing any other phone or e-mail agrees only at the weak level.
    ``tf`` (value → share, per comparison, see :func:`identity.model.tf_tables`) turns each
    agreed value into its frequency; without it the shares are 0 (no adjustment).
    ``prepared`` is ``prepare_records(features, tf)`` made once for several calls; without it
    only the records in ``pairs`` are prepared.
    """
    rid_l = pairs.get_column("rid_l").cast(pl.Int64).to_numpy()
    rid_r = pairs.get_column("rid_r").cast(pl.Int64).to_numpy()
    if prepared is None:
        ends = union_ints(rid_l, rid_r)
        if len(ends) < features.height:  # only the records compared
            rid_l, rid_r = np.searchsorted(ends, rid_l), np.searchsorted(ends, rid_r)
            features = features.select(pl.all().gather(ends))
        prepared = prepare_records(features, tf)
    days = int(dob_conflict_years * 365.25)
    size = min(CHUNK, max(MIN_CHUNK, -(-len(rid_l) // THREADS)))

    def chunk(start: int) -> pl.DataFrame:
        end = start + size
        frame = pair_frame(
            prepared,
            rid_l[start:end],
            rid_r[start:end],
            typo_edits=EMAIL_TYPO_EDITS,
            near_edits=EMAIL_NEAR_EDITS,
        )
        return _chunk_levels(frame, days)

    starts = range(0, max(len(rid_l), 1), size)
    if len(starts) == 1:
        return chunk(0)
    # side by side: a chunk's gathers, masks and rapidfuzz calls run outside the GIL for most
    # of their time, so a second thread uses the second core
    with ThreadPoolExecutor(THREADS) as pool:
        return pl.concat(pool.map(chunk, starts))


def prepare_records(features: pl.DataFrame, tf: dict[str, pl.DataFrame] | None) -> Prepared:
    """``features`` made ready for :func:`compare` (see :mod:`identity.prepared`)."""
    return prepare(features, tf, TF_VALUE)
