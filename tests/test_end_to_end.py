"""The whole pipeline through the CLI on generated sample data: counts reconcile, re-runs are
stable, a failed run leaves the published tables as they were, a broken file is reported."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.rawlake import load_raw
from pipelines.workspace import Workspace

runner = CliRunner()
TABLES = ("profiles", "identifiers", "record_links", "quarantine", "runs")


def run_cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def table(root: Path, name: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        frame: pl.DataFrame = con.sql(f'SELECT * FROM "{name}"').pl()
    return frame


def test_cli_run_publishes_every_table_and_reconciles(workspace: Path) -> None:
    output = run_cli("run", "--workspace", str(workspace))
    assert "Svod run summary" in output and "customers" in output
    for name in TABLES:
        assert table(workspace, name).height > 0, name
        assert (workspace / "lake" / "published" / f"{name}.parquet").is_file()
    raw, ingest_quarantine = load_raw(Workspace.open(workspace))
    links, quarantine = table(workspace, "record_links"), table(workspace, "quarantine")
    read_keys = set(raw["record_key"]) | set(ingest_quarantine["record_key"])
    ended = links["record_key"].to_list() + quarantine["record_key"].to_list()
    assert sorted(ended) == sorted(read_keys)  # every input row exactly once
    run = table(workspace, "runs").row(0, named=True)
    assert run["rows_read"] == run["rows_staged"] + run["rows_quarantined"] == len(read_keys)
    assert run["customers"] == table(workspace, "profiles").height
    assert links["customer_id"].n_unique() == run["customers"]


def test_second_run_changes_no_links(workspace: Path) -> None:
    run_cli("run", "-w", str(workspace))
    first = table(workspace, "record_links")
    output = run_cli("run", "-w", str(workspace))
    assert "0 new" in output
    assert table(workspace, "record_links").equals(first)
    runs = table(workspace, "runs").sort("started_at")
    assert runs["status"].to_list() == ["success", "success"]
    assert runs["customers_created"].to_list()[1] == 0


def test_failed_run_leaves_published_tables_untouched(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli("run", "-w", str(workspace))
    before = {name: table(workspace, name) for name in TABLES if name != "runs"}
    parquet_before = (workspace / "lake/published/profiles.parquet").read_bytes()
    (workspace / "inbox" / "sales" / "late.csv").write_text(
        "ФИО;Телефон\nНовый Клиент;+7 916 555-44-33\n", encoding="utf-8"
    )

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full (injected)")

    monkeypatch.setattr("pipelines.publishbuild.build_profile_tables", explode)
    result = runner.invoke(app, ["run", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "failed" in result.output and "Published tables are unchanged" in result.output
    for name, frame in before.items():
        assert table(workspace, name).equals(frame), name
    assert (workspace / "lake/published/profiles.parquet").read_bytes() == parquet_before
    runs = table(workspace, "runs").sort("started_at")
    assert runs["status"].to_list() == ["success", "failed"]
    assert runs["failed_stage"][1] == "publish" and "disk full (injected)" in runs["error"][1]


def test_broken_file_is_reported_and_the_rest_is_read(workspace: Path) -> None:
    (workspace / "inbox" / "sales" / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    output = run_cli("run", "-w", str(workspace))
    assert "sales/broken.xlsx: not a readable workbook" in output
    assert "1 failed" in output
    quarantine = table(workspace, "quarantine").filter(pl.col("reason") == "file_unreadable")
    assert quarantine["source_file"].to_list() == ["sales/broken.xlsx"]
    assert table(workspace, "profiles").height > 50


def test_invalid_config_is_refused_before_anything_runs(workspace: Path) -> None:
    (workspace / "svod.toml").write_text(
        '[[sources]]\nname = "x"\nkind = "pdf"\npath = "*"\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["run", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "sources[0] (x).kind: 'pdf' is not allowed" in result.output
    assert not (workspace / "warehouse.duckdb").exists()


def test_help_is_useful() -> None:
    for command in ("run", "sample"):
        text = run_cli(command, "--help")
        assert "--workspace" in text
    assert "svod sample" in run_cli("--help")
