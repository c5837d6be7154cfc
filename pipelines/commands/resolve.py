"""``svod resolve INPUT... --output FILE``: resolve any files or folders in one command.

A temporary workspace is made, the inputs are copied into its inbox as one source of kind
``auto`` (each file's connector is detected from its name and first bytes), and ingest → stage →
resolve run on it directly (no warehouse is published). The result — ``record_key, customer_id``
(plus where each record came from) — is written as CSV or Parquet by the output's extension.
A plain table with first_name / surname / dob / city / email columns works as it is.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer

from pipelines.stages import ingest_stage, resolve_stage, stage_stage
from pipelines.workspace import Workspace

CONFIG = """[matching]
incremental = false  # a one-off workspace: no state for a next run

[[sources]]
name = "input"
kind = "auto"
path = "input/**/*"
"""
FORMATS = (".csv", ".parquet")


def _copy_inputs(inputs: list[Path], inbox: Path) -> int:
    """Copy files (and the files inside folders) under ``inbox``, keeping names apart."""
    count = 0
    for i, item in enumerate(inputs):
        target = inbox / f"{i:02d}_{item.name}"
        if item.is_dir():
            shutil.copytree(item, target)
            count += sum(1 for p in target.rglob("*") if p.is_file())
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)
            count += 1
    return count


def resolve_files(inputs: list[Path], output: Path) -> pl.DataFrame:
    """Resolve ``inputs`` in a temporary workspace and write the links to ``output``."""
    with tempfile.TemporaryDirectory(prefix="svod-resolve-") as tmp:
        root = Path(tmp)
        (root / "svod.toml").write_text(CONFIG, encoding="utf-8")
        _copy_inputs(inputs, root / "inbox" / "input")
        ws = Workspace.open(root)
        ws.ensure_dirs()
        run_id = str(uuid.uuid4())
        ingest_stage(ws, run_id)
        stage_stage(ws, run_id)
        with duckdb.connect() as con:
            resolve_stage(ws, con, run_id)
        links = pl.read_parquet(ws.identity_dir / "links.parquet")
        staged = pl.read_parquet(ws.staged_dir / "staged.parquet").select(
            "record_key", "source_file", "source_row"
        )
        frame = links.join(staged, on="record_key", how="left").with_columns(
            source_file=pl.col("source_file").str.replace(r"^input/\d\d_", "")
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        frame.write_csv(output)
    else:
        frame.write_parquet(output)
    return frame


def register(app: typer.Typer) -> None:
    """Add ``svod resolve`` to the CLI."""

    @app.command("resolve")
    def resolve_command(
        inputs: Annotated[list[Path], typer.Argument(help="Files or folders to resolve.")],
        output: Annotated[
            Path,
            typer.Option(
                "--output", "-o", help="Where to write record_key, customer_id (.csv or .parquet)."
            ),
        ],
    ) -> None:
        """Resolve files or folders to customers in one command (a temporary workspace)."""
        if output.suffix.lower() not in FORMATS:
            typer.echo(f"--output {output}: write a .csv or .parquet file name", err=True)
            raise typer.Exit(2)
        missing = [str(p) for p in inputs if not p.exists()]
        if missing:
            typer.echo(f"not found: {', '.join(missing)}; check the paths", err=True)
            raise typer.Exit(2)
        frame = resolve_files(inputs, output)
        customers = frame.get_column("customer_id").n_unique()
        typer.echo(f"{frame.height} records → {customers} customers; written to {output}")
