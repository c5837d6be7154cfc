"""Scoring candidate pairs: the Fellegi–Sunter estimate, the rules beside it, hard conflicts.

A pair's probability comes from the model; a deterministic rule (a company's ИНН, a person's
СНИЛС or passport, a shared personal identifier with the same first name) links without one; a
hard conflict (birth dates, genders, ИНН, СНИЛС) forbids a merge whatever the score. Full and
incremental runs score with these same functions, so they decide alike.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from identity.clustering import Attributes
from identity.comparison import compare
from identity.guards import CONFLICT_REASONS
from identity.model import Model, estimate, level_distribution, total_weight
from identity.prepared import Prepared
from identity.settings import EngineSettings

#: a pair's hard conflict, one byte per pair (millions of pairs, a handful of reasons)
CONFLICT = pl.Enum(list(CONFLICT_REASONS.values()))
DETERMINISTIC = (
    "deterministic rule: same company ИНН, same СНИЛС or passport, or a shared personal "
    "identifier and first name"
)


def random_pairs(features: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    """Uniform random pairs of distinct records of the same entity kind, for ``u``."""
    rng = np.random.default_rng(seed)
    kinds = features.get_column("kind").to_numpy()
    n = features.height
    if n < 2:
        return pl.DataFrame(schema={"rid_l": pl.UInt32(), "rid_r": pl.UInt32()})
    if n * (n - 1) // 2 <= count:  # a small input: every pair, each once
        a, b = np.triu_indices(n, k=1)
    else:
        a, b = rng.integers(0, n, count), rng.integers(0, n, count)
    keep = (a != b) & (kinds[a] == kinds[b])
    return pl.DataFrame({"rid_l": np.minimum(a, b)[keep], "rid_r": np.maximum(a, b)[keep]}).cast(
        pl.UInt32
    )


def estimate_model(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    levels: pl.DataFrame,
    settings: EngineSettings,
    *,
    prepared: Prepared | None = None,
) -> Model:
    """The model of this data: ``u`` from random pairs, ``m`` and the match share by EM over
    the candidate ``pairs`` (with their ``levels``); ``prepared``: ``features`` made ready for
    comparison, if at hand (its TF shares are not read here)."""
    sample = random_pairs(features, settings.random_pairs, settings.seed)
    n = features.height
    if n * (n - 1) // 2 <= settings.random_pairs:
        # a small input, every pair sampled: its true matches would pass for chance
        # agreement, so u is taken from the pairs that blocking did not bring together
        sample = sample.join(pairs.select("rid_l", "rid_r"), on=["rid_l", "rid_r"], how="anti")
    u_random = level_distribution(compare(features, sample, prepared=prepared))
    kinds = features.get_column("kind").value_counts().get_column("count").to_numpy()
    total_pairs = float((kinds.astype(float) * (kinds - 1) / 2).sum())
    return estimate(levels, u_random, settings.em_iterations, total_pairs)


def dob_reliable(model: Model | None, settings: EngineSettings) -> bool:
    """Whether differing birth dates may forbid a merge: only when the data show that records
    of one customer rarely disagree on it (EM's m of the two disagreeing levels is small).
    Where birth dates are noisy (typed by hand, perturbed) a difference is evidence, not proof."""
    if model is None:
        return True
    m = model.m["birth_date"]
    return m[0] + m[1] <= settings.reliable_disagreement


def conflict_attributes(
    features: pl.DataFrame, settings: EngineSettings, *, dob_guard: bool = True
) -> Attributes:
    """Per record, what clustering judges hard conflicts on (birth dates only if reliable)."""
    gender = features.select(
        pl.when(pl.col("full_first") & (pl.col("kind") == "person")).then(pl.col("gender"))
    ).to_series()
    inn = features.select(pl.when(pl.col("kind") == "company").then(pl.col("inn"))).to_series()
    snils = features.get_column("snils")
    dob = features.get_column("dob").to_list() if dob_guard else [None] * features.height
    return Attributes(
        dob=dob,
        gender=gender.to_list(),
        inn=inn.to_list(),
        dob_conflict_years=settings.dob_conflict_years,
        snils=snils.to_list() if snils.null_count() < snils.len() else None,
    )


def deterministic_rule() -> pl.Expr:
    """Links that need no score: a company's ИНН, a person's СНИЛС (or passport, unless their
    СНИЛС differ), or a personal identifier (an unguarded mobile
    or e-mail) together with the same first name and no other surname. Families share phones
    and mailboxes under *different* first names; namesakes share no identifier."""
    shared_id = (pl.col("phone") == 2) | (pl.col("email") == 4)
    same_first = pl.col("first_name") >= 4
    return (
        pl.col("same_inn")
        | pl.col("same_national_id")
        | (shared_id & same_first & (pl.col("last_name") != 0))
    )


def conflict_reason(dob_guard: bool) -> pl.Expr:
    """Over comparison levels: why a pair may not be merged (null: no hard conflict)."""
    expr = pl.lit(None, pl.String())
    flags = ("dob_conflict", "gender_conflict", "inn_conflict", "snils_conflict")
    for flag in reversed(flags if dob_guard else flags[1:]):
        expr = pl.when(pl.col(flag)).then(pl.lit(CONFLICT_REASONS[flag])).otherwise(expr)
    return expr


def score_pairs(
    pairs: pl.DataFrame, levels: pl.DataFrame, model: Model | None, *, dob_guard: bool
) -> pl.DataFrame:
    """``pairs`` with match_weight, probability, conflict and forced (only the total weight:
    the per-field weights of millions of pairs are never held, see
    :func:`identity.evidence.link_evidence`)."""
    if not pairs.height or model is None:
        return pairs.with_columns(
            match_weight=pl.lit(None, pl.Float64()),
            probability=pl.lit(None, pl.Float64()),
            conflict=pl.lit(None, CONFLICT),
            forced=pl.lit(False, pl.Boolean()),
        )
    total = total_weight(levels, model)
    prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    return pairs.with_columns(
        match_weight=pl.Series(total, dtype=pl.Float64),
        probability=pl.Series(prob, dtype=pl.Float64),
        conflict=levels.select(conflict_reason(dob_guard).cast(CONFLICT)).to_series(),
        forced=levels.select(deterministic_rule()).to_series(),
    )
