"""Snapshots without copies: the published names are views over the latest snapshot's tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines import publication, warehouse
from pipelines.errors import PublishError
from pipelines.publication import publish
from pipelines.snapshots import SnapshotError, rollback
from pipelines.warehouse import RUNS_COLUMNS


def _run(run_id: str) -> dict[str, Any]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return {**dict.fromkeys(RUNS_COLUMNS), "run_id": run_id, "started_at": at, "status": "success"}


def _ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT customer_id FROM profiles ORDER BY 1").fetchall()]


def _kind(con: duckdb.DuckDBPyConnection, name: str) -> str:
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = ?",
        [name],
    ).fetchall()
    return str(rows[0][0]) if rows else "missing"


def _indexes(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    query = "SELECT index_name, table_name FROM duckdb_indexes() ORDER BY 1"
    return [(str(a), str(b)) for a, b in con.execute(query).fetchall()]


def _stored(con: duckdb.DuckDBPyConnection) -> list[str]:
    query = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'snapshot_store' ORDER BY 1"
    return [str(r[0]) for r in con.execute(query).fetchall()]


def _profiles(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(ids), "name": [f"n-{i}" for i in ids]})


def test_each_publish_writes_its_tables_once_and_switches_the_views(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    publish(con, {"profiles": _profiles("C1")}, _run("r1"), mirror)
    publish(con, {"profiles": _profiles("C1", "C2")}, _run("r2"), mirror)
    assert _kind(con, "profiles") == "VIEW" and _ids(con) == ["C1", "C2"]
    assert _stored(con) == ["s000001_profiles", "s000002_profiles"]  # no copies
    assert _indexes(con) == [("idx_profiles_customer_id", "s000002_profiles")]
    done = rollback(con, mirror, 1)
    assert (done.restored, done.snapshot) == (1, 3) and _ids(con) == ["C1"]
    assert _indexes(con) == [("idx_profiles_customer_id", "s000003_profiles")]
    assert pl.read_parquet(mirror / "profiles.parquet")["customer_id"].to_list() == ["C1"]
    rollback(con, mirror, 2)  # a rollback can itself be rolled back
    assert _ids(con) == ["C1", "C2"]


def test_a_failed_publish_keeps_the_views_and_leaves_no_snapshot_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    publish(con, {"profiles": _profiles("C1")}, _run("r1"), mirror)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("killed (injected)")

    monkeypatch.setattr(publication, "take_snapshot", broken)
    with pytest.raises(PublishError, match="killed"):
        publish(con, {"profiles": _profiles("C2")}, _run("r2"), mirror)
    assert _ids(con) == ["C1"] and _stored(con) == ["s000001_profiles"]
    assert con.execute("SELECT count(*) FROM snapshots").fetchall() == [(1,)]
    assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] >= 1


def test_a_warehouse_with_published_tables_moves_to_views_and_keeps_its_snapshots(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    # the layout before views: real tables in main, snapshot N a copy in snapshot_store
    warehouse.ensure_snapshot_log(con)
    con.execute("CREATE TABLE profiles AS SELECT 'C0' AS customer_id, 'old' AS name")
    con.execute("CREATE INDEX idx_profiles_customer_id ON profiles (customer_id)")
    con.execute("CREATE TABLE snapshot_store.s000001_profiles AS SELECT * FROM profiles")
    con.execute(
        "INSERT INTO snapshots VALUES (1, now(), 'r0', 'publish', NULL, '{\"profiles\": 1}')"
    )
    publish(con, {"profiles": _profiles("C1")}, _run("r1"), mirror)
    assert _kind(con, "profiles") == "VIEW" and _ids(con) == ["C1"]
    assert _indexes(con) == [("idx_profiles_customer_id", "s000002_profiles")]
    rollback(con, mirror, 1)
    assert _ids(con) == ["C0"]


def test_a_pruned_snapshot_cannot_be_restored(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    for n in (1, 2, 3):
        publish(con, {"profiles": _profiles(f"C{n}")}, _run(f"r{n}"), mirror)
    dropped = warehouse.prune_snapshots(con, keep=2)
    assert dropped == [1]
    assert _stored(con) == ["s000002_profiles", "s000003_profiles"]
    with pytest.raises(SnapshotError, match="pruned"):
        rollback(con, mirror, 1)
    rollback(con, mirror, 2)
    assert _ids(con) == ["C2"]
    assert warehouse.prune_snapshots(con, keep=1) == [2, 3]  # never the current one
    assert _ids(con) == ["C2"]


def test_streamed_profile_tables_equal_the_returned_ones(published: Path) -> None:
    from pipelines.config import ProfileConfig
    from pipelines.profile.build import LINEAGE, build_profile_tables, record_links
    from pipelines.rawlake import load_events
    from pipelines.workspace import Workspace

    ws = Workspace.open(published)
    path = ws.staged_dir / "staged.parquet"
    staged = pl.read_parquet(path)
    links = pl.read_parquet(ws.identity_dir / "links.parquet")
    today, events = date(2026, 1, 1), load_events(ws)
    kept = build_profile_tables(staged, links, events, ProfileConfig(), today)
    sunk: dict[str, pl.DataFrame] = {}
    scan = pl.scan_parquet(path).drop(LINEAGE)
    left = build_profile_tables(scan, links, events, ProfileConfig(), today, sink=sunk.__setitem__)
    assert left == {} and sunk.keys() == kept.keys()
    for name, frame in kept.items():
        other = sunk[name]
        assert frame.equals(other), name
    rules = pl.read_parquet(ws.identity_dir / "assignments.parquet")
    assert record_links(pl.scan_parquet(path), links, rules).equals(
        record_links(staged, links, rules)
    )


def test_a_publication_commits_all_or_nothing(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    threads = con.execute("SELECT current_setting('threads')").fetchall()
    with publication.Publication(con, mirror, "r1", datetime(2026, 1, 1, tzinfo=UTC)) as pub:
        pub.add("profiles", _profiles("C1"))
        pub.commit(_run("r1"))
    with (
        pytest.raises(PublishError, match="built badly"),
        publication.Publication(con, mirror, "r2", datetime(2026, 1, 2, tzinfo=UTC)) as pub,
    ):
        pub.add("profiles", _profiles("C2"))
        raise ValueError("built badly")  # the caller fails after handing over a table
    with (
        pytest.raises(PublishError, match="without commit"),
        publication.Publication(con, mirror, "r3", datetime(2026, 1, 3, tzinfo=UTC)) as pub,
    ):
        pub.add("profiles", _profiles("C3"))
    assert _ids(con) == ["C1"] and _stored(con) == ["s000001_profiles"]
    assert pl.read_parquet(mirror / "profiles.parquet")["customer_id"].to_list() == ["C1"]
    assert not (tmp_path / "published.incoming").exists()
    assert con.execute("SELECT current_setting('threads')").fetchall() == threads
    with (
        pytest.raises(PublishError, match="not a published table"),
        publication.Publication(con, mirror, "r4", datetime(2026, 1, 4, tzinfo=UTC)) as pub,
    ):
        pub.add("secrets", _profiles("C4"))
    assert con.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]
