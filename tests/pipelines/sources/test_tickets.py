"""Tickets connector: Zendesk JSON and NDJSON, flat ticket arrays, Jira SM CSV, broken files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.sources import tickets
from pipelines.sources.base import SourceFile
from tests.pipelines.sources.source_files import source_file as make_source_file

FIXTURES = Path(__file__).parent / "fixtures" / "tickets"


def source_file(path: Path) -> SourceFile:
    return make_source_file(path, source="desk", kind="tickets")


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))


def test_zendesk_end_users_with_identities_and_organizations() -> None:
    result = tickets.read(source_file(FIXTURES / "zendesk_export.json"))
    assert result.records.schema == pl.Schema(RAW_SCHEMA)
    anna, caller = rows(result.records)
    assert anna["source_record_id"] == "35436"
    assert anna["full_name"] == "Анна Петрова"
    assert anna["email"] == "anna@example.ru; anna.petrova@work.example"
    assert anna["phone"] == "+7 916 123-45-67; +7 495 500-55-50"
    assert anna["company"] == 'ООО "Ромашка"'
    assert anna["observed_at"] == "2026-01-15T09:12:00Z"
    extra = json.loads(anna["extra"])
    assert extra["external_id"] == "crm-1001"
    assert extra["organization_id"] == 57542
    assert extra["user_fields"] == {"loyalty_card": "0012345"}
    assert len(extra["identities"]) == 4
    assert (caller["phone"], caller["email"]) == ("+79031234567", None)


def test_zendesk_agents_are_quarantined_so_rows_reconcile() -> None:
    result = tickets.read(source_file(FIXTURES / "zendesk_export.json"))
    reasons = [(r["source_row"], r["reason"], r["record_key"]) for r in rows(result.quarantine)]
    assert reasons == [
        (3, "agent_not_customer", "desk|9001"),
        (4, "agent_not_customer", "desk|9002"),
        (5, "empty_record", "desk|inbox/zendesk_export.json:5"),
        (8, "not_an_object", "desk|inbox/zendesk_export.json:8"),
    ]
    assert result.records.height + 3 == 5  # five users: two customers, two staff, one empty
    assert "2 agents/admins" in result.notes[0]


def test_zendesk_tickets_are_events_of_their_requester() -> None:
    frame = tickets.read_with_events(source_file(FIXTURES / "zendesk_export.json"))[1]
    assert frame.schema == pl.Schema(EVENT_SCHEMA)
    first, second = rows(frame)
    assert first["event_id"] == "desk|ticket:101"
    assert first["record_key"] == "desk|35436"
    assert (first["status"], first["channel"], first["subject"]) == (
        "open",
        "email",
        "Не пришёл заказ",
    )
    assert json.loads(first["detail"])["priority"] == "high"
    assert (second["record_key"], second["channel"]) == ("desk|35437", "voice")


def test_flat_tickets_deduplicate_requesters_by_email() -> None:
    result, events = tickets.read_with_events(source_file(FIXTURES / "helpdesk_flat.json"))
    ivan, maria, petr = rows(result.records)
    assert ivan["source_record_id"] == "email:ivan.sidorov@example.ru"
    assert ivan["email"] == "Ivan.Sidorov@Example.ru"  # value kept as read
    assert ivan["observed_at"] == "2026-11-18 12:00:00"
    assert (maria["full_name"], maria["phone"]) == ("Мария Кузнецова", "8 (921) 000-11-22")
    assert petr["source_record_id"] == "777"
    assert result.quarantine["reason"].to_list() == ["duplicate_id", "not_an_object"]
    assert result.quarantine["source_row"].to_list() == [4, 7]
    keys = dict(zip(events["event_id"], events["record_key"], strict=True))
    assert (
        keys["desk|ticket:T-2"] == keys["desk|ticket:T-4"] == "desk|email:ivan.sidorov@example.ru"
    )
    assert keys["desk|ticket:T-5"] is None  # ticket without a requester is still an event
    assert json.loads(events.filter(pl.col("event_id") == "desk|ticket:T-3")["detail"][0]) == {
        "priority": "low"
    }


def test_zendesk_ndjson_with_a_broken_line() -> None:
    result, events = tickets.read_with_events(source_file(FIXTURES / "zendesk_users.ndjson"))
    (user,) = rows(result.records)
    assert (user["source_record_id"], user["phone"]) == ("501", "+7 999 123-45-67")
    assert sorted(result.quarantine["reason"].to_list()) == ["agent_not_customer", "broken_line"]
    assert events["record_key"].to_list() == ["desk|501"]


def test_jira_csv_reporter_is_the_contact() -> None:
    result, events = tickets.read_with_events(source_file(FIXTURES / "jira_jsm.csv"))
    (anna,) = rows(result.records)
    assert anna["source_record_id"] == "712020:aaaa-1111"
    assert (anna["full_name"], anna["company"], anna["email"]) == (
        "Анна Петрова",
        "ООО Ромашка",
        None,
    )
    assert events["event_id"].to_list() == [
        "desk|ticket:SD-101",
        "desk|ticket:SD-102",
        "desk|ticket:SD-103",
    ]
    assert events["record_key"].to_list() == ["desk|712020:aaaa-1111"] * 2 + [None]
    assert events["subject"][1] == "Вопрос, с запятой"
    detail = json.loads(events["detail"][0])
    assert detail["Custom field (Request participants)"] == "Иван Сидоров"
    assert detail["Watchers_duplicated_0"] == "Анна Петрова"  # repeated Jira headers kept


def test_jira_csv_with_an_email_column(tmp_path: Path) -> None:
    path = tmp_path / "jira.csv"
    path.write_text(
        "Issue key,Summary,Status,Reporter,Reporter Email,Created\n"
        "SD-1,Вопрос,Open,Иван Сидоров,Ivan@Example.ru,22/Nov/26 8:00 AM\n",
        encoding="utf-8",
    )
    (row,) = rows(tickets.read(source_file(path)).records)
    assert (row["source_record_id"], row["email"]) == ("email:ivan@example.ru", "Ivan@Example.ru")


def test_broken_files_name_file_and_location(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError) as info:
        tickets.read(source_file(FIXTURES / "truncated.json"))
    assert info.value.location == "line 4, column 1"
    assert "truncated" in str(info.value)
    with pytest.raises(
        SourceFileError, match=r"cp1251.json \(line 1, column 31\).*not valid UTF-8"
    ):
        tickets.read(source_file(FIXTURES / "cp1251.json"))
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"other.csv \(line 1\): unknown structure"):
        tickets.read(source_file(other))


@pytest.mark.parametrize(
    "name", ["zendesk_export.json", "helpdesk_flat.json", "zendesk_users.ndjson", "jira_jsm.csv"]
)
def test_record_keys_are_unique_and_extra_is_a_json_object(name: str) -> None:
    records = tickets.read(source_file(FIXTURES / name)).records
    assert records["record_key"].is_unique().all()
    assert set(records["entity_kind"]) == {"person"}
    for extra in records["extra"].drop_nulls():
        assert isinstance(json.loads(extra), dict)


def test_users_without_identities_keep_their_own_fields(tmp_path: Path) -> None:
    """The no-identities shortcut gives what joining identities gives: blank fields are None."""
    users = [
        {"id": 1, "name": "Анна", "email": " anna@example.ru ", "phone": "", "role": "end-user"},
        {"id": 2, "name": "Пётр", "email": None, "phone": 79031234567},
        {"id": 3, "name": "Олег", "email": "oleg@example.ru", "identities": []},
        {"id": 4, "name": "Ира", "email": "ira@example.ru", "identities": [
            {"type": "email", "value": "ira@example.ru"}, {"type": "phone_number", "value": "+7"}
        ]},
    ]  # fmt: skip
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": users, "tickets": []}), encoding="utf-8")
    anna, petr, oleg, ira = rows(tickets.read(source_file(path)).records)
    assert (anna["email"], anna["phone"]) == ("anna@example.ru", None)
    assert (petr["email"], petr["phone"]) == (None, "79031234567")
    assert (oleg["email"], oleg["phone"]) == ("oleg@example.ru", None)
    assert (ira["email"], ira["phone"]) == ("ira@example.ru", "+7")
