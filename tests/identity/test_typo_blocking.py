"""Typed-by-hand records: blocking keys that survive a typo, and partial credit for city typos."""

from __future__ import annotations

import duckdb
import polars as pl

from identity.blocking import block, rules_of
from identity.comparison import compare
from identity.features import record_features
from identity.guards import identifier_guards
from identity.settings import EngineSettings
from tests.identity.engine_data import Rec, staged


def _features(records: list[Rec]) -> pl.DataFrame:
    features, _ = identifier_guards(record_features(staged(records)), EngineSettings())
    return features


def _rules_by_pair(records: list[Rec]) -> dict[tuple[str, str], list[str]]:
    features = _features(records)
    with duckdb.connect() as con:
        pairs = block(con, features, EngineSettings()).pairs
    keys = features.get_column("record_key")
    return {
        (keys[left], keys[right]): rules_of(bits)
        for left, right, bits in pairs.select("rid_l", "rid_r", "rules").iter_rows()
    }


def test_a_mistyped_birth_year_still_blocks_on_name_and_birthday() -> None:
    rules = _rules_by_pair(
        [
            Rec("a", "p1", name="Кузьмин Игорь", dob="1984-03-17"),
            Rec("b", "p1", name="Кузьмин Игорь", dob="1948-03-17"),
            Rec("c", "p2", name="Кузьмин Игорь", dob="1984-07-02"),
        ]
    )
    assert "last_name_day" in rules[("a", "b")]
    assert "first_name_day" in rules[("a", "b")]
    assert "last_name_day" not in rules.get(("a", "c"), [])


def test_vowel_typos_in_both_names_block_on_consonants() -> None:
    rules = _rules_by_pair(
        [
            Rec("a", "p1", name="Robert Allen", city="Leeds"),
            Rec("b", "p1", name="Robert Allon", city="York"),
            Rec("c", "p2", name="Robert Ellis", city="Bath"),
        ]
    )
    assert "name_consonants" in rules[("a", "b")]
    assert ("a", "c") not in rules


def test_same_mailbox_at_a_mistyped_domain_blocks_but_a_short_one_does_not() -> None:
    rules = _rules_by_pair(
        [
            Rec("a", "p1", name="Олег Смирнов", email="smirnov.oleg@mail.ru"),
            Rec("b", "p1", name="Олег С.", email="smirnov.oleg@mai.ru"),
            Rec("c", "p2", name="Анна", email="a.b@yandex.ru"),
            Rec("d", "p3", name="Павел", email="a.b@gmail.com"),
        ]
    )
    assert "email_local" in rules[("a", "b")]
    assert ("c", "d") not in rules


def test_a_city_typo_is_similar_not_different() -> None:
    features = _features(
        [
            Rec("a", "p1", name="Robert Allen", city="London"),
            Rec("b", "p1", name="Robert Allen", city="Londno"),
            Rec("c", "p2", name="Robert Allen", city="Cardiff"),
        ]
    )
    pairs = pl.DataFrame(
        {"rid_l": [0, 0], "rid_r": [1, 2]}, schema=dict.fromkeys(("rid_l", "rid_r"), pl.UInt32)
    )
    levels = compare(features, pairs).get_column("city").to_list()
    assert levels == [1, 0]  # similar, different


def test_swapped_names_with_a_typo_get_typo_credit_not_disagreement() -> None:
    features = _features(
        [
            Rec("a", "p1", name="Смирнов Олег", dob="1980-01-02"),
            Rec("b", "p1", name="Олег Смирнов", dob="1980-01-02"),
            Rec("c", "p2", name="Олег Смирнов", dob="1980-01-02"),
        ]
    )
    # b's names land swapped and mistyped: first «Смирнав», last «Олег»
    b = pl.col("record_key") == "b"
    features = features.with_columns(
        fn=pl.when(b).then(pl.lit("смирнав")).otherwise("fn"),
        lfn=pl.when(b).then(pl.lit("smirnav")).otherwise("lfn"),
        ln=pl.when(b).then(pl.lit("олег")).otherwise("ln"),
        lln=pl.when(b).then(pl.lit("oleg")).otherwise("lln"),
        fn_alts=pl.lit([], dtype=pl.List(pl.String)),
    )
    pairs = pl.DataFrame(
        {"rid_l": [0], "rid_r": [1]}, schema=dict.fromkeys(("rid_l", "rid_r"), pl.UInt32)
    )
    levels = compare(features, pairs).row(0, named=True)
    assert (levels["first_name"], levels["last_name"]) == (3, 2)  # typo, typo
