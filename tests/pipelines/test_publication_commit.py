"""The publish's two transactions and its versions read from the stored profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines import publication, warehouse
from pipelines.errors import PublishError
from pipelines.profile.history import history_snapshot
from pipelines.publication import publish
from pipelines.snapshots import rollback
from pipelines.warehouse import RUNS_COLUMNS


def _run(run_id: str) -> dict[str, Any]:
    at = datetime(2026, 1, int(run_id[1:]), tzinfo=UTC)
    return {**dict.fromkeys(RUNS_COLUMNS), "run_id": run_id, "started_at": at, "status": "success"}


def _tables(ids: list[str]) -> dict[str, pl.DataFrame]:
    profiles = pl.DataFrame({"customer_id": ids, "name": [f"имя {i}" for i in ids]})
    return {"profiles": profiles, "profiles_history": history_snapshot(profiles)}


def _stored(con: duckdb.DuckDBPyConnection) -> list[str]:
    query = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'snapshot_store'"
    return sorted(str(r[0]) for r in con.execute(query).fetchall())


def _state(con: duckdb.DuckDBPyConnection, mirror: Path) -> tuple[Any, ...]:
    return (
        con.sql("SELECT * FROM profiles ORDER BY 1").fetchall(),
        con.sql("SELECT customer_id, valid_to FROM profiles_history ORDER BY 1").fetchall(),
        con.sql("SELECT snapshot FROM snapshots").fetchall(),
        con.sql("SELECT run_id FROM runs").fetchall(),
        con.sql("SELECT index_name, table_name FROM duckdb_indexes() ORDER BY 1").fetchall(),
        _stored(con),
        pl.read_parquet(mirror / "profiles.parquet").to_dicts(),
    )


def test_a_failure_after_the_tables_are_stored_publishes_nothing_and_leaves_no_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    publish(con, _tables(["C1", "C2"]), _run("r1"), mirror)
    before = _state(con, mirror)
    assert before[4] == [("idx_profiles_customer_id", "s000001_profiles")]

    def broken(*args: object, **kwargs: object) -> int:
        raise duckdb.IOException("disk full while switching the views")

    monkeypatch.setattr(publication, "take_snapshot", broken)
    with pytest.raises(PublishError, match="disk full"):
        publish(con, _tables(["C1", "C3"]), _run("r2"), mirror)
    assert _state(con, mirror) == before  # no s000002_* table stays behind either
    assert not (tmp_path / "published.incoming").exists()


def test_tables_left_by_a_publish_stopped_between_its_transactions_are_replaced(
    tmp_path: Path,
) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    publish(con, _tables(["C1"]), _run("r1"), mirror)
    left = warehouse.snapshot_table(2, "companies")  # a table this publish does not write
    con.execute(f"CREATE TABLE {left} AS SELECT 'stale' AS company_id")
    con.execute(f"CREATE TABLE {warehouse.snapshot_table(2, 'profiles_history')} (x INTEGER)")
    publish(con, _tables(["C1", "C2"]), _run("r2"), mirror)
    assert "s000002_companies" not in _stored(con)  # dropped, not published by the switch
    assert not warehouse.table_exists(con, "companies")
    history = con.sql("SELECT customer_id, valid_to FROM profiles_history ORDER BY 1").fetchall()
    assert history == [("C1", None), ("C2", None)]


def test_a_rollback_does_not_publish_tables_left_by_a_stopped_publish(tmp_path: Path) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    publish(con, _tables(["C1"]), _run("r1"), mirror)
    publish(con, _tables(["C1", "C2"]), _run("r2"), mirror)
    left = warehouse.snapshot_table(3, "companies")  # a stopped publish's, never logged
    con.execute(f"CREATE TABLE {left} AS SELECT 'stale' AS company_id")
    rollback(con, mirror, 1)
    assert "s000003_companies" not in _stored(con)
    assert not warehouse.table_exists(con, "companies")
    assert con.sql("SELECT customer_id FROM profiles").fetchall() == [("C1",)]


def test_versions_are_read_from_the_stored_profiles_beside_their_hashes(tmp_path: Path) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    tables = _tables(["C2", "C1", "C3"])  # the profiles' order, not sorted
    assert tables["profiles_history"].columns == ["customer_id", "content_hash"]
    publish(con, tables, _run("r1"), mirror)
    stored = con.sql("SELECT customer_id, name, content_hash FROM profiles_history").pl()
    expected = tables["profiles"].with_columns(tables["profiles_history"]["content_hash"])
    assert stored.equals(expected)  # every column, in the profiles' order
    wrong = {**_tables(["C1", "C2"]), "profiles_history": history_snapshot(
        pl.DataFrame({"customer_id": ["C2", "C1"], "name": ["x", "y"]})
    )}  # fmt: skip
    with pytest.raises(PublishError, match="2 content hashes do not match"):
        publish(con, wrong, _run("r2"), mirror)
    with pytest.raises(PublishError, match="with the profiles it versions"):
        publish(con, {"profiles_history": tables["profiles_history"]}, _run("r3"), mirror)
    assert con.sql("SELECT count(*) FROM profiles_history").fetchall() == [(3,)]
