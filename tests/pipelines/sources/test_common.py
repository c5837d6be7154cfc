"""Shared connector pieces: JSON text, digests, repeats, frames built column-wise, paused GC."""

from __future__ import annotations

import gc
import hashlib
import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.sources._common import (
    Deduper,
    build_events,
    dumps,
    extra_json,
    fingerprint,
    local_fingerprint,
    paused_gc,
)
from pipelines.sources.base import SourceFile, build_records

FILE = SourceFile(
    path=Path("in/x.json"),
    relpath="forms/x.json",
    source="forms",
    kind="webform",
    sha256="0" * 64,
    batch_id="b1",
    ingested_at=datetime(2026, 11, 25, tzinfo=UTC),
)

_VALUES: list[Any] = [
    {"Имя": "Иван\u00a0Петров", "quote": 'ООО "Ромашка"', "ctl": "a\tb\nc\x01\x7f\u2028"},
    {"b": 1, "a": [1.0, 2.5, 1e16, -0.0, True, False, None], "n": {"z": {}, "y": []}},
    {"nan": math.nan, "inf": -math.inf, "big": 10**30, "day": date(2026, 1, 2)},
    ["список", 3, {"k": "v"}],
    "строка",
    7,
]


@pytest.mark.parametrize("value", _VALUES)
def test_json_text_is_what_json_dumps_writes(value: Any) -> None:
    assert dumps(value) == json.dumps(value, ensure_ascii=False, default=str)
    sorted_text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    digest = hashlib.blake2b(sorted_text.encode(), digest_size=12).hexdigest()
    assert fingerprint(value) == digest
    assert extra_json({}) is None


@pytest.mark.parametrize("other", _VALUES)
@pytest.mark.parametrize("value", _VALUES)
def test_local_fingerprint_tells_values_apart_as_fingerprint_does(value: Any, other: Any) -> None:
    same = fingerprint(value) == fingerprint(other)
    assert (local_fingerprint(value) == local_fingerprint(other)) is same
    reordered = dict(reversed(value.items())) if isinstance(value, dict) else value
    assert local_fingerprint(reordered) == local_fingerprint(value)  # key order does not count


def test_repeats_are_told_apart_with_the_first_content_digested_late() -> None:
    dedupe = Deduper()
    first = {"name": "Иван", "phone": 1}
    assert dedupe.check("a", first, 1) == ("new", 1)
    assert dedupe.check("b", {"name": "Пётр"}, 2) == ("new", 2)
    assert dedupe.check("a", {"phone": 1, "name": "Иван"}, 3) == ("same", 1)  # key order
    assert dedupe.check("a", {"name": "Иван", "phone": 1.0}, 4) == ("differs", 1)  # 1 ≠ 1.0
    assert dedupe.check("a", {"name": "Иван", "phone": 1}, 5) == ("same", 1)
    assert dedupe.check("b", {"name": "Пётр", "x": None}, 6) == ("differs", 2)
    assert dedupe.repeats == 2


def test_records_are_built_column_by_column_with_strings_and_lineage() -> None:
    rows: list[dict[str, Any]] = [
        {"source_record_id": "r1", "source_row": 1, "source_sheet": None, "full_name": "Иван"},
        {"source_record_id": 42, "source_row": 2, "phone": 79161234567, "inn": None},
        {"source_record_id": "r3", "source_row": 3, "extra": '{"a": 1}', "gender": True},
    ]
    frame = build_records(FILE, rows)
    assert frame.schema == pl.Schema(RAW_SCHEMA)
    assert frame["record_key"].to_list() == ["forms|r1", "forms|42", "forms|r3"]
    assert frame["source_record_id"].to_list() == ["r1", "42", "r3"]
    assert frame["phone"].to_list() == [None, "79161234567", None]  # str() of a number
    assert frame["gender"].to_list() == [None, None, "True"]
    assert frame["full_name"].to_list() == ["Иван", None, None]
    assert frame["source_row"].to_list() == [1, 2, 3]
    assert set(frame["batch_id"]) == {"b1"} and set(frame["source_file"]) == {"forms/x.json"}
    assert build_records(FILE, []).schema == pl.Schema(RAW_SCHEMA)
    with pytest.raises(KeyError):  # every row must name its record
        build_records(FILE, [{"source_row": 1}])


def test_events_are_built_with_lineage_and_dict_details_as_json() -> None:
    rows: list[dict[str, Any]] = [
        {"event_id": "e1", "event_type": "order", "detail": {"Номер": "1"}, "source": "x"},
        {"event_id": "e2", "event_type": "ticket", "detail": '{"a": 1}', "amount": "10"},
        {"event_id": "e3", "event_type": "ticket", "detail": {}},
    ]
    frame = build_events(FILE, rows)
    assert frame.schema == pl.Schema(EVENT_SCHEMA)
    assert frame["detail"].to_list() == ['{"Номер": "1"}', '{"a": 1}', None]
    assert frame["source"].to_list() == ["forms"] * 3  # lineage wins over a row's own value
    assert frame["amount"].to_list() == [None, "10", None]
    assert build_events(FILE, []).schema == pl.Schema(EVENT_SCHEMA)


def test_paused_gc_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("a read failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off: left off
    finally:
        gc.enable()
