"""A run with nothing changed since the last publish does nothing and says so; a change to any
input that decides the result (a batch, svod.toml, the overrides file), a rollback or --force
makes it do the work again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from dagster_project.runner import run_pipeline
from pipelines.cli import app
from pipelines.fingerprint import run_fingerprint, unchanged_since
from pipelines.warehouse import RUNS_COLUMNS, ensure_snapshot_log, record_run
from pipelines.workspace import Workspace


def _query(root: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        frame: pl.DataFrame = con.sql(sql).pl()
    return frame


def test_unchanged_rerun_skips_stage_resolve_and_publish(published: Path) -> None:
    links = _query(published, "SELECT * FROM record_links ORDER BY record_key")
    first = _query(published, "SELECT run_id, rows_staged, customers FROM runs").row(0)
    mirror = (published / "lake/published/profiles.parquet").read_bytes()
    staged_at = (published / "lake/staged/staged.parquet").stat().st_mtime_ns
    outcome = run_pipeline(published)
    assert outcome.success and outcome.run is not None
    assert outcome.run["note"] == (
        f"nothing changed since run {first[0]}; published tables left as they are"
    )
    assert outcome.run["status"] == "success"
    assert (outcome.run["rows_staged"], outcome.run["customers"]) == first[1:]
    assert outcome.run["files_ingested"] == 0 and outcome.run["customers_created"] == 0
    assert _query(published, "SELECT count(*) AS n FROM snapshots")["n"][0] == 1
    assert _query(published, "SELECT * FROM record_links ORDER BY record_key").equals(links)
    assert (published / "lake/published/profiles.parquet").read_bytes() == mirror
    assert (published / "lake/staged/staged.parquet").stat().st_mtime_ns == staged_at
    mirrored = pl.read_parquet(published / "lake/published/runs.parquet")
    assert mirrored.height == 2  # the skipped run is in the mirror of runs too
    # a second skip, through the CLI, still points at the run that published
    result = CliRunner().invoke(app, ["run", "-w", str(published)])
    assert result.exit_code == 0, result.output
    assert f"Nothing to do: nothing changed since run {first[0]}" in result.output


def test_a_config_change_and_force_do_the_work(published: Path) -> None:
    toml = published / "svod.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[profile]\nage_bands = [30]\n")
    changed = run_pipeline(published)
    assert changed.success and changed.run is not None and changed.run["note"] is None
    forced = run_pipeline(published, force=True)
    assert forced.success and forced.run is not None and forced.run["note"] is None
    snapshots = _query(published, "SELECT count(*) AS n FROM snapshots")["n"][0]
    assert snapshots == 3
    skipped = run_pipeline(published)
    assert skipped.run is not None and forced.run_id in skipped.run["note"]


def test_overrides_file_counts_as_a_change(published: Path) -> None:
    ws = Workspace.open(published)
    before = run_fingerprint(ws, [])
    (published / "overrides.csv").write_text("decision,left,right,note\n", encoding="utf-8")
    after = run_fingerprint(ws, [])
    assert {k for k in before if before[k] != after[k]} == {"overrides"}
    failed = [{"source": "sales", "relpath": "x.xlsx", "sha256": "ab", "status": "failed"}]
    assert run_fingerprint(ws, failed)["failed_files"] != after["failed_files"]


def _run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, at: datetime, **extra: object
) -> None:
    row = {**dict.fromkeys(RUNS_COLUMNS), "run_id": run_id, "status": status}
    row.update(started_at=at, finished_at=at, **extra)
    record_run(con, row)


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        (None, "r1"),  # the publish is current
        ("failed", None),  # a failed run since: its lake outputs are not those of r1
        ("rollback", None),  # a rollback since: the published tables are an older snapshot
        ("skip", "r1"),  # a run that did nothing since
    ],
)
def test_unchanged_since_wants_the_current_publish(later: str | None, expected: str | None) -> None:
    parts = {"batches": "b", "version": "v"}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    con = duckdb.connect()
    assert unchanged_since(con, parts) is None  # nothing published yet
    ensure_snapshot_log(con)
    _run(con, "r1", "success", at, fingerprint=parts)
    con.execute("INSERT INTO snapshots VALUES (1, now(), 'r1', 'publish', NULL, '{}')")
    if later == "failed":
        _run(con, "r2", "failed", at + timedelta(hours=1))
    elif later == "rollback":
        con.execute("INSERT INTO snapshots VALUES (2, now(), 'x', 'rollback', 1, '{}')")
    elif later == "skip":
        note = "nothing changed since run r1; published tables left as they are"
        _run(con, "r3", "success", at + timedelta(hours=1), fingerprint=parts, note=note)
    assert unchanged_since(con, parts) == expected
    assert unchanged_since(con, {**parts, "batches": "other"}) is None


def test_skipped_assets_are_shown_as_skipped(published: Path) -> None:
    from dagster_project.defs.pipeline import ASSETS, raw_batches
    from dagster_project.resources import build_resources

    # an explicit instance, held for the call, as the runner does: materialize()'s own
    # ephemeral one can be collected while definitions load (DagsterInstance weakref error)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            ASSETS,
            selection=[a for a in ASSETS if a is not raw_batches],
            resources=build_resources(published),
            instance=instance,
            raise_on_error=False,
        )
    assert result.success
    skipped = {
        e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED
    }
    assert skipped == {"customer_ids", "published_tables"}
    assert not result.get_asset_materialization_events()
