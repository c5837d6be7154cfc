"""Migration workflow commands: verify, snapshots, rollback, backup, restore, report."""

from __future__ import annotations

import json
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.table import Table

from pipelines.cli_common import WorkspaceOption, fail, out
from pipelines.errors import SvodError
from pipelines.workspace import Workspace, default_workspace_path


def _open(workspace: Path | None) -> Workspace:
    return Workspace.open(workspace or default_workspace_path())


def verify(
    workspace: WorkspaceOption = None,
    sample: Annotated[int, typer.Option("--sample", min=1, help="How many records.")] = 50,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: a new sample).")] = None,
    csv: Annotated[Path | None, typer.Option(help="CSV path (default: lake/reports/).")] = None,
) -> None:
    """Show a random sample of source records beside the profiles they ended in.

    Prints a table and writes every column to a CSV for a person to check (shows personal data).
    """
    from pipelines.verify import verification_sample, write_csv

    try:
        ws = _open(workspace)
        use_seed = seed if seed is not None else int(datetime.now(UTC).timestamp())
        frame = verification_sample(ws, sample, use_seed)
    except SvodError as exc:
        fail(str(exc))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = write_csv(frame, csv or ws.lake / "reports" / f"verify-{stamp}.csv")
    table = Table(title=f"{frame.height} records and their profiles (seed {use_seed})")
    for col in ("source", "source_row", "record", "customer_id", "profile", "match_rule"):
        table.add_column(col)
    for row in frame.iter_rows(named=True):
        record = " · ".join(
            str(row[c]) for c in ("record_full_name", "record_phone", "record_email") if row.get(c)
        )
        profile = " · ".join(
            str(row[c])
            for c in ("profile_full_name", "profile_phone", "profile_email")
            if row.get(c)
        )
        table.add_row(
            row["source"], str(row["source_row"] or ""), record, row["customer_id"], profile,
            row["match_rule"] or "",
        )  # fmt: skip
    out.print(table)
    out.print(f"CSV: {path}")


def snapshots(workspace: WorkspaceOption = None) -> None:
    """List the numbered snapshots (one per publish or rollback)."""
    from pipelines.snapshots import list_snapshots

    ws = _open(workspace)
    if not ws.warehouse.exists():
        fail(f"nothing published in {ws.root} yet; run 'svod run' first")
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        frame = list_snapshots(con)
    if frame.is_empty():
        out.print("No snapshots yet: every 'svod run' that publishes makes one.")
        return
    table = Table(title="Snapshots (svod rollback N restores one)")
    for col in ("snapshot", "created at", "kind", "run", "profiles", "record_links"):
        table.add_column(col)
    latest = frame["snapshot"].max()
    for row in frame.iter_rows(named=True):
        counts = json.loads(row["tables"])
        kind = row["kind"] + (f" of {row['restored_from']}" if row["restored_from"] else "")
        mark = " (current)" if row["snapshot"] == latest else ""
        table.add_row(
            f"{row['snapshot']}{mark}", f"{row['created_at']:%Y-%m-%d %H:%M:%S}", kind,
            row["run_id"], str(counts.get("profiles", "")), str(counts.get("record_links", "")),
        )  # fmt: skip
    out.print(table)


def rollback(
    snapshot: Annotated[
        int | None, typer.Argument(help="Snapshot to restore (default: the one before the latest).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Restore the published tables and the customer-ID registry to a snapshot.

    All tables change in one transaction; the rollback is itself recorded as a new snapshot.
    """
    from pipelines.rawlake import roll_back_batches
    from pipelines.snapshots import batches_at_snapshot
    from pipelines.snapshots import rollback as do_rollback

    try:
        ws = _open(workspace)
        if not ws.warehouse.exists():
            fail(f"nothing published in {ws.root} yet")
        with ws.lock():
            with duckdb.connect(str(ws.warehouse)) as con:
                done = do_rollback(con, ws.published_dir, snapshot)
                keep, since = batches_at_snapshot(con, done.restored)
            retired = roll_back_batches(ws, keep, since, f"rolled back to snapshot {done.restored}")
    except SvodError as exc:
        fail(str(exc))
    for relpath in retired:
        out.print(f"undone: {relpath} (it stays skipped until the file changes)")
    out.print(
        f"Restored snapshot {done.restored} ({done.tables.get('profiles', 0):,} profiles, "
        f"{done.tables.get('record_links', 0):,} records); recorded as snapshot {done.snapshot}."
    )


def backup(
    target: Annotated[Path, typer.Argument(help="New or empty folder for the backup.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Copy the workspace state (svod.toml, warehouse, lake) into a folder.

    Refused while a run holds the workspace; the inbox is not copied.
    """
    from pipelines.backup import backup as do_backup

    try:
        info = do_backup(workspace or default_workspace_path(), target)
    except SvodError as exc:
        fail(str(exc))
    out.print(f"Backup written to {info.folder}: {info.files} files, {info.bytes / 1e6:.1f} MB")


def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by 'svod backup'.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Replace the workspace state with a backup (refused while a run holds the workspace)."""
    from pipelines.backup import restore as do_restore

    try:
        info = do_restore(workspace or default_workspace_path(), source)
    except SvodError as exc:
        fail(str(exc))
    out.print(f"Restored {info.files} files from {info.folder}")


def report(
    workspace: WorkspaceOption = None,
    run: Annotated[str | None, typer.Option(help="Run id (default: the latest).")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML report.")] = False,
) -> None:
    """Print the quality report of a run (checks that failed, per-source validity) and its path."""
    from pipelines.quality_checks import latest_quality_run, summary_rows

    ws = _open(workspace)
    try:
        run_id, html = latest_quality_run(ws, run)
        rows = summary_rows(ws, run_id)
    except SvodError as exc:
        fail(str(exc))
    table = Table(title=f"Quality checks of run {run_id}")
    for col in ("layer", "check", "source", "result", "observed", "limit"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    out.print(f"Report: {html}")
    if html.with_name("gx").is_dir():
        out.print(f"Great Expectations data docs: {html.with_name('gx') / 'index.html'}")
    if open_:
        webbrowser.open(html.resolve().as_uri())


def register(app: typer.Typer) -> None:
    for command in (verify, snapshots, rollback, backup, restore):
        app.command()(command)
    app.command("report")(report)
