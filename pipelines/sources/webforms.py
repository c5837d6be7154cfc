"""Web form connector (kind ``webform``): webhook payloads (Tilda style) and Google Forms CSV.

Webhook files are a JSON array, NDJSON (one payload per line, as we land them) or one object.
Form editors rename fields freely, so keys are matched case-insensitively; form metadata
(``formid``, ``utm_*``, ``COOKIES``…) goes to ``extra``. Every submission is also a
``form_submission`` event (see :func:`events`).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.schema import ENTITY_PERSON, field_for_header, fold_header
from pipelines.sources._common import (
    Collector,
    clean,
    event_id,
    extra_json,
    fallback_id,
    read_csv_strings,
)
from pipelines.sources._json_util import bad_line_items, load_json, read_text
from pipelines.sources.base import ReadResult, SourceFile, record_key

_KEYS = {
    "full_name": {"name", "имя", "фио", "ф.и.о.", "ваше имя", "full name", "fullname"},
    "phone": {"phone", "телефон", "tel", "phone number", "номер телефона", "ваш телефон"},
    "email": {"email", "e-mail", "почта", "mail", "эл. почта", "электронная почта"},
    "observed_at": {"submitted_at"},
}
_METADATA = {"formid", "formname", "cookies", "test", "payment", "tranid", "referer"}
_GF_TIMESTAMP = {"timestamp", "отметка времени"}
#: Google Forms question titles are free text: (field, substrings), checked in this order.
_GF_RULES = (
    ("email", ("email address", "адрес электронной почты", "e-mail", "email", "почт")),
    ("phone", ("телефон", "phone")),
    ("company", ("компани", "организаци", "company")),
    ("full_name", ("фио", "имя", "обращаться", "name")),
    ("city", ("город", "city")),
)


def read(file: SourceFile) -> ReadResult:
    """Contact records, one per form submission."""
    return read_with_events(file)[0]


def read_with_events(file: SourceFile) -> tuple[ReadResult, pl.DataFrame]:
    """Records and events in one pass over the file."""
    text = read_text(file)
    out = _Out(file)
    if text.lstrip()[:1] in ("[", "{"):
        doc = load_json(file, text)
        out.quarantine.extend(bad_line_items(file, doc))
        for row, value in doc.items:
            out.submission(value, row, _map_payload(file, value, out.keys))
        out.notes.append(f"{doc.shape} file: {len(doc.items) + len(doc.bad_lines)} payloads")
    else:
        _read_google_forms(file, text, out)
    return out.result()


class _Keys(dict[str, tuple[str, str | None]]):
    """Payload key → (folded key, raw field or None), worked out once per distinct key.

    A file repeats a handful of keys in every payload; folding and matching each of them per
    payload was most of the per-record work. One instance per file (``file.mapping`` applies).
    """

    def __init__(self, file: SourceFile) -> None:
        super().__init__()
        self.file = file

    def __missing__(self, key: str) -> tuple[str, str | None]:
        found = self[key] = (fold_header(key), _field(self.file, key))
        return found


class _Out(Collector):
    """Collects what a form file yields; one submission is one record and one event."""

    def __init__(self, file: SourceFile) -> None:
        super().__init__(file)
        self.keys = _Keys(file)

    def submission(self, raw: Any, row: int, mapped: tuple[dict[str, Any], dict[str, Any]]) -> None:
        record, extra = mapped
        rid = record.get("source_record_id") or fallback_id(self.file, row)
        reject = _rejection(raw, self.keys)
        if reject:
            self.reject(rid, row, reject[0], reject[1], raw)
            return
        if not self.first_time(rid, row, raw, raw):
            return
        record.update(source_record_id=rid, source_row=row, entity_kind=ENTITY_PERSON)
        record["extra"] = extra_json(extra)
        self.records.add(record)
        self.events.add(_event(self.file, rid, record, extra, self.keys))


def _rejection(raw: Any, keys: _Keys) -> tuple[str, str] | None:
    if not isinstance(raw, dict):
        return "not_an_object", f"expected a JSON object, got {type(raw).__name__}"
    if all(clean(v) is None for v in raw.values()):
        return "empty_record", "the payload has no fields with a value"
    if all(keys[k][0] == "test" for k in raw):  # raw has a key: it has a value
        return "junk_record", "Tilda's connection test (test=test), not a submission"
    return None


def _field(file: SourceFile, key: str) -> str | None:
    """The raw field a payload key maps to; None sends it to ``extra``."""
    if key in file.mapping:
        return file.mapping[key]
    folded = fold_header(key)
    for name, keys in _KEYS.items():
        if folded in keys:
            return name
    if folded.startswith("utm_") or folded in _METADATA:
        return None
    found = field_for_header(key)
    return None if found == "extra" else found


def _map_payload(
    file: SourceFile, obj: Any, keys: _Keys | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(raw record fields, extra) of one payload; first key wins when two map to one field.

    ``keys`` is the file's key cache (a fresh one when not given).
    """
    record: dict[str, Any] = {"source_sheet": None}
    extra: dict[str, Any] = {}
    if not isinstance(obj, dict):
        return record, extra
    plan = _Keys(file) if keys is None else keys
    for key, value in obj.items():
        folded, name = plan[key]
        if name is None and folded != "tranid":  # most keys: metadata for extra
            extra[key] = value
            continue
        cleaned = clean(value)
        if cleaned is not None and folded == "tranid":
            record["source_record_id"] = cleaned
        elif name is not None and cleaned is not None and record.get(name) is None:
            record[name] = cleaned
        else:
            extra[key] = value
    return record, extra


