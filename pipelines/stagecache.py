"""Stage each raw batch once: staged and quarantined rows cached per batch.

Normalisation is row-wise, so a batch staged on its own gives the rows it gives inside the
whole. ``lake/staged/batches/<key>/<batch_id>/`` holds a batch's staged and quarantined rows,
each with ``_row`` (its position in the batch's ``records.parquet``); ``<key>`` is the
normalise settings and Svod's version (``pipelines.fingerprint.normalize_fingerprint``), so a
change of either stages everything again. The staged table is the cached batches in force,
minus the older copies of records repeated across files, sorted by record_key — the same
table, row for row, as staging all raw records at once.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.fingerprint import normalize_fingerprint
from pipelines.ingest import current_batches, read_records, split_repeated_records
from pipelines.schema import RAW_SCHEMA
from pipelines.staging import normalize_records
from pipelines.workspace import Workspace
from quality.rules import split_unusable, usable_expr

log = logging.getLogger(__name__)

CACHE_DIR = "batches"
ROW = "_row"
_BATCH = "_batch"
_MARKER = "cached.json"


@dataclass(frozen=True)
class StagedBatches:
    """The staged records, the quarantine of staging and of ingest, and what the cache did."""

    staged: pl.DataFrame
    stage_quarantine: pl.DataFrame
    ingest_quarantine: pl.DataFrame
    batches_staged: int
    batches_cached: int


def _source_stamp(batch: dict[str, Any]) -> dict[str, int]:
    """Size and mtime of the batch's records file: a cache entry of a rewritten file is stale."""
    stat = (Path(batch["dir"]) / "records.parquet").stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_cached(folder: Path, batch: dict[str, Any]) -> bool:
    marker = folder / _MARKER
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text(encoding="utf-8")) == _source_stamp(batch))


def _stage_into_cache(batches: list[dict[str, Any]], cache: Path, default_region: str) -> None:
    """Normalise these batches together (one pass, threads as usual) and cache each one."""
    raw = pl.concat(
        [read_records(Path(b["dir"])).with_row_index(ROW) for b in batches], how="vertical"
    )
    normalized = normalize_records(raw.drop(ROW), default_region=default_region)
    normalized = normalized.with_columns(raw.get_column(ROW))
    del raw
    usable = normalized.select(usable_expr()).to_series()
    staged, quarantine = split_unusable(normalized)
    quarantine = quarantine.with_columns(normalized.get_column(ROW).filter(~usable))
    del normalized
    for batch in batches:
        folder = cache / batch["batch_id"]
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        mine = pl.col("batch_id") == batch["batch_id"]
        staged.filter(mine).write_parquet(tmp / "staged.parquet")
        quarantine.filter(mine).write_parquet(tmp / "quarantine.parquet")
        (tmp / _MARKER).write_text(json.dumps(_source_stamp(batch)), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)


def _prune(root: Path, key: str, keep: set[str]) -> None:
    """Drop cache entries of other settings/versions and of batches no longer in force."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.name != key:
            shutil.rmtree(entry, ignore_errors=True)
            continue
        for folder in entry.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def _read_cached(folder: Path, index: int, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / name).with_columns(pl.lit(index, pl.UInt32).alias(_BATCH))


def _drop_repeated(
    batches: list[dict[str, Any]], staged: pl.DataFrame, quarantine: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Keep one copy per record_key (as ``load_raw`` does); the older copies, as quarantine."""
    keys = pl.concat([staged.get_column("record_key"), quarantine.get_column("record_key")])
    if not keys.is_duplicated().any():
        return staged, quarantine, split_repeated_records(pl.DataFrame(schema=RAW_SCHEMA))[1]
    raw = pl.concat(
        [
            read_records(Path(b["dir"]))
            .with_row_index(ROW)
            .with_columns(pl.lit(i, pl.UInt32).alias(_BATCH))
            for i, b in enumerate(batches)
        ]
    )
    kept, repeated = split_repeated_records(raw)
    winners = kept.select(_BATCH, ROW)
    return (
        staged.join(winners, on=[_BATCH, ROW], how="semi", maintain_order="left"),
        quarantine.join(winners, on=[_BATCH, ROW], how="semi", maintain_order="left"),
        repeated,
    )


def stage_batches(ws: Workspace) -> StagedBatches:
    """Staged records and quarantine of every batch in force, staging only uncached batches."""
    batches = current_batches(ws)
    key = normalize_fingerprint(ws)
    root = ws.staged_dir / CACHE_DIR
    cache = root / key
    missing = [b for b in batches if not _is_cached(cache / b["batch_id"], b)]
    if missing:
        _stage_into_cache(missing, cache, ws.config.normalize.default_region)
    _prune(root, key, {b["batch_id"] for b in batches})
    folders = [cache / b["batch_id"] for b in batches]
    if folders:
        staged = pl.concat(
            [_read_cached(f, i, "staged.parquet") for i, f in enumerate(folders)],
            how="vertical_relaxed",
        )
        quarantine = pl.concat(
            [_read_cached(f, i, "quarantine.parquet") for i, f in enumerate(folders)],
            how="vertical_relaxed",
        )
    else:
        staged, quarantine = _empty_stage(ws)
    staged, quarantine, repeated = _drop_repeated(batches, staged, quarantine)
    ingest_quarantine = pl.concat(
        [*(pl.read_parquet(Path(b["dir"]) / "quarantine.parquet") for b in batches), repeated],
        how="vertical_relaxed",
    )
    log.info(
        "staged",
        extra={
            "records": staged.height,
            "quarantined": quarantine.height,
            "batches_staged": len(missing),
            "batches_cached": len(batches) - len(missing),
        },
    )
    return StagedBatches(
        staged=staged.drop(_BATCH, ROW).sort("record_key"),
        stage_quarantine=quarantine.drop(_BATCH, ROW),
        ingest_quarantine=ingest_quarantine,
        batches_staged=len(missing),
        batches_cached=len(batches) - len(missing),
    )


def _empty_stage(ws: Workspace) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An empty staged table and quarantine with the columns staging gives."""
    empty = normalize_records(
        pl.DataFrame(schema=RAW_SCHEMA), default_region=ws.config.normalize.default_region
    )
    staged, quarantine = split_unusable(empty.with_columns(pl.lit(0, pl.UInt32).alias(ROW)))
    extra = pl.lit(0, pl.UInt32)
    return (
        staged.with_columns(extra.alias(_BATCH)),
        quarantine.with_columns(extra.alias(ROW), extra.alias(_BATCH)),
    )
