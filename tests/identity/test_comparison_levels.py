"""Comparison levels that say "not comparable" where two values answer different questions,
and a person's employer as evidence beside a matching name."""

from __future__ import annotations

import duckdb
import polars as pl

from identity.blocking import block, rules_of
from identity.comparison import compare
from identity.features import record_features
from identity.guards import identifier_guards
from identity.settings import EngineSettings
from tests.identity.engine_data import Rec, staged


def _levels(records: list[Rec], field: str) -> list[int]:
    """Level of ``field`` for the pairs (a, x) for every other record x, in order."""
    features, _ = identifier_guards(record_features(staged(records)), EngineSettings())
    rest = list(range(1, features.height))
    pairs = pl.DataFrame(
        {"rid_l": [0] * len(rest), "rid_r": rest},
        schema=dict.fromkeys(("rid_l", "rid_r"), pl.UInt32),
    )
    return compare(features, pairs).get_column(field).to_list()


def test_an_office_line_against_a_mobile_is_not_a_disagreement() -> None:
    levels = _levels(
        [
            Rec("a", "p1", name="Олег Смирнов", phone="+7 916 482-17-93"),
            Rec("b", "p1", name="Олег Смирнов", phone="+7 495 633-84-28"),  # office line
            Rec("c", "p2", name="Олег Смирнов", phone="+7 926 305-71-64"),  # another mobile
            Rec("d", "p1", name="Олег Смирнов", phone="+7 916 482-17-93"),
        ],
        "phone",
    )
    assert levels == [-1, 0, 2]  # not comparable, different, shared mobile


def test_a_work_address_against_a_personal_one_is_not_a_disagreement() -> None:
    levels = _levels(
        [
            Rec("a", "p1", name="Олег Смирнов", email="o.smirnov@romashka-12.ru"),
            Rec("b", "p1", name="Олег Смирнов", email="oleg1980@mail.ru"),
            Rec("c", "p2", name="Олег Смирнов", email="smirnov@vektor-7.ru"),
        ],
        "email",
    )
    assert levels == [-1, 0]


def test_employer_agrees_by_name_or_inn_and_only_for_people() -> None:
    levels = _levels(
        [
            Rec("a", "p1", name="Олег Смирнов", company='ООО "Ромашка"', inn="7707083893"),
            Rec("b", "p1", name="Олег Смирнов", company="Ромашка"),
            Rec("c", "p1", name="Олег Смирнов", company="ООО Вектор", inn="7707083893"),
            Rec("d", "p2", name="Олег Смирнов", company="Вектор"),
            Rec("e", "p3", name="Олег Смирнов"),
        ],
        "employer",
    )
    assert levels == [1, 2, 0, -1]  # name, ИНН, different, not comparable


def test_a_shared_small_domain_blocks_and_different_domains_do_not() -> None:
    features, _ = identifier_guards(
        record_features(
            staged(
                [
                    Rec("a", "p1", name="Robert Allen", email="robert255@smith.net"),
                    Rec("b", "p1", name="Rob Alen", email="roberta25@smith.net"),
                    Rec("c", "p2", name="Robert Allen", email="r.allen@jones.com"),
                ]
            )
        ),
        EngineSettings(),
    )
    with duckdb.connect() as con:
        pairs = block(con, features, EngineSettings()).pairs
    rules = {(a, b): rules_of(bits) for a, b, bits in pairs.iter_rows()}
    assert "email_domain" in rules[(0, 1)]
    assert "email_domain" not in rules.get((0, 2), [])
