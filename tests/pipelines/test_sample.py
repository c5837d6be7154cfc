"""The sample generator: deterministic bytes, parseable files, a truth that matches them."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from itertools import islice
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from stdnum.ru import inn

from pipelines.sample import (
    iter_people,
    write_benchmark_commerceml,
    write_benchmark_csv,
    write_benchmark_xlsx,
    write_sample_inbox,
)
from pipelines.sample.workspace import FORMS, IVANOVA, LEADS, ONE_C, PETROV, TICKETS
from pipelines.schema import field_for_header

PEOPLE = 200
HEADER_ROWS = {(IVANOVA, "Клиенты"): 1, (PETROV, "Клиенты"): 3, (PETROV, "Архив 2024"): 1}


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write_sample_inbox(root, people=PEOPLE, seed=42)
    return root


@pytest.fixture(scope="module")
def truth(workspace: Path) -> list[dict[str, str]]:
    with (workspace / "truth" / "records.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _by_file(truth: list[dict[str, str]], file: str) -> list[dict[str, str]]:
    return [row for row in truth if row["file"] == file]


def test_same_seed_gives_identical_bytes(workspace: Path, tmp_path: Path) -> None:
    summary = write_sample_inbox(tmp_path / "again", people=PEOPLE, seed=42)
    assert _digest(tmp_path / "again") == _digest(workspace)
    write_sample_inbox(tmp_path / "other", people=PEOPLE, seed=43)
    assert _digest(tmp_path / "other") != _digest(workspace)
    assert summary.people == PEOPLE
    assert summary.companies >= 2


def test_every_listed_file_exists_and_nothing_else(workspace: Path) -> None:
    summary = write_sample_inbox(workspace / "copy", people=PEOPLE, seed=42)
    inbox = workspace / "copy" / "inbox"
    written = sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file())
    assert written == sorted(summary.files)
    assert summary.files == [IVANOVA, PETROV, LEADS, ONE_C, FORMS, TICKETS]


def test_files_parse_and_headers_map_to_schema(workspace: Path) -> None:
    inbox = workspace / "inbox"
    leads = pl.read_csv(inbox / LEADS, encoding="cp1251", separator=";", infer_schema=False)
    assert leads.height > 10
    assert (inbox / LEADS).read_bytes().count(b"\r\n") == leads.height + 1
    headers = list(leads.columns)
    for file, sheet in HEADER_ROWS:
        frame = pl.read_excel(inbox / file, sheet_name=sheet, infer_schema_length=0)
        assert frame.height > 5
        book = openpyxl.load_workbook(inbox / file, read_only=True)
        header_row = HEADER_ROWS[(file, sheet)]
        headers += list(next(book[sheet].iter_rows(header_row, header_row, values_only=True)))
    unmapped = [h for h in headers if field_for_header(str(h)) is None]
    assert unmapped == []
    root = ET.parse(inbox / ONE_C).getroot()
    assert _local(root.tag) == "КоммерческаяИнформация"
    assert root.get("ВерсияСхемы") == "2.08"
    assert (inbox / ONE_C).read_bytes().startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    forms = json.loads((inbox / FORMS).read_text(encoding="utf-8"))
    assert {"Name", "Phone", "Email", "tranid", "formid"} <= set(forms[0])
    tickets = json.loads((inbox / TICKETS).read_text(encoding="utf-8"))
    user_ids = {u["id"] for u in tickets["users"]}
    assert {t["requester_id"] for t in tickets["tickets"]} <= user_ids


def test_truth_has_one_row_per_spreadsheet_row(
    workspace: Path, truth: list[dict[str, str]]
) -> None:
    inbox = workspace / "inbox"
    for (file, sheet), header_rows in HEADER_ROWS.items():
        max_row = openpyxl.load_workbook(inbox / file)[sheet].max_row
        rows = [int(r["row"]) for r in _by_file(truth, file) if r["sheet"] == sheet]
        assert sorted(rows) == list(range(header_rows + 1, max_row + 1)), (file, sheet)
        # polars drops all-empty rows by default; keeping them keeps physical row numbers
        frame = pl.read_excel(
            inbox / file,
            sheet_name=sheet,
            read_options={"header_row": header_rows - 1},
            infer_schema_length=0,
            drop_empty_rows=False,
        )
        assert frame.height == len(rows), (file, sheet)
    lines = (inbox / LEADS).read_bytes().split(b"\r\n")
    rows = [int(r["row"]) for r in _by_file(truth, LEADS)]
    assert sorted(rows) == list(range(2, len(lines)))  # the file ends with CRLF


def test_truth_has_one_row_per_native_id(workspace: Path, truth: list[dict[str, str]]) -> None:
    inbox = workspace / "inbox"
    root = ET.parse(inbox / ONE_C).getroot()
    cml_ids = {
        next(c for c in el if _local(c.tag) == "Ид").text or ""
        for el in root.iter()
        if _local(el.tag) in {"Контрагент", "Представитель"}
    }
    cml_truth = [r["native_id"] for r in _by_file(truth, ONE_C)]
    assert sorted(cml_truth) == sorted(cml_ids)
    forms = json.loads((inbox / FORMS).read_text(encoding="utf-8"))
    assert sorted(r["native_id"] for r in _by_file(truth, FORMS)) == sorted(
        f["tranid"] for f in forms
    )
    users = json.loads((inbox / TICKETS).read_text(encoding="utf-8"))["users"]
    assert sorted(r["native_id"] for r in _by_file(truth, TICKETS)) == sorted(
        str(u["id"]) for u in users
    )


def test_truth_values_agree_with_the_cells(workspace: Path, truth: list[dict[str, str]]) -> None:
    sheet = openpyxl.load_workbook(workspace / "inbox" / IVANOVA)["Клиенты"]
    checked = 0
    for row in _by_file(truth, IVANOVA):
        name, phone, email = (sheet.cell(int(row["row"]), col).value for col in (1, 2, 3))
        if row["entity_kind"] != "person":
            assert row["entity_id"] == ""
            continue
        digits = re.sub(r"\D", "", str(phone or ""))
        for number in filter(None, row["true_phones"].split(";")):
            assert number[2:] in digits, (number, phone)
        if row["true_emails"] and "domain_typo" not in row["noise"]:
            assert row["true_emails"].split(";")[0] in str(email).lower(), (row, email)
        if "latin" not in row["noise"] and row["true_last_name"] and "typo" not in row["noise"]:
            folded = str(name).lower().replace("ё", "е")
            assert row["true_last_name"].lower().replace("ё", "е") in folded, (row, name)
        checked += 1
    assert checked > 20


def test_hard_cases_are_present(truth: list[dict[str, str]]) -> None:
    people = [r for r in truth if r["entity_kind"] == "person"]
    owners: dict[str, set[str]] = defaultdict(set)
    mail_owners: dict[str, set[str]] = defaultdict(set)
    names: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    surnames: dict[str, set[str]] = defaultdict(set)
    for r in truth:
        for phone in filter(None, r["true_phones"].split(";")):
            owners[phone].add(r["entity_id"])
        for email in filter(None, r["true_emails"].split(";")):
            mail_owners[email].add(r["entity_id"])
    for r in people:
        if r["true_last_name"] and r["true_first_name"] and r["true_middle_name"]:
            names[(r["true_last_name"], r["true_first_name"], r["true_middle_name"])].add(
                r["entity_id"]
            )
        if r["true_last_name"]:
            surnames[r["entity_id"]].add(r["true_last_name"])
    shared_mobiles = [p for p, ids in owners.items() if len(ids) > 1 and p.startswith("+79")]
    shared_landlines = [p for p, ids in owners.items() if len(ids) > 1 and not p.startswith("+79")]
    assert shared_mobiles, "no family sharing a mobile"
    assert shared_landlines, "no colleagues sharing an office line"
    assert any(len(ids) > 1 for ids in mail_owners.values()), "no shared e-mail"
    assert any(len(ids) > 1 for ids in names.values()), "no namesakes"
    assert any(len(s) > 1 for s in surnames.values()), "no surname change"
    junk = [r for r in truth if r["entity_kind"] == "junk"]
    assert {r["file"] for r in junk} >= {IVANOVA, PETROV, LEADS, FORMS}
    assert all(r["entity_id"] == "" for r in junk)
    noise = {n for r in truth for n in r["noise"].split(";")}
    wanted = {"diminutive", "style_latin", "domain_typo", "numeric_phone", "extension"}
    assert wanted <= noise
    assert {r["entity_kind"] for r in truth} == {"person", "company", "junk"}


def test_inn_in_truth_and_1c_are_checksum_valid(
    workspace: Path, truth: list[dict[str, str]]
) -> None:
    inns = [r["true_inn"] for r in truth if r["true_inn"]]
    assert len(inns) > 10
    assert all(inn.is_valid(v) for v in inns)
    root = ET.parse(workspace / "inbox" / ONE_C).getroot()
    xml_inns = [el.text or "" for el in root.iter() if _local(el.tag) == "ИНН"]
    assert xml_inns and all(inn.is_valid(v) for v in xml_inns)
    assert all(re.fullmatch(r"P\d{6}|K\d{6}|", r["entity_id"]) for r in truth)


def test_iter_people_is_lazy() -> None:
    first = list(islice(iter_people(10**9, seed=1), 3))
    assert [p.pid for p in first] == ["P000001", "P000002", "P000003"]


def test_benchmark_writers_stream_with_truth(tmp_path: Path) -> None:
    csv_path = tmp_path / "bench.csv"
    assert write_benchmark_csv(csv_path, 6000, seed=7, encoding="cp1251") == 6000
    frame = pl.read_csv(csv_path, encoding="cp1251", separator=";", infer_schema=False)
    truth = pl.read_csv(tmp_path / "bench.csv.truth.csv", infer_schema=False)
    assert frame.height == truth.height == 6000
    assert all(field_for_header(h) for h in frame.columns)
    xlsx_path = tmp_path / "bench.xlsx"
    assert write_benchmark_xlsx(xlsx_path, 5500) == 5500
    frame = pl.read_excel(xlsx_path, infer_schema_length=0, drop_empty_rows=False)
    assert frame.height == 5500
    assert pl.read_csv(tmp_path / "bench.xlsx.truth.csv", infer_schema=False).height == 5500
    xml_path = tmp_path / "bench.xml"
    records = write_benchmark_commerceml(xml_path, 300_000)
    assert xml_path.stat().st_size >= 300_000
    ET.parse(xml_path)
    assert pl.read_csv(tmp_path / "bench.xml.truth.csv", infer_schema=False).height == records


def test_generate_data_cli_reports_time_and_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "generate_data.py"
    spec = importlib.util.spec_from_file_location("generate_data", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "cli.csv"
    assert module.main(["--kind", "csv", "--records", "300", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "300 rows" in report and "peak RSS" in report
    assert out.exists() and (tmp_path / "cli.csv.truth.csv").exists()
