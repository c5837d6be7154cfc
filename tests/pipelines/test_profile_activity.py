"""Activity aggregates and RFM scores against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tests.pipelines.profile_helpers import build, profile

PEOPLE = [
    {"key": "a", "customer": "C1", "full_name": "Иванов Иван", "source": "onec",
     "observed_at": "2024-01-05"},
    {"key": "f", "customer": "C1", "full_name": "Иванов Иван", "source": "forms",
     "extra": '{"utm_source": "Yandex"}', "observed_at": "2024-06-01T10:00:00Z"},
    {"key": "b", "customer": "C2", "full_name": "Петров Пётр", "source": "onec"},
    {"key": "c", "customer": "C3", "full_name": "Сидоров Сидор", "source": "onec"},
]  # fmt: skip


def _event(eid: str, key: str, kind: str, at: str, **kw: str) -> dict[str, str]:
    source = key.split("|")[0]
    return {"event_id": eid, "record_key": key, "source": source, "event_type": kind,
            "occurred_at": at, **kw}  # fmt: skip


EVENTS = [
    _event("o1", "onec|a", "order", "2025-01-10", amount="1 000,50"),
    _event("o2", "onec|a", "order", "2025-03-01", amount="2000.00"),
    _event("o3", "onec|a", "order", "2025-02-01", amount="3000"),
    _event("o4", "onec|b", "order", "2024-12-31", amount="500"),
    _event("o5", "onec|c", "order", "2025-02-27", amount="10000"),
    _event("t1", "onec|a", "ticket", "2025-02-10T09:00:00Z", status="solved", subject="Возврат"),
    _event("t2", "onec|a", "ticket", "2025-02-20T09:00:00Z", status="open", subject="Где чек?"),
    _event("s1", "forms|f", "form_submission", "2024-06-01T10:00:00Z", channel="google",
           detail='{"utm_source": "google"}'),
    _event("x1", "onec|zzz", "order", "2025-03-02", amount="1"),  # unknown record: no customer
]  # fmt: skip


def test_order_ticket_and_form_aggregates() -> None:
    tables = build(PEOPLE, EVENTS)
    one = profile(tables, "C1")
    assert one["orders_count"] == 3
    assert one["orders_sum"] == 6000.5
    assert one["avg_check"] == 6000.5 / 3
    assert one["first_order_at"] == datetime(2025, 1, 10, tzinfo=UTC)
    assert one["second_order_at"] == datetime(2025, 2, 1, tzinfo=UTC)
    assert one["last_order_at"] == datetime(2025, 3, 1, tzinfo=UTC)
    assert (one["tickets_total"], one["tickets_open"]) == (2, 1)
    assert (one["last_ticket_subject"], one["last_ticket_status"]) == ("Где чек?", "open")
    assert one["form_submissions"] == 1
    assert one["lead_sources"] == ["google", "yandex"]
    assert one["first_lead_source"] in ("google", "yandex")  # same moment; both are the first
    assert (one["first_source"], one["first_seen"]) == ("onec", datetime(2024, 1, 5, tzinfo=UTC))
    two = profile(tables, "C2")
    assert (two["orders_count"], two["second_order_at"], two["tickets_total"]) == (1, None, 0)
    unknown = tables["events"].filter(pl.col("event_id") == "x1")
    assert unknown["customer_id"].to_list() == [None]


def test_rfm_scores_are_quintiles_among_buyers() -> None:
    # reference = latest order with a customer = 2025-03-01 (x1 has none but counts as data)
    tables = build(PEOPLE, EVENTS[:-1])
    got = {
        c: (profile(tables, c)["recency_days"], profile(tables, c)["rfm"])
        for c in ("C1", "C2", "C3")
    }
    # recency days: C1 0, C2 60, C3 2 → R ranks (worst first) C2, C3, C1 → 1, 2, 4
    # F: C2 1, C3 1, C1 3 → min ranks 1, 1, 3 → 1, 1, 4; M: 500, 6000.5, 10000 → 1, 2, 4
    assert got == {"C1": (0, "442"), "C2": (60, "111"), "C3": (2, "214")}


def test_customers_without_events_have_zero_counts_and_no_rfm() -> None:
    tables = build(PEOPLE)
    one = profile(tables, "C1")
    assert (one["orders_count"], one["tickets_total"], one["form_submissions"]) == (0, 0, 0)
    assert (one["orders_sum"], one["rfm"]) == (None, None)
