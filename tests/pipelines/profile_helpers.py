"""Small labelled fixtures for the profile tests: raw rows → real staging → links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from pipelines.config import ProfileConfig
from pipelines.profile.build import build_profile_tables
from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.staging import normalize_records

INGESTED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 1, 10)
#: Two customers of three records (a company and its ИНН, an unsubscribe, JSON extras) and one
#: order: the small store the publish tests build from.
SAMPLE_ROWS: list[dict[str, Any]] = [
    {"key": "1", "customer": "C2", "full_name": "Иванов Иван", "phone": "+7 916 372-81-95",
     "company": "ООО Ромашка", "inn": "7707083893", "consent_email": "да"},
    {"key": "2", "customer": "C1", "full_name": "Петрова Анна", "email": "anna@mail.ru",
     "unsubscribed": "да", "city": "Москва"},
    {"key": "3", "customer": "C2", "full_name": "Иванов И.", "email": "info@romashka.ru",
     "extra": '{"utm_source": "Yandex", "consent_sms": "нет"}'},
]  # fmt: skip
SAMPLE_EVENTS: list[dict[str, Any]] = [
    {"event_id": "e1", "record_key": "sales|2", "event_type": "order", "amount": "100,50",
     "occurred_at": "2025-12-01T10:00:00+03:00", "source": "sales"},
]  # fmt: skip


def staged(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Staged records from raw field dicts; ``key`` and ``source`` name each record."""
    out = []
    for i, row in enumerate(rows):
        record = dict.fromkeys(RAW_SCHEMA)
        source = row.get("source", "sales")
        record.update(
            record_key=f"{source}|{row['key']}",
            source=source,
            source_kind="spreadsheet",
            source_record_id=row["key"],
            source_file="f.csv",
            source_row=i + 2,
            batch_id="b1",
            ingested_at=INGESTED,
            entity_kind="person",
        )
        record.update({k: v for k, v in row.items() if k not in ("key", "source", "customer")})
        out.append(record)
    return normalize_records(pl.DataFrame(out, schema=RAW_SCHEMA))


def links(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """record_key → customer_id from each row's ``customer``."""
    return pl.DataFrame(
        {
            "record_key": [f"{r.get('source', 'sales')}|{r['key']}" for r in rows],
            "customer_id": [r["customer"] for r in rows],
        }
    )


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Connector events (strings, as read) from dicts."""
    full = [{**dict.fromkeys(EVENT_SCHEMA), **r} for r in rows]
    return pl.DataFrame(full, schema=EVENT_SCHEMA)


def build(
    rows: list[dict[str, Any]],
    event_rows: list[dict[str, Any]] | None = None,
    config: ProfileConfig | None = None,
) -> dict[str, pl.DataFrame]:
    """Every profile table for the fixture rows."""
    return build_profile_tables(
        staged(rows),
        links(rows),
        events(event_rows) if event_rows else None,
        config or ProfileConfig(),
        TODAY,
    )


def profile(tables: dict[str, pl.DataFrame], customer: str) -> dict[str, Any]:
    found = tables["profiles"].filter(pl.col("customer_id") == customer)
    assert found.height == 1, customer
    return found.row(0, named=True)


def golden(tables: dict[str, pl.DataFrame], customer: str, attribute: str) -> dict[str, Any]:
    found = tables["golden_values"].filter(
        (pl.col("customer_id") == customer) & (pl.col("attribute") == attribute)
    )
    assert found.height == 1, (customer, attribute)
    return found.row(0, named=True)
