"""The Svod asset graph: raw batches → staged records → customer IDs → published tables.

``raw_batches`` is partitioned: one dynamic partition per inbox file version (see
``pipelines.batches``); a run ingests the batches of its partitions. The downstream assets are
not partitioned: they always work on every batch in force. Each asset is a thin wrapper — it
calls one stage function, then runs its layer's quality suite as asset checks (blocking checks
stop the assets downstream) and reports counts and column schemas as metadata.

When nothing that decides the result changed since the last publish (``pipelines.fingerprint``),
``staged_records`` logs the run as done and materialises nothing, so Dagster skips
``customer_ids`` and ``published_tables``; the run tag ``svod/force=true`` makes them run.
"""

import warnings
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from dagster_project.guard import POOL, record_failure, stage_guard
from dagster_project.metadata import (
    check_results,
    check_specs,
    duckdb_schema,
    parquet_schema,
    table_schema,
)
from dagster_project.resources import SvodWorkspace
from identity.registry import LINKS_SCHEMA
from pipelines import quality_checks as qc
from pipelines.schema import LINEAGE, RAW_SCHEMA, STAGED_FIELDS
from pipelines.stagelog import measured
from pipelines.stages import (
    ingest_stage,
    publish_stage,
    record_unchanged_run,
    resolve_stage,
    stage_stage,
    unchanged_run,
)
from pipelines.workspace import Workspace
from quality.expectations import SuiteRun

GROUP = "svod"
BATCHES_NAME = "svod_batches"
BATCHES = dg.DynamicPartitionsDefinition(name=BATCHES_NAME)
Events = Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]
#: Run tag that makes every stage run even when nothing changed since the last publish.
FORCE_TAG = "svod/force"

RAW_CHECKS = {
    "lineage_present": "Every raw record carries its lineage (source, file, batch, time).",
    "record_keys_unique": "No two raw records share a record key (source|source_record_id).",
}
STAGED_CHECKS = {
    "rows_reconcile": "Per source, every raw row is either staged or quarantined.",
    "record_keys_unique": "No two staged records share a record key.",
    "lineage_present": "Every staged record names its batch.",
    "phone_validity": "Per source, the share of given phones that are valid is above the floor.",
    "email_validity": "Per source, the share of given e-mails that are valid is above the floor.",
    "quarantine_share": "Per source, the share of rows quarantined is below the ceiling.",
}
IDENTITY_CHECKS = {
    "one_customer_per_record": "Every staged record has exactly one customer_id.",
    "hard_attributes_agree": "No customer has records with different birth dates or ИНН.",
}
PUBLISHED_CHECKS = {
    "tables_not_empty": "profiles, identifiers and record_links have rows.",
    "record_links_consistent": "record_links: one row per record, every row with a customer.",
}


def _quality(
    context: dg.AssetExecutionContext,
    ws: Workspace,
    duckdb: DuckDBResource,
    stage: str,
    asset: str,
    names: dict[str, str],
    run: SuiteRun,
    metrics: pl.DataFrame | None = None,
) -> list[dg.AssetCheckResult]:
    """Save the suite's results and report; on a blocking failure, record the failed run."""
    with ws.lock(), duckdb.get_connection() as con:
        report = qc.save_quality(ws, con, context.run.run_id, run, metrics)
    context.log.info(f"quality report: {report}")
    if run.failed_blocking:
        message = qc.describe_failures(run.failed_blocking)
        context.log.error(message)
        record_failure(ws, duckdb, context.run.run_id, stage, f"quality: {message}")
    return check_results(names, run.results, asset)


