"""``svod export``: the published tables as Parquet or CSV, so a client base can leave Svod."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console

from pipelines.errors import SvodError
from pipelines.profile.export import Encoding, Format, export_tables
from pipelines.workspace import Workspace, default_workspace_path


def register(app: typer.Typer) -> None:
    """Add ``svod export`` to the CLI."""

    @app.command("export")
    def export(
        workspace: Annotated[
            Path | None,
            typer.Option("--workspace", "-w", help="Workspace folder (default: $SVOD_WORKSPACE "
                         "or data/).", show_default=False),
        ] = None,
        fmt: Annotated[Format, typer.Option("--format", help="parquet or csv.")] = "parquet",
        encoding: Annotated[
            Encoding, typer.Option(help="CSV encoding: utf-8 (with BOM, ',') or cp1251 (';').")
        ] = "utf-8",
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Folder to write (default: <workspace>/export)."),
        ] = None,
        strict: Annotated[
            bool,
            typer.Option("--strict", help="cp1251: stop at the first character it cannot "
                         "encode instead of replacing it (replacements are always reported)."),
        ] = False,
    ) -> None:  # fmt: skip
        """Write every published table (profiles, identifiers, companies, events, …, runs)."""
        err = Console(stderr=True, highlight=False)
        try:
            ws = Workspace.open(workspace or default_workspace_path())
            if not ws.warehouse.is_file():
                raise SvodError(f"no warehouse at {ws.warehouse}; run 'svod run' first")
            target = out or ws.root / "export"
            with duckdb.connect(str(ws.warehouse), read_only=True) as con:
                report = export_tables(con, target, fmt, encoding, strict=strict)
        except (SvodError, duckdb.Error) as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(code=1) from None
        for table, columns in report.replaced.items():
            for column, count in columns.items():
                err.print(
                    f"[yellow]note:[/] {table}.{column}: {count} cell(s) had characters cp1251 "
                    "lacks; accents were dropped and the rest written as '?' "
                    f"(see {target / 'export_report.json'})"
                )
        Console(highlight=False).print(
            f"Exported {len(report.files)} tables ({sum(report.rows.values()):,} rows) to {target}"
        )
