"""The probabilistic model: Fellegi–Sunter, its parameters estimated from the data (no labels).

- ``u_random``: how often two *random* records agree at each level (sampled pairs);
- ``m`` / ``u`` / ``lam``: expectation–maximisation over the candidate pairs' comparison
  vectors (two latent classes: same customer or not), started from ``u_random``;
- term frequency: agreeing on a value adjusts the level's weight by ``log2(u_random / tf)`` where
  ``tf`` is the share of records holding that value — «Иванов» counts for less than a rare
  surname, a mailbox held by many records for less than a personal one.

A pair's match weight is ``log2(lam / (1 - lam)) + Σ log2(m / u) + TF adjustments``; its
probability is ``2^w / (1 + 2^w)``. Saved as indented JSON beside the run, never pickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from identity.comparison import COMPARISONS, NAMES, TF_VALUE, Comparison
from identity.features import value_counts

_SMOOTH = 0.5
_PRIOR_PAIRS = 20.0
MIN_EM_PAIRS = 200
_MAX_TF_BONUS = 6.0  # bits: a unique value may not outweigh every disagreement on its own


@dataclass(frozen=True)
class Model:
    """Estimated parameters; arrays are indexed by level (0 = disagree). ``u`` is the
    non-match distribution among candidate pairs (kept for inspection); weights use ``u_random``."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    u_random: dict[str, list[float]]
    lam: float
    iterations: int

    def weights(self) -> dict[str, list[float]]:
        """log2(m / u_random) per comparison and level."""
        return {
            c: [float(np.log2(mi / ui)) for mi, ui in zip(self.m[c], self.u_random[c], strict=True)]
            for c in self.m
        }

    def to_json(self) -> str:
        levels = {c.name: list(c.levels) for c in COMPARISONS}
        body = {
            "lambda": self.lam,
            "iterations": self.iterations,
            "comparisons": {
                c: {
                    "levels": levels[c],
                    "m": self.m[c],
                    "u": self.u[c],
                    "u_random": self.u_random[c],
                    "weight": w,
                }
                for c, w in self.weights().items()
            },
        }
        return json.dumps(body, indent=2, ensure_ascii=False)


def level_distribution(levels: pl.DataFrame) -> dict[str, list[float]]:
    """Share of each level among comparable pairs (smoothed), per comparison."""
    out: dict[str, list[float]] = {}
    for comp in COMPARISONS:
        values = levels.get_column(comp.name).to_numpy()
        found = np.bincount(values[values >= 0].astype(np.int64), minlength=len(comp.levels))
        counts = found[: len(comp.levels)].astype(float) + _SMOOTH
        out[comp.name] = [float(x) for x in counts / counts.sum()]
    return out


def _initial_m(n: int) -> np.ndarray:
    """A matching pair mostly agrees exactly: 3 % disagree, 12 % in between, 85 % top level."""
    if n == 2:
        return np.array([0.1, 0.9])
    return np.array([0.03] + [0.12 / (n - 2)] * (n - 2) + [0.85])


