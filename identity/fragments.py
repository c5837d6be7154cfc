"""Cluster-level evidence: joining fragments of one customer that no single pair links.

Where every field is noisy (birth dates off by a month, names and e-mails mistyped, half the
values missing) one customer's records often split into fragments whose best pair is only
"probably" a match. One pair is weak evidence; every pair between the two fragments agreeing is
strong. After pairwise clustering, two clusters joined by a scored pair of at least
``cluster_threshold`` are compared on *all* their cross pairs (also those blocking never
proposed) and merge when the mean match probability of those pairs reaches the threshold too —
the same rule the careful clustering applies to a chain of links — and no hard conflict forbids
it. Merges are greedy, best mean first, and repeat on the merged clusters until none is left.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from identity.arrays import union_ints
from identity.clustering import Attributes, ClusterState
from identity.comparison import compare
from identity.model import Model, total_weight
from identity.prepared import Prepared
from identity.scoring import conflict_reason
from identity.settings import EngineSettings

#: two clusters with more cross pairs than this are not compared here (big clusters are
#: decided by their pairs already; this bounds the work at any scale)
MAX_CROSS_PAIRS = 400
MAX_ROUNDS = 5


def _cross_pairs(label: np.ndarray, cand: pl.DataFrame) -> pl.DataFrame:
    """Every record pair (rid_l < rid_r) between the clusters of each candidate pair."""
    members = pl.DataFrame({"rid": np.arange(len(label)), "c": label}).cast(pl.Int64)
    pairs = cand.join(members.rename({"rid": "x", "c": "a"}), on="a").join(
        members.rename({"rid": "y", "c": "b"}), on="b"
    )
    return pairs.select(
        "a",
        "b",
        rid_l=pl.min_horizontal("x", "y").cast(pl.UInt32),
        rid_r=pl.max_horizontal("x", "y").cast(pl.UInt32),
    )


def _members(label: np.ndarray, cand: pl.DataFrame) -> dict[int, list[int]]:
    """Records of every cluster named in ``cand``."""
    wanted = union_ints(cand["a"].to_numpy(), cand["b"].to_numpy())
    rids = np.flatnonzero(np.isin(label, wanted))
    out: dict[int, list[int]] = {}
    for rid, c in zip(rids.tolist(), label[rids].tolist(), strict=True):
        out.setdefault(c, []).append(rid)
    return out


def _built(state: ClusterState, rids: list[int]) -> int:
    """The root of ``rids`` in ``state``, uniting them first (they are one cluster already)."""
    root = state.find(rids[0])
    for r in rids[1:]:
        other = state.find(r)
        if other != root:
            root = state.union(root, other)
    return root


def merge_fragments(
    records: pl.DataFrame,
    label: np.ndarray,
    scored: pl.DataFrame,
    model: Model,
    tf: dict[str, pl.DataFrame] | None,
    state: ClusterState,
    *,
    threshold: float,
    dob_conflict_years: int,
    conflict: pl.Expr,
    prepared: Prepared | None = None,
) -> tuple[np.ndarray, list[tuple[int, int, float, int]]]:
    """New labels (smallest rid per cluster) and the merges made: (rid_l, rid_r of the best
    cross pair, mean probability, cross pairs). ``conflict`` flags a pair that forbids a merge;
    ``prepared`` is ``records`` prepared for comparison, if the caller has it (else each round
    prepares the records of its cross pairs)."""
    label = label.copy()
    merges: list[tuple[int, int, float, int]] = []
    seeds = scored.filter(pl.col("probability") >= threshold).select("rid_l", "rid_r")
    sizes = np.bincount(label, minlength=len(label))
    for _ in range(MAX_ROUNDS):
        cand = (
            seeds.select(
                a=pl.Series(label).gather(seeds["rid_l"]), b=pl.Series(label).gather(seeds["rid_r"])
            )
            .filter(pl.col("a") != pl.col("b"))
            .select(a=pl.min_horizontal("a", "b"), b=pl.max_horizontal("a", "b"))
            .unique()
            .cast(pl.Int64)
        )
        small = sizes[cand["a"].to_numpy()] * sizes[cand["b"].to_numpy()] <= MAX_CROSS_PAIRS
        cand = cand.filter(pl.Series(small))
        if not cand.height:
            break
        cross = _cross_pairs(label, cand)
        levels = compare(
            records,
            cross.select("rid_l", "rid_r"),
            dob_conflict_years=dob_conflict_years,
            tf=tf,
            prepared=prepared,
        )
        total = total_weight(levels, model)
        cross = cross.with_columns(
            p=pl.Series(1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))),
            w=pl.Series(total),
            bad=levels.select(conflict.is_not_null()).to_series(),
        )
        ranked = (
            cross.group_by("a", "b")
            .agg(
                mean=pl.col("p").mean(),
                n=pl.len(),
                bad=pl.col("bad").any(),
                best=pl.struct("rid_l", "rid_r").sort_by("w").last(),
            )
            .filter((pl.col("mean") >= threshold) & ~pl.col("bad"))
            .sort(["mean", "a", "b"], descending=[True, False, False])
        )
        members = _members(label, cand)
        done: set[int] = set()
        for a, b, mean, n, best in ranked.select("a", "b", "mean", "n", "best").iter_rows():
            if a in done or b in done:  # re-judged next round, on the merged cluster
                continue
            ra, rb = _built(state, members[a]), _built(state, members[b])
            if state.conflict(ra, rb) is not None:
                continue
            state.union(ra, rb)
            done.update((a, b))
            merges.append((best["rid_l"], best["rid_r"], mean, n))
            keep, gone = min(a, b), max(a, b)
            label[members[gone]] = keep
            sizes[keep] += sizes[gone]
            sizes[gone] = 0
        if not done:
            break
    return label, merges


def join_fragments(
    records: pl.DataFrame,
    label: np.ndarray,
    decisions: pl.DataFrame,
    scored: pl.DataFrame,
    model: Model,
    tf: dict[str, pl.DataFrame] | None,
    settings: EngineSettings,
    attrs: Attributes,
    cannot: set[tuple[int, int]],
    dob_guard: bool,
    prepared: Prepared | None = None,
) -> tuple[np.ndarray, pl.DataFrame]:
    """Clusters merged on the evidence of all their cross pairs (:func:`merge_fragments`); each
    merge is recorded as a link of its best cross pair, with the mean and the pair count."""
    forbid: dict[int, set[int]] = {}
    for x, y in cannot:
        forbid.setdefault(x, set()).add(y)
        forbid.setdefault(y, set()).add(x)
    label, merges = merge_fragments(
        records,
        label,
        scored,
        model,
        tf,
        ClusterState(attrs, forbid),
        threshold=settings.fragment_threshold,
        dob_conflict_years=settings.dob_conflict_years,
        conflict=conflict_reason(dob_guard),
        prepared=prepared,
    )
    if not merges:
        return label, decisions
    joined = pl.DataFrame(
        merges, schema=["rid_l", "rid_r", "probability", "pairs"], orient="row"
    ).select(
        pl.col("rid_l").cast(pl.UInt32),
        pl.col("rid_r").cast(pl.UInt32),
        decision=pl.lit("linked"),
        reason=pl.format(
            "fragments joined: their {} cross pairs average probability {}",
            "pairs",
            pl.col("probability").round(2),
        ),
        probability=pl.col("probability"),
        forced=pl.lit(False),
    )
    kept = decisions.join(joined.select("rid_l", "rid_r"), on=["rid_l", "rid_r"], how="anti")
    out = pl.concat([kept, joined.select(kept.columns).cast(kept.schema)])
    return label, out.sort("rid_l", "rid_r")
