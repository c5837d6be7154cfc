"""Stage each raw batch once: staged and quarantined rows cached per batch, in bounded parts.

Normalisation is row-wise, so a slice of a batch staged on its own gives the rows it gives
inside the whole. ``lake/staged/batches/<key>/<batch_id>/`` holds a batch's staged and
quarantined rows as parts of at most ``CHUNK_ROWS`` input rows (``staged-0000.parquet``,
sorted by record_key; ``quarantine-0000.parquet``, in input order), each row with ``_row``
(its position in the batch's ``records.parquet``); ``<key>`` is the normalise settings and
Svod's version (``pipelines.fingerprint.normalize_fingerprint``), so a change of either stages
everything again. The staged table is the cached parts in force, minus the older copies of
records repeated across files, merged by record_key — the same table, row for row, as staging
all raw records at once, but never held in memory whole (see ``pipelines.stagework``). Entries
may be made ahead, while the ingest still reads (``pipelines.prestage``): the stage waits for
that first.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.fingerprint import normalize_fingerprint
from pipelines.prestage import wait_for_prestage
from pipelines.rawlake import current_batches, read_records, split_repeated_records
from pipelines.schema import RAW_SCHEMA
from pipelines.stagework import CHUNK_ROWS, ROW, Chunk, batch_failed, run_chunks
from pipelines.staging import normalize_records
from pipelines.workspace import Workspace
from quality.rules import split_unusable

log = logging.getLogger(__name__)

CACHE_DIR = "batches"
_BATCH = "_batch"
_MARKER = "cached-parts.json"  # parts sorted by record_key; older entries are staged again


@dataclass(frozen=True)
class StagedBatches:
    """The staged records (lazy, sorted by record_key), both quarantines, and the cache's work."""

    staged: pl.LazyFrame
    staged_rows: int
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


def cache_dir(ws: Workspace) -> Path:
    """The cache folder of the current normalise settings and Svod's version."""
    return ws.staged_dir / CACHE_DIR / normalize_fingerprint(ws)


