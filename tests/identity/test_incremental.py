"""Incremental resolution equals a full run with the same parameters, and touches little."""

from __future__ import annotations

import polars as pl
import pytest

from identity.engine import Frozen, resolve
from identity.incremental import Previous, resolve_incremental
from tests.identity.engine_data import PEOPLE, Rec, staged

LATER = [
    Rec("new|1", "ivan", "Иван Петрович Иванов", "+79163215476", "", "1980-03-12"),
    Rec("new|2", "petr2", "Petr Sidorov", "", "petr.sidorov@gmail.com"),
    Rec("new|3", "zoya", "Лебедева Зоя", "+7 999 404-40-44", "zoya.l@list.ru"),
    Rec("new|4", "boris", "Борис Орлов", "+7 999 404-40-45", ""),
]


@pytest.mark.parametrize("split", [len(PEOPLE), len(PEOPLE) - 3])
def test_incremental_batch_equals_a_full_run_with_the_same_parameters(split: int) -> None:
    old = PEOPLE[:split]
    batch = PEOPLE[split:] + LATER
    first = resolve(staged(old))
    assert first.model is not None
    frozen = Frozen(first.model, first.tf)
    previous = Previous(first.assignments, first.evidence, first.guards, frozen)
    everything = staged(old + batch)
    incremental, rebuilt = resolve_incremental(everything, {r.key for r in batch}, previous)
    full = resolve(everything, frozen=frozen)
    assert incremental.assignments.equals(full.assignments)
    columns = ["left_key", "right_key", "decision", "probability"]
    assert incremental.evidence.select(columns).equals(full.evidence.select(columns))
    assert rebuilt < everything.height  # the companies and the colleagues were not touched


def test_an_unrelated_batch_rebuilds_only_itself() -> None:
    first = resolve(staged(PEOPLE))
    assert first.model is not None
    previous = Previous(
        first.assignments, first.evidence, first.guards, Frozen(first.model, first.tf)
    )
    stranger = [Rec("new|9", "x", "Фомина Ирина Олеговна", "+7 999 111-00-99", "fomina@bk.ru")]
    result, rebuilt = resolve_incremental(staged(PEOPLE + stranger), {"new|9"}, previous)
    assert rebuilt == 1
    kept = result.assignments.filter(pl.col("record_key") != "new|9")
    assert kept.equals(first.assignments)
