"""Survivorship: validity, name quality, source priority, frequency, recency, lineage."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from pipelines.config import ProfileConfig
from tests.pipelines.profile_helpers import build, golden, profile


def test_valid_mobile_beats_an_invalid_cell_even_when_more_frequent() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "phone": "8 916 12"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "phone": "8 916 12"},
        {"key": "3", "customer": "C1", "full_name": "Иванов Иван", "phone": "+7 916 372-81-95"},
    ]
    tables = build(rows)
    chosen = golden(tables, "C1", "phone")
    assert (chosen["value"], chosen["valid"], chosen["record_key"]) == (
        "+79163728195",
        True,
        "sales|3",
    )
    assert chosen["decided_by"] == "validity"
    ids = tables["identifiers"].filter(pl.col("type") == "phone")
    assert sorted(zip(ids["value"], ids["valid"], strict=True)) == [
        ("+79163728195", True),
        ("8 916 12", False),
    ]
    assert profile(tables, "C1")["phone_valid"] is True


def test_mobile_beats_landline() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "phone": "+7 495 318-27-64"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "phone": "+7 495 318-27-64"},
        {"key": "3", "customer": "C1", "full_name": "Иванов Иван", "phone": "+7 916 582-19-37"},
    ]
    assert golden(build(rows), "C1", "phone")["value"] == "+79165821937"


def test_full_cyrillic_name_beats_initials_and_transliteration() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Petrova Anna Sergeevna"},
        {"key": "2", "customer": "C1", "full_name": "Петрова А.С."},
        {"key": "3", "customer": "C1", "full_name": "Petrova Anna Sergeevna"},
        {"key": "4", "customer": "C1", "full_name": "Петрова Анна Сергеевна", "source": "forms"},
    ]
    tables = build(rows)
    p = profile(tables, "C1")
    assert (p["full_name"], p["last_name"], p["first_name"], p["middle_name"]) == (
        "Петрова Анна Сергеевна", "Петрова", "Анна", "Сергеевна",
    )  # fmt: skip
    chosen = golden(tables, "C1", "name")
    assert (chosen["source"], chosen["record_key"], chosen["decided_by"]) == (
        "forms", "forms|4", "quality",
    )  # fmt: skip


def test_source_priority_per_attribute_then_frequency() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "email": "anna@mail.ru"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "email": "anna@mail.ru"},
        {"key": "3", "customer": "C1", "full_name": "Иванов Иван", "email": "boris@mail.ru",
         "source": "onec"},
    ]  # fmt: skip
    assert golden(build(rows), "C1", "email")["value"] == "anna@mail.ru"  # frequency
    config = ProfileConfig(attribute_priority={"email": ["onec", "sales"]})
    chosen = golden(build(rows, config=config), "C1", "email")
    assert (chosen["value"], chosen["source"], chosen["decided_by"]) == (
        "boris@mail.ru", "onec", "source_priority",
    )  # fmt: skip
    # the priority is per attribute: the phone-less name is untouched
    assert golden(build(rows, config=config), "C1", "name")["value"] == "Иванов Иван"


def test_recency_uses_the_records_own_date_and_keeps_it_as_lineage() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "city": "Москва",
         "observed_at": "01.02.2024"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "city": "Казань",
         "observed_at": "2025-03-04T10:00:00+03:00"},
    ]  # fmt: skip
    chosen = golden(build(rows), "C1", "city")
    assert chosen["value"] == "Казань"
    assert chosen["record_at"] == datetime(2025, 3, 4, 7, 0, tzinfo=UTC)
    assert chosen["decided_by"] == "recency"
    assert profile(build(rows), "C1")["region"] is not None


def test_rule_order_is_configurable() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "city": "Москва",
         "observed_at": "01.02.2024"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "city": "Москва",
         "observed_at": "01.02.2024"},
        {"key": "3", "customer": "C1", "full_name": "Иванов Иван", "city": "Казань",
         "observed_at": "01.02.2025"},
    ]  # fmt: skip
    assert golden(build(rows), "C1", "city")["value"] == "Москва"
    recency_first = ProfileConfig(rules=["recency", "frequency"])
    assert golden(build(rows, config=recency_first), "C1", "city")["value"] == "Казань"


def test_same_result_whatever_the_row_order() -> None:
    rows = [
        {"key": str(i), "customer": "C1", "full_name": name, "email": mail}
        for i, (name, mail) in enumerate(
            [("Иванов Иван", "x@mail.ru"), ("Иванов Иван Петрович", "y@mail.ru"),
             ("Ivanov Ivan", "y@mail.ru"), ("Иванов И.", "x@mail.ru")]
        )
    ]  # fmt: skip
    first = build(rows)["golden_values"]
    again = build(list(reversed(rows)))["golden_values"]
    assert first.equals(again)
