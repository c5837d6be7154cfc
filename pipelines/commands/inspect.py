"""``svod inspect FILE``: show what Svod would read from a file, without ingesting anything.

The user's own file on their own terminal, so values are shown as read (nothing is masked).
Nothing is written: no lake batch, no warehouse change.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from pipelines.config import CONFIG_FILE, SOURCE_KINDS, load_config
from pipelines.errors import SvodError
from pipelines.schema import RAW_FIELDS
from pipelines.sources import read_file
from pipelines.sources.base import ReadResult, SourceFile
from pipelines.sources.detect import resolve
from pipelines.sources.spreadsheets import read_tables
from pipelines.sources.tables import TableRows, describe_mapping, table_to_records

_SHOWN = [f for f in RAW_FIELDS if f != "extra"]


def _console() -> Console:
    width = int(os.environ.get("COLUMNS", "0")) or 160
    return Console(width=max(width, 100), highlight=False)


def _source_file(path: Path, kind: str, source: Any | None) -> SourceFile:
    file = SourceFile(
        path=path,
        relpath=path.name,
        source=source.name if source else "inspect",
        kind=source.kind if source and kind == "auto" else kind,
        sha256="-",
        batch_id="inspect",
        ingested_at=datetime.now(UTC),
        options=source.options if source else {},
        mapping=source.mapping if source else {},
    )
    return resolve(file)


def _records_table(records: pl.DataFrame, title: str) -> Table:
    """Rows as parsed, one column per record: lineage, fields with a value, then extra keys."""
    table = Table(title=title, title_justify="left")
    table.add_column("field", style="bold")
    rows = list(records.iter_rows(named=True))
    for row in rows:
        table.add_column(f"row {row['source_row']}", overflow="fold")
    extras = [json.loads(r["extra"]) if r["extra"] else {} for r in rows]
    lines: list[tuple[str, list[Any]]] = [
        ("source_record_id", [r["source_record_id"] for r in rows])
    ]
    lines += [(f, [r[f] for r in rows]) for f in _SHOWN if any(r[f] is not None for r in rows)]
    keys = dict.fromkeys(k for e in extras for k, v in e.items() if v not in (None, ""))
    lines += [(f"extra · {k}", [e.get(k) for e in extras]) for k in keys]
    for name, values in lines:
        table.add_row(name, *("" if v is None else str(v) for v in values))
    return table


def _mapping_table(table: TableRows, mapping: dict[str, str]) -> Table:
    out = Table(title="Column mapping (header → Svod field)", title_justify="left")
    out.add_column("#", justify="right")
    out.add_column("header")
    out.add_column("field")
    for i, (header, field) in enumerate(describe_mapping(table.headers, mapping, table.profile)):
        out.add_row(str(i + 1), header, field if field != "extra" else "[dim]extra[/]")
    return out


def _problems(result: ReadResult) -> list[str]:
    problems = []
    reasons = Counter(result.quarantine["reason"].to_list())
    for reason, count in sorted(reasons.items()):
        first = result.quarantine.filter(pl.col("reason") == reason).row(0, named=True)
        where = f"row {first['source_row']}" if first["source_row"] is not None else "record"
        sheet = f" (sheet {first['source_sheet']!r})" if first["source_sheet"] else ""
        problems.append(f"{count} × {reason}: e.g. {where}{sheet}: {first['detail']}")
    for field in ("phone", "email"):
        if result.records.height and result.records[field].null_count() == result.records.height:
            problems.append(f"no {field} in any record")
    return problems


def _show_spreadsheet(console: Console, file: SourceFile, rows: int) -> None:
    tables, _, prefix = read_tables(file)
    for table in tables:
        where = f"sheet {table.sheet!r}" if table.sheet else "table"
        profile = table.profile.label if table.profile else "none (ordinary spreadsheet)"
        console.print(
            f"[bold]{where}[/]: header row {table.header_row}, "
            f"{table.grid.height:,} rows below it; recognised export: {profile}"
        )
        console.print(_mapping_table(table, dict(file.mapping)))
        head = TableRows(
            table.headers,
            table.grid.head(rows),
            table.row_numbers.head(rows),
            table.sheet,
            table.header_row,
            table.profile,
        )
        id_prefix = prefix or f"{file.relpath}:{table.sheet}:"
        records, _ = table_to_records(file, head, id_prefix=id_prefix)
        console.print(_records_table(records, f"First {records.height} records as parsed"))


def inspect_file(path: Path, *, kind: str, rows: int, source: Any | None = None) -> None:
    """Print format, encoding, header row, mapping, first rows and problems of one file."""
    console = _console()
    file = _source_file(path, kind, source)
    result, events = read_file(file)
    console.print(f"[bold]{path}[/]  ({path.stat().st_size:,} bytes)")
    console.print(f"kind: [bold]{file.kind}[/]" + (" (detected)" if kind == "auto" else ""))
    for note in result.notes:
        console.print(f"  · {note}")
    if file.kind == "spreadsheet":
        _show_spreadsheet(console, file, rows)
    else:
        console.print(_records_table(result.records.head(rows), f"First {rows} records as parsed"))
    summary = f"{result.records.height:,} records, {result.quarantine.height:,} quarantined rows"
    if events is not None:
        summary += f", {events.height:,} events"
    console.print(f"[bold]would read:[/] {summary}")
    problems = _problems(result)
    console.print("[bold]problems:[/] " + ("none found" if not problems else ""))
    for problem in problems:
        console.print(f"  - {problem}")


def register(app: typer.Typer) -> None:
    """Add ``svod inspect`` to the CLI."""

    @app.command()
    def inspect(
        file: Annotated[Path, typer.Argument(help="The file to look into.")],
        kind: Annotated[
            str,
            typer.Option(help=f"Connector kind: {' | '.join(SOURCE_KINDS)} (default: detect)."),
        ] = "auto",
        rows: Annotated[int, typer.Option(min=1, max=1000, help="How many rows to show.")] = 5,
        source: Annotated[
            str | None,
            typer.Option(help="Use this source's kind, options and mapping from svod.toml."),
        ] = None,
        workspace: Annotated[
            Path | None,
            typer.Option("--workspace", "-w", help="Workspace with svod.toml (for --source)."),
        ] = None,
    ) -> None:
        """Show what Svod would read from FILE (format, encoding, header row, column mapping,
        first rows, problems) without ingesting it."""
        err = Console(stderr=True, highlight=False)
        try:
            if kind not in SOURCE_KINDS:
                raise typer.BadParameter(
                    f"write one of {', '.join(SOURCE_KINDS)}", param_hint="--kind"
                )
            if not file.is_file():
                raise SvodError(f"{file}: no such file; check the path")
            config_source = None
            if source is not None:
                from pipelines.workspace import default_workspace_path

                root = workspace or default_workspace_path()
                config = load_config(root / CONFIG_FILE)
                config_source = next((s for s in config.sources if s.name == source), None)
                if config_source is None:
                    names = [s.name for s in config.sources]
                    raise SvodError(f"{root / CONFIG_FILE}: no source {source!r}; sources: {names}")
            inspect_file(file, kind=kind, rows=rows, source=config_source)
        except SvodError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(code=1) from None
