"""Batches staged while the other ingest worker still reads are the stage's own cache entries:
the stage finds them cached and its tables are those of staging everything itself. Small work
starts no process; a stop, a failed ingest or a batch not in force stages nothing wrong."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from pipelines import filehash, parallel, prestage
from pipelines.filehash import file_sha256, known_hashes
from pipelines.ingest import FileReport, ingest
from pipelines.rawlake import current_batches, roll_back_batches
from pipelines.stagecache import cache_dir, stage_batches, uncached
from pipelines.workspace import Workspace

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    opened = Workspace.open(workspace)
    ingest(opened, now=NOW)
    return opened


def _ids(ws: Workspace) -> list[str]:
    return [b["batch_id"] for b in current_batches(ws)]


def test_prestaged_batches_are_found_cached_and_give_the_same_tables(
    ws: Workspace, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    shutil.copytree(ws.root, fresh)
    ids = _ids(ws)
    assert prestage.prestage(ws.root, cache_dir(ws), ids[:4], lambda: False) == 4
    assert len(uncached(cache_dir(ws), current_batches(ws))) == len(ids) - 4
    done = stage_batches(ws)
    assert (done.batches_staged, done.batches_cached) == (len(ids) - 4, 4)
    alone = stage_batches(Workspace.open(fresh))  # the same lake, staged by the stage only
    assert alone.batches_cached == 0
    assert_frame_equal(done.staged.collect(), alone.staged.collect())  # row order included
    assert_frame_equal(done.stage_quarantine, alone.stage_quarantine)
    assert_frame_equal(done.ingest_quarantine, alone.ingest_quarantine)


def test_a_stop_and_batches_not_in_force_stage_nothing(ws: Workspace) -> None:
    ids = _ids(ws)
    assert prestage.prestage(ws.root, cache_dir(ws), ids, lambda: True) == 0  # the ingest has ended
    since = min(datetime.fromisoformat(b["ingested_at"]) for b in current_batches(ws))
    roll_back_batches(ws, keep=set(ids[1:]), since=since.replace(year=2000), note="test")
    assert prestage.prestage(ws.root, cache_dir(ws), ids[:1], lambda: False) == 0
    assert not cache_dir(ws).exists()


def _reports(batches: list[dict[str, Any]]) -> list[FileReport]:
    return [
        FileReport(b["source"], b["relpath"], "ingested", b["batch_id"], records=b["records"])
        for b in batches
    ]


def test_the_child_stages_until_the_ingest_ends_and_the_stage_waits_for_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = current_batches(ws)
    assert prestage.start_prestage(ws.root, _reports(batches)) is prestage._nothing  # too little
    monkeypatch.setattr(prestage, "PRESTAGE_FROM_ROWS", 0)
    finish = prestage.start_prestage(ws.root, _reports(batches[:2]))
    assert prestage.start_prestage(ws.root, _reports(batches)) is prestage._nothing  # one at once
    deadline = time.monotonic() + 60
    while len(uncached(cache_dir(ws), batches)) > len(batches) - 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    finish(False)  # the ingest ended: no new batch, and no wait here
    done = stage_batches(ws)  # waits for the child first, then finds what it cached
    assert prestage._RUNNING == []
    assert done.batches_cached in (1, 2)  # the one it was on when told to stop, finished
    assert done.batches_staged == len(batches) - done.batches_cached


def test_a_failed_ingest_kills_the_child(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prestage, "PRESTAGE_FROM_ROWS", 0)
    finish = prestage.start_prestage(ws.root, _reports(current_batches(ws)))
    finish(True)
    assert prestage._RUNNING == []
    prestage.wait_for_prestage(ws.staged_dir)  # the lock is free at once


def _sleep_then_echo(root: Path, items: list[float], now: datetime) -> list[float]:
    time.sleep(sum(items))
    return items


def test_the_first_worker_done_hands_its_results_over_while_the_other_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    calls: list[object] = []

    def early(done: list[float]) -> Callable[[bool], None]:
        calls.append(done)
        return calls.append

    # the long item alone in one worker; the short one ends first and is handed over
    out = parallel.run_split(_sleep_then_echo, tmp_path, [1.5, 0.0], [3, 1], NOW, early=early)
    assert out == [1.5, 0.0]
    assert calls == [[0.0], False]  # handed over once, then told the ingest succeeded


def test_known_inbox_hashes_are_reused_and_new_ones_recorded(ws: Workspace) -> None:
    path = next(p for p in ws.inbox.rglob("*") if p.is_file())
    real = file_sha256(path)
    stat = path.stat()
    token = f"{path.relative_to(ws.inbox).as_posix()}|{stat.st_mtime_ns}|{stat.st_size}"
    with known_hashes(ws.inbox, {token: "f" * 64}):
        assert file_sha256(path) == "f" * 64  # taken as given, not read
    with known_hashes(ws.inbox, {}) as known:
        assert file_sha256(path) == real
    assert known == {token: real}
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # touched: hashed again
    with known_hashes(ws.inbox, {token: "f" * 64}):
        assert file_sha256(path) == real
    assert filehash.known_so_far() is None
