"""``svod inspect FILE``: what Svod would read, printed without ingesting."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_inspect_crm_export_shows_profile_mapping_rows_and_problems(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["inspect", str(FIXTURES / "spreadsheets" / "amocrm_contacts.csv"), "--rows", "2"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "kind: spreadsheet (detected)" in out
    assert "encoding utf-8-sig, delimiter ';'" in out
    assert "header row 1" in out and "amocrm contact export" in out
    assert "Рабочий прямой телефон" in out and "phone" in out
    assert "amocrm:contact:1001" in out and "amocrm:company:1002" in out
    assert "amocrm:contact:1003" not in out  # only --rows 2 are shown
    assert "would read: 3 records, 2 quarantined rows" in out
    assert "1 × duplicate_id: e.g. row 6" in out
    assert "1 × empty_row: e.g. row 5" in out


def test_inspect_1c_csv_with_title_rows_and_group_rows() -> None:
    result = runner.invoke(
        app, ["inspect", str(FIXTURES / "spreadsheets" / "onec_counterparties.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "encoding cp1251" in result.output
    assert "header row 3" in result.output
    assert "2 × group_row" in result.output


def test_inspect_other_kinds_and_named_kind() -> None:
    result = runner.invoke(
        app, ["inspect", str(FIXTURES / "webforms" / "tilda_webhooks.json"), "--kind", "webform"]
    )
    assert result.exit_code == 0, result.output
    assert "kind: webform" in result.output and "(detected)" not in result.output
    assert "events" in result.output


def test_inspect_unreadable_file_exits_1_with_the_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", str(FIXTURES / "commerceml" / "truncated.xml")])
    assert result.exit_code == 1
    assert "truncated.xml" in result.output and "looks truncated" in result.output
    missing = runner.invoke(app, ["inspect", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    bad_kind = runner.invoke(app, ["inspect", str(tmp_path / "nope.csv"), "--kind", "excel"])
    assert bad_kind.exit_code == 2


def test_inspect_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("ФИО;Телефон\nИванов Иван;89161234567\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "Иванов Иван" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clients.csv"]
