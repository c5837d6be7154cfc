"""B2B: companies by ИНН, then ОГРН, then name; contacts with their position."""

from __future__ import annotations

import polars as pl

from tests.pipelines.profile_helpers import build, profile

INN = "7797228188"  # checksum-valid, synthetic
OGRN = "1267791566855"

ROWS = [
    # the company's own 1C record, with ИНН and ОГРН
    {"key": "k1", "source": "onec", "customer": "CO", "entity_kind": "company",
     "company": 'ООО "Ромашка"', "inn": INN, "ogrn": OGRN},
    # a 1C Представитель: company by 1C id only
    {"key": "p1", "source": "onec", "customer": "C1", "full_name": "Иванов Иван Иванович",
     "company": 'ООО "Ромашка"', "position": "Контактное лицо",
     "extra": '{"company_id": "k1"}'},
    # a spreadsheet row naming the company with its ИНН
    {"key": "s1", "customer": "C2", "full_name": "Петрова Анна", "company": "Ромашка",
     "inn": INN, "position": "Бухгалтер"},
    # a name-only mention joins the one ИНН company of that name
    {"key": "s2", "customer": "C3", "full_name": "Сидоров Олег", "company": "ООО Ромашка"},
    # another company known by name only
    {"key": "s3", "customer": "C4", "full_name": "Орлова Вера", "company": "ИП Лютикова"},
]  # fmt: skip


def test_companies_resolve_by_inn_then_name() -> None:
    tables = build(ROWS)
    companies = tables["companies"].sort("match_key")
    assert companies["match_key"].to_list() == [f"inn:{INN}", "name:лютикова"]
    romashka = companies.row(0, named=True)
    assert (romashka["inn"], romashka["ogrn"], romashka["customer_id"]) == (INN, OGRN, "CO")
    assert romashka["contacts_count"] == 3
    links = tables["customer_companies"].filter(pl.col("company_id") == romashka["company_id"])
    assert dict(zip(links["customer_id"], links["position"], strict=True)) == {
        "C1": "Контактное лицо",
        "C2": "Бухгалтер",
        "C3": None,
    }


def test_company_ids_are_stable_and_persons_are_b2b() -> None:
    first, again = build(ROWS), build(list(reversed(ROWS)))
    assert first["companies"]["company_id"].to_list() == again["companies"]["company_id"].to_list()
    assert profile(first, "C3")["customer_type"] == "B2B"
    assert profile(first, "C2")["company_ids"] == profile(first, "C1")["company_ids"]
    # the company's ИНН on a person's row is the employer's, not theirs
    assert profile(first, "C2")["inn"] is None
    ids = first["identifiers"].filter(pl.col("customer_id") == "C2")
    assert ids.select("type", "value").rows() == [("company_inn", INN)]


def test_ogrn_joins_the_inn_that_carries_it() -> None:
    rows = [*ROWS, {"key": "x", "customer": "C5", "full_name": "Зайцев Ян",
                    "company": "Ромашка-М", "ogrn": OGRN, "entity_kind": "person"}]  # fmt: skip
    tables = build(rows)
    assert tables["companies"].height == 2
