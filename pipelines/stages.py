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

from identity.engine import resolve
from identity.features import STAGED_INPUTS
from identity.overrides import load_overrides
from identity.registry import assign_customer_ids
from identity.settings import EngineSettings
from pipelines.ingest import (
    FileReport,
    IngestReport,
    failed_file_quarantine,
    ingest,
    load_events,
    load_raw,
)
from pipelines.profile.build import build_profile_tables, record_links
from pipelines.profile.history import history_snapshot
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


def ingest_stage(
    ws: Workspace, run_id: str, *, now: datetime | None = None, only: list[str] | None = None
) -> IngestReport:
    """Read new and changed inbox files (or only the batches ``only`` names) into raw batches."""
    from pipelines.batches import ingest_batches

    started = now or datetime.now(UTC)
    report = ingest(ws, now=started) if only is None else ingest_batches(ws, only, now=started)
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
    """Resolve staged records with the engine and give each cluster its persistent customer ID."""
    path = ws.staged_dir / "staged.parquet"
    present = set(pl.read_parquet_schema(path))
    staged = pl.read_parquet(path, columns=[c for c in STAGED_INPUTS if c in present])
    m = ws.config.matching
    settings = EngineSettings(
        link_on=tuple(m.link_on),
        link_threshold=m.link_threshold,
        cluster_threshold=m.cluster_threshold,
        max_block_size=m.max_block_size,
        max_pairs_per_rule=m.max_pairs_per_rule,
        max_records_per_identifier=m.max_records_per_identifier,
        max_people_per_identifier=m.max_people_per_identifier,
        dob_conflict_years=m.dob_conflict_years,
    )
    links, registry = previous_identity(con)
    customers = links.group_by("customer_id").agg(pl.col("record_key").sort())
    overrides = load_overrides(ws.root / m.overrides, dict(customers.iter_rows()))
    resolution = resolve(staged, settings, overrides=overrides)
    assignment = assign_customer_ids(
        resolution.assignments.select("record_key", "cluster_key"), links, registry, run_id=run_id
    )
    out = ws.identity_dir
    out.mkdir(parents=True, exist_ok=True)
    resolution.assignments.write_parquet(out / "assignments.parquet")
    resolution.guards.write_parquet(out / "guards.parquet")
    resolution.evidence.write_parquet(out / "evidence.parquet")
    resolution.blocking.write_parquet(out / "blocking.parquet")
    if resolution.model is not None:
        (out / "model.json").write_text(resolution.model.to_json(), encoding="utf-8")
    (out / "settings.json").write_text(settings.to_json(), encoding="utf-8")
    assignment.links.write_parquet(out / "links.parquet")
    assignment.registry.write_parquet(out / "registry.parquet")
    assignment.changes.write_parquet(out / "changes.parquet")
    by_change = dict(assignment.changes.get_column("change").value_counts().iter_rows())
    return {
        "records": assignment.links.height,
        "customers": assignment.links.get_column("customer_id").n_unique(),
        "created": int(by_change.get("created", 0)),
        "merged": int(by_change.get("merged", 0)),
        "guarded_identifiers": resolution.guards.height,
    }


def publish_stage(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Build the published tables and replace them atomically; return the run summary."""
    staged = pl.read_parquet(ws.staged_dir / "staged.parquet")
    quarantine = pl.read_parquet(ws.staged_dir / "quarantine.parquet")
    ident = ws.identity_dir
    links = pl.read_parquet(ident / "links.parquet")
    changes = pl.read_parquet(ident / "changes.parquet")
    meta = _ingest_meta(ws, run_id)
    started = datetime.fromisoformat(meta["started_at"])
    profile_tables = build_profile_tables(
        staged, links, load_events(ws), ws.config.profile, started.date()
    )
    tables = {
        **profile_tables,
        "profiles_history": history_snapshot(profile_tables["profiles"]),
        "record_links": record_links(staged, links, pl.read_parquet(ident / "assignments.parquet")),
        "quarantine": quarantine,
        "customer_registry": pl.read_parquet(ident / "registry.parquet"),
        "identity_changes": changes,
        "identity_guards": pl.read_parquet(ident / "guards.parquet"),
        "link_evidence": pl.read_parquet(ident / "evidence.parquet"),
    }
    files = meta["files"]
    customers = tables["profiles"].height
    summary: dict[str, Any] = {
        "run_id": run_id,
        "started_at": started,
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
