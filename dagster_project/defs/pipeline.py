"""The Svod asset graph: raw batches → staged records → customer IDs → published tables.

Each asset is a thin wrapper: it opens the workspace, calls one stage function from
``pipelines.stages``, and reports counts as metadata. A failing stage is logged in ``runs``.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_project.resources import SvodWorkspace
from pipelines.stages import (
    ingest_stage,
    publish_stage,
    record_failed_run,
    resolve_stage,
    stage_stage,
)
from pipelines.workspace import Workspace

GROUP = "svod"


@contextmanager
def stage_guard(
    context: dg.AssetExecutionContext, ws: Workspace, duckdb: DuckDBResource, stage: str
) -> Iterator[None]:
    """Hold the workspace lock; on failure, record the failed run and re-raise."""
    with ws.lock():
        try:
            yield
        except Exception as exc:
            with duckdb.get_connection() as con:
                record_failed_run(
                    con, ws, context.run.run_id, stage, f"{type(exc).__name__}: {exc}"
                )
            raise


@dg.asset(
    group_name=GROUP,
    kinds={"python", "parquet"},
    description="Inbox files read into raw batches (lake/raw), one batch per new or changed file.",
)
def raw_batches(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> dg.MaterializeResult[None]:
    ws = workspace.open()
    with stage_guard(context, ws, duckdb, "ingest"):
        report = ingest_stage(ws, context.run.run_id)
    for failed in (f for f in report.files if f.status == "failed"):
        context.log.warning(f"file not read: {failed.error}")
    return dg.MaterializeResult(
        metadata={
            "files_ingested": report.count("ingested"),
            "files_skipped": report.count("skipped"),
            "files_failed": report.count("failed"),
            "dagster/row_count": sum(f.records for f in report.files),
        }
    )


@dg.asset(
    group_name=GROUP,
    deps=[raw_batches],
    kinds={"polars", "parquet"},
    description="One canonical, normalised table of every usable record (lake/staged).",
    check_specs=[
        dg.AssetCheckSpec(
            "rows_reconcile",
            asset="staged_records",
            blocking=True,
            description="Every raw row is either staged or quarantined.",
        )
    ],
)
def staged_records(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    ws = workspace.open()
    with stage_guard(context, ws, duckdb, "stage"):
        counts = stage_stage(ws, context.run.run_id)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts.staged,
            "rows_in": counts.rows_in,
            "quarantined": counts.quarantined,
        }
    )
    yield dg.AssetCheckResult(
        check_name="rows_reconcile",
        passed=counts.rows_in == counts.staged + counts.quarantined,
        metadata={
            "rows_in": counts.rows_in,
            "staged": counts.staged,
            "quarantined": counts.quarantined,
        },
    )


@dg.asset(
    group_name=GROUP,
    deps=[staged_records],
    kinds={"polars", "duckdb"},
    description="Clusters of records and their persistent customer IDs (lake/identity).",
)
def customer_ids(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> dg.MaterializeResult[None]:
    ws = workspace.open()
    with stage_guard(context, ws, duckdb, "resolve"), duckdb.get_connection() as con:
        counts = resolve_stage(ws, con, context.run.run_id)
    return dg.MaterializeResult(metadata={"dagster/row_count": counts["records"], **counts})


@dg.asset(
    group_name=GROUP,
    deps=[customer_ids],
    kinds={"duckdb", "parquet"},
    description=(
        "Published tables (profiles, identifiers, record_links, quarantine, runs, …) in "
        "warehouse.duckdb and lake/published, replaced atomically."
    ),
)
def published_tables(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> dg.MaterializeResult[None]:
    ws = workspace.open()
    with stage_guard(context, ws, duckdb, "publish"), duckdb.get_connection() as con:
        summary = publish_stage(ws, con, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary["customers"],
            "customers": summary["customers"],
            "rows_staged": summary["rows_staged"],
            "rows_quarantined": summary["rows_quarantined"],
            "records_per_customer": summary["records_per_customer"],
        }
    )


ASSETS = [raw_batches, staged_records, customer_ids, published_tables]

svod_job = dg.define_asset_job("svod_pipeline", selection=dg.AssetSelection.assets(*ASSETS))
