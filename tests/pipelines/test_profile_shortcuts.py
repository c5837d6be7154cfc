"""Profile-build shortcuts (row numbers for keys, formats tried on what is left, sorted joins)
give what the direct way gives, ties included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal, assert_series_equal

from pipelines.config import ProfileConfig
from pipelines.profile.build import _record_summary
from pipelines.profile.common import TIME, TIME_FORMATS, parse_time, parse_times, with_customer
from pipelines.profile.golden import RECORD_ROW, golden_columns, golden_values
from pipelines.profile.identifiers import build_identifiers
from tests.pipelines.profile_helpers import links, staged

TIMES = [
    " 2025-12-01T10:00:00+03:00 ", "2025-12-01T10:00:00-05:30", "2025-12-01T10:00:00Z",
    "2025-12-01T10:00:00", "2025-12-01 10:00:00", "2025-12-01", "01.12.2025 10:00:00",
    "01.12.2025 10:00", "01.12.2025", "1.2.2025", "", "   ", None, "junk", "31.02.2025",
    "2025-13-01", "2025-12-01T25:00:00", "2025-12-01T10:00:00+03:00 trailing",
]  # fmt: skip


def _every_format(expr: pl.Expr) -> pl.Expr:
    """The direct way: every format on every value, the first that reads it wins."""
    text = expr.str.strip_chars()
    return pl.coalesce(
        [
            text.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us")
            for f in TIME_FORMATS
        ]
    )


def test_parse_time_tries_each_format_on_what_is_left_and_equals_every_format() -> None:
    frame = pl.DataFrame({"at": TIMES * 3}, schema={"at": pl.String})
    got = frame.select(parse_time(pl.col("at"))).to_series()
    assert_series_equal(got, frame.select(_every_format(pl.col("at"))).to_series())
    assert got.dtype == TIME and got.null_count() == 3 * 8  # the last eight read as nothing
    lazy = frame.lazy().select(parse_time(pl.col("at")))
    assert lazy.collect_schema()["at"] == TIME
    assert parse_times(pl.Series("at", [], pl.String)).dtype == TIME
    assert parse_times(pl.Series("at", [None, None])).to_list() == [None, None]


ROWS: list[dict[str, Any]] = [
    {"key": "1", "customer": "A", "full_name": "Иванов Иван Петрович", "phone": "+7 916 372-81-95",
     "inn": "7707083893", "city": "Москва"},
    {"key": "2", "customer": "A", "full_name": "Иванов И.", "phone": "8 916 372 81 95",
     "email": "ivan@mail.ru", "city": "Тверь"},
    {"key": "3", "customer": "B", "full_name": "Петрова Анна", "email": "anna@mail.ru",
     "phone": "8 916 12", "source": "forms"},
    {"key": "4", "customer": "B", "email": "anna@mail.ru", "city": "Тверь", "source": "shop"},
    {"key": "5", "customer": "C", "full_name": "Сидоров Пётр", "inn": "500100732259"},
]  # fmt: skip


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return with_customer(staged(rows), links(rows)).sort("record_key")


def test_identifiers_counted_by_row_equal_those_counted_by_key() -> None:
    frame = _frame(ROWS)
    golden = golden_values(frame, ProfileConfig())
    by_row = build_identifiers(frame, golden)  # unique keys in order: counted by row number
    by_key = build_identifiers(frame.reverse(), golden)  # not in order: by key text
    assert_frame_equal(by_row, by_key)
    assert by_row.filter(pl.col("value") == "anna@mail.ru")["record_count"].to_list() == [2]


def test_identifiers_count_a_repeated_key_once() -> None:
    frame = _frame(ROWS)
    twice = pl.concat([frame, frame.filter(pl.col("record_key") == "forms|3")]).sort("record_key")
    golden = golden_values(frame, ProfileConfig())
    got = build_identifiers(twice, golden)  # sorted but not strictly: keys are counted
    assert_frame_equal(got, build_identifiers(frame, golden))


def test_golden_columns_gathered_by_row_equal_those_joined_by_key() -> None:
    frame = _frame(ROWS)
    rows = golden_values(frame, ProfileConfig(), rows=True)
    assert RECORD_ROW in rows.columns
    plain = golden_values(frame, ProfileConfig())
    assert_frame_equal(rows.drop(RECORD_ROW), plain)
    wide = golden_columns(rows, frame)
    assert_frame_equal(wide.sort("customer_id"), golden_columns(plain, frame).sort("customer_id"))
    assert wide.sort("customer_id")["first_name"].to_list() == ["Иван", "Анна", "Пётр"]
    shuffled = golden_values(frame.reverse(), ProfileConfig(), rows=True)
    assert RECORD_ROW not in shuffled.columns  # not in key order: nothing to gather by


def test_first_source_without_dates_or_sources_follows_the_ties() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 3, 3],
            "source": ["b", "a", None, "c", "z", "y", "x"],
            "record_at": [None, None, at, at, at, None, at],
            "entity_kind": ["person"] * 7,
        },
        schema_overrides={"customer_id": pl.UInt32, "record_at": TIME},
    )
    events = pl.DataFrame(
        {"customer_id": [3], "source": ["w"], "occurred_ts": [None]},
        schema_overrides={"customer_id": pl.UInt32, "occurred_ts": TIME},
    )
    out = _record_summary(frame, events).sort("customer_id")
    assert out["first_source"].to_list() == ["a", "c", "x"]  # min ignores a null source
    assert out["first_seen"].to_list() == [None, at, at]
