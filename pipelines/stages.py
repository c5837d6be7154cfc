"""The pipeline's stages as plain functions over a workspace: ingest → stage → resolve → publish.

Each stage reads its input from the lake and writes its output there, so any orchestrator (the
Dagster assets, a test, a notebook) can run them one by one. Only ``publish_stage`` changes the
published tables; ``unchanged_run`` says when a run has nothing to do (see
``pipelines.fingerprint``) and ``record_unchanged_run`` logs such a run.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from identity.overrides import load_overrides
from identity.registry import assign_customer_ids
from identity.settings import EngineSettings
from pipelines.fingerprint import (
    UNCHANGED_NOTE,
    load_fingerprint,
    run_fingerprint,
    save_fingerprint,
    unchanged_since,
)
from pipelines.ingest import FileReport, IngestReport, failed_file_quarantine, ingest, ingest_keys
from pipelines.publication import Publication, prune_after_publish
from pipelines.publishbuild import build_published_files
from pipelines.resolution import resolve_workspace, write_outputs
from pipelines.snapshotload import DUCKDB_ROW_GROUP
from pipelines.stagecache import stage_batches
from pipelines.warehouse import (
    RUNS_COLUMNS,
    mirror_runs,
    previous_identity,
    record_run,
)
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
    started = now or datetime.now(UTC)
    report = ingest(ws, now=started) if only is None else ingest_keys(ws, only, started)
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
    done = stage_batches(ws)
    staged = done.staged
    files = IngestReport(files=[FileReport(**f) for f in _ingest_meta(ws, run_id)["files"]])
    quarantine = pl.concat(
        [done.ingest_quarantine, done.stage_quarantine, failed_file_quarantine(files)]
    ).sort("source", "source_file", "source_row", nulls_last=True)
    ws.staged_dir.mkdir(parents=True, exist_ok=True)
    # streamed: never whole in memory; zstd level 1 writes ~0.3 CPU-s faster at 1M than the
    # default level, for a file of about the same size
    staged.sink_parquet(ws.staged_dir / "staged.parquet", compression_level=1)
    quarantine.write_parquet(ws.staged_dir / "quarantine.parquet")
    rows_in = done.staged_rows + done.stage_quarantine.height + done.ingest_quarantine.height
    return StageCounts(
        rows_in=rows_in, staged=done.staged_rows, quarantined=rows_in - done.staged_rows
    )


def file_counts(files: list[dict[str, Any]]) -> dict[str, int]:
    """The ``runs`` columns that count a run's inbox files by what ingest did with them."""
    return {
        "files_seen": len(files),
        "files_ingested": sum(1 for f in files if f["status"] == "ingested"),
        "files_skipped": sum(1 for f in files if f["status"] == "skipped"),
        "files_failed": sum(1 for f in files if f["status"] == "failed"),
    }


def unchanged_run(
    ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str, *, force: bool = False
) -> str | None:
    """Fingerprint this run's inputs (kept for publish); the run it repeats, if nothing changed.

    None means work is due: something changed, the last publish is not current, or ``force``.
    """
    parts = run_fingerprint(ws, _ingest_meta(ws, run_id)["files"])
    save_fingerprint(ws, run_id, parts)
    return None if force else unchanged_since(con, parts)


def record_unchanged_run(
    ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str, previous: str
) -> dict[str, Any]:
    """Log a run that did nothing as a success; its counts are those of the publish it kept."""
    meta = _ingest_meta(ws, run_id)
    files = meta["files"]
    cursor = con.execute(
        "SELECT * FROM runs WHERE run_id = ? AND status = 'success' "
        "ORDER BY finished_at DESC LIMIT 1",
        [previous],
    )
    row = cursor.fetchone()
    kept = dict(zip([d[0] for d in cursor.description], row or (), strict=False))
    run: dict[str, Any] = {k: kept.get(k) for k in RUNS_COLUMNS}
    run.update(
        run_id=run_id,
        started_at=datetime.fromisoformat(meta["started_at"]),
        finished_at=datetime.now(UTC),
        status="success",
        failed_stage=None,
        error=None,
        **file_counts(files),
        customers_created=0,
        customers_merged=0,
        files=files,
        fingerprint=load_fingerprint(ws, run_id),
        note=UNCHANGED_NOTE.format(run=previous),
    )
    record_run(con, run)
    mirror_runs(con, ws.published_dir)
    log.info("nothing changed", extra={"run_id": run_id, "kept_run": previous})
    return run


