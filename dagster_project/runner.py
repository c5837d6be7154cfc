"""Run the whole Svod graph in process through Dagster: what ``svod run`` calls.

A CLI run and a run launched from the Dagster UI execute the same assets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from dagster_project.defs.pipeline import ASSETS
from dagster_project.resources import build_resources, warehouse_path
from pipelines.workspace import Workspace

QUIET_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: success, the Dagster run id, the row written to ``runs``, the failure."""

    success: bool
    run_id: str
    run: dict[str, Any] | None
    failure: str | None


def _failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            return f"stage {event.step_key} failed: {message}"
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            return (
                f"check {evaluation.check_name} failed on {evaluation.asset_key.to_user_string()}"
            )
    return None if result.success else "the run failed"


def _run_row(root: Path, run_id: str) -> dict[str, Any] | None:
    path = warehouse_path(root)
    if not path.exists():
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


def run_pipeline(root: Path, *, verbose: bool = False) -> RunOutcome:
    """Materialise every asset for the workspace at ``root`` in this process."""
    ws = Workspace.open(root)  # validates svod.toml before anything runs
    with ws.lock():
        result = dg.materialize(
            ASSETS,
            resources=build_resources(ws.root),
            raise_on_error=False,
            run_config=None if verbose else QUIET_RUN_CONFIG,
            tags={"svod/workspace": str(ws.root)},
        )
    return RunOutcome(
        success=result.success,
        run_id=result.run_id,
        run=_run_row(ws.root, result.run_id),
        failure=_failure_message(result),
    )
