"""Small pieces shared by the commerceml, webforms and tickets connectors.

Values are kept as read (only surrounding whitespace and NBSP are stripped); anything that maps to
no raw field goes to ``extra`` as JSON. Events (orders, submissions, tickets) have their own frame,
``EVENT_SCHEMA``, tied to contact records by ``record_key``.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
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


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run a file read with the cyclic garbage collector off.

    A reader builds millions of small dicts, lists and elements and keeps its seen ids and rows
    for the whole file; the collector kept walking all of them (a fifth of a large CommerceML
    read). They hold no reference cycles, so reference counting frees them as before; the
    collector is switched back on (if it was on) when the read ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def clean(value: Any) -> str | None:
    """A source value as a string without surrounding whitespace/NBSP; None when empty."""
    if type(value) is str:  # the usual case first
        return value.strip(_STRIP) or None
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


def _encoder(*, sort_keys: bool) -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=...).encode``, same text.

    The encoder's ``encode`` builds a new C encoder on every call; readers call it once or twice
    per record, so the C encoder is made once here (the reader's values are trees, so the
    circular-reference check is left out). Without the C module the plain encoder is used.
    """
    plain = json.JSONEncoder(ensure_ascii=False, sort_keys=sort_keys, default=str)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return plain.encode
    fast = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", sort_keys, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(fast(value, 0))

    return encode


_ENCODE = _encoder(sort_keys=False)
_ENCODE_SORTED = _encoder(sort_keys=True)


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
    return hashlib.blake2b(_ENCODE_SORTED(value).encode(), digest_size=12).hexdigest()


def local_fingerprint(value: Any) -> int:
    """:func:`fingerprint`'s in-process twin: the 64-bit string hash of the same sorted JSON.

    A quarter cheaper (no UTF-8 copy, no blake2b), and as exact in practice (a collision is a
    2⁻⁶⁴ chance per compared pair), but seeded per process: compare it only within one process.
    """
    return hash(_ENCODE_SORTED(value))


class Deduper:
    """Remembers native ids seen in a file: the first row wins, repeats are told apart.

    Most ids come once, so the first content is kept as it is and digested only when its id
    comes again: a connector must not change a content after checking it.
    """

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._pending: dict[str, Any] = {}  # first content of an id seen once
        self._digests: dict[str, str] = {}
        self.repeats = 0

    def check(self, rid: str, content: Any, row: int) -> tuple[str, int]:
        """``("new", row)``, ``("same", first_row)`` or ``("differs", first_row)``."""
        first = self._rows.get(rid)
        if first is None:
            self._rows[rid] = row
            self._pending[rid] = content
            return "new", row
        digest = self._digests.get(rid)
        if digest is None:
            digest = self._digests[rid] = fingerprint(self._pending.pop(rid))
        if digest == fingerprint(content):
            self.repeats += 1
            return "same", first
        return "differs", first


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
    if not rows:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    values = zip(*(tuple(map(row.get, EVENT_SCHEMA)) for row in rows), strict=True)
    columns = dict(zip(EVENT_SCHEMA, values, strict=True))
    columns["source"] = (file.source,) * len(rows)
    columns["source_file"] = (file.relpath,) * len(rows)
    details = columns["detail"]
    if not set(map(type, details)) <= _NOT_DICT:
        columns["detail"] = [extra_json(v) if isinstance(v, dict) else v for v in details]
    return pl.DataFrame(columns, schema=EVENT_SCHEMA)


_NOT_DICT = frozenset((str, type(None)))


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