def _raw_batches(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> Events:
    ws = workspace.open()
    keys = list(context.partition_keys)
    with stage_guard(context, ws, duckdb, "ingest"), measured("ingest"):
        report = ingest_stage(ws, context.run.run_id, only=keys)
    for failed in (f for f in report.files if f.status == "failed"):
        context.log.warning(f"file not read: {failed.error}")
    yield dg.MaterializeResult(
        metadata={
            "files": ", ".join(f"{f.relpath} ({f.status})" for f in report.files) or "none",
            "files_ingested": report.count("ingested"),
            "files_skipped": report.count("skipped"),
            "files_failed": report.count("failed"),
            "rows_quarantined": sum(f.quarantined for f in report.files),
            "dagster/row_count": sum(f.records for f in report.files),
            "dagster/column_schema": table_schema(RAW_SCHEMA),
        }
    )
    with measured("ingest_checks"):
        checks = _quality(
            context,
            ws,
            duckdb,
            "ingest",
            "raw_batches",
            RAW_CHECKS,
            qc.check_raw(ws, context.run.run_id),
        )
    yield from checks


# backfill_policy is "beta" in Dagster 1.13; a single-run backfill is what a batch range needs
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    raw_batches = dg.asset(
        name="raw_batches",
        group_name=GROUP,
        partitions_def=BATCHES,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"python", "parquet"},
        description=(
            "Inbox files read into raw batches (lake/raw/<source>/<batch_id>), one partition per "
            "file version; every original field kept, lineage on every row."
        ),
        metadata={"dagster/column_schema": table_schema(RAW_SCHEMA)},
        check_specs=check_specs("raw_batches", RAW_CHECKS, RAW_CHECKS),
    )(_raw_batches)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "staged_records",
            group_name=GROUP,
            deps=[raw_batches],
            kinds={"polars", "parquet"},
            description=(
                "One canonical, normalised table of every usable record of the batches in force "
                "(lake/staged/staged.parquet); unusable rows go to quarantine.parquet with a "
                "reason. Not materialised when nothing changed since the last publish."
            ),
            metadata={"dagster/column_schema": table_schema({**LINEAGE, **STAGED_FIELDS})},
            skippable=True,  # nothing changed: no output, so Dagster skips what is downstream
        )
    ],
    check_specs=check_specs("staged_records", STAGED_CHECKS, STAGED_CHECKS),
    can_subset=True,  # lets the checks go unreported with the skipped output
    pool=POOL,
)
def staged_records(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> Events:
    ws = workspace.open()
    force = context.run.tags.get(FORCE_TAG) == "true"
    with stage_guard(context, ws, duckdb, "stage"), duckdb.get_connection() as con:
        previous = unchanged_run(ws, con, context.run.run_id, force=force)
        if previous is not None:
            note = record_unchanged_run(ws, con, context.run.run_id, previous)["note"]
    if previous is not None:
        context.log.info(f"{note}; stage, resolve and publish skipped ({FORCE_TAG}=true forces)")
        return
    with stage_guard(context, ws, duckdb, "stage"), measured("stage"):
        counts = stage_stage(ws, context.run.run_id)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts.staged,
            "rows_in": counts.rows_in,
            "quarantined": counts.quarantined,
            "dagster/column_schema": parquet_schema(ws.staged_dir / "staged.parquet"),
        }
    )
    with measured("stage_checks"):
        run, metrics = qc.check_staged(ws, context.run.run_id)
        checks = _quality(
            context, ws, duckdb, "stage", "staged_records", STAGED_CHECKS, run, metrics
        )
    selected = {key.name for key in context.selected_asset_check_keys}
    yield from (c for c in checks if c.check_name in selected)


@dg.asset(
    group_name=GROUP,
    deps=[staged_records],
    pool=POOL,
    kinds={"polars", "duckdb"},
    description=(
        "Clusters of records and their persistent customer IDs (lake/identity): one row per "
        "staged record with its customer_id; the registry records every merge and split."
    ),
    metadata={"dagster/column_schema": table_schema(LINKS_SCHEMA)},
    check_specs=check_specs("customer_ids", IDENTITY_CHECKS, blocking=["one_customer_per_record"]),
)
def customer_ids(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> Events:
    ws = workspace.open()
    with (
        stage_guard(context, ws, duckdb, "resolve"),
        measured("resolve"),
        duckdb.get_connection() as con,
    ):
        counts = resolve_stage(ws, con, context.run.run_id)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["records"],
            **counts,
            "dagster/column_schema": parquet_schema(ws.identity_dir / "links.parquet"),
        }
    )
    with measured("resolve_checks"):
        run, metrics = qc.check_identity(ws, context.run.run_id)
        checks = _quality(
            context, ws, duckdb, "resolve", "customer_ids", IDENTITY_CHECKS, run, metrics
        )
    yield from checks


@dg.asset(
    group_name=GROUP,
    deps=[customer_ids],
    pool=POOL,
    kinds={"duckdb", "parquet"},
    description=(
        "Published tables (profiles, identifiers, record_links, quarantine, events, registry, …) "
        "in warehouse.duckdb and lake/published, replaced atomically; every publish is a "
        "numbered snapshot (svod snapshots / svod rollback)."
    ),
    check_specs=check_specs("published_tables", PUBLISHED_CHECKS, PUBLISHED_CHECKS),
)
def published_tables(
    context: dg.AssetExecutionContext, workspace: SvodWorkspace, duckdb: DuckDBResource
) -> Events:
    ws = workspace.open()
    with (
        stage_guard(context, ws, duckdb, "publish"),
        measured("publish"),
        duckdb.get_connection() as con,
    ):
        summary = publish_stage(ws, con, context.run.run_id)
    with measured("publish_checks"), ws.lock(), duckdb.get_connection() as con:
        schema = duckdb_schema(con, "profiles")
        found = con.execute("SELECT max(snapshot) FROM snapshots").fetchone()
        run = qc.check_published(ws, con, context.run.run_id)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary["customers"],
            "customers": summary["customers"],
            "customers_created": summary["customers_created"],
            "customers_merged": summary["customers_merged"],
            "rows_staged": summary["rows_staged"],
            "rows_quarantined": summary["rows_quarantined"],
            "records_per_customer": summary["records_per_customer"],
            "snapshot": int(found[0]) if found and found[0] is not None else 0,
            "dagster/column_schema": schema,
        }
    )
    with measured("publish_report"):
        checks = _quality(context, ws, duckdb, "publish", "published_tables", PUBLISHED_CHECKS, run)
    yield from checks


ASSETS = [raw_batches, staged_records, customer_ids, published_tables]

svod_job = dg.define_asset_job(
    "svod_pipeline",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="The whole pipeline on the batches of the run's partitions.",
)
