"""The raw lake as ingest left it: which batches are in force, and their records and events.

Ingest (``pipelines.ingest``) writes one folder per batch under ``lake/raw/<source>/``; a
``batch.json`` written last marks it complete, a ``rolled_back.json`` marks it undone. Everything
downstream (staging, pre-staging, checks, fingerprints, the publish's events, rollbacks) reads the
lake through these functions.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.schema import QUARANTINE_LINEAGE, QUARANTINE_SCHEMA, RAW_FIELDS, RAW_SCHEMA
from pipelines.workspace import Workspace

BATCH_MARKER = "batch.json"
#: Written into a batch folder by ``svod rollback`` when the batch is undone.
ROLLED_BACK_MARKER = "rolled_back.json"


def current_batches(ws: Workspace) -> list[dict[str, Any]]:
    """Complete batches in force: for each (source, file) the most recently ingested one."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for marker in sorted(ws.raw_dir.glob(f"*/*/{BATCH_MARKER}")):
        if (marker.parent / ROLLED_BACK_MARKER).is_file():
            continue
        meta = json.loads(marker.read_text(encoding="utf-8"))
        meta["dir"] = str(marker.parent)
        if meta["source"] not in {s.name for s in ws.config.sources}:
            continue
        key = (meta["source"], meta["relpath"])
        if key not in latest or (meta["ingested_at"], meta["batch_id"]) > (
            latest[key]["ingested_at"],
            latest[key]["batch_id"],
        ):
            latest[key] = meta
    return [latest[k] for k in sorted(latest)]


def read_records(folder: Path, rows: tuple[int, int] | None = None) -> pl.DataFrame:
    """The records of one batch folder (or ``rows`` = (start, length) of them) in RAW_SCHEMA.

    Batches written before a field was added to RAW_SCHEMA lack it: null-fill, do not fail.
    """
    scan = pl.scan_parquet(folder / "records.parquet")
    r = (scan if rows is None else scan.slice(*rows)).collect()
    return r.with_columns(
        pl.lit(None, t).alias(c) for c, t in RAW_SCHEMA.items() if c not in r
    ).select(list(RAW_SCHEMA))


def load_raw(ws: Workspace) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records and quarantined rows of the batches in force."""
    batches = current_batches(ws)
    records = [read_records(Path(b["dir"])) for b in batches]
    quarantine = [pl.read_parquet(Path(b["dir"]) / "quarantine.parquet") for b in batches]
    all_records = pl.concat(records) if records else pl.DataFrame(schema=RAW_SCHEMA)
    kept, repeated = split_repeated_records(all_records)
    return (
        kept,
        pl.concat([*quarantine, repeated] if quarantine else [repeated], how="vertical_relaxed"),
    )


def roll_back_batches(ws: Workspace, keep: set[str], since: datetime, note: str) -> list[str]:
    """Mark batches ingested after ``since`` and not in ``keep`` as rolled back.

    They stop being in force (the file's previous batch, if any, is used again) and the same
    file is not ingested again unless it changes, so a rollback stays rolled back.
    """
    retired = []
    for batch in current_batches(ws):
        if batch["batch_id"] in keep or datetime.fromisoformat(batch["ingested_at"]) <= since:
            continue
        marker = Path(batch["dir"]) / ROLLED_BACK_MARKER
        marker.write_text(json.dumps({"note": note}, ensure_ascii=False), encoding="utf-8")
        retired.append(batch["relpath"])
    return retired


def split_repeated_records(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep one row per record_key: the one from the most recently ingested file.

    The same native id in two files of one source (two CRM exports overlapping) is one record;
    the older copies go to quarantine as ``duplicate_record`` naming the file whose copy is used.
    """
    if records.height and not records.get_column("record_key").is_duplicated().any():
        # the usual case: nothing repeated, so skip the window sort over a million keys
        return records, split_repeated_records(records.clear())[1]
    ranked = records.with_columns(
        _rank=pl.int_range(pl.len()).over(
            "record_key",
            order_by=[pl.col("ingested_at"), pl.col("source_file"), pl.col("source_row")],
            descending=True,
        ),
        _winner=pl.col("source_file")
        .sort_by([pl.col("ingested_at"), pl.col("source_file"), pl.col("source_row")])
        .last()
        .over("record_key"),
    )
    kept = ranked.filter(pl.col("_rank") == 0).drop("_rank", "_winner")
    older = ranked.filter(pl.col("_rank") > 0)
    quarantine = older.select(
        *QUARANTINE_LINEAGE,
        stage=pl.lit("ingest"),
        reason=pl.lit("duplicate_record"),
        field=pl.lit("source_record_id"),
        detail=pl.format("the same record is also in {}; that copy is used", pl.col("_winner")),
        raw=pl.struct(list(RAW_FIELDS)).struct.json_encode(),
    )
    return kept, quarantine.select(list(QUARANTINE_SCHEMA))


def load_events(ws: Workspace) -> pl.DataFrame | None:
    """Events (orders, form submissions, tickets) of the batches in force, or None if none."""
    frames = [
        pl.read_parquet(path)
        for b in current_batches(ws)
        if (path := Path(b["dir"]) / "events.parquet").is_file()
    ]
    return pl.concat(frames, how="diagonal_relaxed") if frames else None
