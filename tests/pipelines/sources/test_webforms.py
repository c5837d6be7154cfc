"""Web form connector: webhook JSON / NDJSON / single object, Google Forms CSV, broken files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.sources import webforms
from pipelines.sources.base import SourceFile
from tests.pipelines.sources.source_files import source_file as make_source_file

FIXTURES = Path(__file__).parent / "fixtures" / "webforms"


def source_file(path: Path, mapping: dict[str, str] | None = None) -> SourceFile:
    return make_source_file(path, source="tilda", kind="webform", mapping=mapping)


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))


def test_webhook_array_maps_fields_case_insensitively() -> None:
    result = webforms.read(source_file(FIXTURES / "tilda_webhooks.json"))
    assert result.records.schema == pl.Schema(RAW_SCHEMA)
    anna, ivan, olga, petr = rows(result.records)
    assert anna["source_record_id"] == "5512345:8123456789"
    assert (anna["full_name"], anna["phone"], anna["email"]) == (
        "Анна Петрова",
        "+7 (916) 123-45-67",
        "anna@example.ru",
    )
    assert anna["comment"] == "Перезвоните после 18:00"
    assert anna["observed_at"] == "2026-11-20 15:45:12"
    extra = json.loads(anna["extra"])
    assert set(extra) == {
        "formid",
        "formname",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "COOKIES",
    }
    assert ivan["full_name"] == "Иван\u00a0Сидоров"  # outer spaces cut, inner NBSP kept
    assert ivan["email"] == "IVAN@EXAMPLE.RU"
    assert (olga["full_name"], olga["phone"], olga["email"], olga["city"]) == (
        "Ольга",
        "+7 903 000 11 22",
        "olga@example.ru",
        "Воронеж",
    )
    assert json.loads(olga["extra"])["Checkbox"] == "yes"
    # no tranid: id falls back to relpath:<position>; a JSON number is kept as its digits
    assert petr["source_record_id"] == "inbox/tilda_webhooks.json:9"
    assert (petr["full_name"], petr["email"], petr["phone"]) == (
        "Кузнецов Пётр Ильич",
        "no-name@example.ru",
        "79161112233",
    )
    assert [r["source_row"] for r in rows(result.records)] == [1, 2, 3, 9]
    assert set(result.records["entity_kind"]) == {"person"}


def test_webhook_array_quarantine_reconciles_every_element() -> None:
    result = webforms.read(source_file(FIXTURES / "tilda_webhooks.json"))
    reasons = {r["source_row"]: r["reason"] for r in rows(result.quarantine)}
    assert reasons == {
        5: "duplicate_id",
        6: "junk_record",
        7: "empty_record",
        8: "not_an_object",
    }
    # row 4 is an identical webhook retry: read once and noted, not quarantined
    assert any("read once" in note for note in result.notes)
    assert result.rows_in + 1 == 9
    dup = result.quarantine.filter(pl.col("reason") == "duplicate_id")
    assert json.loads(dup["raw"][0])["Name"] == "Анна П."
    assert dup["record_key"][0] == "tilda|5512345:8123456789"


def test_submissions_are_events() -> None:
    frame = webforms.read_with_events(source_file(FIXTURES / "tilda_webhooks.json"))[1]
    assert frame.schema == pl.Schema(EVENT_SCHEMA)
    first, second, third, _ = rows(frame)
    assert first["event_type"] == "form_submission"
    assert first["record_key"] == "tilda|5512345:8123456789"
    assert (first["channel"], first["subject"]) == ("yandex", "Заявка на консультацию")
    assert first["occurred_at"] == "2026-11-20 15:45:12"
    assert "COOKIES" not in json.loads(first["detail"])
    assert (second["channel"], second["subject"]) == ("web", "form512345678")
    assert third["amount"] == "1500"  # from Tilda's payment JSON string


def test_ndjson_bad_line_is_quarantined_and_the_rest_read() -> None:
    result = webforms.read(source_file(FIXTURES / "tilda_hooks.ndjson"))
    assert result.records["source_record_id"].to_list() == ["7001:1", "7001:3"]
    assert result.records["source_row"].to_list() == [1, 4]  # line numbers
    bad = rows(result.quarantine)
    assert len(bad) == 1
    assert (bad[0]["reason"], bad[0]["source_row"]) == ("broken_line", 2)
    assert bad[0]["detail"].startswith("line 2: Expecting ',' delimiter")
    assert "Пётр" in json.loads(bad[0]["raw"])


def test_single_object_file() -> None:
    result = webforms.read(source_file(FIXTURES / "single_submission.json"))
    (row,) = rows(result.records)
    assert (row["source_record_id"], row["full_name"]) == ("9001:42", "Елена Смирнова")


def test_invalid_json_names_file_line_and_column() -> None:
    with pytest.raises(SourceFileError) as info:
        webforms.read(source_file(FIXTURES / "broken.json"))
    assert info.value.location == "line 3, column 19"
    assert str(info.value).startswith("inbox/broken.json (line 3, column 19): ")
    assert "not valid JSON" in str(info.value)


def test_truncated_json_is_called_truncated() -> None:
    with pytest.raises(SourceFileError, match=r"truncated\.json \(line 3, column 20\).*truncated"):
        webforms.read(source_file(FIXTURES / "truncated.json"))


def test_non_utf8_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.json"
    path.write_bytes('[{"Name": "Анна"}]'.encode("cp1251"))
    with pytest.raises(
        SourceFileError, match=r"cp1251.json \(line 1, column 12\).*not valid UTF-8"
    ):
        webforms.read(source_file(path))


def test_google_forms_russian_export() -> None:
    result, events = webforms.read_with_events(source_file(FIXTURES / "google_forms_ru.csv"))
    anna, ivan = rows(result.records)
    assert (anna["full_name"], anna["phone"], anna["email"], anna["city"]) == (
        "Анна",
        "8 916 123 45 67",
        "anna@example.ru",
        "Воронеж",
    )
    assert anna["observed_at"] == "20.11.2026 15:45:12"
    assert json.loads(anna["extra"]) == {"Какие цветы вы любите?": "Ромашки;Лютики"}
    assert ivan["extra"] is None
    assert anna["source_record_id"] == "inbox/google_forms_ru.csv:1"
    assert result.quarantine["reason"].to_list() == ["empty_record"]
    assert events["occurred_at"].to_list() == ["20.11.2026 15:45:12", "20.11.2026 16:01:03"]


def test_google_forms_english_export_and_mapping_override() -> None:
    result = webforms.read(source_file(FIXTURES / "google_forms_en.csv"))
    (row,) = rows(result.records)
    assert (row["full_name"], row["company"], row["phone"]) == (
        "John Smith",
        "Acme LLC",
        "+7 916 000-00-01",
    )
    override = {"Anything else, please?": "comment"}
    (row,) = rows(webforms.read(source_file(FIXTURES / "google_forms_en.csv", override)).records)
    assert row["comment"] == "Call me, please"
    assert row["extra"] is None


def test_unknown_csv_is_a_file_error() -> None:
    with pytest.raises(SourceFileError, match=r"not_a_form.csv \(line 1\): unknown structure"):
        webforms.read(source_file(FIXTURES / "not_a_form.csv"))


@pytest.mark.parametrize(
    "name", ["tilda_webhooks.json", "tilda_hooks.ndjson", "google_forms_ru.csv"]
)
def test_record_keys_are_unique_and_match_events(name: str) -> None:
    result, events = webforms.read_with_events(source_file(FIXTURES / name))
    assert result.records["record_key"].is_unique().all()
    assert events["record_key"].to_list() == result.records["record_key"].to_list()
    for extra in result.records["extra"].drop_nulls():
        assert isinstance(json.loads(extra), dict)


def test_keys_folding_to_one_name_first_one_wins(tmp_path: Path) -> None:
    """Regression for the per-file key cache: folded lookups keep first-key-wins everywhere."""
    payloads = [
        {"TEST": "test", " test ": "test"},  # every key folds to "test": Tilda's probe
        {"Name": "Анна", "tranid": "  ", "UTM_Source": "ya", "utm_source": "vk", "COOKIES": "c"},
        {"name": "Пётр", "ИМЯ": "Пётр Second", "tranid": "t-3", "FormName": " ", "formid": "f1"},
        {"Name": "Олег", "tranid": "t-4", "test": "test"},  # a real payload with a test key
    ]
    path = tmp_path / "forms.json"
    path.write_text(json.dumps(payloads, ensure_ascii=False), encoding="utf-8")
    result, events = webforms.read_with_events(source_file(path))
    assert rows(result.quarantine)[0]["reason"] == "junk_record"
    anna, petr, oleg = rows(result.records)
    assert anna["source_record_id"] == "inbox/forms.json:2"  # blank tranid: not an id
    assert json.loads(anna["extra"])["tranid"] == "  "
    assert petr["full_name"] == "Пётр"
    assert json.loads(petr["extra"])["ИМЯ"] == "Пётр Second"
    assert oleg["source_record_id"] == "t-4"
    first, second, third = rows(events)
    assert (first["channel"], second["channel"], third["channel"]) == ("ya", "web", "web")
    assert "COOKIES" not in json.loads(first["detail"])
    assert json.loads(first["detail"])["utm_source"] == "vk"
    assert second["subject"] == "f1"  # a blank formname falls back to formid


def test_key_cache_follows_the_file_mapping(tmp_path: Path) -> None:
    path = tmp_path / "forms.json"
    path.write_text(json.dumps([{"Kod": "42", "Name": "Анна"}]), encoding="utf-8")
    plain = rows(webforms.read(source_file(path)).records)[0]
    mapped = rows(webforms.read(source_file(path, mapping={"Kod": "inn"})).records)[0]
    assert (plain["inn"], json.loads(plain["extra"])) == (None, {"Kod": "42"})
    assert (mapped["inn"], mapped["extra"]) == ("42", None)
