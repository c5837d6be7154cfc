"""Ingest in two worker processes: same batches and reports as one process, files balanced."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines import parallel
from pipelines.batches import inbox_batches
from pipelines.ingest import ingest, ingest_keys
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
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
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
