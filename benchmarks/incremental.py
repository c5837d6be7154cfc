"""Incremental identity resolution: a 1 % batch on a stored resolution vs a full run.

    python -m benchmarks.incremental            # ~1M: the staged records of identity-gen1m
    python -m benchmarks.incremental --small    # CI: ~2k generated records
    python -m benchmarks.incremental --staged PATH

The staged records are split: 1 % (every record whose key hashes into one bucket of 100) is
held out as the new batch. A full run resolves the other 99 % and saves its state; the batch is
then resolved incrementally against it (timed: loading the state, resolving, saving it), and the
result is checked against a full run on all records with the same frozen model (assignments,
guards, and the evidence as the state stores it must be equal). The batch is compared with the
full run's resolution time, and with that time plus saving the state (what a pipeline's full
run does, and the like of what the batch's time includes: it loads and saves the state).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import polars as pl

from benchmarks.common import OUT, peak_rss_mb, run_measured, save
from benchmarks.identity import SVOD, generated
from identity.engine import resolve
from identity.features import STAGED_INPUTS
from identity.incremental import resolve_batch
from identity.settings import EngineSettings
from identity.store import load_state, save_batch, save_full


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def staged_of(name: str, people: int) -> Path:
    """The staged records of the identity benchmark's workspace ``name`` (made when missing)."""
    root = OUT / f"identity-{name}"
    path = root / "lake" / "staged" / "staged.parquet"
    if not path.is_file():
        generated(root, people)
        run_measured([SVOD, "run", "--workspace", str(root)])
    return path


def measure(staged_path: Path, work: Path) -> dict[str, object]:
    """Full run on 99 %, incremental 1 %, equality with a frozen full run on 100 %."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = EngineSettings()
    present = pl.read_parquet_schema(staged_path)
    staged = pl.read_parquet(staged_path, columns=[c for c in STAGED_INPUTS if c in present])
    held = pl.col("record_key").hash(seed=7) % 100 == 0
    old, new = staged.filter(~held), staged.filter(held)
    started, cpu = time.perf_counter(), _cpu()
    first = resolve(old, settings, keys_out=str(work / "keys"))
    full_seconds, full_cpu = time.perf_counter() - started, _cpu() - cpu
    save_full(work / "state", first, settings, work / "keys")
    saved_seconds, saved_cpu = time.perf_counter() - started, _cpu() - cpu
    del first
    started, cpu = time.perf_counter(), _cpu()
    state, why = load_state(work / "state", settings)
    assert state is not None, why
    loaded = time.perf_counter() - started
    batch = resolve_batch(new, state, settings)
    resolved = time.perf_counter() - started
    save_batch(state, batch, settings)
    batch_seconds, batch_cpu = time.perf_counter() - started, _cpu() - cpu
    full = resolve(staged, settings, frozen=state.frozen)
    order, keys = ["type", "value", "reason"], ["left_key", "right_key"]
    saved, why = load_state(work / "state", settings)  # the evidence as stored (a log)
    assert saved is not None, why
    equal = (
        batch.result.assignments.equals(full.assignments)
        and saved.evidence.collect().sort(keys).equals(full.evidence.sort(keys))
        and batch.result.guards.sort(order).equals(full.guards.sort(order))
    )
    return {
        "records": staged.height,
        "batch_records": new.height,
        "full_seconds": round(full_seconds, 2),
        # the full run as a pipeline runs it: resolution plus saving the state the batch starts
        # from (the batch's time includes loading and saving the state too)
        "full_with_state_seconds": round(saved_seconds, 2),
        "batch_seconds": round(batch_seconds, 2),
        "batch_load_state_seconds": round(loaded, 2),
        "batch_resolve_seconds": round(resolved - loaded, 2),
        "batch_share_of_full": round(batch_seconds / full_seconds, 3),
        "batch_share_of_full_with_state": round(batch_seconds / saved_seconds, 3),
        # CPU seconds (user + system, all threads): steadier than wall on a shared machine
        "full_cpu_seconds": round(full_cpu, 2),
        "full_with_state_cpu_seconds": round(saved_cpu, 2),
        "batch_cpu_seconds": round(batch_cpu, 2),
        "batch_cpu_share_of_full": round(batch_cpu / full_cpu, 3),
        "records_rebuilt": batch.rebuilt,
        "pairs_compared": batch.compared,
        "equal_to_full_run": equal,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI mode: ~2k generated records")
    parser.add_argument("--staged", type=Path, help="a staged.parquet to use instead")
    args = parser.parse_args()
    small = args.small and not args.staged
    path = args.staged or (staged_of("gen2k", 900) if small else staged_of("gen1m", 440_000))
    result = measure(path, OUT / "incremental-work")
    shutil.rmtree(OUT / "incremental-work", ignore_errors=True)
    save("incremental-small" if args.small else "incremental", {"staged": str(path), **result})
    if not result["equal_to_full_run"]:
        raise SystemExit("the incremental result differs from a full run with the same model")


if __name__ == "__main__":
    main()
