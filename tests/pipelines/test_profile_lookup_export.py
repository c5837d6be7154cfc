"""`svod profile` lookups and `svod export` files on a tiny published warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.profile.export import ExportError, export_tables, to_cp1251
from pipelines.profile.history import history_snapshot
from pipelines.profile.lookup import Query, classify, lookup
from pipelines.publication import publish
from pipelines.warehouse import RUNS_COLUMNS
from tests.pipelines.test_profile_companies import INN, ROWS

PEOPLE = [
    *ROWS,
    {"key": "m1", "customer": "C9", "full_name": "Çelik Ayşe ✓", "phone": "8 (916) 372-81-95",
     "email": "ayse@mail.ru", "address": "Стамбул, ул. Şeker, 5 ✓"},
    {"key": "m2", "customer": "C9", "full_name": "Челик Айше", "phone": "8 916 12"},
]  # fmt: skip


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    from tests.pipelines.profile_helpers import build

    tables = build(PEOPLE)
    tables["profiles_history"] = history_snapshot(tables["profiles"])
    run = {**dict.fromkeys(RUNS_COLUMNS), "run_id": "r1", "status": "success",
           "started_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    publish(connection, tables, run, tmp_path / "published")
    return connection


def test_classify() -> None:
    assert classify("c0123456789abcde")[0] == Query("customer_id", "C0123456789ABCDE")
    assert classify("Ayse@Mail.RU")[0] == Query("email", "ayse@mail.ru")
    assert classify("8 (916) 372-81-95")[0] == Query("phone", "+79163728195")
    assert classify(INN)[0] == Query("inn", INN)
    assert classify("8 916 12") == [Query("raw", "8 916 12")]


def test_lookup_by_phone_email_raw_cell_and_id(con: duckdb.DuckDBPyConnection) -> None:
    for text in ("+7 916 372 81 95", "AYSE@mail.ru", "8 916 12"):
        assert [c.profile["customer_id"] for c in lookup(con, text)] == ["C9"], text
    card = lookup(con, "89163728195")[0]
    assert card.profile["full_name"] == "Челик Айше"  # Cyrillic beats the Latin spelling
    assert {i["value"] for i in card.identifiers} == {"+79163728195", "8 916 12", "ayse@mail.ru"}
    assert {g["attribute"] for g in card.golden} >= {"name", "phone", "email"}


def test_inn_finds_the_company_and_its_contacts(con: duckdb.DuckDBPyConnection) -> None:
    cards = lookup(con, INN)
    assert cards[0].profile["customer_id"] == "CO"
    assert {c["customer_id"] for c in cards[0].contacts} == {"C1", "C2", "C3"}
    assert lookup(con, "nobody@nowhere.ru") == []


def test_export_parquet_and_csv(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    report = export_tables(con, tmp_path / "pq")
    assert (tmp_path / "pq" / "profiles.parquet").is_file()
    assert report.rows["profiles"] == pl.read_parquet(tmp_path / "pq" / "profiles.parquet").height
    export_tables(con, tmp_path / "utf", "csv", "utf-8")
    text = (tmp_path / "utf" / "profiles.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "Челик Айше".encode() in text
    report = export_tables(con, tmp_path / "win", "csv", "cp1251")
    data = (tmp_path / "win" / "golden_values.cp1251.csv").read_bytes().decode("cp1251")
    assert "Челик Айше" in data and "Стамбул, ул. Seker, 5 ?" in data
    assert report.replaced["golden_values"]["value"] >= 1
    assert ";" in data.splitlines()[0] and "\r\n" in data
    assert (tmp_path / "win" / "export_report.json").is_file()
    with pytest.raises(ExportError, match=r"cp1251 cannot encode"):
        export_tables(con, tmp_path / "strict", "csv", "cp1251", strict=True)


def test_cp1251_replacement_is_explicit() -> None:
    assert to_cp1251("Çelik Ayşe ✓ «Ёж» №5") == "Celik Ayse ? «Ёж» №5"
