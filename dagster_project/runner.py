"""Run the whole Svod graph in process through Dagster: what ``svod run`` calls.

A CLI run and a run launched from the Dagster UI execute the same assets.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from dagster_project.defs.automation import RANGE_END, RANGE_START, batch_tags
from dagster_project.defs.pipeline import ASSETS, BATCHES_NAME, FORCE_TAG, raw_batches
from dagster_project.resources import build_resources, warehouse_path
from pipelines.batches import Batch, inbox_batches, ingested
from pipelines.dryrun import prepare_dry_run
from pipelines.filehash import known_hashes
from pipelines.prestage import wait_for_prestage
from pipelines.warehouse import table_exists
from pipelines.workspace import Workspace
from quality.gxcontext import preload, wait_for_preload

QUIET_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


class _SkippedCheckNotes(logging.Filter):
    """Drops Dagster's warning that a skipped step's blocking checks gave no result.

    That is what a run with nothing to do looks like (its ``runs.note`` says so); the warning
    would only alarm the person at the terminal.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_SkippedCheckNotes())


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: success, the Dagster run id, the row written to ``runs``, the failure."""

    success: bool
    run_id: str
    run: dict[str, Any] | None
    failure: str | None


def _failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    """Why a run failed: a failed blocking check (which expectation, which source) first."""
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failures = evaluation.metadata.get("failures")
            detail = f": {failures.value}" if failures is not None else ""
            asset = evaluation.asset_key.to_user_string()
            return f"quality check {evaluation.check_name} failed on {asset}{detail}"
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            cause = error.cause if error and error.cause else error
            message = cause.message.strip() if cause else "unknown error"
            return f"stage {event.step_key} failed: {message}"
    return None if result.success else "the run failed"


def _run_row(root: Path, run_id: str) -> dict[str, Any] | None:
    path = warehouse_path(root)
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        if not table_exists(con, "runs"):
            return None
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
        row = cursor.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cursor.description]
        run = dict(zip(names, row, strict=True))
    if isinstance(run.get("files"), str):
        run["files"] = json.loads(run["files"])
    return run


def _new_files(ws: Workspace, batches: list[Batch]) -> bool:
    """Whether some inbox file is not ingested yet (so the run will check its layers)."""
    return not all(ingested(ws, b) for b in batches)


def run_pipeline(root: Path, *, verbose: bool = False, force: bool = False) -> RunOutcome:
    """Materialise every asset for the workspace at ``root`` in this process.

    Every inbox file version becomes a partition of ``raw_batches`` (in a throw-away instance)
    and the run covers them all, like a single-run backfill in the UI. When nothing changed
    since the last publish the run stops after ingest (logged in ``runs`` with a note), unless
    ``force``.
    """
    ws = Workspace.open(root)  # validates svod.toml before anything runs
    with ws.lock(), dg.DagsterInstance.ephemeral() as instance:
        known: dict[str, str] = {}  # the inbox's hashes, reused by the ingest workers
        batches = inbox_batches(ws, known)
        if force or _new_files(ws, batches):
            # Great Expectations (~2 s to import, first needed by the ingest checks) is imported
            # in a thread while this one waits for the ingest's worker processes.
            preload()
        keys = [b.key for b in batches]
        tags = {"svod/workspace": str(ws.root)[:200]}
        if force:
            tags[FORCE_TAG] = "true"
        selection: list[dg.AssetsDefinition] = list(ASSETS)
        if keys:
            instance.add_dynamic_partitions(BATCHES_NAME, keys)
            tags |= batch_tags(batches) | {RANGE_START: keys[0], RANGE_END: keys[-1]}
        else:  # nothing in the inbox: re-stage and publish what the lake holds
            selection = [a for a in ASSETS if a is not raw_batches]
        with known_hashes(ws.inbox, known):
            result = dg.materialize(
                ASSETS,
                selection=selection,
                instance=instance,
                resources=build_resources(ws.root),
                raise_on_error=False,
                run_config=None if verbose else QUIET_RUN_CONFIG,
                tags=tags,
            )
        wait_for_preload()  # a run that checked nothing still ends its import before it returns
        wait_for_prestage(ws.staged_dir)  # nor leaves a child of its ingest running
    return RunOutcome(
        success=result.success,
        run_id=result.run_id,
        run=_run_row(ws.root, result.run_id),
        failure=_failure_message(result),
    )


def dry_run(
    root: Path,
    *,
    limit: int | None = None,
    fraction: float | None = None,
    seed: int = 0,
    verbose: bool = False,
) -> tuple[RunOutcome, Path]:
    """The whole pipeline on a block of the inbox in ``lake/dryrun/<stamp>``; nothing published."""
    scratch = prepare_dry_run(root, limit=limit, fraction=fraction, seed=seed)
    return run_pipeline(scratch, verbose=verbose), scratch
