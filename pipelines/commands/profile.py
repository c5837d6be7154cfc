"""``svod profile <phone | e-mail | ИНН | customer_id>``: print the customer card.

Meant for a person at a terminal (a call-centre operator, an analyst), so values are shown as
stored. Reads the warehouse read-only; nothing is written.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from pipelines.errors import SvodError
from pipelines.profile.consent import CHANNELS
from pipelines.profile.lookup import Card, lookup
from pipelines.workspace import Workspace, default_workspace_path

_SHOWN = (
    "full_name", "entity_kind", "customer_type", "gender", "birth_date", "age_band", "phone",
    "email", "city", "region", "business_unit", "address", "company_name", "inn", "position",
    "record_count", "sources", "first_source", "first_seen", "last_seen", "lead_sources",
    "orders_count", "orders_sum", "avg_check", "last_order_at", "rfm", "tickets_total",
    "tickets_open", "last_ticket_at", "form_submissions",
)  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ")
    return str(value)


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[_text(row.get(c)) for c in columns])
    return table


def render(card: Card, out: Console) -> None:
    """Print one card as rich tables."""
    p = card.profile
    if card.kind == "company":
        out.print(_table(f"Company {p.get('company_id')}", [p], ["name", "inn", "kpp", "ogrn"]))
        out.print(_table("Contacts", card.contacts, ["customer_id", "full_name", "position"]))
        return
    lineage = {g["attribute"]: g for g in card.golden}
    main = Table(title=f"Customer {p.get('customer_id')}", title_justify="left")
    for column in ("field", "value", "from (source · record · date · rule)"):
        main.add_column(column, overflow="fold")
    for key in _SHOWN:
        g = lineage.get("name" if key == "full_name" else key)
        origin = (
            f"{g['source']} · {g['record_key']} · {_text(g['record_at'])} · {g['decided_by']}"
            if g
            else ""
        )
        main.add_row(key, _text(p.get(key)), origin)
    out.print(main)
    consent = [
        {"channel": ch, "status": p.get(f"consent_{ch}"), "source": p.get(f"consent_{ch}_source"),
         "record": p.get(f"consent_{ch}_record"), "date": p.get(f"consent_{ch}_at")}
        for ch in CHANNELS
    ]  # fmt: skip
    out.print(_table("Consent", consent, ["channel", "status", "source", "record", "date"]))
    out.print(
        _table("Identifiers", card.identifiers, ["type", "value", "valid", "is_golden", "sources"])
    )
    if card.companies:
        out.print(_table("Companies", card.companies, ["name", "inn", "position", "company_id"]))
    if card.contacts:
        out.print(_table("Contacts", card.contacts, ["customer_id", "full_name", "position"]))
    out.print(
        _table(
            "Recent events",
            card.events,
            ["occurred_at", "event_type", "amount", "status", "channel", "subject", "source"],
        )
    )


def _json(cards: list[Card]) -> str:
    payload = [{k: v for k, v in vars(c).items() if v not in ([], None)} for c in cards]
    return json.dumps(payload, ensure_ascii=False, indent=2, default=str)


def register(app: typer.Typer) -> None:
    """Add ``svod profile`` to the CLI."""

    @app.command("profile")
    def profile(
        query: Annotated[str, typer.Argument(help="A phone, e-mail, ИНН, customer or company ID.")],
        workspace: Annotated[
            Path | None,
            typer.Option("--workspace", "-w", help="Workspace folder (default: $SVOD_WORKSPACE "
                         "or data/).", show_default=False),
        ] = None,
        events: Annotated[int, typer.Option(min=0, help="How many recent events to show.")] = 10,
        as_json: Annotated[bool, typer.Option("--json", help="Print the cards as JSON.")] = False,
    ) -> None:  # fmt: skip
        """Print the customer card: golden values and where each came from, identifiers,
        companies, consent, recent events. Exits 1 if nobody matches."""
        err = Console(stderr=True)
        try:
            ws = Workspace.open(workspace or default_workspace_path())
        except SvodError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(code=1) from None
        if not ws.warehouse.is_file():
            err.print(f"[bold red]error:[/] no warehouse at {ws.warehouse}; run 'svod run' first")
            raise typer.Exit(code=1)
        try:
            with duckdb.connect(str(ws.warehouse), read_only=True) as con:
                cards = lookup(con, query, events)
        except duckdb.Error as exc:
            err.print(
                f"[bold red]error:[/] cannot read {ws.warehouse} ({exc}); "
                "if a run is writing it, wait for it to finish"
            )
            raise typer.Exit(code=1) from None
        if not cards:
            err.print(f"no customer or company matches {query!r}", highlight=False)
            raise typer.Exit(code=1)
        out = Console(highlight=False)
        if as_json:
            out.print_json(_json(cards))
            return
        for card in cards:
            render(card, out)
