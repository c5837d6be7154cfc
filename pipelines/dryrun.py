"""Dry runs: the whole pipeline on a block of the inbox, in a scratch workspace.

``prepare_dry_run`` makes ``lake/dryrun/<stamp>/`` with a copy of the configuration whose inbox
is the real inbox (read only) and whose lake and warehouse are the scratch folder's own, ingests
every file there and keeps only a block of each batch (the first N rows, or a random fraction).
The pipeline then runs on the scratch workspace as usual; nothing of the real one is written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.config import CONFIG_FILE, load_config
from pipelines.errors import WorkspaceError
from pipelines.ingest import ingest
from pipelines.rawlake import BATCH_MARKER, current_batches
from pipelines.workspace import Workspace


def toml_value(value: Any) -> str:
    """A value as TOML (inline tables and arrays; enough for ``svod.toml``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [
            f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}"
            for k, v in value.items()
            if v is not None
        ]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def scratch_config(ws: Workspace) -> str:
    """The workspace's configuration, pointed at its real inbox and a local lake/warehouse."""
    data = ws.config.model_dump(mode="json")
    data["paths"] = {"inbox": str(ws.inbox), "lake": "lake", "warehouse": "warehouse.duckdb"}
    lines = ["# Dry-run copy of the workspace configuration (svod run --dry-run)."]
    lines += [f"{key} = {toml_value(value)}" for key, value in data.items() if value is not None]
    return "\n".join(lines) + "\n"


def _block(
    frame: pl.DataFrame, limit: int | None, fraction: float | None, seed: int
) -> pl.DataFrame:
    if limit is not None:
        return frame.head(limit)
    if fraction is not None and frame.height:
        keep = frame.with_row_index("_i").sample(fraction=fraction, seed=seed).sort("_i")
        return keep.drop("_i")
    return frame


def subset_batches(
    ws: Workspace, *, limit: int | None = None, fraction: float | None = None, seed: int = 0
) -> dict[str, int]:
    """Keep a block of every batch in force; return rows kept per batch id."""
    kept: dict[str, int] = {}
    for batch in current_batches(ws):
        folder = Path(batch["dir"])
        records = pl.read_parquet(folder / "records.parquet")
        quarantine = pl.read_parquet(folder / "quarantine.parquet")
        records = _block(records, limit, fraction, seed)
        if limit is not None and records.height and records["source_row"].null_count() == 0:
            last = records["source_row"].max()
            quarantine = quarantine.filter(pl.col("source_row").fill_null(0) <= last).head(limit)
        else:
            quarantine = _block(quarantine, limit, fraction, seed)
        records.write_parquet(folder / "records.parquet")
        quarantine.write_parquet(folder / "quarantine.parquet")
        events = folder / "events.parquet"
        if events.is_file():
            keys = set(records["record_key"].to_list())
            frame = pl.read_parquet(events)
            frame.filter(pl.col("record_key").is_in(list(keys))).write_parquet(events)
        meta = json.loads((folder / BATCH_MARKER).read_text(encoding="utf-8"))
        meta.update(records=records.height, quarantined=quarantine.height, dry_run=True)
        (folder / BATCH_MARKER).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        kept[batch["batch_id"]] = records.height + quarantine.height
    return kept


def prepare_dry_run(
    root: Path, *, limit: int | None = None, fraction: float | None = None, seed: int = 0
) -> Path:
    """Create and fill the scratch workspace of a dry run; return its folder."""
    if limit is not None and fraction is not None:
        raise WorkspaceError("give either --limit or --sample, not both")
    ws = Workspace.open(root)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    scratch = ws.lake / "dryrun" / stamp
    scratch.mkdir(parents=True)
    (scratch / CONFIG_FILE).write_text(scratch_config(ws), encoding="utf-8")
    load_config(scratch / CONFIG_FILE)  # the copy must read back as the same configuration
    scratch_ws = Workspace.open(scratch)
    ingest(scratch_ws)
    subset_batches(scratch_ws, limit=limit, fraction=fraction, seed=seed)
    return scratch
