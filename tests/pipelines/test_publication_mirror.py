"""The versioned tables' mirror, written from the stored snapshot while the indexes build."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import publication
from pipelines.errors import PublishError
from pipelines.profile.history import history_snapshot
from pipelines.publication import publish
from pipelines.warehouse import RUNS_COLUMNS


def _run(day: int) -> dict[str, Any]:
    at = datetime(2026, 1, day, tzinfo=UTC)
    run = {"run_id": f"r{day}", "started_at": at, "status": "success"}
    return {**dict.fromkeys(RUNS_COLUMNS), **run}


def _tables(names: dict[str, str]) -> dict[str, pl.DataFrame]:
    profiles = pl.DataFrame({"customer_id": list(names), "name": list(names.values())})
    return {"profiles": profiles, "profiles_history": history_snapshot(profiles)}


def test_the_history_mirror_is_the_published_history_row_for_row(tmp_path: Path) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    publish(con, _tables({"C2": "Анна", "C1": "Иван"}), _run(1), mirror)
    publish(con, _tables({"C2": "Анна", "C1": "Иван Петрович", "C3": "Ёж"}), _run(2), mirror)
    published = con.sql("SELECT * FROM profiles_history").pl()
    assert published.height == 4  # C1 closed and reopened, C3 new
    in_utc = published.with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC"))
    assert_frame_equal(pl.read_parquet(mirror / "profiles_history.parquet"), in_utc)
    runs = pl.read_parquet(mirror / "runs.parquet")
    assert runs.get_column("run_id").to_list() == ["r1", "r2"]  # written after the commit


def test_a_failed_history_mirror_write_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con, mirror = duckdb.connect(str(tmp_path / "w.duckdb")), tmp_path / "published"
    publish(con, _tables({"C1": "Иван"}), _run(1), mirror)
    history = pl.read_parquet(mirror / "profiles_history.parquet")

    def broken(self: publication.Publication, reader: duckdb.DuckDBPyConnection) -> None:
        raise OSError("no space left on device writing profiles_history.parquet")

    monkeypatch.setattr(publication.Publication, "_mirror_versions", broken)
    with pytest.raises(PublishError, match="no space left"):
        publish(con, _tables({"C1": "Иван", "C2": "Анна"}), _run(2), mirror)
    assert con.sql("SELECT customer_id FROM profiles").fetchall() == [("C1",)]
    assert con.sql("SELECT snapshot FROM snapshots").fetchall() == [(1,)]
    assert con.sql("SELECT run_id FROM runs").fetchall() == [("r1",)]
    stored = "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, 's000002')"
    assert con.sql(stored).fetchall() == [(0,)]
    assert_frame_equal(pl.read_parquet(mirror / "profiles_history.parquet"), history)
    assert not (tmp_path / "published.incoming").exists()
