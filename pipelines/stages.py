"""The pipeline's stages as plain functions over a workspace: ingest → stage → resolve → publish.

Each stage reads its input from the lake and writes its output there, so any orchestrator (the
Dagster assets, a test, a notebook) can run them one by one. Only ``publish_stage`` changes the
published tables.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from identity.exact import cluster_exact
from identity.registry import assign_customer_ids
from pipelines.ingest import (
    FileReport,
    IngestReport,
    failed_file_quarantine,
    ingest,
    load_events,
    load_raw,
)
from pipelines.profiles import build_events, build_identifiers, build_profiles, record_links
from pipelines.staging import stage
from pipelines.warehouse import RUNS_COLUMNS, previous_identity, publish, record_run
from pipelines.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageCounts:
    """Row counts of the staging stage; ``rows_in`` = ``staged`` + ``quarantined`` always."""

    rows_in: int
    staged: int
    quarantined: int


def _run_dir(ws: Workspace, run_id: str) -> Path:
    path = ws.runs_dir / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def ingest_stage(ws: Workspace, run_id: str, *, now: datetime | None = None) -> IngestReport:
    """Read new and changed inbox files into raw batches; keep the report for the run summary."""
    started = now or datetime.now(UTC)
    report = ingest(ws, now=started)
    meta = {"started_at": started.isoformat(), "files": report.to_json()}
    (_run_dir(ws, run_id) / "ingest.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return report


def _ingest_meta(ws: Workspace, run_id: str) -> dict[str, Any]:
    path = ws.runs_dir / run_id / "ingest.json"
    if not path.is_file():
        return {"started_at": datetime.now(UTC).isoformat(), "files": []}
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return meta


def stage_stage(ws: Workspace, run_id: str) -> StageCounts:
    """Normalise every raw batch in force into ``lake/staged``; quarantine what cannot be used."""
    raw, ingest_quarantine = load_raw(ws)
    staged, stage_quarantine = stage(raw, default_region=ws.config.normalize.default_region)
    files = IngestReport(files=[FileReport(**f) for f in _ingest_meta(ws, run_id)["files"]])
    quarantine = pl.concat(
        [ingest_quarantine, stage_quarantine, failed_file_quarantine(files)]
    ).sort("source", "source_file", "source_row", nulls_last=True)
    ws.staged_dir.mkdir(parents=True, exist_ok=True)
    staged.write_parquet(ws.staged_dir / "staged.parquet")
    quarantine.write_parquet(ws.staged_dir / "quarantine.parquet")
    rows_in = raw.height + ingest_quarantine.height
    return StageCounts(rows_in=rows_in, staged=staged.height, quarantined=rows_in - staged.height)


def resolve_stage(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Cluster staged records and give each cluster its persistent customer ID."""
    staged = pl.read_parquet(ws.staged_dir / "staged.parquet")
    matching = ws.config.matching
    clusters = cluster_exact(
        staged,
        link_on=matching.link_on,
        max_records_per_identifier=matching.max_records_per_identifier,
    )
    links, registry = previous_identity(con)
    assignment = assign_customer_ids(
        clusters.assignments.select("record_key", "cluster_key"), links, registry, run_id=run_id
    )
    out = ws.identity_dir
    out.mkdir(parents=True, exist_ok=True)
    clusters.assignments.write_parquet(out / "assignments.parquet")
    clusters.guards.write_parquet(out / "guards.parquet")
    assignment.links.write_parquet(out / "links.parquet")
    assignment.registry.write_parquet(out / "registry.parquet")
    assignment.changes.write_parquet(out / "changes.parquet")
    changes = assignment.changes.get_column("change").value_counts()
    by_change = dict(changes.iter_rows())
    return {
        "records": assignment.links.height,
        "customers": assignment.links.get_column("customer_id").n_unique(),
        "created": int(by_change.get("created", 0)),
        "merged": int(by_change.get("merged", 0)),
        "guarded_identifiers": clusters.guards.height,
    }


def publish_stage(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Build the published tables and replace them atomically; return the run summary."""
    staged = pl.read_parquet(ws.staged_dir / "staged.parquet")
    quarantine = pl.read_parquet(ws.staged_dir / "quarantine.parquet")
    ident = ws.identity_dir
    links = pl.read_parquet(ident / "links.parquet")
    changes = pl.read_parquet(ident / "changes.parquet")
    tables = {
        "profiles": build_profiles(staged, links),
        "identifiers": build_identifiers(staged, links),
        "record_links": record_links(staged, links, pl.read_parquet(ident / "assignments.parquet")),
        "quarantine": quarantine,
        "events": build_events(load_events(ws), links),
        "customer_registry": pl.read_parquet(ident / "registry.parquet"),
        "identity_changes": changes,
        "identity_guards": pl.read_parquet(ident / "guards.parquet"),
    }
    meta = _ingest_meta(ws, run_id)
    files = meta["files"]
    customers = tables["profiles"].height
    summary: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.fromisoformat(meta["started_at"]),
        "finished_at": datetime.now(UTC),
        "status": "success",
        "failed_stage": None,
        "error": None,
        "files_seen": len(files),
        "files_ingested": sum(1 for f in files if f["status"] == "ingested"),
        "files_skipped": sum(1 for f in files if f["status"] == "skipped"),
        "files_failed": sum(1 for f in files if f["status"] == "failed"),
        "rows_read": staged.height
        + quarantine.filter(pl.col("reason") != "file_unreadable").height,
        "rows_staged": staged.height,
        "rows_quarantined": quarantine.filter(pl.col("reason") != "file_unreadable").height,
        "customers": customers,
        "records_per_customer": round(staged.height / customers, 3) if customers else 0.0,
        "customers_created": changes.filter(pl.col("change") == "created").height,
        "customers_merged": changes.filter(pl.col("change") == "merged").height,
        "files": files,
    }
    publish(con, tables, summary, ws.published_dir)
    return summary


def record_failed_run(
    con: duckdb.DuckDBPyConnection, ws: Workspace, run_id: str, stage_name: str, error: str
) -> None:
    """Log a failed run in ``runs``; the published tables are not touched."""
    meta = _ingest_meta(ws, run_id)
    run = dict.fromkeys(RUNS_COLUMNS)
    run.update(
        run_id=run_id,
        started_at=datetime.fromisoformat(meta["started_at"]),
        finished_at=datetime.now(UTC),
        status="failed",
        failed_stage=stage_name,
        error=error[:2000],
        files=meta["files"],
    )
    record_run(con, run)
    log.error("run failed", extra={"run_id": run_id, "stage": stage_name})
