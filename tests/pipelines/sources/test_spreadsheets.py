"""Spreadsheet connector on small real files: xlsx with title rows, cp1251 CSV, broken input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.errors import SourceFileError
from pipelines.sources.base import SourceFile
from pipelines.sources.spreadsheets import read
from tests.pipelines.sources.source_files import source_file as make_source_file

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def source_file(path: Path, mapping: dict[str, str] | None = None, **options: object) -> SourceFile:
    return make_source_file(
        path,
        source="sales",
        kind="spreadsheet",
        folder="sales",
        mapping=mapping,
        options=options,
        ingested_at=NOW,
    )


def write_xlsx(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Клиенты")
    sheet.write(0, 0, "Клиенты отдела продаж")
    sheet.write_row(
        2, 0, ["Фамилия", "Имя", "Моб. телефон", "Эл. почта", "ИНН", "Дата рождения", "Источник"]
    )
    sheet.write_row(
        3, 0, ["Иванов", "Иван", 9161234567, "Ivan@Mail.RU", "0274062111", "12.03.1985", "выставка"]
    )
    sheet.write_row(4, 0, ["Петрова", "Анна", 79031112233.0, None, None, None, None])
    sheet.write_datetime(
        4, 5, dt.datetime(1990, 1, 2), book.add_format({"num_format": "dd.mm.yyyy"})
    )
    sheet.write_row(6, 0, ["Сидоров", None, "8 (495) 123-45-67 доб. 12"])
    other = book.add_worksheet("Архив")
    other.write_row(0, 0, ["ФИО", "Телефон"])
    other.write_row(1, 0, ["Смирнов Олег", "+7 916 000-11-22"])
    book.close()


def test_xlsx_header_below_title_rows_numbers_as_text_and_extra_kept(tmp_path: Path) -> None:
    path = tmp_path / "manager.xlsx"
    write_xlsx(path)
    result = read(source_file(path))
    rec = result.records
    assert rec.height == 4
    first = rec.row(0, named=True)
    assert (first["last_name"], first["first_name"], first["phone"], first["email"]) == (
        "Иванов",
        "Иван",
        "9161234567",
        "Ivan@Mail.RU",
    )
    assert first["inn"] == "0274062111"
    assert first["source_sheet"] == "Клиенты" and first["source_row"] == 4
    assert first["source_record_id"] == "sales/manager.xlsx:Клиенты:4"
    assert first["record_key"] == "sales|sales/manager.xlsx:Клиенты:4"
    assert json.loads(first["extra"]) == {"Источник": "выставка"}
    second = rec.row(1, named=True)
    assert second["phone"] == "79031112233"
    assert second["birth_date"].startswith("1990-01-02")
    # the blank row 6 is quarantined, not lost; row numbers are Excel's
    assert result.quarantine.select("source_row", "reason").rows() == [(6, "empty_row")]
    assert rec.filter(pl.col("source_sheet") == "Архив")["full_name"].to_list() == ["Смирнов Олег"]


def test_configured_sheets_only(tmp_path: Path) -> None:
    path = tmp_path / "manager.xlsx"
    write_xlsx(path)
    result = read(source_file(path, sheets=["Архив"]))
    assert result.records["source_sheet"].unique().to_list() == ["Архив"]
    with pytest.raises(SourceFileError, match=r"sheet\(s\) \['Нет'\] not found; the workbook has"):
        read(source_file(path, sheets=["Нет"]))


def test_cp1251_semicolon_csv_with_two_phone_columns(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    text = (
        "Клиент;Тел.;Мобильный телефон;Почта;Город\r\n"
        "Иванов Иван;8-916-123-45-67;89031112233;ivan@mail.ru;Москва\r\n"
    )
    path.write_bytes(text.encode("cp1251"))
    result = read(source_file(path))
    row = result.records.row(0, named=True)
    assert row["full_name"] == "Иванов Иван"
    assert row["phone"] == "8-916-123-45-67; 89031112233"
    assert row["city"] == "Москва"
    assert row["source_row"] == 2 and row["source_sheet"] is None
    assert "encoding windows-1251, delimiter ';'" in result.notes[0] or "cp1251" in result.notes[0]


def test_utf8_bom_comma_csv_and_explicit_mapping(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeffКто,Номер\nАнна Петрова,+7 916 123 45 67\n".encode())
    with pytest.raises(SourceFileError, match="no header maps to a Svod field"):
        read(source_file(path))
    result = read(source_file(path, mapping={"Кто": "full_name", "Номер": "phone"}))
    assert result.records.select("full_name", "phone").row(0) == (
        "Анна Петрова",
        "+7 916 123 45 67",
    )


def test_utf16_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "export.tsv"
    path.write_bytes("ФИО\tE-mail\nИванов И.И.\ti@ya.ru\n".encode("utf-16"))
    assert read(source_file(path)).records["email"].to_list() == ["i@ya.ru"]


def test_header_without_identifying_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cities.csv"
    path.write_text("Город;Комментарий\nМосква;ок\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as info:
        read(source_file(path))
    assert "sales/cities.csv" in str(info.value)
    assert "no name, phone, e-mail, company or ИНН column" in str(info.value)
    assert "[sources.mapping]" in str(info.value)


def test_binary_and_broken_workbook_give_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02\xff\xfe\x00" * 100)
    with pytest.raises(SourceFileError, match="looks binary"):
        read(source_file(junk))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(
        SourceFileError, match=r"sales/broken.xlsx: not a readable workbook .*save it again"
    ):
        read(source_file(broken))
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"x")
    with pytest.raises(SourceFileError, match=r"unknown spreadsheet format '\.docx'"):
        read(source_file(odd))


def test_ragged_rows_keep_every_cell(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("ФИО;Телефон\nИванов Иван;89161234567;лишнее\nПетров\n", encoding="utf-8")
    rec = read(source_file(path)).records
    assert rec.height == 2
    assert json.loads(rec["extra"][0]) == {"column_3": "лишнее"}
    assert rec["phone"][1] is None


FIXTURES = Path(__file__).parent / "fixtures" / "spreadsheets"


def test_ods_title_rows_numbers_and_date_cells() -> None:
    result = read(source_file(FIXTURES / "clients.ods"))
    ivan, anna = result.records.iter_rows(named=True)
    assert (ivan["source_sheet"], ivan["source_row"]) == ("Клиенты", 4)
    assert (ivan["full_name"], ivan["phone"], ivan["inn"]) == (
        "Иванов Иван",
        "9161234567",
        "7797228188",
    )
    assert ivan["birth_date"].startswith("1985-03-12")
    assert anna["phone"] == "+7 903 111-22-33"


def test_legacy_xls_number_and_date_cells() -> None:
    result = read(source_file(FIXTURES / "clients.xls"))
    oleg, maria = result.records.iter_rows(named=True)
    assert (oleg["source_row"], oleg["full_name"], oleg["phone"]) == (
        4,
        "Сидоров Олег",
        "79261234567",
    )
    assert oleg["birth_date"].startswith("1990-01-02")
    assert maria["phone"] == "8 (916) 000-11-22"


def test_xlsx_starting_below_empty_rows_keeps_excel_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "late.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Лист1")
    sheet.write_row(4, 2, ["ФИО", "Телефон"])  # C5: nothing above or left of it
    sheet.write_row(5, 2, ["Иванов Иван", "89161234567"])
    sheet.write_formula(6, 2, '="Петров "&"Пётр"', None, "Петров Пётр")
    book.close()
    rec = read(source_file(path)).records
    assert rec.select("source_row", "full_name").rows() == [(6, "Иванов Иван"), (7, "Петров Пётр")]


def test_csv_title_rows_quoted_line_breaks_and_number_formats(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Выгрузка клиентов от 20.11.2026\n"
        "\n"
        "ФИО;Телефон;Дата рождения;Комментарий\n"
        'Иванов Иван;7.9161234567E10;31118;"две\nстроки"\n'
        "Петров Пётр;9161234567,0;12.03.1985;\n",
        encoding="utf-8",
    )
    result = read(source_file(path))
    ivan, petr = result.records.iter_rows(named=True)
    # the quoted line break sends the file to the csv module; rows keep their first line
    assert (ivan["source_row"], petr["source_row"]) == (4, 6)
    # numbers stay as written; the phone and date normalisers expand them
    assert (ivan["phone"], ivan["birth_date"], ivan["comment"]) == (
        "7.9161234567E10",
        "31118",
        "две\nстроки",
    )
    assert petr["phone"] == "9161234567,0"


def test_configured_encoding_and_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "koi.csv"
    path.write_bytes("ФИО;Телефон\nИванов Иван;89161234567\n".encode("koi8_r"))
    rec = read(source_file(path, encoding="koi8-r", delimiter=";")).records
    assert rec["full_name"].to_list() == ["Иванов Иван"]
    with pytest.raises(SourceFileError, match=r"sales/koi.csv: the text is not valid utf-8"):
        read(source_file(path, encoding="utf-8"))
    with pytest.raises(SourceFileError, match=r"unknown encoding 'klingon'"):
        read(source_file(path, encoding="klingon"))


def test_unclosed_quote_keeps_the_rest_in_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('ФИО;Телефон\nИванов;1\n"Петров;2\n', encoding="utf-8")
    result = read(source_file(path))  # an unclosed quote swallows the rest: nothing is dropped
    assert result.rows_in == 2
    assert result.records["full_name"][1] == "Петров;2"


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read(source_file(empty)).rows_in == 0
    header_only = tmp_path / "header.csv"
    header_only.write_text("ФИО;Телефон\n", encoding="utf-8")
    assert read(source_file(header_only)).rows_in == 0
