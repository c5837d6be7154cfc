"""The per-batch staging cache gives the table staging everything at once gives, row for row,
stages only batches it has not seen, and forgets batches no longer in force."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import stagework
from pipelines.errors import StageError
from pipelines.ingest import ingest
from pipelines.rawlake import current_batches, load_raw, roll_back_batches
from pipelines.stagecache import CACHE_DIR, merge_by_key, plan_chunks, stage_batches
from pipelines.staging import stage
from pipelines.workspace import Workspace


def _from_scratch(ws: Workspace) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    raw, ingest_quarantine = load_raw(ws)
    staged, quarantine = stage(raw, default_region=ws.config.normalize.default_region)
    return staged, quarantine, ingest_quarantine


def _assert_same_as_scratch(ws: Workspace) -> None:
    done = stage_batches(ws)
    staged, quarantine, ingest_quarantine = _from_scratch(ws)
    assert staged.height > 100
    assert_frame_equal(done.staged.collect(), staged)  # row order included
    assert done.staged_rows == staged.height
    assert_frame_equal(done.stage_quarantine, quarantine)
    assert_frame_equal(done.ingest_quarantine, ingest_quarantine)


def _cached(ws: Workspace) -> set[str]:
    return {p.name for p in (ws.staged_dir / CACHE_DIR).glob("*/*") if p.is_dir()}


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    opened = Workspace.open(workspace)
    ingest(opened)
    return opened


def test_cached_staging_equals_staging_everything(ws: Workspace) -> None:
    first = stage_batches(ws)
    assert (first.batches_staged, first.batches_cached) == (6, 0)
    _assert_same_as_scratch(ws)
    again = stage_batches(ws)
    assert (again.batches_staged, again.batches_cached) == (0, 6)
    assert_frame_equal(again.staged.collect(), first.staged.collect())


def test_new_file_repeating_records_is_staged_alone_and_deduplicated(ws: Workspace) -> None:
    stage_batches(ws)
    onec = ws.inbox / "1c"
    shutil.copy(onec / "orders_commerceml.xml", onec / "orders_copy.xml")  # same record keys
    ingest(ws)
    done = stage_batches(ws)
    assert (done.batches_staged, done.batches_cached) == (1, 6)
    repeated = done.ingest_quarantine.filter(pl.col("reason") == "duplicate_record")
    assert repeated.height > 10
    _assert_same_as_scratch(ws)


def test_changed_and_rolled_back_batches_leave_the_cache(ws: Workspace) -> None:
    stage_batches(ws)
    before = _cached(ws)
    leads = ws.inbox / "sales" / "leads_2025.csv"
    text = leads.read_text(encoding="cp1251")
    leads.write_text(text.rstrip("\n").rsplit("\n", 1)[0] + "\n", encoding="cp1251")  # drop a row
    ingest(ws)
    stage_batches(ws)
    after = _cached(ws)
    assert len(before - after) == 1 and len(after - before) == 1  # superseded entry pruned
    _assert_same_as_scratch(ws)
    retired = roll_back_batches(ws, keep=set(), since=_oldest_ingest(ws), note="test")
    assert retired == ["sales/leads_2025.csv"]
    stage_batches(ws)
    _assert_same_as_scratch(ws)


def _oldest_ingest(ws: Workspace) -> datetime:
    return min(datetime.fromisoformat(b["ingested_at"]) for b in current_batches(ws))


def test_normalise_settings_are_part_of_the_cache_key(ws: Workspace) -> None:
    stage_batches(ws)
    toml = ws.root / "svod.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('default_region = "RU"', 'default_region = "KZ"'),
        encoding="utf-8",
    )
    other = Workspace.open(ws.root)
    done = stage_batches(other)
    assert done.batches_staged == 6
    assert len(list((other.staged_dir / CACHE_DIR).iterdir())) == 1  # old key pruned
    _assert_same_as_scratch(other)


def test_tiny_slices_give_the_table_of_one_pass(ws: Workspace) -> None:
    done = stage_batches(ws, chunk_rows=7)
    parts = list((ws.staged_dir / CACHE_DIR).glob("*/*/staged-*.parquet"))
    assert len(parts) > 2 * len(current_batches(ws))  # batches really were sliced
    _assert_same_as_scratch(ws)  # the cache of 7-row slices, read back
    assert done.staged_rows == done.staged.collect().height


def test_slices_staged_in_worker_processes_match(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stagework, "PARALLEL_FROM_ROWS", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    stage_batches(ws, chunk_rows=20)
    _assert_same_as_scratch(ws)


def test_each_slice_is_claimed_by_one_worker_only(tmp_path: Path) -> None:
    assert stagework.claim(tmp_path, 0)
    assert not stagework.claim(tmp_path, 0)  # another worker (or this one again) skips it
    assert stagework.claim(tmp_path, 1)


def test_a_worker_stages_only_the_slices_nobody_claimed(ws: Workspace, tmp_path: Path) -> None:
    batch = current_batches(ws)[0]
    out, claims = tmp_path / "out", tmp_path / "claims"
    out.mkdir()
    claims.mkdir()
    slices = [stagework.Chunk(batch["dir"], 0, 5, str(out), part) for part in range(3)]
    stagework.claim(claims, 1)  # taken by the other worker
    stagework._main(["RU", json.dumps(slices), str(claims)])
    assert sorted(p.name for p in out.glob("staged-*")) == [
        "staged-0000.parquet",
        "staged-0002.parquet",
    ]
    assert sorted(p.name for p in claims.iterdir()) == ["0", "1", "2"]


def test_plan_chunks_covers_every_row_in_bounded_slices() -> None:
    assert plan_chunks(0, 10) == [(0, 0)]
    assert plan_chunks(10, 10) == [(0, 10)]
    assert plan_chunks(21, 10) == [(0, 7), (7, 7), (14, 7)]
    slices = plan_chunks(1_001, 100)
    assert max(n for _, n in slices) <= 100
    assert [s for s, _ in slices] == list(range(0, 1_001, slices[0][1]))
    assert sum(n for _, n in slices) == 1_001


def test_merge_by_key_merges_overlapping_parts_and_concatenates_the_rest() -> None:
    parts = [["b3", "b1"], ["a2", "a1"], ["b2", "b4"], [], ["c1"]]
    frames = [
        pl.LazyFrame(
            {"record_key": keys, "n": list(range(len(keys)))},
            schema_overrides={"record_key": pl.String},
        ).sort("record_key")
        for keys in parts
    ]
    merged = merge_by_key(frames).collect()
    assert merged.get_column("record_key").to_list() == ["a1", "a2", "b1", "b2", "b3", "b4", "c1"]
    assert merged.get_column("n").to_list() == [1, 0, 1, 0, 0, 1, 0]


@pytest.mark.parametrize("workers", [False, True])
def test_a_damaged_batch_names_itself_and_caches_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    if workers:
        monkeypatch.setattr(stagework, "PARALLEL_FROM_ROWS", 0)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    damaged = Path(current_batches(ws)[0]["dir"])
    (damaged / "records.parquet").write_bytes(b"PAR1 not a parquet file PAR1")
    with pytest.raises(StageError) as caught:
        stage_batches(ws, chunk_rows=20)
    message = str(caught.value)
    assert str(damaged) in message and "delete that batch folder" in message
    assert not any((ws.staged_dir / CACHE_DIR).glob("*/*/cached*"))  # no entry a later run trusts
