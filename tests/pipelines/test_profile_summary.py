"""The per-customer record summary: first source, first/last seen and kind, ties included."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from pipelines.profile.build import _record_summary
from pipelines.profile.common import TIME


def _at(day: int | None) -> datetime | None:
    return None if day is None else datetime(2026, 1, day, tzinfo=UTC)


def test_first_source_kind_and_span_follow_the_documented_ties() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "C", "C", "D", "D"],
            "source": ["web", "crm", "shop", "zeta", "alpha", "crm", None, "x", "y"],
            "record_at": [_at(3), _at(2), _at(2), None, None, _at(5), _at(5), _at(9), None],
            "entity_kind": [
                "person", "company", "company", "person", None, "person", None, "person",
                "company",
            ],
        },
        schema_overrides={"record_at": TIME},
    )  # fmt: skip
    events = pl.DataFrame(
        {
            "customer_id": ["A", None, "D"],
            "source": ["orders", "orders", "orders"],
            "occurred_ts": [_at(1), _at(1), _at(10)],
        },
        schema_overrides={"occurred_ts": TIME},
    )
    out = _record_summary(frame, events).sort("customer_id")
    assert out["first_source"].to_list() == ["orders", "alpha", "crm", "x"]
    assert out["first_seen"].to_list() == [_at(1), None, _at(5), _at(9)]
    assert out["last_seen"].to_list() == [_at(3), None, _at(5), _at(10)]
    # most frequent kind; a tie goes to the smallest value, null first
    assert out["entity_kind"].to_list() == ["company", None, None, "company"]
    assert out["record_count"].to_list() == [3, 2, 2, 2]
    assert out["sources"].to_list() == [
        ["crm", "shop", "web"], ["alpha", "zeta"], [None, "crm"], ["x", "y"],
    ]  # fmt: skip
    assert out["source_count"].to_list() == [3, 2, 2, 2]
