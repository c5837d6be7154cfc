"""Source kind ``auto``: tell which connector a file needs from its name and first bytes.

Only the start of the file is read (64 KB), so detection costs nothing on a 1 GB export:
- workbooks (``.xlsx``, ``.xls``, ``.ods``…) are spreadsheets;
- XML whose root is ``КоммерческаяИнформация`` (or any other XML, which the CommerceML connector
  then explains) is ``commerceml``;
- JSON / NDJSON with ``users``/``tickets``, requesters or roles is ``tickets``, other JSON is
  ``webform`` (form payloads);
- a text table starting ``Timestamp`` / ``Отметка времени`` is a Google Forms export
  (``webform``), one with ``Issue key`` and ``Summary`` a Jira export (``tickets``), any other a
  ``spreadsheet`` (amoCRM, Bitrix24 and 1C lists included).
A ``kind`` named in ``svod.toml`` is used as is; ``auto`` only decides when asked to.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.sources.base import ReadResult, SourceFile

_HEAD = 1 << 16
_WORKBOOKS = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_TEXT_TABLES = {".csv", ".tsv", ".txt"}
_JSON = {".json", ".ndjson", ".jsonl"}
_KEY = re.compile(r'"([^"\\]{1,64})"\s*:')
_TICKET_KEYS = {
    "users",
    "tickets",
    "requester",
    "requester_id",
    "requester_name",
    "requester_email",
    "subject",
    "role",
    "identities",
    "assignee_id",
}
_FORM_KEYS = {"tranid", "formid", "formname", "cookies", "submitted_at", "referer"}
_CML_ROOT = "КоммерческаяИнформация"


def _head_text(path: Path, relpath: str) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        raise SourceFileError(
            relpath,
            f"cannot open the file ({exc.strerror})",
            "check that it exists and is readable",
        ) from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut at the 64 KB edge
            return head[: exc.start].decode("utf-8-sig")
    return head.decode("cp1251", errors="replace")


def _first_cells(text: str) -> list[str]:
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    for delimiter in (";", ",", "\t"):
        if delimiter in line:
            return [c.strip().strip('"').lower() for c in line.split(delimiter)]
    return [line.strip().lower()]


def detect_kind(path: Path, relpath: str) -> str:
    """The connector kind for a file; a clear error when it is none Svod reads."""
    suffix = path.suffix.lower()
    if suffix in _WORKBOOKS:
        return "spreadsheet"
    text = _head_text(path, relpath)
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if suffix == ".xml" or start == "<":
        return "commerceml" if _CML_ROOT in text or suffix == ".xml" else _unknown(relpath)
    if suffix in _JSON or start in ("[", "{"):
        keys = {k.lower() for k in _KEY.findall(text)}
        if keys & _TICKET_KEYS and not keys & _FORM_KEYS:
            return "tickets"
        return "webform"
    if suffix in _TEXT_TABLES:
        cells = _first_cells(text)
        if cells and cells[0] in ("timestamp", "отметка времени"):
            return "webform"
        if "issue key" in cells and "summary" in cells:
            return "tickets"
        return "spreadsheet"
    return _unknown(relpath)


def _unknown(relpath: str) -> str:
    raise SourceFileError(
        relpath,
        "unknown format: not a spreadsheet, CSV, CommerceML XML or JSON export",
        "move the file out of the inbox, or name its kind in svod.toml",
    )


def resolve(file: SourceFile) -> SourceFile:
    """The file with its detected kind (a file of a named kind is returned unchanged)."""
    if file.kind != "auto":
        return file
    return replace(file, kind=detect_kind(file.path, file.relpath))


def read_with_events(file: SourceFile) -> tuple[ReadResult, pl.DataFrame | None]:
    """Detect the kind, then read with that connector; the note says what was detected."""
    from pipelines.sources import read_file

    resolved = resolve(file)
    result, events = read_file(resolved)
    result.notes.insert(0, f"detected kind {resolved.kind}")
    return result, events


def read(file: SourceFile) -> ReadResult:
    """Records only (see :func:`read_with_events`)."""
    return read_with_events(file)[0]