def resolve_stage(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Resolve staged records with the engine and give each cluster its persistent customer ID."""
    m = ws.config.matching
    settings = EngineSettings(
        link_on=tuple(m.link_on),
        link_threshold=m.link_threshold,
        cluster_threshold=m.cluster_threshold,
        fragment_threshold=m.fragment_threshold,
        max_block_size=m.max_block_size,
        max_pairs_per_rule=m.max_pairs_per_rule,
        max_records_per_identifier=m.max_records_per_identifier,
        max_people_per_identifier=m.max_people_per_identifier,
        dob_conflict_years=m.dob_conflict_years,
    )
    steward = ws.root / m.overrides
    customers: dict[str, list[str]] = {}
    if steward.is_file():  # customer IDs in it expand to their records (costly at 1M: only then)
        links, _ = previous_identity(con)
        groups = links.group_by("customer_id").agg(pl.col("record_key").sort())
        customers = dict(groups.iter_rows())
        del links, groups
    overrides = load_overrides(steward, customers)
    staged = ws.staged_dir / "staged.parquet"
    done = resolve_workspace(ws, staged, settings, overrides, save_aside=True)
    resolution = done.resolution
    # read after resolving: a million links are not held through it
    links, registry = previous_identity(con)
    assignment = assign_customer_ids(
        resolution.assignments.select("record_key", "cluster_key"), links, registry, run_id=run_id
    )
    out = ws.identity_dir
    out.mkdir(parents=True, exist_ok=True)
    done.wait()  # the outputs are copied from the saved state
    write_outputs(done, out)
    resolution.blocking.write_parquet(out / "blocking.parquet")
    if resolution.model is not None:
        (out / "model.json").write_text(resolution.model.to_json(), encoding="utf-8")
    (out / "settings.json").write_text(settings.to_json(), encoding="utf-8")
    assignment.links.write_parquet(out / "links.parquet", row_group_size=DUCKDB_ROW_GROUP)
    assignment.registry.write_parquet(out / "registry.parquet", row_group_size=DUCKDB_ROW_GROUP)
    assignment.changes.write_parquet(out / "changes.parquet", row_group_size=DUCKDB_ROW_GROUP)
    by_change = dict(assignment.changes.get_column("change").value_counts().iter_rows())
    return {
        "records": assignment.links.height,
        "customers": assignment.links.get_column("customer_id").n_unique(),
        "created": int(by_change.get("created", 0)),
        "merged": int(by_change.get("merged", 0)),
        "guarded_identifiers": resolution.guards.height,
    }


def publish_stage(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Build the published tables and replace them atomically; return the run summary.

    The profile tables are built into Parquet files (``pipelines.publishbuild``: in a child
    process for large stores) and handed to the ``Publication``, which loads them (and the
    identity files, as they are) into the new snapshot; no two big tables and DuckDB's copy of
    them are in memory together. A failure anywhere leaves the published tables as they were.
    """
    path = ws.staged_dir / "staged.parquet"
    staged_rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
    quarantine = pl.read_parquet(ws.staged_dir / "quarantine.parquet")
    ident = ws.identity_dir
    changes = pl.read_parquet(ident / "changes.parquet", columns=["change"])
    meta = _ingest_meta(ws, run_id)
    started = datetime.fromisoformat(meta["started_at"])
    scratch = ws.lake / "publishing"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        with Publication(con, ws.published_dir, run_id, started) as pub:
            for name, file in (
                ("customer_registry", "registry"),
                ("identity_changes", "changes"),
                ("identity_guards", "guards"),
                ("link_evidence", "evidence"),
            ):  # as resolve wrote them
                pub.add(name, ident / f"{file}.parquet")
            pub.add("quarantine", quarantine)
            built = build_published_files(ws, scratch, started, staged_rows)
            for name, table_file in built.files:
                pub.add(name, table_file)
            customers = built.customers
            files = meta["files"]
            rows = quarantine.filter(pl.col("reason") != "file_unreadable").height
            summary: dict[str, Any] = {
                "run_id": run_id,
                "started_at": started,
                "finished_at": datetime.now(UTC),
                "status": "success",
                "failed_stage": None,
                "error": None,
                **file_counts(files),
                "rows_read": staged_rows + rows,
                "rows_staged": staged_rows,
                "rows_quarantined": rows,
                "customers": customers,
                "records_per_customer": round(staged_rows / customers, 3) if customers else 0.0,
                "customers_created": changes.filter(pl.col("change") == "created").height,
                "customers_merged": changes.filter(pl.col("change") == "merged").height,
                "files": files,
                "fingerprint": load_fingerprint(ws, run_id),
                "note": None,
            }
            pub.commit(summary)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    prune_after_publish(con, ws.config.warehouse.keep_snapshots)
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