def _amount(payment: Any) -> str | None:
    """``amount`` of a Tilda shop payment, which arrives as a JSON string or an object."""
    if isinstance(payment, str):
        try:
            payment = json.loads(payment)
        except json.JSONDecodeError:
            return None
    return clean(payment.get("amount")) if isinstance(payment, dict) else None


def _event(
    file: SourceFile, rid: str, record: dict[str, Any], extra: dict[str, Any], keys: _Keys
) -> Any:
    """The submission event; ``record["extra"]`` is already the JSON of ``extra``."""
    first: dict[str, Any] = {}  # folded key → value of the first key that folds to it
    for key, value in extra.items():
        folded = keys[key][0]
        if folded not in first:
            first[folded] = value
    if "cookies" in first:
        detail = extra_json({k: v for k, v in extra.items() if keys[k][0] != "cookies"})
    else:  # the usual payload: the detail is the extra, already encoded
        detail = record["extra"]
    get = first.get
    return {
        "event_id": event_id(file, "submission", rid),
        "record_key": record_key(file.source, rid),
        "event_type": "form_submission",
        "occurred_at": record.get("observed_at"),
        "amount": _amount(get("payment")),
        "status": None,
        "channel": clean(get("utm_source")) or "web",
        "subject": clean(get("formname")) or clean(get("formid")),
        "detail": detail,
    }


def _gf_field(file: SourceFile, title: str, taken: set[str]) -> str | None:
    if title in file.mapping:
        return file.mapping[title]
    folded = fold_header(title)
    for name, parts in _GF_RULES:
        if name not in taken and any(part in folded for part in parts):
            return name
    return None


def _read_google_forms(file: SourceFile, text: str, out: _Out) -> None:
    frame = read_csv_strings(file, text)
    if not frame.columns or fold_header(frame.columns[0]) not in _GF_TIMESTAMP:
        first = frame.columns[0] if frame.columns else ""
        raise SourceFileError(
            file.relpath,
            f"unknown structure: not JSON, and the first CSV column is {first!r}, not "
            "'Timestamp' / 'Отметка времени' of a Google Forms export",
            "Use the webform kind for webhook JSON/NDJSON or Google Forms CSV; other tables "
            "need the table connector",
            location="line 1",
        )
    fields: dict[str, str] = {frame.columns[0]: "observed_at"}
    for title in frame.columns[1:]:
        name = _gf_field(file, title, set(fields.values()))
        if name is not None:
            fields[title] = name
    for row, values in enumerate(frame.iter_rows(named=True), start=1):
        record: dict[str, Any] = {"source_sheet": None}
        extra: dict[str, Any] = {}
        for title, value in values.items():
            if title in fields:
                record[fields[title]] = clean(value)
            elif value is not None:
                extra[title] = value
        out.submission(values, row, (record, extra))
    out.notes.append(f"Google Forms CSV: {frame.height} responses, columns mapped: {fields}")
