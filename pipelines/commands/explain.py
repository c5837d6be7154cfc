"""``svod explain <customer_id | record key | phone | e-mail>``: why these records are one
customer (the evidence of every link) and why the nearest other records were not joined.

Reads the published tables only (``record_links``, ``link_evidence``, ``identity_guards``,
``identifiers``, ``customer_registry``); the user's own warehouse on their own terminal, so
values are shown as stored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from identity.evidence import evidence_schema
from identity.explain import Explanation, explain, fields_text, query_kind
from identity.normalize.emails import normalize_emails
from identity.normalize.phones import normalize_phones
from pipelines.workspace import Workspace

MAX_CUSTOMERS = 3


def _table(
    con: duckdb.DuckDBPyConnection, name: str, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    exists = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", params=[name]
    ).fetchall()
    if not exists[0][0]:
        return pl.DataFrame(schema=schema)
    frame: pl.DataFrame = con.sql(f'SELECT * FROM "{name}"').pl()  # noqa: S608 (fixed name)
    return frame


def _customers(
    text: str, links: pl.DataFrame, identifiers: pl.DataFrame, registry: pl.DataFrame
) -> list[str]:
    """Customer IDs the query names, following merged IDs to their survivor."""
    kind = query_kind(text)
    if kind == "customer":
        found = [text.strip()]
    elif kind == "record":
        found = links.filter(pl.col("record_key") == text)["customer_id"].to_list()
    else:
        if kind == "email":
            values = normalize_emails(pl.Series([text]))
            wanted = set(values["emails"].explode().drop_nulls().to_list())
            wanted |= set(values["email_keys"].explode().drop_nulls().to_list())
        else:
            phones = normalize_phones(pl.Series([text]))["phones"]
            wanted = set(phones.explode().drop_nulls().to_list())
        found = (
            identifiers.filter((pl.col("type") == kind) & pl.col("value").is_in(sorted(wanted)))
            .get_column("customer_id")
            .unique()
            .sort()
            .to_list()
        )
    merged = dict(
        registry.filter(pl.col("status") == "merged")
        .select("customer_id", "merged_into")
        .iter_rows()
    )
    out = []
    for cid in found:
        while cid in merged:
            cid = merged[cid]
        if cid not in out:
            out.append(cid)
    return out


def render(console: Console, ex: Explanation) -> None:
    """Print one explanation."""
    console.print(f"[bold]Customer {ex.customer_id}[/bold]: {ex.records.height} record(s)")
    records = Table("record_key", "source", "joined by")
    for row in ex.records.iter_rows(named=True):
        records.add_row(row["record_key"], row.get("source") or "", row.get("match_rule") or "")
    console.print(records)
    if ex.links.height:
        table = Table("link", "probability", "blocking rules", "evidence", title="Why they are one")
        for row in ex.links.iter_rows(named=True):
            table.add_row(
                f"{row['left_key']}\n{row['right_key']}",
                f"{row['probability']:.4f}",
                row["rules"] or "",
                fields_text(row),
            )
        console.print(table)
    if ex.near_misses.height:
        table = Table(
            "pair",
            "other customer",
            "probability",
            "why not joined",
            "evidence",
            title="Nearest records not joined",
        )
        for row in ex.near_misses.iter_rows(named=True):
            why = row["reason"] or (
                "below the link threshold"
                if row["decision"] == "below_threshold"
                else row["decision"]
            )
            table.add_row(
                f"{row['left_key']}\n{row['right_key']}",
                row.get("other_customer") or "",
                f"{row['probability']:.4f}",
                why,
                fields_text(row),
            )
        console.print(table)
    if ex.guards.height:
        table = Table(
            "type", "value", "records", "reason", title="Identifiers not used on their own"
        )
        for row in ex.guards.iter_rows(named=True):
            table.add_row(row["type"], row["value"], str(row["records"]), row["reason"])
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``svod explain`` to the CLI."""

    @app.command("explain")
    def explain_command(
        query: Annotated[str, typer.Argument(help="A customer ID, record key, phone or e-mail.")],
        workspace: Annotated[
            Path | None,
            typer.Option(
                "--workspace",
                "-w",
                help="Workspace folder (default: $SVOD_WORKSPACE or data/).",
                show_default=False,
            ),
        ] = None,
        near: Annotated[int, typer.Option(help="How many near misses to show.")] = 5,
    ) -> None:
        """Why records are one customer, and why the nearest others were not joined."""
        console = Console(width=int(os.environ.get("COLUMNS", "0")) or 160, highlight=False)
        ws = Workspace.open(workspace)
        if not ws.warehouse.is_file():
            console.print(f"no warehouse at {ws.warehouse}; run 'svod run' first")
            raise typer.Exit(1)
        with duckdb.connect(str(ws.warehouse), read_only=True) as con:
            links = _table(
                con, "record_links", {"record_key": pl.String(), "customer_id": pl.String()}
            )
            evidence = _table(con, "link_evidence", evidence_schema())
            guards = _table(
                con,
                "identity_guards",
                {
                    "type": pl.String(),
                    "value": pl.String(),
                    "records": pl.Int64(),
                    "reason": pl.String(),
                },
            )
            identifiers = _table(
                con,
                "identifiers",
                {"customer_id": pl.String(), "type": pl.String(), "value": pl.String()},
            )
            registry = _table(
                con,
                "customer_registry",
                {"customer_id": pl.String(), "status": pl.String(), "merged_into": pl.String()},
            )
        found = _customers(query, links, identifiers, registry)
        if not found:
            console.print(
                f"nothing found for {query!r} ({query_kind(query)}); try a customer "
                "ID or record key from record_links"
            )
            raise typer.Exit(1)
        if len(found) > MAX_CUSTOMERS:
            console.print(f"{len(found)} customers hold {query!r}; showing {MAX_CUSTOMERS}")
        for cid in found[:MAX_CUSTOMERS]:
            render(console, explain(cid, links, evidence, guards, identifiers, near=near))
