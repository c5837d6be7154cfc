"""Migration workflow: snapshots and rollback, backup and restore, verify, dry run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
from typer.testing import CliRunner

from dagster_project.runner import run_pipeline
from pipelines.cli import app

runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return " ".join(result.output.split())  # rich wraps long lines


def read(root: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        frame: pl.DataFrame = con.sql(sql).pl()
    return frame


def test_rollback_restores_published_tables_and_the_id_registry(published: Path) -> None:
    first_links = read(published, "SELECT * FROM record_links ORDER BY record_key")
    first_registry = read(published, "SELECT * FROM customer_registry ORDER BY customer_id")
    (published / "inbox" / "sales" / "late.csv").write_text(
        "ФИО;Телефон\nНовикова Вера Павловна;+7 916 555-44-33\n", encoding="utf-8"
    )
    assert run_pipeline(published).success
    assert read(published, "SELECT * FROM record_links").height == first_links.height + 1
    assert "2 (current)" in cli("snapshots", "-w", str(published))

    output = cli("rollback", "-w", str(published))
    assert "Restored snapshot 1" in output and "snapshot 3" in output
    assert read(published, "SELECT * FROM record_links ORDER BY record_key").equals(first_links)
    registry = read(published, "SELECT * FROM customer_registry ORDER BY customer_id")
    assert registry.equals(first_registry)
    mirror = pl.read_parquet(published / "lake" / "published" / "record_links.parquet")
    assert mirror.height == first_links.height
    # the undone batch stays undone: the next run skips the unchanged file
    assert "undone: sales/late.csv" in output
    assert run_pipeline(published).success
    assert read(published, "SELECT * FROM record_links ORDER BY record_key").equals(first_links)
    assert "snapshot 7 does not exist" in cli("rollback", "7", "-w", str(published), code=1)


def test_backup_and_restore_round_trip_and_refuse_while_locked(
    published: Path, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    assert "Backup written" in cli("backup", str(target), "-w", str(published))
    profiles = read(published, "SELECT count(*) AS n FROM profiles")
    (published / "warehouse.duckdb").unlink()
    shutil.rmtree(published / "lake" / "raw")
    assert "Restored" in cli("restore", str(target), "-w", str(published))
    assert read(published, "SELECT count(*) AS n FROM profiles").equals(profiles)
    assert (published / "lake" / "raw").is_dir()

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(published)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        output = cli("backup", str(tmp_path / "second"), "-w", str(published), code=1)
        assert "another Svod run is writing" in output
        assert "another Svod run is writing" in cli(
            "restore", str(target), "-w", str(published), code=1
        )
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert "not a Svod backup" in cli("restore", str(tmp_path), "-w", str(published), code=1)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipelines.workspace import Workspace
with Workspace.open(Path(sys.argv[1])).lock():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_verify_shows_records_beside_their_profiles(published: Path, tmp_path: Path) -> None:
    csv = tmp_path / "verify.csv"
    output = cli("verify", "-w", str(published), "--sample", "7", "--seed", "3", "--csv", str(csv))
    assert "7 records and their profiles (seed 3)" in output
    frame = pl.read_csv(csv)
    assert frame.height == 7
    assert {"record_key", "customer_id", "record_full_name", "profile_full_name"} <= set(
        frame.columns
    )
    assert frame["profile_full_name"].null_count() < 7  # profiles were found
    again = tmp_path / "again.csv"
    cli("verify", "-w", str(published), "--sample", "7", "--seed", "3", "--csv", str(again))
    assert again.read_bytes() == csv.read_bytes()  # the seed fixes the sample


def test_dry_run_publishes_nothing(workspace: Path) -> None:
    output = cli("run", "-w", str(workspace), "--dry-run", "--limit", "5")
    assert "DRY RUN" in output and "nothing published" in output
    assert not (workspace / "warehouse.duckdb").exists()
    assert not (workspace / "lake" / "raw").exists()
    scratch = next((workspace / "lake" / "dryrun").iterdir())
    runs = read(scratch, "SELECT rows_read, status FROM runs")
    assert runs["status"].to_list() == ["success"]
    assert 0 < runs["rows_read"][0] <= 5 * 6  # at most 5 rows of each of the 6 files
    assert "--limit and --sample go with --dry-run" in cli(
        "run", "-w", str(workspace), "--limit", "5", code=1
    )


def test_report_prints_the_checks_of_the_latest_run(published: Path) -> None:
    output = cli("report", "-w", str(published))
    assert "phone_validity" in output and "pass" in output
    assert "quality.html" in output
