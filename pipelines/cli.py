"""The ``svod`` command line: run the pipeline, write sample data, look into files and results."""

from __future__ import annotations

import gc
import logging
from typing import Annotated, Any

import typer
from rich.table import Table

from pipelines import logs
from pipelines.cli_common import WorkspaceOption, console, fail, out
from pipelines.commands import register_all
from pipelines.config import CONFIG_FILE
from pipelines.errors import SvodError
from pipelines.workspace import default_workspace_path, write_sample_config

app = typer.Typer(
    help=(
        "Svod: one customer ID per real person and company, from every file your business has.\n\n"
        "Start with 'svod sample' to write a sample workspace, then 'svod run'."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _summary_table(run: dict[str, Any]) -> Table:
    table = Table(title="Svod run summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("run id", str(run["run_id"])),
        (
            "files read",
            f"{run['files_ingested']} new, {run['files_skipped']} unchanged, "
            f"{run['files_failed']} failed",
        ),
        ("rows read", f"{run['rows_read']:,}"),
        ("rows staged", f"{run['rows_staged']:,}"),
        ("rows quarantined", f"{run['rows_quarantined']:,}"),
        ("customers", f"{run['customers']:,}"),
        ("records per customer", f"{run['records_per_customer']:.2f}"),
        ("customers created / merged", f"{run['customers_created']} / {run['customers_merged']}"),
    ]
    for what, value in rows:
        table.add_row(what, value)
    return table


@app.command()
def run(
    workspace: WorkspaceOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Dagster's own event log.")
    ] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Write logs as JSON lines.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Run on a block of the inbox in a scratch area (lake/dryrun/); publish nothing.",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Dry run: the first N rows of every file.")
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(min=0.0001, max=1.0, help="Dry run: a random FRACTION of every file's rows."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Dry run: seed of --sample.")] = 0,
    full_resolve: Annotated[
        bool,
        typer.Option(
            "--full-resolve",
            help="Resolve every record from scratch and re-estimate the model "
            "(instead of resolving only new records against the last run); implies --force.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Stage, resolve and publish even if nothing changed since the last publish.",
        ),
    ] = False,
) -> None:
    """Run the whole pipeline (ingest → stage → resolve → publish) on a workspace.

    Runs the same Dagster asset graph as the UI, in this process. New and changed inbox files are
    read; unchanged ones are skipped. If nothing that decides the result changed since the last
    publish (batches, svod.toml, overrides, Svod's version), the run is logged and stops there,
    leaving the published tables as they are (--force runs every stage). Quality checks run on
    every layer; a failed blocking check stops the run before publishing and says which check
    failed on which source. The published tables are replaced only if every stage succeeds, as a
    new numbered snapshot. Ends with a summary; exits 1 if the run failed.
    """
    from dagster_project.runner import dry_run as run_dry
    from dagster_project.runner import run_pipeline

    # Dagster, polars and the rest stay imported until the process ends: their ~300k objects
    # are taken out of the cyclic collector's sight, which would otherwise walk them in every
    # full collection of the run (eight at 1M records) and once more at exit (~1.5 s in all).
    # The imports' own garbage is collected first: frozen, it would stay for the whole run.
    gc.collect()
    gc.freeze()
    logs.configure(logging.INFO, json_lines=log_json)
    root = workspace or default_workspace_path()
    if (limit is not None or sample is not None) and not dry_run:
        fail("--limit and --sample go with --dry-run")
    scratch = None
    try:
        with console.status("Running Svod: ingest → stage → resolve → publish …"):
            if dry_run:
                outcome, scratch = run_dry(
                    root, limit=limit, fraction=sample, seed=seed, verbose=verbose
                )
            else:
                if full_resolve:
                    from pipelines.resolution import request_full
                    from pipelines.workspace import Workspace

                    request_full(Workspace.open(root))
                outcome = run_pipeline(root, verbose=verbose, force=force or full_resolve)
    except SvodError as exc:
        fail(str(exc))
    where = scratch or root
    if outcome.run is None or not outcome.success:
        after = (
            "The tables were published; 'svod rollback' restores the previous snapshot."
            if outcome.failure and "on published_tables" in outcome.failure and not dry_run
            else "Published tables are unchanged."
        )
        report = where / "lake" / "reports" / outcome.run_id / "quality.html"
        seen = f" Quality report: {report}" if report.is_file() else ""
        fail(f"run {outcome.run_id} failed: {outcome.failure}. {after}{seen}")
    for f in outcome.run.get("files") or []:
        if f["status"] == "failed":
            console.print(f"[yellow]warning:[/] {f['error']}", highlight=False)
    if outcome.run.get("note"):
        out.print(f"Nothing to do: {outcome.run['note']} (--force runs every stage).")
    table = _summary_table(outcome.run)
    if scratch is not None:
        table.title = "Svod DRY RUN summary (nothing published)"
    out.print(table)
    out.print(
        f"Warehouse: {where / 'warehouse.duckdb'}  ·  Parquet: {where / 'lake' / 'published'}"
    )
    out.print(f"Quality report: {where / 'lake' / 'reports' / outcome.run_id / 'quality.html'}")
    if scratch is not None:
        out.print(f"Dry run: the real workspace {root} was not written; scratch kept in {scratch}")


@app.command()
def sample(
    workspace: WorkspaceOption = None,
    people: Annotated[int, typer.Option(min=10, help="How many people to generate.")] = 3000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed writes the same files.")
    ] = 42,
) -> None:
    """Write a sample workspace: svod.toml and realistic, messy Russian customer files.

    Files go to <workspace>/inbox (sales spreadsheets, a 1C CommerceML export, web-form JSON,
    a help-desk export); the truth (which person each record is) goes to <workspace>/truth,
    which the pipeline never reads. An existing svod.toml is kept.
    """
    from pipelines.sample import write_sample_inbox

    root = workspace or default_workspace_path()
    config = root / CONFIG_FILE
    if config.exists():
        console.print(f"keeping existing {config}")
    else:
        write_sample_config(root)
    summary = write_sample_inbox(root, people=people, seed=seed)
    out.print(
        f"Sample workspace {root}: {summary.people:,} people, {summary.companies:,} companies, "
        f"{summary.records:,} records in {len(summary.files)} files. Next: svod run -w {root}"
    )


register_all(app)


def main() -> None:
    """Entry point for ``python -m pipelines.cli``."""
    app()


if __name__ == "__main__":
    main()
