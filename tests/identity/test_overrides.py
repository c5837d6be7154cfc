"""Steward overrides always win over the model, and a bad file is reported line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity.engine import Resolution, resolve
from identity.errors import OverridesError
from identity.overrides import Overrides, load_overrides, parse_overrides
from tests.identity.engine_data import PEOPLE, groups, staged


def cluster_of(result: Resolution, key: str) -> frozenset[str]:
    return next(g for g in groups(result.assignments) if key in g)


def test_must_link_joins_what_the_model_keeps_apart() -> None:
    # the two Пётр Алексеевич Сидоров namesakes: the model keeps them apart
    base = resolve(staged(PEOPLE))
    assert "crm|5" not in cluster_of(base, "crm|4")
    forced = resolve(staged(PEOPLE), overrides=Overrides(must=[("crm|4", "crm|5")]))
    assert {"crm|4", "1c|4", "crm|5", "form|5"} <= cluster_of(forced, "crm|4")
    rules = dict(
        zip(forced.assignments["record_key"], forced.assignments["match_rule"], strict=True)
    )
    assert "must_link" in rules["crm|5"]


def test_cannot_link_splits_what_the_model_joins() -> None:
    result = resolve(staged(PEOPLE), overrides=Overrides(cannot=[("crm|1", "desk|1")]))
    assert "desk|1" not in cluster_of(result, "crm|1")
    rejected = result.evidence.filter(
        (result.evidence["left_key"] == "crm|1") & (result.evidence["right_key"] == "desk|1")
    )
    assert rejected["decision"].to_list() == ["rejected"]
    assert "cannot-link" in rejected["reason"][0]


def test_customer_ids_expand_to_their_records() -> None:
    customers = {"C0123456789ABCDE": ["crm|4", "1c|4"]}
    rows = [{"decision": "cannot_link", "left": "C0123456789ABCDE", "right": "crm|5"}]
    got = parse_overrides(rows, customers)
    assert sorted(got.cannot) == [("1c|4", "crm|5"), ("crm|4", "crm|5")]


def test_a_bad_file_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text(
        "decision,left,right,note\nmaybe,a|1,a|2,\nmust_link,,a|2,\n"
        "cannot_link,CFFFFFFFFFFFFFFF,a|1,\n",
        encoding="utf-8",
    )
    with pytest.raises(OverridesError) as info:
        load_overrides(path, {})
    text = str(info.value)
    assert "3 problem(s)" in text
    assert "line 2: decision 'maybe'" in text
    assert "line 3: left is empty" in text
    assert "line 4: customer CFFFFFFFFFFFFFFF is unknown" in text


def test_a_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "none.csv", {}) == Overrides()
