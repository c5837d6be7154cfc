"""The per-batch staging cache gives the table staging everything at once gives, row for row,
stages only batches it has not seen, and forgets batches no longer in force."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.ingest import current_batches, ingest, load_raw, roll_back_batches
from pipelines.stagecache import CACHE_DIR, stage_batches
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
    assert_frame_equal(done.staged, staged)  # row order included
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
    assert_frame_equal(again.staged, first.staged)


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
