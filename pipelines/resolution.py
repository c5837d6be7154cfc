"""Which resolution a run does: full, or incremental against the stored state — and why.

Incremental when all of these hold, else full (the reason is logged at INFO):
- ``[matching] incremental`` is on and ``svod run --full-resolve`` was not given;
- a state from an earlier run exists and was made with the same engine settings, comparisons,
  state version, normalisation settings and steward overrides;
- records were only added: every record resolved before is staged again, from the same batch;
- the records added since the last full run are at most ``[matching] full_after_growth`` of the
  records that run estimated the model on. The model and term frequencies are frozen between
  full runs; this is how often they are re-estimated (by default once the store grew by 25 %).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from identity.engine import Resolution, resolve
from identity.features import STAGED_INPUTS
from identity.incremental import StateMismatchError, resolve_batch
from identity.overrides import Overrides
from identity.settings import EngineSettings
from identity.store import State, load_state, save_batch, save_full, table_file
from pipelines.snapshotload import DUCKDB_ROW_GROUP
from pipelines.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolved:
    """The resolution of a run and how it was made."""

    resolution: Resolution
    mode: str  # full | incremental
    reason: str
    saved: Path | None = None  # the state folder holding this resolution's tables as Parquet
    #: the state being written on a second thread (``resolve_workspace(save_aside=True)``)
    saving: Future[None] | None = None

    def wait(self) -> None:
        """Return once the state is saved (at once unless saved aside); a failed save raises."""
        if self.saving is not None:
            self.saving.result()


def _aside(save: Callable[[], None], *, aside: bool) -> Future[None] | None:
    """Run ``save`` now, or on a second thread when ``aside`` (its future is returned)."""
    if not aside:
        save()
        return None
    pool = ThreadPoolExecutor(1, thread_name_prefix="svod-state")
    try:
        return pool.submit(save)
    finally:
        pool.shutdown(wait=False)


def write_outputs(done: Resolved, out: Path) -> None:
    """The run's assignments, guards and evidence into ``out``: copied from the state when it
    holds them as one file (writing a million evidence rows twice costs seconds), else written
    (the evidence after incremental batches: read from the state's log)."""
    tables = {
        "assignments": done.resolution.assignments,
        "guards": done.resolution.guards,
        "evidence": done.resolution.evidence,
    }
    for name, frame in tables.items():
        saved = table_file(done.saved, name) if done.saved else None
        if saved is not None:
            shutil.copyfile(saved, out / f"{name}.parquet")
        else:
            frame.write_parquet(out / f"{name}.parquet", row_group_size=DUCKDB_ROW_GROUP)


def state_dir(ws: Workspace) -> Path:
    return ws.identity_dir / "state"


def request_full(ws: Workspace) -> None:
    """Forget the stored state, so the next run resolves (and re-estimates) in full."""
    shutil.rmtree(state_dir(ws), ignore_errors=True)


def _inputs(ws: Workspace, overrides: Overrides) -> str:
    """What, beside the engine settings, a stored state depends on."""
    body = json.dumps(
        {
            "normalize": ws.config.normalize.model_dump(mode="json"),
            "must": sorted(overrides.must),
            "cannot": sorted(overrides.cannot),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _plan(
    ws: Workspace, staged: pl.DataFrame, settings: EngineSettings, inputs: str
) -> tuple[State | None, pl.DataFrame | None, str]:
    """(state, new records) for an incremental run, or (None, None, why a full run);
    ``staged`` holds record_key and batch_id of every staged record."""
    m = ws.config.matching
    if not m.incremental:
        return None, None, "[matching] incremental = false"
    root = state_dir(ws)
    meta = root / "inputs.json"
    if not meta.is_file():
        return None, None, "no previous resolution state (first run, or a full run was asked for)"
    if json.loads(meta.read_text(encoding="utf-8")).get("inputs") != inputs:
        return None, None, "normalisation settings or steward overrides changed"
    state, why = load_state(root, settings)
    if state is None:
        return None, None, why
    before = pl.read_parquet(root / "batches.parquet")
    if before.join(staged, on=["record_key", "batch_id"], how="anti").height:
        return None, None, "records resolved before were changed, superseded or rolled back"
    new = staged.join(before.select("record_key"), on="record_key", how="anti")
    if new.get_column("batch_id").is_in(before["batch_id"].unique().implode()).any():
        return None, None, "a batch resolved before holds new records"
    grown = state.features.height + new.height - state.full_records
    if grown > m.full_after_growth * state.full_records:
        share = f"{grown / max(state.full_records, 1):.0%}"
        return None, None, f"the store grew by {share} since the model was estimated"
    return state, new, f"{new.height} new records, model frozen since the last full run"


def _scan(path: Path) -> pl.LazyFrame:
    present = pl.read_parquet_schema(path)
    return pl.scan_parquet(path).select([c for c in STAGED_INPUTS if c in present])


def resolve_workspace(
    ws: Workspace,
    path: Path,
    settings: EngineSettings,
    overrides: Overrides,
    *,
    save_aside: bool = False,
) -> Resolved:
    """Resolve the staged records in ``path`` and keep the state for the next run.

    ``save_aside``: the state is written on a second thread while the caller goes on (it
    assigns customer IDs meanwhile: ~1 s less at 1M); call :meth:`Resolved.wait` before
    reading the state or its files."""
    root = state_dir(ws)
    inputs = _inputs(ws, overrides)
    present = pl.read_parquet_schema(path)
    batch = pl.col("batch_id") if "batch_id" in present else pl.lit(None, pl.String())
    staged = pl.scan_parquet(path).select("record_key", batch_id=batch).collect()
    state, new, reason = _plan(ws, staged, settings, inputs)
    if state is not None and new is not None:
        try:
            if new.height == 0:
                log.info("identity resolution: incremental", extra={"reason": "no new records"})
                return Resolved(_as_resolution(state), "incremental", "no new records", root)
            log.info("identity resolution: incremental", extra={"reason": reason})
            records = _scan(path).join(new.lazy(), on="record_key", how="semi").collect()
            done = resolve_batch(records, state, settings, overrides=overrides)

            def save_batch_state() -> None:
                save_batch(state, done, settings)
                known = pl.read_parquet(root / "batches.parquet")
                pl.concat([known, new]).write_parquet(root / "batches.parquet")

            saving = _aside(save_batch_state, aside=save_aside)
            return Resolved(done.result, "incremental", reason, root, saving)
        except StateMismatchError as exc:
            reason = str(exc)
    log.info("identity resolution: full", extra={"reason": reason})
    request_full(ws)
    if not ws.config.matching.incremental:  # no next run continues it: no state is kept
        return Resolved(resolve(_scan(path), settings, overrides=overrides), "full", reason)
    ws.identity_dir.mkdir(parents=True, exist_ok=True)
    keys = ws.identity_dir / "block_keys"
    resolution = resolve(_scan(path), settings, overrides=overrides, keys_out=str(keys))
    kept = resolution.model is not None and resolution.features is not None

    def save_full_state() -> None:
        save_full(root, resolution, settings, keys)
        if kept:
            staged.write_parquet(root / "batches.parquet")
            (root / "inputs.json").write_text(json.dumps({"inputs": inputs}), encoding="utf-8")

    saving = _aside(save_full_state, aside=save_aside)
    # no model: nothing to continue from (no candidate pairs), and no state is kept
    return Resolved(resolution, "full", reason, root if kept else None, saving)


def _as_resolution(state: State) -> Resolution:
    return Resolution(
        assignments=state.assignments,
        guards=state.guards,
        evidence_plan=state.evidence,
        blocking=state.blocking,
        model=state.frozen.model,
        tf=state.frozen.tf,
    )
