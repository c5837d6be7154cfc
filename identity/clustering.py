"""Clustering that resists chains of weak links.

Not bare connected components: candidate links are grouped into components first (cheap, in
scipy), and a component is accepted whole only when every scored pair inside it is consistent
(no hard conflict, none below ``cluster_threshold``). Any other component is rebuilt greedily,
best link first; two clusters merge only if no record of one conflicts with a record of the other
(birth dates, genders, company ИНН, СНИЛС, cannot-link) and their scored pairs average at least
``cluster_threshold``. Every link refused is returned with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from identity.guards import CONFLICT_REASONS

FORCED = 2.0  # probability given to must-link and deterministic links, above any score


@dataclass(frozen=True)
class Attributes:
    """Per record (indexed by rid): what hard conflicts are judged on."""

    dob: list[date | None]
    gender: list[str | None]  # only for records with a spelled first name
    inn: list[str | None]  # only for companies
    dob_conflict_years: int
    snils: list[str | None] | None = None  # valid СНИЛС of people (None: no record has one)


def dob_compatible(a: date, b: date, years: int) -> bool:
    """Same date, a one-character typo, swapped day/month, or close enough in time."""
    if a == b or abs((a - b).days) <= years * 365.25:
        return True
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return True
    sa, sb = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    diff = [i for i in range(8) if sa[i] != sb[i]]
    return len(diff) <= 1 or (
        len(diff) == 2 and diff[1] == diff[0] + 1 and sa[diff[0]] == sb[diff[1]]
    )


@dataclass
class _Cluster:
    members: list[int]
    dobs: set[date] = field(default_factory=set)
    genders: set[str] = field(default_factory=set)
    inns: set[str] = field(default_factory=set)
    snilses: set[str] = field(default_factory=set)


class ClusterState:
    """Union-find over records with the attributes each cluster holds."""

    def __init__(self, attrs: Attributes, cannot: dict[int, set[int]]) -> None:
        self.attrs, self.cannot = attrs, cannot
        self.parent: dict[int, int] = {}
        self.clusters: dict[int, _Cluster] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while i != root:
            self.parent[i], i = root, self.parent.get(i, i)
        return root

    def cluster(self, root: int) -> _Cluster:
        got = self.clusters.get(root)
        if got is None:
            a = self.attrs
            got = _Cluster([root])
            if a.dob[root] is not None:
                got.dobs.add(a.dob[root])  # type: ignore[arg-type]
            if a.gender[root] is not None:
                got.genders.add(a.gender[root])  # type: ignore[arg-type]
            if a.inn[root] is not None:
                got.inns.add(a.inn[root])  # type: ignore[arg-type]
            if a.snils is not None and a.snils[root] is not None:
                got.snilses.add(a.snils[root])  # type: ignore[arg-type]
            self.clusters[root] = got
        return got

    def conflict(self, ra: int, rb: int) -> str | None:
        """Why clusters ``ra`` and ``rb`` may not merge, or None."""
        a, b = self.cluster(ra), self.cluster(rb)
        small, big = (a, rb) if len(a.members) <= len(b.members) else (b, ra)
        for x in small.members:
            for y in self.cannot.get(x, ()):
                if self.find(y) == big:
                    return CONFLICT_REASONS["cannot_link"]
        years = self.attrs.dob_conflict_years
        if any(not dob_compatible(x, y, years) for x in a.dobs for y in b.dobs):
            return CONFLICT_REASONS["dob_conflict"]
        if len(a.genders | b.genders) > 1:
            return CONFLICT_REASONS["gender_conflict"]
        if len(a.inns | b.inns) > 1:
            return CONFLICT_REASONS["inn_conflict"]
        if len(a.snilses | b.snilses) > 1:
            return CONFLICT_REASONS["snils_conflict"]
        return None

    def union(self, ra: int, rb: int) -> int:
        a, b = self.cluster(ra), self.cluster(rb)
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        ka, kb = (a, b) if keep == ra else (b, a)
        ka.members += kb.members
        ka.dobs |= kb.dobs
        ka.genders |= kb.genders
        ka.inns |= kb.inns
        ka.snilses |= kb.snilses
        self.parent[gone] = keep
        del self.clusters[gone]
        return keep


def _mean_cross(
    state: ClusterState, ra: int, rb: int, scores: dict[int, dict[int, float]]
) -> float:
    a, b = state.cluster(ra), state.cluster(rb)
    small, other = (a, rb) if len(a.members) <= len(b.members) else (b, ra)
    total, n = 0.0, 0
    for x in small.members:
        for y, p in scores.get(x, {}).items():
            if state.find(y) == other:
                total, n = total + min(p, 1.0), n + 1
    return total / n if n else 0.0


def cluster_records(
    n: int,
    pairs: pl.DataFrame,
    attrs: Attributes,
    *,
    link_threshold: float,
    cluster_threshold: float,
    must: set[tuple[int, int]] | None = None,
    cannot: set[tuple[int, int]] | None = None,
) -> tuple[np.ndarray, pl.DataFrame]:
    """Cluster labels (smallest rid of each cluster) and a decision per candidate link.

    ``pairs``: rid_l, rid_r, probability, conflict (reason or null), forced (bool). Returns
    (labels, decisions with rid_l, rid_r, decision ``linked``/``rejected``, reason).
    """
    must, cannot = must or set(), cannot or set()
    forbid: dict[int, set[int]] = {}
    for x, y in cannot:
        forbid.setdefault(x, set()).add(y)
        forbid.setdefault(y, set()).add(x)
    extra = pl.DataFrame(
        {"rid_l": [min(p) for p in must], "rid_r": [max(p) for p in must]},
        schema={"rid_l": pl.UInt32(), "rid_r": pl.UInt32()},
    ).with_columns(
        probability=pl.lit(FORCED), conflict=pl.lit(None, pl.String()), forced=pl.lit(True)
    )
    pairs = pairs.select(extra.columns)
    extra = extra.cast(pairs.schema)
    if extra.height:  # a must-link replaces the scored pair (pairs are unique otherwise)
        pairs = pl.concat([pairs, extra]).unique(
            ["rid_l", "rid_r"], keep="last", maintain_order=True
        )
    pairs = pairs.with_columns(
        candidate=(pl.col("probability") >= link_threshold) | pl.col("forced")
    )
    edges = pairs.filter(pl.col("candidate"))
    graph = coo_matrix(
        (np.ones(edges.height), (edges["rid_l"].to_numpy(), edges["rid_r"].to_numpy())),
        shape=(n, n),
    )
    _, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    comp_of = pl.Series(comp)
    scored = pairs.with_columns(
        comp_l=comp_of.gather(pairs["rid_l"]), comp_r=comp_of.gather(pairs["rid_r"])
    ).filter(pl.col("comp_l") == pl.col("comp_r"))
    special = {r for p in must | cannot for r in p}
    sizes = np.bincount(comp, minlength=1)
    # a component of one record is simple: only the others are checked for conflicts
    grouped = np.flatnonzero(sizes[comp] > 1)
    frame = pl.DataFrame(
        {
            "rid": grouped,
            "comp": comp[grouped],
            "dob": pl.Series(attrs.dob, dtype=pl.Date()).gather(grouped),
            "gender": pl.Series(attrs.gender, dtype=pl.String()).gather(grouped),
            "inn": pl.Series(attrs.inn, dtype=pl.String()).gather(grouped),
        },
    )
    per_comp = frame.group_by("comp").agg(
        ok=(pl.col("dob").n_unique() - pl.col("dob").null_count().clip(0, 1) <= 1)
        & (pl.col("gender").drop_nulls().n_unique() <= 1)
        & (pl.col("inn").drop_nulls().n_unique() <= 1)
        & ~pl.col("rid").is_in(list(special)).any(),
    )
    bad_pairs = scored.group_by("comp_l").agg(
        bad=(pl.col("conflict").is_not_null() | (pl.col("probability") < cluster_threshold)).any()
    )
    per_comp = per_comp.join(bad_pairs, left_on="comp", right_on="comp_l", how="left").with_columns(
        simple=pl.col("ok") & ~pl.col("bad").fill_null(False)
    )
    hard = set(per_comp.filter(~pl.col("simple"))["comp"].to_list())
    roots = np.full(len(sizes), n, dtype=np.int64)
    np.minimum.at(roots, comp, np.arange(n, dtype=np.int64))
    label = roots[comp]
    decisions = _careful(
        scored.filter(pl.col("comp_l").is_in(list(hard))), attrs, forbid, label, cluster_threshold
    )
    simple = edges.with_columns(comp=comp_of.gather(edges["rid_l"])).filter(
        ~pl.col("comp").is_in(list(hard))
    )
    easy = simple.select(
        "rid_l", "rid_r", decision=pl.lit("linked"), reason=pl.lit(None, pl.String())
    )
    out = pl.concat([easy, decisions]).join(
        # every decided pair lies inside one component: join the (much smaller) scored part
        scored.select("rid_l", "rid_r", "probability", "forced"),
        on=["rid_l", "rid_r"],
        how="left",
    )
    return label, out.sort("rid_l", "rid_r")


def _careful(
    scored: pl.DataFrame,
    attrs: Attributes,
    forbid: dict[int, set[int]],
    label: np.ndarray,
    cluster_threshold: float,
) -> pl.DataFrame:
    """Greedy best-first merging inside the doubtful components; fills ``label`` in place."""
    state = ClusterState(attrs, forbid)
    scores: dict[int, dict[int, float]] = {}
    for a, b, p in scored.select("rid_l", "rid_r", "probability").iter_rows():
        scores.setdefault(a, {})[b] = p
        scores.setdefault(b, {})[a] = p
    order = scored.filter(pl.col("candidate")).sort(
        ["forced", "probability", "rid_l", "rid_r"], descending=[True, True, False, False]
    )
    out: list[tuple[int, int, str, str | None]] = []
    for a, b, p, conflict, forced in order.select(
        "rid_l", "rid_r", "probability", "conflict", "forced"
    ).iter_rows():
        ra, rb = state.find(a), state.find(b)
        if ra == rb:
            out.append((a, b, "linked", None))
            continue
        must = p >= FORCED
        reason = None if must else (conflict or state.conflict(ra, rb))
        if reason is None and not forced:
            mean = _mean_cross(state, ra, rb, scores)
            if mean < cluster_threshold:
                reason = f"weak chain: the two groups' pairs average probability {mean:.2f}"
        if reason is None:
            state.union(ra, rb)
            out.append((a, b, "linked", None))
        else:
            out.append((a, b, "rejected", reason))
    members = {root: c.members for root, c in state.clusters.items()}
    for rids in members.values():
        smallest = min(rids)
        for r in rids:
            label[r] = smallest
    # records of doubtful components never touched by a link stay on their own
    touched = {r for rids in members.values() for r in rids}
    for r in set(scored["rid_l"].to_list()) | set(scored["rid_r"].to_list()):
        if r not in touched:
            label[r] = r
    return pl.DataFrame(
        out,
        schema={
            "rid_l": pl.UInt32(),
            "rid_r": pl.UInt32(),
            "decision": pl.String(),
            "reason": pl.String(),
        },
        orient="row",
    )
