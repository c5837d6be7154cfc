"""Run a stage under the workspace lock; retry transient errors with backoff, log real failures.

Transient: the workspace or the DuckDB file is held by another run, or the disk/network said
"try again". Dagster re-runs the step after 2, 4, 8 … seconds (``RetryRequested``); any other
error — or a transient one after the last retry — is recorded as a failed run in ``runs`` and
re-raised, and the published tables stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.errors import WorkspaceError
from pipelines.stages import record_failed_run
from pipelines.workspace import Workspace

MAX_RETRIES = 4
BASE_DELAY_SECONDS = 2.0

#: The pool every Svod asset runs in: set its limit to 1 (``dagster instance concurrency set``).
POOL = "svod_workspace"


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: locks held by another run, interrupted I/O."""
    if isinstance(exc, WorkspaceError):
        return "another Svod run is writing" in str(exc)
    if isinstance(exc, duckdb.IOException):
        return "lock" in str(exc).lower()
    return isinstance(exc, BlockingIOError | InterruptedError | TimeoutError | ConnectionError)


def backoff(retry_number: int) -> float:
    return float(BASE_DELAY_SECONDS * 2**retry_number)


@contextmanager
def stage_guard(
    context: dg.AssetExecutionContext, ws: Workspace, duckdb_res: DuckDBResource, stage: str
) -> Iterator[None]:
    """Hold the workspace lock around a stage; retry transient errors; record failures."""
    retry = context.retry_number
    try:
        with ws.lock():
            yield
    except Exception as exc:
        if is_transient(exc) and retry < MAX_RETRIES:
            context.log.warning(f"{stage}: {exc}; retrying in {backoff(retry):.0f} s")
            raise dg.RetryRequested(
                max_retries=MAX_RETRIES, seconds_to_wait=backoff(retry)
            ) from exc
        record_failure(ws, duckdb_res, context.run.run_id, stage, f"{type(exc).__name__}: {exc}")
        raise


def record_failure(
    ws: Workspace, duckdb_res: DuckDBResource, run_id: str, stage: str, error: str
) -> None:
    """Log the run as failed in ``runs`` (best effort: the warehouse may be what failed)."""
    try:
        with ws.lock(), duckdb_res.get_connection() as con:
            record_failed_run(con, ws, run_id, stage, error)
    except Exception as exc:  # the original error matters more than this one
        dg.get_dagster_logger().error(f"could not record the failed run: {exc}")
