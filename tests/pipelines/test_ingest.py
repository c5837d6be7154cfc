"""Ingest bookkeeping: one row per record key across overlapping files of a source."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.rawlake import split_repeated_records
from pipelines.schema import RAW_SCHEMA


def raw(key: str, file: str, when: int, name: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(RAW_SCHEMA)
    row.update(
        record_key=key,
        source="crm",
        source_record_id=key.split("|")[1],
        source_file=file,
        source_row=2,
        batch_id=file,
        ingested_at=dt.datetime(2026, 1, when, tzinfo=dt.UTC),
        full_name=name,
    )
    return row


def test_overlapping_exports_keep_the_newest_copy_and_quarantine_the_rest() -> None:
    frame = pl.DataFrame(
        [
            raw("crm|amocrm:contact:1", "old.csv", 1, "Иванов"),
            raw("crm|amocrm:contact:1", "new.csv", 2, "Иванов Иван"),
            raw("crm|amocrm:contact:2", "old.csv", 1, "Петров"),
        ],
        schema=RAW_SCHEMA,
    )
    kept, repeated = split_repeated_records(frame)
    assert kept.sort("record_key").select("record_key", "source_file").rows() == [
        ("crm|amocrm:contact:1", "new.csv"),
        ("crm|amocrm:contact:2", "old.csv"),
    ]
    assert repeated.select("record_key", "source_file", "reason").rows() == [
        ("crm|amocrm:contact:1", "old.csv", "duplicate_record")
    ]
    assert repeated["detail"][0] == "the same record is also in new.csv; that copy is used"
    assert kept.height + repeated.height == frame.height


def test_unique_keys_pass_through_in_order_with_an_empty_quarantine() -> None:
    rows = [raw(f"crm|c:{i}", "a.csv", 1, "Иванов") for i in (3, 1, 2)]
    frame = pl.DataFrame(rows, schema=RAW_SCHEMA)
    kept, repeated = split_repeated_records(frame)
    assert kept.equals(frame)  # the fast path keeps rows and their order
    _, duplicated = split_repeated_records(pl.concat([frame, frame.head(1)]))
    assert repeated.is_empty() and repeated.schema == duplicated.schema
