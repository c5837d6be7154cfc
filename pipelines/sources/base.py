"""What every source connector receives and returns.

A connector is a plain function ``read(file: SourceFile) -> ReadResult``. It keeps every original
field (unmapped columns go to ``extra`` as JSON), attaches lineage, and puts a row it cannot read
into ``quarantine`` with a reason code instead of dropping it. A file it cannot read at all raises
``SourceFileError`` naming the file and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.schema import (
    QUARANTINE_SCHEMA,
    RAW_FIELDS,
    RAW_SCHEMA,
    empty_quarantine_frame,
)


@dataclass(frozen=True)
class SourceFile:
    """One input file as a connector sees it, with the lineage every row will carry."""

    path: Path
    relpath: str  # posix path relative to the workspace inbox
    source: str  # source name from svod.toml
    kind: str  # connector kind
    sha256: str
    batch_id: str
    ingested_at: datetime
    options: Mapping[str, Any] = field(default_factory=dict)
    mapping: Mapping[str, str] = field(default_factory=dict)  # source header -> raw field
    #: Part of the file a connector may hand to a helper process (None: its own choice; 0: none,
    #: every core is busy). Only a scheduling hint: the rows read do not depend on it.
    helper_share: float | None = None


@dataclass
class ReadResult:
    """Rows a connector read: canonical raw records, quarantined rows, and notes for the user."""

    records: pl.DataFrame
    quarantine: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return self.records.height + self.quarantine.height


Connector = Callable[[SourceFile], ReadResult]


def record_key(source: str, source_record_id: str) -> str:
    """The stable key of a record: source name and the record's id within that source."""
    return f"{source}|{source_record_id}"


def build_records(file: SourceFile, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Turn mapped rows into a raw-record frame with lineage.

    Each row holds raw fields (``RAW_FIELDS`` names) plus ``source_record_id``, ``source_sheet``
    and ``source_row``. Missing fields become null; values are kept as strings.
    """
    if not rows:
        return pl.DataFrame(schema=RAW_SCHEMA)
    # column by column: each row's values are fetched by C-level map/zip, not a loop of .get
    rids, sheets, positions, *fields = zip(
        *(tuple(map(row.get, _ROW_KEYS)) for row in rows), strict=True
    )
    if not _only_strings(rids) or None in rids:  # a missing id fails here as it always did
        rids = tuple(str(row["source_record_id"]) for row in rows)
    columns: dict[str, Any] = {
        "record_key": [record_key(file.source, rid) for rid in rids],
        "source_record_id": rids,
        "source_sheet": sheets,
        "source_row": positions,
    }
    for name, column in zip(RAW_FIELDS, fields, strict=True):
        columns[name] = (
            column if _only_strings(column) else [None if v is None else str(v) for v in column]
        )
    constants = {
        "source": file.source,
        "source_kind": file.kind,
        "source_file": file.relpath,
        "file_sha256": file.sha256,
        "batch_id": file.batch_id,
        "ingested_at": file.ingested_at,
    }
    frame = pl.DataFrame(columns, schema={name: RAW_SCHEMA[name] for name in columns})
    return frame.with_columns(
        pl.lit(value, RAW_SCHEMA[name]).alias(name) for name, value in constants.items()
    ).select(list(RAW_SCHEMA))


_ROW_KEYS = ("source_record_id", "source_sheet", "source_row", *RAW_FIELDS)
_STRING_TYPES = frozenset((str, type(None)))


def _only_strings(values: tuple[Any, ...]) -> bool:
    """Whether every value is a str or None (then no conversion is needed)."""
    return set(map(type, values)) <= _STRING_TYPES


def quarantine_rows(
    file: SourceFile,
    items: list[dict[str, Any]],
) -> pl.DataFrame:
    """Quarantine entries for rows of ``file``: each item has source_record_id, reason, detail,
    and optionally source_sheet, source_row, field and raw (any JSON-able value)."""
    if not items:
        return empty_quarantine_frame()
    out = [
        {
            "record_key": record_key(file.source, str(item["source_record_id"])),
            "source": file.source,
            "source_file": file.relpath,
            "source_sheet": item.get("source_sheet"),
            "source_row": item.get("source_row"),
            "batch_id": file.batch_id,
            "stage": "ingest",
            "reason": item["reason"],
            "field": item.get("field"),
            "detail": item.get("detail"),
            "raw": json.dumps(item.get("raw"), ensure_ascii=False, default=str),
        }
        for item in items
    ]
    return pl.DataFrame(out, schema=QUARANTINE_SCHEMA)
