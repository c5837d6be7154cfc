"""Source kind ``auto``: the connector is chosen from the file name and its first bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.errors import SourceFileError
from pipelines.sources import read_file
from pipelines.sources.base import SourceFile
from pipelines.sources.detect import detect_kind

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("commerceml/cml205_cp1251.xml", "commerceml"),
        ("commerceml/cml208_orders.xml", "commerceml"),
        ("commerceml/truncated.xml", "commerceml"),
        ("commerceml/enterprisedata.xml", "commerceml"),  # the connector explains what it is
        ("tickets/zendesk_export.json", "tickets"),
        ("tickets/zendesk_users.ndjson", "tickets"),
        ("tickets/helpdesk_flat.json", "tickets"),
        ("tickets/cp1251.json", "tickets"),
        ("tickets/jira_jsm.csv", "tickets"),
        ("webforms/tilda_webhooks.json", "webform"),
        ("webforms/tilda_hooks.ndjson", "webform"),
        ("webforms/single_submission.json", "webform"),
        ("webforms/google_forms_ru.csv", "webform"),
        ("webforms/google_forms_en.csv", "webform"),
        ("webforms/not_a_form.csv", "spreadsheet"),
        ("spreadsheets/amocrm_contacts.csv", "spreadsheet"),
        ("spreadsheets/bitrix24_leads.csv", "spreadsheet"),
        ("spreadsheets/clients.ods", "spreadsheet"),
        ("spreadsheets/clients.xls", "spreadsheet"),
    ],
)
def test_kind_detected_from_fixture(fixture: str, kind: str) -> None:
    path = FIXTURES / fixture
    assert detect_kind(path, fixture) == kind


def test_unknown_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    odd = tmp_path / "contract.docx"
    odd.write_bytes(b"PK\x03\x04 word")
    with pytest.raises(SourceFileError, match=r"in/contract.docx: unknown format.*kind in svod"):
        detect_kind(odd, "in/contract.docx")
    with pytest.raises(SourceFileError, match=r"in/gone.csv: cannot open the file"):
        detect_kind(tmp_path / "gone.csv", "in/gone.csv")


def test_auto_source_reads_with_the_detected_connector() -> None:
    path = FIXTURES / "tickets" / "zendesk_export.json"
    file = SourceFile(
        path=path,
        relpath="help/zendesk_export.json",
        source="help",
        kind="auto",
        sha256="0" * 64,
        batch_id="b1",
        ingested_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )
    result, events = read_file(file)
    assert result.notes[0] == "detected kind tickets"
    assert set(result.records["source_kind"]) == {"tickets"}
    assert events is not None and events.height == 2
