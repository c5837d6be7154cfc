"""Look a customer up by phone, e-mail, ИНН or ID and read their card from the warehouse.

The query is normalised the way staging normalises records (a phone typed as `8 (916) …`
becomes E.164), then found in ``identifiers`` — which also lists raw cells that were not valid,
so an odd number still finds its customer. Every query is a point lookup on an indexed column
with bound parameters; one warm connection answers in a few milliseconds (benchmarks/lookup.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from identity.normalize.emails import parse_email_cell
from identity.normalize.identifiers import clean_digits, repair_inn
from identity.normalize.phones import parse_phone_cell

_CUSTOMER_ID = re.compile(r"^C[0-9A-F]{15}$")
_COMPANY_ID = re.compile(r"^K[0-9A-F]{15}$")


@dataclass(frozen=True)
class Query:
    """What a lookup string is: ``kind`` (customer_id, company_id, email, inn, phone, raw)."""

    kind: str
    value: str


@dataclass
class Card:
    """Everything ``svod profile`` prints about one customer (or one company)."""

    kind: str  # "customer" or "company"
    profile: dict[str, Any]
    golden: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    companies: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def classify(text: str) -> list[Query]:
    """What the user may have typed, most specific first; the raw text always comes last
    (``identifiers`` lists invalid cells as written). A 10-digit number is tried both as an
    ИНН (if its checksum holds) and as a phone."""
    s = text.strip()
    if _CUSTOMER_ID.match(s.upper()):
        return [Query("customer_id", s.upper())]
    if _COMPANY_ID.match(s.upper()):
        return [Query("company_id", s.upper())]
    found: list[Query] = []
    if "@" in s:
        found += [Query("email", e) for e in parse_email_cell(s).emails[:1]]
    else:
        digits = clean_digits(s)
        inn = repair_inn(digits) if digits is not None and len(digits) in (10, 12) else None
        if inn is not None:
            found.append(Query("inn", inn))
        found += [Query("phone", n.e164) for n in parse_phone_cell(s).numbers[:1]]
    return [*found, Query("raw", s)]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def find(con: duckdb.DuckDBPyConnection, query: Query) -> tuple[list[str], list[str]]:
    """(customer IDs, company IDs) matching the query, customers with more records first."""
    if query.kind == "customer_id":
        found = _rows(con, "SELECT customer_id FROM profiles WHERE customer_id = ?", [query.value])
        if not found:  # an ID retired by a merge points to its survivor
            found = _rows(
                con,
                "SELECT merged_into AS customer_id FROM customer_registry "
                "WHERE customer_id = ? AND merged_into IS NOT NULL",
                [query.value],
            )
        return [r["customer_id"] for r in found], []
    if query.kind == "company_id":
        rows = _rows(con, "SELECT company_id FROM companies WHERE company_id = ?", [query.value])
        return [], [r["company_id"] for r in rows]
    hits = _rows(
        con,
        "SELECT customer_id, type, record_count FROM identifiers WHERE value = ?",
        [query.value],
    )
    best: dict[str, int] = {}
    for hit in hits:
        if hit["type"] != "company_inn":
            best[hit["customer_id"]] = max(best.get(hit["customer_id"], 0), hit["record_count"])
    rows = [{"customer_id": c} for c in sorted(best, key=lambda c: (-best[c], c))]
    customers = [r["customer_id"] for r in rows]
    companies: list[str] = []
    if query.kind == "inn":  # the company first: its card lists the people who carry its ИНН
        hits = _rows(
            con, "SELECT company_id, customer_id FROM companies WHERE inn = ?", [query.value]
        )
        owners = [r["customer_id"] for r in hits if r["customer_id"] is not None]
        customers = owners + [c for c in customers if c not in owners]
        companies = [r["company_id"] for r in hits if r["customer_id"] is None]
    return customers, companies


def customer_card(con: duckdb.DuckDBPyConnection, customer_id: str, events: int = 10) -> Card:
    """The card of one customer: profile, golden lineage, identifiers, companies, events."""
    profile = _rows(con, "SELECT * FROM profiles WHERE customer_id = ?", [customer_id])
    card = Card("customer", profile[0] if profile else {"customer_id": customer_id})
    card.golden = _rows(
        con,
        "SELECT attribute, value, valid, source, record_key, record_at, decided_by "
        "FROM golden_values WHERE customer_id = ? ORDER BY attribute",
        [customer_id],
    )
    card.identifiers = _rows(
        con,
        "SELECT type, value, valid, is_golden, sources, record_count, last_seen "
        "FROM identifiers WHERE customer_id = ?",
        [customer_id],
    )
    # single-table equality filters only: they use the ART indexes; sorting and joining the
    # few rows found is cheaper here than letting DuckDB plan a scan (see benchmarks/lookup.py)
    for link in _rows(
        con,
        "SELECT company_id, position, sources FROM customer_companies WHERE customer_id = ?",
        [customer_id],
    ):
        firm = _rows(
            con, "SELECT name, inn FROM companies WHERE company_id = ?", [link["company_id"]]
        )
        card.companies.append({**link, **(firm[0] if firm else {})})
    found = _rows(
        con,
        "SELECT occurred_ts, occurred_at, event_type, amount, status, channel, subject, source, "
        "event_id FROM events WHERE customer_id = ?",
        [customer_id],
    )
    found.sort(key=lambda e: (e["occurred_ts"] is not None, e["occurred_ts"] or 0), reverse=True)
    card.events = found[:events]
    if card.profile.get("entity_kind") == "company":
        owned = _rows(con, "SELECT company_id FROM companies WHERE customer_id = ?", [customer_id])
        card.contacts = [c for o in owned for c in contacts(con, o["company_id"])]
    return card


def contacts(
    con: duckdb.DuckDBPyConnection, company_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """Up to ``limit`` people linked to a company (``companies.contacts_count`` has them all)."""
    links = _rows(
        con,
        "SELECT customer_id, position FROM customer_companies WHERE company_id = ? LIMIT ?",
        [company_id, limit],
    )
    if not links:
        return []
    ids = [link["customer_id"] for link in links]
    marks = ", ".join("?" for _ in ids)  # placeholders only; the IDs are bound
    found = _rows(
        con,
        f"SELECT customer_id, full_name, phone, email FROM profiles WHERE customer_id IN ({marks})",  # noqa: S608
        ids,
    )
    by_id = {f["customer_id"]: f for f in found}
    people = [{**by_id.get(link["customer_id"], {}), **link} for link in links]
    return sorted(people, key=lambda p: (p.get("full_name") or "", p["customer_id"]))


def company_card(con: duckdb.DuckDBPyConnection, company_id: str) -> Card:
    """The card of a company known only from mentions: its record and its contacts."""
    company = _rows(con, "SELECT * FROM companies WHERE company_id = ?", [company_id])
    card = Card("company", company[0] if company else {"company_id": company_id})
    card.contacts = contacts(con, company_id)
    return card


def lookup(con: duckdb.DuckDBPyConnection, text: str, events: int = 10) -> list[Card]:
    """Cards of every customer (then company without a customer) matching ``text``."""
    customers: list[str] = []
    companies: list[str] = []
    for query in classify(text):
        found, firms = find(con, query)
        customers += [c for c in found if c not in customers]
        companies += [c for c in firms if c not in companies]
        if customers or companies:
            break
    cards = [customer_card(con, c, events) for c in customers]
    covered = {c.profile.get("customer_id") for c in cards}
    for company_id in companies:
        card = company_card(con, company_id)
        owner = card.profile.get("customer_id")
        if owner is None or owner not in covered:
            cards.append(card)
    return cards
