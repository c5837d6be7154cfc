"""Properties of resolution that must hold whatever the data: one cluster per record, order does
not matter, a re-run changes nothing, an unrelated record merges nothing."""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.engine import resolve
from tests.identity.engine_data import PEOPLE, Rec, groups, staged

BASE = resolve(staged(PEOPLE)).assignments


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_shuffling_input_rows_changes_nothing(rng: random.Random) -> None:
    records = list(PEOPLE)
    rng.shuffle(records)
    assert resolve(staged(records)).assignments.equals(BASE)


def test_every_record_has_exactly_one_cluster_and_a_rerun_changes_nothing() -> None:
    again = resolve(staged(PEOPLE)).assignments
    assert again.equals(BASE)
    assert again["record_key"].is_unique().all()
    assert again.height == len(PEOPLE)
    # a cluster is named by one of its own records
    keys = set(again["record_key"])
    assert set(again["cluster_key"]) <= keys


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(["Орлов Глеб", "Lebedeva Zoya", "Фомина Ирина Олеговна", "Гоша"]))
def test_an_unrelated_new_record_merges_nothing(name: str) -> None:
    stranger = Rec(
        "new|1", "stranger", name, "+7 999 404-40-44", "stranger.x@list.ru", "1999-09-09"
    )
    result = resolve(staged([*PEOPLE, stranger])).assignments
    before, after = groups(BASE), groups(result)
    assert frozenset({"new|1"}) in after
    assert after - {frozenset({"new|1"})} == before


def test_duplicate_record_keys_are_resolved_once() -> None:
    frame = staged([*PEOPLE, PEOPLE[0]])
    result = resolve(frame).assignments
    assert result.height == len(PEOPLE)
    assert result.filter(pl.col("record_key") == "crm|1").height == 1
