"""Small pieces shared by the commerceml, webforms and tickets connectors.

Values are kept as read (only surrounding whitespace and NBSP are stripped); anything that maps to
no raw field goes to ``extra`` as JSON. Events (orders, submissions, tickets) have their own frame,
``EVENT_SCHEMA``, tied to contact records by ``record_key``.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.sources.base import (
    ReadResult,
    SourceFile,
    build_records,
    quarantine_rows,
    record_key,
)

_STRIP = " \t\r\n\u00a0\ufeff"


def clean(value: Any) -> str | None:
    """A source value as a string without surrounding whitespace/NBSP; None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif type(value) is int:  # what json.dumps gives, without building an encoder per value
        return str(value)
    elif isinstance(value, int | float):
        text = json.dumps(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = text.strip(_STRIP)
    return text or None


# one encoder each, reused: json.dumps builds a new encoder per call when options are given
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode
_ENCODE_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode


def dumps(value: Any) -> str:
    """JSON text keeping Cyrillic readable."""
    return _ENCODE(value)


def extra_json(extra: dict[str, Any]) -> str | None:
    """The ``extra`` column: a JSON object of unmapped fields, or None when there are none."""
    return dumps(extra) if extra else None


def fallback_id(file: SourceFile, row: int) -> str:
    """The record id used when the source has no native one: ``relpath:<row>``."""
    return f"{file.relpath}:{row}"


def fingerprint(value: Any) -> str:
    """A short digest of a value, to tell repeated identical rows from conflicting ones."""
    text = _ENCODE_SORTED(value)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class Deduper:
    """Remembers native ids seen in a file: the first row wins, repeats are told apart."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int]] = {}
        self.repeats = 0

    def check(self, rid: str, content: Any, row: int) -> tuple[str, int]:
        """``("new", row)``, ``("same", first_row)`` or ``("differs", first_row)``."""
        digest = fingerprint(content)
        first = self._seen.get(rid)
        if first is None:
            self._seen[rid] = (digest, row)
            return "new", row
        if first[0] == digest:
            self.repeats += 1
            return "same", first[1]
        return "differs", first[1]


def duplicate_item(rid: str, row: int, first_row: int, raw: Any) -> dict[str, Any]:
    """Quarantine item for a row whose native id was already read with other content."""
    return {
        "source_record_id": rid,
        "source_row": row,
        "reason": "duplicate_id",
        "field": "source_record_id",
        "detail": f"id {rid!r} was already read at row {first_row} with different content; "
        "the first one was kept",
        "raw": raw,
    }


class FrameBuilder:
    """Collects rows and turns them into frames in chunks, so Python objects stay bounded."""

    def __init__(self, file: SourceFile, *, events: bool = False, chunk: int = 2_000) -> None:
        self.file = file
        self.events = events
        self.chunk = chunk
        self.rows: list[dict[str, Any]] = []
        self.frames: list[pl.DataFrame] = []
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            builder = build_events if self.events else build_records
            self.frames.append(builder(self.file, self.rows))
            self.rows = []

    def frame(self) -> pl.DataFrame:
        self._flush()
        if not self.frames:
            return pl.DataFrame(schema=EVENT_SCHEMA if self.events else RAW_SCHEMA)
        return pl.concat(self.frames, how="vertical", rechunk=True)


def event_id(file: SourceFile, prefix: str, native_id: str) -> str:
    """A stable event id within the source, e.g. ``shop|order:000123``."""
    return record_key(file.source, f"{prefix}:{native_id}")


def build_events(file: SourceFile, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An event frame: rows hold EVENT_SCHEMA names; ``detail`` may be a dict (dumped here)."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA}
    for row in rows:
        for name in EVENT_SCHEMA:
            value = row.get(name)
            if name == "source":
                value = file.source
            elif name == "source_file":
                value = file.relpath
            elif name == "detail" and isinstance(value, dict):
                value = extra_json(value)
            columns[name].append(value)
    return pl.DataFrame(columns, schema=EVENT_SCHEMA)


def read_csv_strings(file: SourceFile, text: str) -> pl.DataFrame:
    """A CSV (already decoded) as all-string columns; a malformed CSV is a file error."""
    try:
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceFileError(
            file.relpath,
            f"the CSV cannot be parsed ({first})",
            "Check that the file is a complete comma-separated export with one header row",
        ) from exc


class Collector:
    """What one file yields: records, events, quarantine items, notes; first native id wins."""

    def __init__(self, file: SourceFile) -> None:
        self.file = file
        self.records = FrameBuilder(file)
        self.events = FrameBuilder(file, events=True)
        self.quarantine: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.dedupe = Deduper()

    def reject(self, rid: str, row: int, reason: str, detail: str, raw: Any) -> None:
        self.quarantine.append(
            {
                "source_record_id": rid,
                "source_row": row,
                "reason": reason,
                "detail": detail,
                "raw": raw,
            }
        )

    def first_time(self, rid: str, row: int, content: Any, raw: Any) -> bool:
        """True for a new id; a repeat with other content is quarantined as ``duplicate_id``."""
        status, first = self.dedupe.check(rid, content, row)
        if status == "differs":
            self.quarantine.append(duplicate_item(rid, row, first, raw))
        return status == "new"

    def result(self) -> tuple[ReadResult, pl.DataFrame]:
        if self.dedupe.repeats:
            self.notes.append(
                f"{self.dedupe.repeats} repeated entries (same id and content) were read once"
            )
        quarantine = quarantine_rows(self.file, self.quarantine)
        return ReadResult(self.records.frame(), quarantine, self.notes), self.events.frame()
