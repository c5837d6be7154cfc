"""Clustering: agrees with connected components (networkx) where no guard applies, and resists
chains where one does."""

from __future__ import annotations

import networkx as nx
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.clustering import Attributes, cluster_records, dob_compatible

PAIRS_SCHEMA = {
    "rid_l": pl.UInt32(),
    "rid_r": pl.UInt32(),
    "probability": pl.Float64(),
    "conflict": pl.String(),
    "forced": pl.Boolean(),
}


def attrs(n: int, dobs: dict[int, str] | None = None) -> Attributes:
    from datetime import date

    dob: list[date | None] = [None] * n
    for i, text in (dobs or {}).items():
        dob[i] = date.fromisoformat(text)
    nothing: list[str | None] = [None] * n
    return Attributes(dob=dob, gender=nothing, inn=list(nothing), dob_conflict_years=5)


def pairs(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(min(a, b), max(a, b), p, None, False) for a, b, p in rows],
        schema=PAIRS_SCHEMA,
        orient="row",
    )


def partition(labels: list[int]) -> set[frozenset[int]]:
    out: dict[int, set[int]] = {}
    for i, root in enumerate(labels):
        out.setdefault(root, set()).add(i)
    return {frozenset(s) for s in out.values()}


graphs = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.0, 1.0)).filter(
                lambda e: e[0] != e[1]
            ),
            max_size=40,
            unique_by=lambda e: (min(e[0], e[1]), max(e[0], e[1])),
        ),
        st.booleans(),
    )
)


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_agrees_with_networkx_when_no_guard_applies(
    case: tuple[int, list[tuple[int, int, float]], bool],
) -> None:
    n, edges, careful = case
    # no guard applies: no conflicts, and every scored pair is either a link or ignorable
    rows = [(a, b, 0.9 + p / 10) if p > 0.5 else (a, b, 0.3 + p / 2) for a, b, p in edges]
    cannot = {(0, n)} if careful else set()  # a no-op override sends components the careful way
    labels, decisions = cluster_records(
        n,
        pairs(rows),
        attrs(n),
        link_threshold=0.9,
        cluster_threshold=0.3,
        cannot=cannot,
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from((a, b) for a, b, p in rows if p >= 0.9)
    expected = {frozenset(c) for c in nx.connected_components(graph)}
    assert partition(list(labels)) == expected
    assert all(labels[i] == min(c) for c in expected for i in c)  # smallest member names it
    assert (decisions["decision"] == "linked").all()


def test_a_chain_through_a_doubtful_record_stops_at_a_birth_date_conflict() -> None:
    # 0 and 2 are two people born 30 years apart; 1 (a bare surname + shared phone) links both
    rows = [(0, 1, 0.99), (1, 2, 0.95), (0, 2, 0.01)]
    labels, decisions = cluster_records(
        3,
        pairs(rows),
        attrs(3, {0: "1960-01-01", 2: "1990-06-01"}),
        link_threshold=0.9,
        cluster_threshold=0.3,
    )
    assert partition(list(labels)) == {frozenset({0, 1}), frozenset({2})}
    rejected = decisions.filter(pl.col("decision") == "rejected").row(0, named=True)
    assert (rejected["rid_l"], rejected["rid_r"]) == (1, 2)
    assert "birth dates differ" in rejected["reason"]


def test_two_groups_joined_by_one_link_against_the_rest_stay_apart() -> None:
    rows = [(0, 1, 0.99), (2, 3, 0.99), (1, 2, 0.92), (0, 2, 0.0), (0, 3, 0.0), (1, 3, 0.0)]
    labels, decisions = cluster_records(
        4, pairs(rows), attrs(4), link_threshold=0.9, cluster_threshold=0.3
    )
    assert partition(list(labels)) == {frozenset({0, 1}), frozenset({2, 3})}
    reason = decisions.filter(pl.col("decision") == "rejected")["reason"][0]
    assert reason.startswith("weak chain")


def test_must_link_wins_over_a_conflict_and_cannot_link_over_a_score() -> None:
    rows = [(0, 1, 0.99), (2, 3, 0.1)]
    dobs = {2: "1960-01-01", 3: "1990-06-01"}
    labels, _ = cluster_records(
        4,
        pairs(rows),
        attrs(4, dobs),
        link_threshold=0.9,
        cluster_threshold=0.3,
        must={(2, 3)},
        cannot={(0, 1)},
    )
    assert partition(list(labels)) == {frozenset({0}), frozenset({1}), frozenset({2, 3})}


def test_birth_dates_compatible_only_by_typo_or_closeness() -> None:
    from datetime import date

    d = date.fromisoformat
    assert dob_compatible(d("1980-03-12"), d("1980-12-03"), 0)  # day and month swapped
    assert dob_compatible(d("1980-03-12"), d("1986-03-12"), 0)  # one digit
    assert dob_compatible(d("1980-03-12"), d("1983-01-12"), 5)  # close enough
    assert not dob_compatible(d("1960-01-01"), d("1990-06-01"), 5)
