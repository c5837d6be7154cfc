"""Placeholder clustering on shared identifiers, checked against networkx on random graphs."""

from __future__ import annotations

import networkx as nx
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.exact import cluster_exact


def staged(rows: list[tuple[str, list[str], list[str], str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"record_key": k, "phones": p, "email_keys": e, "inn": i} for k, p, e, i in rows],
        schema={
            "record_key": pl.String(),
            "phones": pl.List(pl.String()),
            "email_keys": pl.List(pl.String()),
            "inn": pl.String(),
        },
    )


def groups(result) -> set[frozenset[str]]:
    frame = result.assignments.group_by("cluster_key").agg(pl.col("record_key"))
    return {frozenset(keys) for keys in frame["record_key"].to_list()}


def test_shared_phone_and_email_chain_links_and_rules_are_named() -> None:
    data = staged(
        [
            ("s|1", ["+79161234567"], [], None),
            ("s|2", ["+79161234567"], ["anna@mail.ru"], None),
            ("s|3", [], ["anna@mail.ru"], None),
            ("s|4", ["+79031112233"], [], None),
        ]
    )
    result = cluster_exact(data, link_on=["phone", "email", "inn"], max_records_per_identifier=10)
    assert groups(result) == {frozenset({"s|1", "s|2", "s|3"}), frozenset({"s|4"})}
    rules = dict(result.assignments.select("record_key", "match_rule").iter_rows())
    assert rules == {
        "s|1": "shared_phone",
        "s|2": "shared_email+phone",
        "s|3": "shared_email",
        "s|4": "singleton",
    }
    assert result.assignments.filter(pl.col("record_key") == "s|3")["cluster_key"][0] == "s|1"


def test_overshared_identifier_is_guarded_and_logged() -> None:
    office = "+74951234567"
    data = staged([(f"s|{i}", [office], [], None) for i in range(4)])
    result = cluster_exact(data, link_on=["phone"], max_records_per_identifier=3)
    assert len(groups(result)) == 4
    assert result.guards.row(0, named=True)["value"] == office
    assert "shared by 4 records (limit 3)" in result.guards.row(0, named=True)["reason"]


def test_link_on_restricts_identifier_types() -> None:
    data = staged([("s|1", [], [], "7797228188"), ("s|2", [], [], "7797228188")])
    assert len(groups(cluster_exact(data, link_on=["phone"], max_records_per_identifier=5))) == 2
    assert len(groups(cluster_exact(data, link_on=["inn"], max_records_per_identifier=5))) == 1


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("abcdefgh"), max_size=3),
            st.lists(st.sampled_from("uvwxyz"), max_size=2),
        ),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_agrees_with_networkx_and_ignores_row_order(records, rnd) -> None:
    rows = [(f"r{i:02d}", ph, em, None) for i, (ph, em) in enumerate(records)]
    result = cluster_exact(
        staged(rows), link_on=["phone", "email"], max_records_per_identifier=1000
    )
    graph = nx.Graph()
    graph.add_nodes_from(r[0] for r in rows)
    for kind, pos in (("p", 1), ("e", 2)):
        owners: dict[str, list[str]] = {}
        for row in rows:
            for value in row[pos]:
                owners.setdefault(kind + value, []).append(row[0])
        for members in owners.values():
            graph.add_edges_from((members[0], m) for m in members[1:])
    assert groups(result) == {frozenset(c) for c in nx.connected_components(graph)}
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    again = cluster_exact(
        staged(shuffled), link_on=["phone", "email"], max_records_per_identifier=1000
    )
    assert again.assignments.equals(result.assignments)


def test_landlines_and_role_mailboxes_never_link_on_their_own() -> None:
    data = pl.DataFrame(
        {
            "record_key": ["s|1", "s|2", "s|3", "s|4"],
            "phones": [["+74951234567"], ["+74951234567"], ["+79161112233"], ["+79161112233"]],
            "phone_types": [["fixed"], ["fixed"], ["mobile"], ["mobile"]],
            "email_keys": [["info@romashka.ru"], ["info@romashka.ru"], [], []],
            "inn": [None, None, None, None],
            "entity_kind": ["person"] * 4,
        }
    )
    result = cluster_exact(data, link_on=["phone", "email"], max_records_per_identifier=10)
    assert groups(result) == {frozenset({"s|1"}), frozenset({"s|2"}), frozenset({"s|3", "s|4"})}
    reasons = dict(result.guards.select("value", "reason").iter_rows())
    assert reasons["+74951234567"].startswith("landline or service number")
    assert reasons["info@romashka.ru"].startswith("role mailbox")


def test_inn_links_companies_but_not_their_employees() -> None:
    data = pl.DataFrame(
        {
            "record_key": ["s|1", "s|2", "s|3"],
            "phones": [[], [], []],
            "email_keys": [[], [], []],
            "inn": ["7797228188"] * 3,
            "entity_kind": ["company", "company", "person"],
        },
        schema_overrides={"phones": pl.List(pl.String()), "email_keys": pl.List(pl.String())},
    )
    result = cluster_exact(data, link_on=["inn"], max_records_per_identifier=10)
    assert groups(result) == {frozenset({"s|1", "s|2"}), frozenset({"s|3"})}
