"""profiles_history: a version per content change, nothing on an unchanged re-run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.profile.history import history_snapshot
from pipelines.publication import publish
from pipelines.stages import ingest_stage, publish_stage, resolve_stage, stage_stage
from pipelines.warehouse import RUNS_COLUMNS
from pipelines.workspace import Workspace

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _run(run_id: str, at: datetime) -> dict[str, Any]:
    return {**dict.fromkeys(RUNS_COLUMNS), "run_id": run_id, "started_at": at, "status": "success"}


def _publish(con: duckdb.DuckDBPyConnection, tmp: Path, profiles: pl.DataFrame, n: int) -> None:
    tables = {"profiles": profiles, "profiles_history": history_snapshot(profiles)}
    publish(con, tables, _run(f"r{n}", T0 + timedelta(days=n)), tmp / "published")


def _history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    frame: pl.DataFrame = con.sql(
        "SELECT * FROM profiles_history ORDER BY customer_id, valid_from"
    ).pl()
    return frame


def test_versions_open_close_and_name_what_changed(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    v1 = pl.DataFrame({"customer_id": ["C1", "C2"], "email": ["a@x.ru", "b@x.ru"], "n": [1, 1]})
    _publish(con, tmp_path, v1, 1)
    _publish(con, tmp_path, v1, 2)  # unchanged: nothing added
    assert _history(con).height == 2
    v2 = pl.DataFrame({"customer_id": ["C1", "C3"], "email": ["a@y.ru", "c@x.ru"], "n": [1, 1]})
    _publish(con, tmp_path, v2, 3)
    h = _history(con)
    rows = {(r["customer_id"], r["valid_from"].day): r for r in h.iter_rows(named=True)}
    assert sorted(rows) == [("C1", 2), ("C1", 4), ("C2", 2), ("C3", 4)]
    assert rows[("C1", 2)]["valid_to"] == T0 + timedelta(days=3)  # closed by run 3
    assert rows[("C1", 4)]["valid_to"] is None
    assert rows[("C1", 4)]["changed_columns"] == ["email"]
    assert rows[("C1", 4)]["run_id"] == "r3"
    assert rows[("C2", 2)]["valid_to"] == T0 + timedelta(days=3)  # gone (merged or retired)
    assert rows[("C3", 4)]["changed_columns"] is None  # a first version
    mirrored = pl.read_parquet(tmp_path / "published" / "profiles_history.parquet")
    assert mirrored.height == 4
    # a column added by a newer Svod is added to the history, not an error
    v3 = v2.with_columns(segment=pl.lit("x"))
    _publish(con, tmp_path, v3, 4)
    assert _history(con).filter(pl.col("valid_to").is_null()).height == 2


def _pipeline(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    ingest_stage(ws, run_id)
    stage_stage(ws, run_id)
    resolve_stage(ws, con, run_id)
    publish_stage(ws, con, run_id)


def test_pipeline_rerun_adds_nothing_and_a_change_is_recorded(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    with duckdb.connect(str(ws.warehouse)) as con:
        _pipeline(ws, con, "run-1")
        first = _history(con)
        assert first.height == con.sql("SELECT count(*) FROM profiles").fetchall()[0][0]
        _pipeline(ws, con, "run-2")
        assert _history(con).height == first.height
        forms = next((workspace / "inbox").rglob("*forms*.json"))
        items = json.loads(forms.read_text(encoding="utf-8"))
        target = next(i for i in items if "unsubscribed" not in i and "@" in str(i["Email"]))
        target["unsubscribed"] = "да"
        forms.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        _pipeline(ws, con, "run-3")
        history = _history(con)
        new = history.filter(pl.col("run_id") == "run-3")
        assert new.height >= 1
        changed = new.filter(pl.col("consent_email") == "opt_out")
        assert changed.height == 1
        assert "consent_email" in changed["changed_columns"][0]
        customer = changed["customer_id"][0]
        old = history.filter((pl.col("customer_id") == customer) & (pl.col("run_id") == "run-1"))
        assert old["valid_to"][0] == changed["valid_from"][0]


def test_mirror_files_read_from_duckdb_say_utc_whatever_its_session_time_zone(
    tmp_path: Path,
) -> None:
    # DuckDB hands timestamps back in its session time zone (the machine's); the mirror files
    # it writes must be labelled UTC like the others, the instants unchanged
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET TimeZone = 'Europe/Moscow'")
    v1 = pl.DataFrame({"customer_id": ["C1"], "email": ["a@x.ru"], "n": [1]})
    _publish(con, tmp_path, v1, 1)
    for name in ("profiles_history", "runs"):
        mirrored = pl.read_parquet(tmp_path / "published" / f"{name}.parquet")
        zones = {d.time_zone for d in mirrored.schema.values() if isinstance(d, pl.Datetime)}
        assert zones == {"UTC"}, name
    history = pl.read_parquet(tmp_path / "published" / "profiles_history.parquet")
    assert history["valid_from"].to_list() == [T0 + timedelta(days=1)]
