"""Helpdesk connector (kind ``tickets``): Zendesk JSON, flat ticket arrays, Jira SM CSV.

The customer is the ticket's requester; the ticket itself is a ``ticket`` event tied to the
requester's record (see :func:`events`). Agents and admins are staff, not customers: they are
quarantined as ``agent_not_customer`` so every row of the file is accounted for.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.schema import ENTITY_PERSON, fold_header
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

_USER_FIELDS = {
    "name": "full_name",
    "email": "email",
    "phone": "phone",
    "created_at": "observed_at",
}
_STAFF_ROLES = {"agent", "admin"}
_IDENTITY_FIELDS = {"email": "email", "phone_number": "phone"}
_JIRA_KEYS = ("Issue key", "Issue id")
_JIRA_MAPPED = {"Issue key", "Created", "Status", "Summary"}
_TICKET_MAPPED = frozenset(("id", "created_at", "status", "subject"))  # event columns of a ticket


def read(file: SourceFile) -> ReadResult:
    """Contact records of ticket requesters (end users)."""
    return read_with_events(file)[0]


def read_with_events(file: SourceFile) -> tuple[ReadResult, pl.DataFrame]:
    """Records and events in one pass over the file."""
    text = read_text(file)
    out = _Out(file)
    if text.lstrip()[:1] not in ("[", "{"):
        _read_jira(file, text, out)
        return out.result()
    doc = load_json(file, text)
    out.quarantine.extend(bad_line_items(file, doc))
    top = doc.items[0][1] if doc.shape == "object" else None
    if isinstance(top, dict) and ({"users", "tickets"} & set(top)):
        out.lookups(top)
        row = 0
        for key in ("users", "tickets"):
            for value in top.get(key) or []:
                row += 1
                out.user(value, row) if key == "users" else out.ticket(value, row)
    else:
        for row, value in doc.items:
            out.item(value, row)
    out.notes.append(out.summary())
    return out.result()


class _Out(Collector):
    """Users, tickets and requesters of one file."""

    def __init__(self, file: SourceFile) -> None:
        super().__init__(file)
        self.identities: dict[str, list[dict[str, Any]]] = {}
        self.organizations: dict[str, str] = {}
        self.counts = {"user": 0, "agent": 0, "ticket": 0, "no_requester": 0}

    def lookups(self, top: dict[str, Any]) -> None:
        """Sideloaded Zendesk ``identities`` and ``organizations``, by user / org id."""
        for item in top.get("identities") or []:
            if isinstance(item, dict) and (uid := clean(item.get("user_id"))):
                self.identities.setdefault(uid, []).append(item)
        for org in top.get("organizations") or []:
            if isinstance(org, dict) and (oid := clean(org.get("id"))):
                self.organizations[oid] = clean(org.get("name")) or ""

    def item(self, value: Any, row: int) -> None:
        """An element of a plain list or NDJSON: a flat ticket, a Zendesk ticket or a user."""
        if not isinstance(value, dict):
            self.user(value, row)  # quarantined there as not_an_object
        elif "requester" in value or any(
            k.startswith("requester_") for k in value if k != "requester_id"
        ):
            self.flat_ticket(value, row)
        elif "requester_id" in value or "subject" in value:
            self.ticket(value, row)
        else:
            self.user(value, row)

    def _usable(self, value: Any, row: int) -> bool:
        if not isinstance(value, dict):
            rid = fallback_id(self.file, row)
            self.reject(rid, row, "not_an_object", f"got {type(value).__name__}", value)
            return False
        if all(clean(v) is None for v in value.values()):
            rid = fallback_id(self.file, row)
            self.reject(rid, row, "empty_record", "the object has no fields with a value", value)
            return False
        return True

    def user(self, value: Any, row: int) -> None:
        if not self._usable(value, row):
            return
        rid = clean(value.get("id")) or fallback_id(self.file, row)
        role = (clean(value.get("role")) or "end-user").lower()
        if role in _STAFF_ROLES:
            self.counts["agent"] += 1
            self.reject(rid, row, "agent_not_customer", f"role {role!r} is staff", value)
            return
        if not self.first_time(rid, row, value, value):
            return
        record: dict[str, Any] = {"source_record_id": rid, "source_row": row}
        extra: dict[str, Any] = {}
        fields = _USER_FIELDS
        for key, item in value.items():
            if (name := fields.get(key)) and (cleaned := clean(item)) is not None:
                record[name] = cleaned
            elif key != "id" and item is not None:
                extra[key] = item
        identities = as_identities(value.get("identities")) + self.identities.get(rid, [])
        for kind, name in _IDENTITY_FIELDS.items():
            if not identities:  # the usual user: its own field only (a non-empty value or None)
                record[name] = record.get(name) or None
                continue
            found = [clean(i.get("value")) for i in identities if i.get("type") == kind]
            values = [v for v in [record.get(name), *found] if v]
            record[name] = "; ".join(dict.fromkeys(values)) or None
        if self.identities.get(rid):
            extra["identities"] = self.identities[rid]
        org = clean(value.get("organization_id"))
        record["company"] = self.organizations.get(org) if org else None
        self.add_person(record, extra)
        self.counts["user"] += 1

    def add_person(self, record: dict[str, Any], extra: dict[str, Any]) -> None:
        record.update(entity_kind=ENTITY_PERSON, source_sheet=None, extra=extra_json(extra))
        self.records.add(record)

    def ticket(self, value: Any, row: int, requester: str | None = None) -> None:
        if not self._usable(value, row):
            return
        self.counts["ticket"] += 1
        tid = clean(value.get("id")) or fallback_id(self.file, row)
        requester = requester or clean(value.get("requester_id"))
        self.counts["no_requester"] += requester is None
        get = value.get
        via = get("via") if isinstance(get("via"), dict) else {}
        mapped = _TICKET_MAPPED
        self.events.add(
            {
                "event_id": event_id(self.file, "ticket", tid),
                "record_key": record_key(self.file.source, requester) if requester else None,
                "event_type": "ticket",
                "occurred_at": clean(get("created_at")),
                "amount": None,
                "status": clean(get("status")),
                "channel": clean(via.get("channel")) or clean(get("channel")),
                "subject": clean(get("subject")),
                "detail": extra_json({k: v for k, v in value.items() if k not in mapped}),
            }
        )

    def flat_ticket(self, value: dict[str, Any], row: int) -> None:
        """A ticket carrying its requester inline: the requester becomes a record."""
        nested = value.get("requester")
        person = dict(nested) if isinstance(nested, dict) else {}
        for key, item in value.items():
            if key.startswith("requester_"):
                person.setdefault(key.removeprefix("requester_"), item)
        email, pid, phone = (clean(person.get(k)) for k in ("email", "id", "phone"))
        rid = pid or (f"email:{email.lower()}" if email else None)
        rid = rid or (f"phone:{phone}" if phone else None)
        if rid and self.first_time(rid, row, person, value):
            record: dict[str, Any] = {"source_record_id": rid, "source_row": row}
            extra: dict[str, Any] = {"first_ticket_id": value.get("id")}
            for key, item in person.items():
                name = _USER_FIELDS.get(key) if key != "created_at" else None
                if name and clean(item) is not None:
                    record[name] = clean(item)
                elif key != "id":
                    extra[key] = item
            record["observed_at"] = clean(value.get("created_at"))
            self.add_person(record, extra)
        rest = {
            k: v for k, v in value.items() if k != "requester" and not k.startswith("requester_")
        }
        self.ticket(rest, row, requester=rid)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['user']} end users, {c['agent']} agents/admins (quarantined), "
            f"{c['ticket']} tickets ({c['no_requester']} without a requester)"
        )


def _inline_requester(key: str) -> bool:
    """``requester_name``/``requester_email``… (but not Zendesk's bare ``requester_id``)."""
    return key.startswith("requester_") and key != "requester_id"


def as_identities(value: Any) -> list[dict[str, Any]]:
    """Zendesk identities embedded in a user object."""
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


def _column(frame: pl.DataFrame, *needles: str) -> str | None:
    """First column whose folded name contains any needle."""
    return next((c for c in frame.columns if any(n in fold_header(c) for n in needles)), None)


def _read_jira(file: SourceFile, text: str, out: _Out) -> None:
    """Jira Service Management CSV: the Reporter is the contact, the issue an event."""
    frame = read_csv_strings(file, text)
    key_col = next((c for c in _JIRA_KEYS if c in frame.columns), None)
    if key_col is None or "Summary" not in frame.columns:
        raise SourceFileError(
            file.relpath,
            "unknown structure: neither JSON nor a Jira CSV (no 'Issue key' and 'Summary' "
            f"columns; found {frame.columns[:6]})",
            "Export tickets as Zendesk JSON, a JSON array of tickets, or Jira CSV (all fields)",
            location="line 1",
        )
    email_col = _column(frame, "email", "e-mail")
    org_col = _column(frame, "(organizations)")
    for row, values in enumerate(frame.iter_rows(named=True), start=1):
        name, email = clean(values.get("Reporter")), clean(values.get(email_col or ""))
        uid = clean(values.get("Reporter Id"))
        rid = uid or (f"email:{email.lower()}" if email else None)
        rid = rid or (f"reporter:{name}" if name else None)
        person = {"name": name, "id": uid, "email": email, "org": values.get(org_col or "")}
        if rid and out.first_time(rid, row, person, values):
            record = {
                "source_record_id": rid,
                "source_row": row,
                "full_name": name,
                "email": email,
                "company": clean(person["org"]),
                "observed_at": clean(values.get("Created")),
            }
            out.add_person(record, {"first_issue_key": values.get(key_col)})
        out.ticket(
            {
                "id": values.get(key_col),
                "created_at": values.get("Created"),
                "status": values.get("Status"),
                "subject": values.get("Summary"),
                **{k: v for k, v in values.items() if v is not None and k not in _JIRA_MAPPED},
            },
            row,
            requester=rid,
        )
    out.notes.append(f"Jira CSV: {frame.height} issues; e-mail column: {email_col}")
