"""The faster publish path: same hashes, mirror written beside the transaction, all or nothing."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines import publication
from pipelines.errors import PublishError
from pipelines.profile.history import history_snapshot
from pipelines.publication import publish
from pipelines.stagelog import current_rss_mb, measured, tree_rss_mb
from pipelines.warehouse import RUNS_COLUMNS


def _run(run_id: str) -> dict[str, Any]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return {**dict.fromkeys(RUNS_COLUMNS), "run_id": run_id, "started_at": at, "status": "success"}


def test_content_hash_is_the_md5_of_the_row_json() -> None:
    profiles = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "name": ['Ёлкин "Пётр"', None, "😀"], "n": [1, None, 3]}
    )
    rows = profiles.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_list()
    expected = [hashlib.md5(r.encode("utf-8")).hexdigest() for r in rows]
    assert history_snapshot(profiles)["content_hash"].to_list() == expected
    assert history_snapshot(profiles.clear())["content_hash"].dtype == pl.String


def test_a_failed_mirror_write_leaves_tables_and_mirror_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mirror = tmp_path / "published"
    publish(con, {"profiles": pl.DataFrame({"customer_id": ["C1"]})}, _run("r1"), mirror)

    def broken(tables: object, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(publication, "write_mirror", broken)
    with pytest.raises(PublishError, match="disk full"):
        publish(con, {"profiles": pl.DataFrame({"customer_id": ["C2"]})}, _run("r2"), mirror)
    assert con.sql("SELECT customer_id FROM profiles").fetchall() == [("C1",)]
    assert con.sql("SELECT run_id FROM runs").fetchall() == [("r1",)]
    assert pl.read_parquet(mirror / "profiles.parquet")["customer_id"].to_list() == ["C1"]
    assert not (tmp_path / "published.incoming").exists()


def test_measured_logs_seconds_and_peak_memory(caplog: pytest.LogCaptureFixture) -> None:
    before = current_rss_mb()
    with caplog.at_level(logging.INFO, logger="pipelines.stagelog"):
        with measured("stage") as m:
            block = bytearray(128 << 20)  # a margin: memory freed after ``before`` hides some
            block[:: 1 << 12] = b"x" * len(block[:: 1 << 12])
        with pytest.raises(ValueError), measured("publish"):
            raise ValueError("boom")
    finished, failed = caplog.records
    assert finished.getMessage() == "stage finished" and failed.getMessage() == "stage failed"
    assert finished.__dict__["stage"] == "stage" and failed.__dict__["stage"] == "publish"
    assert m.peak_rss_mb >= before + 96 and finished.__dict__["peak_rss_mb"] == m.peak_rss_mb
    assert m.seconds >= 0
    del block


def test_the_total_peak_counts_a_live_worker_process() -> None:
    # a child holding ~200 MB while the block runs: the stage's total peak includes it, the
    # run process's own peak does not
    hold = (
        "b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096]); print(1, flush=True); input()"
    )
    with measured("stage") as m:
        child = subprocess.Popen(
            [sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "1"
            assert tree_rss_mb() >= current_rss_mb() + 190
            time.sleep(0.2)  # the sampler's turn
        finally:
            child.communicate("\n")
    assert m.total_peak_rss_mb >= m.peak_rss_mb + 190


def test_profiles_from_the_narrow_read_equal_profiles_from_every_column(published: Path) -> None:
    from datetime import date

    from pipelines.config import ProfileConfig
    from pipelines.profile.build import PROFILE_UNUSED, build_profile_tables
    from pipelines.rawlake import load_events
    from pipelines.workspace import Workspace

    ws = Workspace.open(published)
    staged = pl.read_parquet(ws.staged_dir / "staged.parquet")
    links = pl.read_parquet(ws.identity_dir / "links.parquet")
    assert set(staged.columns) >= PROFILE_UNUSED  # the list names real columns
    today, events = date(2026, 1, 1), load_events(ws)
    full = build_profile_tables(staged, links, events, ProfileConfig(), today)
    narrow = build_profile_tables(
        staged.drop(PROFILE_UNUSED), links, events, ProfileConfig(), today
    )
    assert full.keys() == narrow.keys()
    for name, frame in full.items():
        other = narrow[name]
        if name == "consents":  # the order of two statements of one record is not defined
            frame, other = frame.sort(pl.all()), other.sort(pl.all())
        assert frame.equals(other), name