def uncached(cache: Path, batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Those of ``batches`` with no complete, current entry in ``cache``."""
    return [b for b in batches if not _is_cached(cache / b["batch_id"], b)]


def plan_chunks(rows: int, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """(start, length) slices of about equal size, none over ``chunk_rows``; one for 0 rows."""
    if rows <= 0:
        return [(0, 0)]  # an empty batch still gets (empty) parts: its cache entry is complete
    parts = -(-rows // max(1, chunk_rows))
    size = -(-rows // parts)
    return [(start, min(size, rows - start)) for start in range(0, rows, size)]


def stage_into_cache(
    batches: list[dict[str, Any]],
    cache: Path,
    default_region: str,
    chunk_rows: int,
    run: Callable[[list[Chunk], str], None] = run_chunks,
) -> None:
    """Normalise these batches slice by slice (``run``: in worker processes when large); cache
    each."""
    chunks: list[Chunk] = []
    folders: list[tuple[Path, Path, dict[str, Any]]] = []
    for batch in batches:
        folder = cache / batch["batch_id"]
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        folders.append((folder, tmp, batch))
        records = Path(batch["dir"]) / "records.parquet"
        try:
            rows = pl.scan_parquet(records).select(pl.len()).collect().item()
        except Exception as exc:  # a damaged or missing file: say which batch
            raise batch_failed(batch["dir"], "the row count", exc) from exc
        chunks += [
            Chunk(str(Path(batch["dir"])), start, length, str(tmp), part)
            for part, (start, length) in enumerate(plan_chunks(rows, chunk_rows))
        ]
    run(chunks, default_region)
    for folder, tmp, batch in folders:
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


def _parts(folders: list[Path], name: str) -> list[tuple[int, Path]]:
    """(batch index, part file) of every cached part called ``name-*``, in batch/part order."""
    return [(i, p) for i, f in enumerate(folders) for p in sorted(f.glob(f"{name}-*.parquet"))]


def _scan(index: int, part: Path) -> pl.LazyFrame:
    return pl.scan_parquet(part).with_columns(pl.lit(index, pl.UInt32).alias(_BATCH))


def _winners(
    batches: list[dict[str, Any]], folders: list[Path]
) -> tuple[pl.DataFrame | None, pl.DataFrame]:
    """(batch, row) of the copy kept per record_key (None: no key repeats), and the older copies.

    Only the keys are read to find out; the raw records only when some key does repeat.
    """
    keys = pl.concat(
        [
            pl.scan_parquet(p).select("record_key")
            for name in ("staged", "quarantine")
            for _, p in _parts(folders, name)
        ]
        or [pl.LazyFrame(schema={"record_key": pl.String})]
    ).collect()
    if not keys.get_column("record_key").is_duplicated().any():
        return None, split_repeated_records(pl.DataFrame(schema=RAW_SCHEMA))[1]
    raw = pl.concat(
        [
            read_records(Path(b["dir"]))
            .with_row_index(ROW)
            .with_columns(pl.lit(i, pl.UInt32).alias(_BATCH))
            for i, b in enumerate(batches)
        ]
    )
    kept, repeated = split_repeated_records(raw)
    return kept.select(_BATCH, ROW), repeated


def _keep(frame: pl.LazyFrame, winners: pl.DataFrame | None) -> pl.LazyFrame:
    if winners is not None:
        frame = frame.join(winners.lazy(), on=[_BATCH, ROW], how="semi", maintain_order="left")
    return frame.drop(_BATCH, ROW)


def merge_by_key(parts: list[pl.LazyFrame]) -> pl.LazyFrame:
    """Frames each sorted by record_key, as one sorted frame, streamed.

    A streamed merge buffers one side while the other drains, so parts whose key ranges do
    not overlap (other sources, other files, ordered ids) are concatenated in key order and
    only overlapping ones are merged.
    """
    bounds = pl.concat(
        [p.select(lo=pl.col("record_key").min(), hi=pl.col("record_key").max()) for p in parts]
    ).collect()
    spans = [(lo, hi, p) for (lo, hi), p in zip(bounds.iter_rows(), parts, strict=True) if lo]
    groups: list[list[pl.LazyFrame]] = []
    top = ""
    for lo, hi, part in sorted(spans, key=lambda s: (s[0], s[1])):
        if groups and lo <= top:
            groups[-1].append(part)
        else:
            groups.append([part])
        top = max(top, hi) if len(groups[-1]) > 1 else hi
    merged = [reduce(lambda a, b: a.merge_sorted(b, "record_key"), g) for g in groups]
    return pl.concat(merged) if merged else parts[0]


def stage_batches(ws: Workspace, *, chunk_rows: int = CHUNK_ROWS) -> StagedBatches:
    """Staged records and quarantine of every batch in force, staging only uncached batches."""
    wait_for_prestage(ws.staged_dir)  # a child of the ingest may still write one entry
    batches = current_batches(ws)
    cache = cache_dir(ws)
    missing = uncached(cache, batches)
    if missing:
        stage_into_cache(missing, cache, ws.config.normalize.default_region, chunk_rows)
    _prune(cache.parent, cache.name, {b["batch_id"] for b in batches})
    folders = [cache / b["batch_id"] for b in batches]
    winners, repeated = _winners(batches, folders)
    staged_parts = [_keep(_scan(i, p), winners) for i, p in _parts(folders, "staged")]
    quarantine_parts = [_keep(_scan(i, p), winners) for i, p in _parts(folders, "quarantine")]
    if staged_parts:
        staged = merge_by_key(staged_parts)
        quarantine = pl.concat(quarantine_parts, how="vertical_relaxed").collect()
    else:
        empty_staged, quarantine = _empty_stage(ws)
        staged = empty_staged.lazy()
    # counted part by part: only row counts (and ``_row`` when a key repeats) are read
    counts = pl.concat([p.select(pl.len()) for p in staged_parts] or [staged.select(pl.len())])
    staged_rows = int(counts.sum().collect().item())
    ingest_quarantine = pl.concat(
        [*(pl.read_parquet(Path(b["dir"]) / "quarantine.parquet") for b in batches), repeated],
        how="vertical_relaxed",
    )
    log.info(
        "staged",
        extra={
            "records": staged_rows,
            "quarantined": quarantine.height,
            "batches_staged": len(missing),
            "batches_cached": len(batches) - len(missing),
        },
    )
    return StagedBatches(
        staged=staged,
        staged_rows=staged_rows,
        stage_quarantine=quarantine,
        ingest_quarantine=ingest_quarantine,
        batches_staged=len(missing),
        batches_cached=len(batches) - len(missing),
    )


def _empty_stage(ws: Workspace) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An empty staged table and quarantine with the columns staging gives."""
    empty = normalize_records(
        pl.DataFrame(schema=RAW_SCHEMA), default_region=ws.config.normalize.default_region
    )
    return split_unusable(empty)
