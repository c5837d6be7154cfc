"""``keep_snapshots``: publish keeps the tables of the latest N snapshots, 0 keeps all."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from pipelines.config import parse_config
from pipelines.errors import ConfigError
from pipelines.snapshots import SnapshotError, rollback
from pipelines.stages import publish_stage
from pipelines.warehouse import SNAPSHOT_SCHEMA
from pipelines.workspace import Workspace


def _stored_snapshots(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute(
        "SELECT DISTINCT table_name FROM duckdb_tables() WHERE schema_name = ?", [SNAPSHOT_SCHEMA]
    ).fetchall()
    return sorted({int(str(r[0])[1:7]) for r in rows})


def _with_keep(root: Path, keep: int) -> Workspace:
    config = root / "svod.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + f"\n[warehouse]\nkeep_snapshots = {keep}\n",
        encoding="utf-8",
    )
    return Workspace.open(root)


def _republish(ws: Workspace, times: int) -> None:
    run_id = sorted(p.name for p in ws.runs_dir.iterdir())[0]
    with duckdb.connect(str(ws.warehouse)) as con:
        for _ in range(times):
            publish_stage(ws, con, run_id)


SOURCES = [{"name": "sales", "kind": "spreadsheet", "path": "sales/*"}]


def test_keep_snapshots_defaults_to_ten_and_rejects_negatives() -> None:
    assert parse_config({"sources": SOURCES}).warehouse.keep_snapshots == 10
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": SOURCES, "warehouse": {"keep_snapshots": -1, "keep_snapshot": 3}})
    problems = " | ".join(info.value.problems)
    assert "warehouse.keep_snapshots" in problems and "larger number" in problems
    assert "did you mean 'keep_snapshots'?" in problems


def test_publish_prunes_all_but_the_latest_snapshots(
    published: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = _with_keep(published, 2)
    with caplog.at_level(logging.INFO, logger="pipelines.publication"):
        _republish(ws, 2)  # snapshots 1..3
    assert any(r.getMessage() == "pruned snapshots" for r in caplog.records)
    with duckdb.connect(str(ws.warehouse)) as con:
        numbers = [int(r[0]) for r in con.execute("SELECT snapshot FROM snapshots").fetchall()]
        assert numbers == [1, 2, 3]  # the log of publishes stays whole
        assert _stored_snapshots(con) == [2, 3]
        with pytest.raises(SnapshotError, match="pruned"):
            rollback(con, ws.published_dir, 1)
        rollback(con, ws.published_dir, 2)  # a kept one still restores


def test_keep_snapshots_zero_keeps_every_snapshot(published: Path) -> None:
    ws = _with_keep(published, 0)
    _republish(ws, 2)
    with duckdb.connect(str(ws.warehouse)) as con:
        assert _stored_snapshots(con) == [1, 2, 3]