def estimate(
    levels: pl.DataFrame, u_random: dict[str, list[float]], iterations: int, total_pairs: float
) -> Model:
    """EM over the distinct comparison vectors of the candidate pairs (weighted by count).

    Both classes are free during EM, so the non-matches that blocking brings together (a family
    sharing a phone, namesakes) have a distribution of their own and do not pollute ``m``.
    Scoring then uses ``m`` with ``u_random`` and the share of matches among *all* pairs
    (``total_pairs``), so being blocked together is not itself counted as evidence."""
    # sorted: group_by's order varies between runs, and so would the sums below in their last
    # bit — enough to flip a pair sitting on a threshold (a re-run must change nothing)
    # one integer per comparison vector (levels -1.. as digits, the first comparison the most
    # significant, so its order is the vectors' order): eight million pairs grouped on one column
    base = max(len(c.levels) for c in COMPARISONS) + 1
    code = pl.lit(0, pl.Int64)
    for name in NAMES:
        code = code * base + (pl.col(name).cast(pl.Int64) + 1)
    patterns = levels.group_by(code.alias("code")).agg(n=pl.len()).sort("code")
    codes = patterns.get_column("code").to_numpy()
    digits = [(codes // base**i) % base - 1 for i in range(len(NAMES) - 1, -1, -1)]
    grid = np.stack(digits, axis=1) if len(codes) else np.zeros((0, len(NAMES)), np.int64)
    count = patterns.get_column("n").to_numpy().astype(float)
    m = {c.name: _initial_m(len(c.levels)) for c in COMPARISONS}
    # start the non-match class at the candidates' own level distribution, not at u_random:
    # against u_random every candidate looks like a match and EM can settle on a wrong split
    u = {c: np.array(v) for c, v in level_distribution(levels).items()}
    lam, done = 0.3, 0
    if count.sum() < MIN_EM_PAIRS:  # too few pairs to learn from: a prior guess, half matches
        lam, iterations = 0.5, 0
    for done in range(1, iterations + 1):  # noqa: B007 (reported)
        log_ratio = np.full(len(count), np.log(lam / (1 - lam)))
        for j, c in enumerate(NAMES):
            col = grid[:, j]
            seen = col >= 0
            log_ratio[seen] += np.log(m[c][col[seen]]) - np.log(u[c][col[seen]])
        post = 1.0 / (1.0 + np.exp(-np.clip(log_ratio, -60, 60)))
        new_lam = float((post * count).sum() / count.sum())
        change = abs(new_lam - lam)
        for j, comp in enumerate(COMPARISONS):
            col, n = grid[:, j], len(comp.levels)
            seen = col >= 0
            # a few pseudo-pairs at the initial guess keep tiny inputs sane
            matched = np.bincount(col[seen], weights=(post * count)[seen], minlength=n)[:n]
            wm = matched.astype(float) + _PRIOR_PAIRS * _initial_m(n)
            wu = np.bincount(col[seen], weights=((1 - post) * count)[seen], minlength=n)[:n]
            new_m, new_u = wm / wm.sum(), (wu + _SMOOTH) / (wu + _SMOOTH).sum()
            change = max(change, float(np.abs(new_m - m[comp.name]).max()))
            m[comp.name], u[comp.name] = new_m, new_u
        lam = min(max(new_lam, 1e-6), 1 - 1e-6)
        if change < 1e-5:
            break
    matches = lam * float(count.sum())
    return Model(
        m={c: list(map(float, v)) for c, v in m.items()},
        u={c: list(map(float, v)) for c, v in u.items()},
        u_random=u_random,
        lam=min(max(matches / max(total_pairs, 1.0), 1e-12), 0.5),
        iterations=done,
    )


def tf_tables(features: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Per TF comparison: (value, tf), the share of holders of a value among all holders.

    For phones and e-mails the holders are the distinct first names behind the value, so a
    personal mailbox written in five records of one person is not "common", a family one is.
    """
    out = {}
    for comp, column in TF_VALUE.items():
        if column in ("mobiles", "emails"):
            counts = (
                features.select("fn", value=pl.col(column))
                .explode("value")
                .drop_nulls("value")
                .group_by("value")
                .agg(n=pl.col("fn").drop_nulls().n_unique().clip(1, None))
            )
        else:
            counts = value_counts(features, column)
        total = max(int(counts.get_column("n").sum() or 0), 1)
        out[comp] = counts.select("value", tf=pl.col("n") / total)
    return out


def _weight(levels: pl.DataFrame, comp: Comparison, table: np.ndarray, model: Model) -> np.ndarray:
    """One comparison's weight per pair (float64; 0 where not comparable), TF-adjusted where
    the pair agrees exactly on a value whose frequency is known."""
    lv = levels.get_column(comp.name).to_numpy()
    w: np.ndarray = np.concatenate(([0.0], table))[lv.astype(np.intp) + 1]  # level -1 → 0
    if comp.tf_level is not None and comp.name in TF_VALUE:
        share = levels.get_column(f"tf_{TF_VALUE[comp.name]}").to_numpy()
        rows = np.flatnonzero((lv == comp.tf_level) & (share > 0))
        u_avg = model.u_random[comp.name][comp.tf_level]
        adjust = np.log2(u_avg / np.maximum(share[rows].astype(np.float64), 1e-12))
        w[rows] += np.clip(adjust, -_MAX_TF_BONUS * 2, _MAX_TF_BONUS)
    return w


def score(levels: pl.DataFrame, model: Model) -> tuple[pl.DataFrame, np.ndarray]:
    """Per-comparison weights (Float32, 0 where not comparable) and the total match weight."""
    weights = model.weights()
    total = np.full(levels.height, float(np.log2(model.lam / (1 - model.lam))))
    columns = {}
    for comp in COMPARISONS:
        w = _weight(levels, comp, np.asarray(weights[comp.name], dtype=np.float64), model)
        columns[comp.name] = w.astype(np.float32)
        total += w
    return pl.DataFrame(columns), total


def total_weight(levels: pl.DataFrame, model: Model) -> np.ndarray:
    """The total match weight of each pair, as :func:`score` gives it, without the
    per-comparison columns (millions of pairs: only their sum is kept)."""
    weights = model.weights()
    total = np.full(levels.height, float(np.log2(model.lam / (1 - model.lam))))
    for comp in COMPARISONS:
        total += _weight(levels, comp, np.asarray(weights[comp.name], dtype=np.float64), model)
    return total
