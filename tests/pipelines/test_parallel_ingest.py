"""Ingest in two worker processes: same batches and reports as one process, files balanced."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines import ingest as ingest_module
from pipelines import parallel, sources
from pipelines.batches import inbox_batches
from pipelines.ingest import discover_files, ingest, ingest_keys
from pipelines.parallel import MAX_HELPER_SHARE, MIN_HELPER_BYTES, helper_shares
from pipelines.sources.base import SourceFile
from pipelines.workspace import Workspace

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_deal_puts_the_big_file_alone_and_keeps_every_index_once() -> None:
    groups = parallel.deal([300, 10, 20, 30, 5], workers=2)
    assert groups == [[0], [1, 2, 3, 4]]
    assert parallel.deal([1, 1, 1, 1], workers=2) == [[0, 2], [1, 3]]
    assert parallel.deal([7], workers=2) == [[0]]  # never an empty worker


def test_small_inboxes_stay_in_this_process() -> None:
    assert parallel.worker_count([10, 20]) == 1
    assert parallel.worker_count([parallel.PARALLEL_FROM_BYTES]) == 1  # one file: nothing to split
    assert parallel.worker_count([parallel.PARALLEL_FROM_BYTES, 1]) >= 1


def _batches(root: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for marker in sorted((root / "lake" / "raw").glob("*/*/batch.json")):
        meta = json.loads(marker.read_text(encoding="utf-8"))
        frame = pl.read_parquet(marker.parent / "records.parquet")
        out[meta["batch_id"]] = frame
    return out


def test_two_workers_write_the_same_batches_and_reports(
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    serial_root = tmp_path / "serial"
    shutil.copytree(workspace, serial_root)
    serial = ingest(Workspace.open(serial_root), now=NOW)
    monkeypatch.setattr(parallel, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # what pipelines.parallel sizes workers by
    ws = Workspace.open(workspace)
    keys = [b.key for b in inbox_batches(ws)]
    with caplog.at_level(logging.INFO, logger="pipelines.parallel"):
        split = ingest_keys(ws, keys, NOW)
    assert "reading files in parallel" in caplog.messages
    assert split.to_json() == serial.to_json()
    assert [f.status for f in split.files] == ["ingested"] * len(keys)
    left, right = _batches(serial_root), _batches(workspace)
    assert left.keys() == right.keys()
    for batch_id, frame in left.items():
        assert frame.equals(right[batch_id]), batch_id
    again = ingest(ws, now=NOW)  # second time: every file skipped, in inbox order
    assert [f.status for f in again.files] == ["skipped"] * len(keys)
    assert [f.relpath for f in again.files] == [f.relpath for f in serial.files]


def test_helper_takes_the_excess_of_a_file_alone_in_its_worker() -> None:
    mb = 1 << 20
    # CommerceML 620 MB beside 400 MB of other files: 220 MB more than the other worker
    shares = helper_shares([15 * mb, 8 * mb, 6 * mb, 620 * mb, 71 * mb, 300 * mb])
    assert shares[3] == pytest.approx(1 - 400 / 620)
    assert shares[:3] + shares[4:] == [0.0] * 5  # their worker has other files to read
    assert helper_shares([400 * mb, 10 * mb]) == [MAX_HELPER_SHARE, 0.0]  # nearly alone
    assert helper_shares([200 * mb, 190 * mb]) == [0.0, 0.0]  # balanced: no helper
    assert helper_shares([10, 20]) == [None, None]  # one process: the connector decides


def test_no_helper_when_the_excess_is_too_small_to_pay_for_it() -> None:
    mb = 1 << 20
    # the 1M inbox: CommerceML 273 MB beside 181 MB; a helper would take 92 MB for 4.5 CPU-s
    shares = helper_shares([15 * mb, 8 * mb, 6 * mb, 273 * mb, 71 * mb, 81 * mb])
    assert shares == [0.0] * 6
    edge = 400 * mb + MIN_HELPER_BYTES  # just large enough
    assert helper_shares([400 * mb, edge])[1] == pytest.approx(1 - 400 * mb / edge)
    assert helper_shares([400 * mb, edge - 1]) == [0.0, 0.0]


def test_each_file_is_read_with_its_helper_share(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, float | None] = {}
    read = sources.read_file  # what pipelines.ingest imported

    def spy(file: SourceFile) -> Any:
        seen[file.relpath] = file.helper_share
        return read(file)

    monkeypatch.setattr(ingest_module, "read_file", spy)
    copy, fresh = tmp_path / "copy", tmp_path / "fresh"
    shutil.copytree(workspace, copy)
    shutil.copytree(workspace, fresh)
    ws = Workspace.open(workspace)
    relpaths = [path.relative_to(ws.inbox).as_posix() for _, path in discover_files(ws)]
    first, *rest = relpaths
    ingest_module._ingest_paths(workspace, relpaths, NOW, {first: 0.3})
    assert seen == {first: 0.3, **dict.fromkeys(rest)}
    seen.clear()
    keys = [b.key for b in inbox_batches(Workspace.open(copy))]
    ingest_module._ingest_keys(copy, keys, NOW, {rest[0]: 0.0})
    assert seen == {first: None, rest[0]: 0.0, **dict.fromkeys(rest[1:])}
    seen.clear()
    ingest(Workspace.open(fresh), now=NOW)  # a small inbox, read here: no advice
    assert seen == dict.fromkeys(relpaths)
