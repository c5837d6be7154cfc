"""Reading text and JSON documents for the JSON-based connectors (web forms, tickets).

A file is decoded strictly (a bad byte is a file error with its line and column, never a silent
replacement character), then parsed as one JSON document or as NDJSON. In NDJSON a broken line is
one bad row, not a bad file, so it is returned for quarantine and the other lines are still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import SourceFileError
from pipelines.sources.base import SourceFile

REEXPORT_HINT = "Check that the file is complete and export it again from the source system"


@dataclass
class JsonDocument:
    """A parsed file: ``items`` are (ordinal or line number, value); ``bad_lines`` NDJSON only."""

    shape: str  # "array", "object" or "ndjson"
    items: list[tuple[int, Any]]
    bad_lines: list[tuple[int, str, str]] = field(default_factory=list)  # line, raw text, error


def line_col(data: bytes | str, offset: int) -> str:
    """``line N, column M`` (both 1-based) of a byte or character offset."""
    head = data[:offset]
    newline: Any = b"\n" if isinstance(head, bytes) else "\n"
    line = head.count(newline) + 1
    column = offset - (head.rfind(newline) + 1) + 1
    return f"line {line}, column {column}"


def read_text(file: SourceFile) -> str:
    """The file decoded as UTF-8 (a BOM is dropped); other encodings are a file error."""
    data = file.path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            file.relpath,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)",
            "Save or export the file again as UTF-8 (JSON and CSV exports of this kind are UTF-8)",
            location=line_col(data, exc.start),
        ) from exc


def json_error(file: SourceFile, exc: json.JSONDecodeError) -> SourceFileError:
    """A file error naming where the JSON broke and why."""
    body = exc.doc.strip()
    closed = body[-1:] == {"[": "]", "{": "}"}.get(body[:1], body[-1:])
    reason = (
        f"the JSON ends unexpectedly ({exc.msg}); the file looks truncated"
        if not closed or not exc.doc[exc.pos :].strip()
        else f"the file is not valid JSON ({exc.msg})"
    )
    return SourceFileError(
        file.relpath, reason, REEXPORT_HINT, location=f"line {exc.lineno}, column {exc.colno}"
    )


def _looks_like_ndjson(file: SourceFile, text: str) -> bool:
    if file.path.suffix.lower() in {".ndjson", ".jsonl"}:
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except json.JSONDecodeError:
        return False


def load_json(file: SourceFile, text: str) -> JsonDocument:
    """Parse ``text`` as a JSON array, a single JSON object, or NDJSON (one value per line)."""
    if not text.strip():
        raise SourceFileError(
            file.relpath, "the file is empty", REEXPORT_HINT, location="line 1, column 1"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_like_ndjson(file, text):
            return _load_ndjson(text)
        raise json_error(file, exc) from exc
    if isinstance(value, list):
        return JsonDocument("array", list(enumerate(value, start=1)))
    return JsonDocument("object", [(1, value)])


def _load_ndjson(text: str) -> JsonDocument:
    doc = JsonDocument("ndjson", [])
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc.items.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            doc.bad_lines.append((number, line, f"{exc.msg} at column {exc.colno}"))
    return doc


def bad_line_items(file: SourceFile, doc: JsonDocument) -> list[dict[str, Any]]:
    """Quarantine items for NDJSON lines that are not valid JSON."""
    return [
        {
            "source_record_id": f"{file.relpath}:{number}",
            "source_row": number,
            "reason": "broken_line",
            "detail": f"line {number}: {error}",
            "raw": raw,
        }
        for number, raw, error in doc.bad_lines
    ]
