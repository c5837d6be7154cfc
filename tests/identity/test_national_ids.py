"""СНИЛС and passport: parsed from what people type, compared, and a conflict guard."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from identity.engine import resolve
from identity.normalize.national_ids import normalize_national_ids, parse_passport, parse_snils
from pipelines.cli import app
from pipelines.schema import field_for_header
from tests.identity.engine_data import Rec, groups, staged

SNILS_CASES = [
    ("112-233-445 95", "11223344595"),
    ("112 233 445 95", "11223344595"),
    ("11223344595", "11223344595"),
    ("11223344595.0", "11223344595"),  # an Excel number cell
    ("123-456-789 64", "12345678964"),
    ("112-233-445 96", None),  # wrong check digits
    ("000-000-000 00", None),
    ("111-111-111 11", None),  # placeholder
    ("12345", None),
    ("нет", None),
    ("001-001-998 00", "00100199800"),  # old numbers carry no checksum
]
PASSPORT_CASES = [
    ("4508 123456", "4508123456"),
    ("45 08 123456", "4508123456"),
    ("45 08 № 123456", "4508123456"),
    ("серия 4508 номер 123456", "4508123456"),
    ("Паспорт РФ 4508-123456", "4508123456"),
    ("75 1234567", "751234567"),  # заграничный
    ("0000 000000", None),
    ("1111111111", None),
    ("4508 000000", None),
    ("AB 1234567", None),  # another country's passport
    ("4508 12345", None),
]


@pytest.mark.parametrize(("raw", "expected"), SNILS_CASES)
def test_snils_is_parsed_and_checked(raw: str, expected: str | None) -> None:
    assert parse_snils(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), PASSPORT_CASES)
def test_passport_is_parsed(raw: str, expected: str | None) -> None:
    assert parse_passport(raw) == expected


def test_written_but_invalid_values_are_flagged_blank_ones_are_not() -> None:
    out = normalize_national_ids(
        pl.Series(["112-233-445 95", "112-233-445 96", None, " "]),
        pl.Series(["4508 123456", None, "нет", ""]),
    )
    assert out["snils"].to_list() == ["11223344595", None, None, None]
    assert out["national_id_flags"].to_list() == [
        [],
        ["snils_invalid"],
        ["passport_invalid"],
        [],
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("СНИЛС", "snils"),
        ("Страховой номер", "snils"),
        ("Паспорт", "passport"),
        ("Серия и номер паспорта", "passport"),
        ("Passport number", "passport"),
    ],
)
def test_headers_map_to_national_id_fields(header: str, field: str) -> None:
    assert field_for_header(header) == field


def _with_ids(records: list[Rec], ids: Mapping[str, tuple[str | None, str | None]]) -> pl.DataFrame:
    frame = staged(records)
    parsed = normalize_national_ids(
        pl.Series([ids.get(r.key, (None, None))[0] for r in records], dtype=pl.String),
        pl.Series([ids.get(r.key, (None, None))[1] for r in records], dtype=pl.String),
    )
    return pl.concat([frame, parsed.select("snils", "passport")], how="horizontal")


def test_same_snils_links_records_with_nothing_else_in_common() -> None:
    records = [
        Rec("a|1", "x", "Кузнецова Ольга Игоревна", "+7 916 100-20-30"),
        Rec("b|1", "x", "Olga Kuznetsova", "", "olga.k@yandex.ru"),
        Rec("c|1", "y", "Кузнецова Ольга", "+7 925 999-88-77"),
    ]
    ids = {"a|1": ("112-233-445 95", None), "b|1": ("11223344595", None)}
    found = groups(resolve(_with_ids(records, ids)).assignments)
    assert frozenset({"a|1", "b|1"}) in found
    assert frozenset({"c|1"}) in found


def test_same_passport_links_and_different_passports_do_not_forbid() -> None:
    records = [
        Rec("a|1", "x", "Петрова Анна Викторовна", "", "", "03.04.1990"),
        Rec("b|1", "x", "Анна Петрова", "", "", ""),
        Rec("c|1", "x", "Петрова Анна Викторовна", "+7 916 555-44-33", "", "03.04.1990"),
    ]
    ids = {
        "a|1": (None, "4510 654321"),
        "b|1": (None, "45 10 №654321"),
        "c|1": (None, "4511 111222"),  # a newer passport: not a conflict
    }
    result = resolve(_with_ids(records, ids))
    assert any({"a|1", "b|1"} <= g for g in groups(result.assignments))
    assert result.evidence.filter(pl.col("decision") == "rejected").height == 0


def test_different_valid_snils_forbid_a_merge_and_the_reason_is_recorded() -> None:
    twin = {"name": "Смирнов Олег Павлович", "email": "smirnov.op@mail.ru", "dob": "01.02.1985"}
    records = [
        Rec("a|1", "x", phone="+7 916 200-30-40", **twin),
        Rec("b|1", "y", phone="+7 916 200-30-40", **twin),
    ]
    ids = {"a|1": ("112-233-445 95", None), "b|1": ("123-456-789 64", None)}
    result = resolve(_with_ids(records, ids))
    assert groups(result.assignments) == {frozenset({"a|1"}), frozenset({"b|1"})}
    reasons = result.evidence.filter(pl.col("decision") == "rejected")["reason"].to_list()
    assert reasons == ["different valid СНИЛС"]
    # without the СНИЛС the same two rows are one customer: the guard did the work
    assert len(groups(resolve(staged(records)).assignments)) == 1


def test_resolve_reads_snils_and_passport_columns_end_to_end(tmp_path: Path) -> None:
    source = tmp_path / "clients.csv"
    source.write_text(
        "ФИО;Телефон;СНИЛС;Паспорт\n"
        "Иванов Иван Петрович;+7 916 321-54-76;112-233-445 95;\n"
        "Ivanov Ivan;8 (903) 111-22-33;11223344595;\n"
        "Сидорова Мария;;;45 08 №123456\n"
        "Мария Сидорова;;;4508 123456\n"
        "Сидорова Мария;;;4512 000111\n",
        encoding="cp1251",
    )
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(app, ["resolve", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    by_row = dict(pl.read_csv(out).select("source_row", "customer_id").iter_rows())
    assert by_row[2] == by_row[3]
    assert by_row[4] == by_row[5]
    assert by_row[6] != by_row[4]  # namesake with another passport and nothing else
