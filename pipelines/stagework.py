"""Stage raw records in bounded slices, in two worker processes when there is enough work.

Name parsing is Python-bound and holds the GIL, so threads inside one process cannot use the
second core for it; two processes can. Each slice (at most ``CHUNK_ROWS`` rows of one batch)
is read, normalised and written to the batch's cache folder by the worker itself, so neither
the whole raw table nor the whole staged one is ever in memory, and only row counts travel
back. Small inputs (tests, the sample) stay in this process: a worker costs about a second.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import polars as pl

from pipelines.parallel import deal
from pipelines.schema import RAW_SCHEMA
from pipelines.staging import normalize_records
from quality.rules import split_unusable, usable_expr

log = logging.getLogger(__name__)

#: Input rows per slice: bounds a worker's memory (raw + normalised + parse objects).
CHUNK_ROWS = 200_000
#: Below this many rows in total the slices run in this process.
PARALLEL_FROM_ROWS = 100_000
MAX_WORKERS = 2
ROW = "_row"


class Chunk(NamedTuple):
    """Rows ``start``..``start+length`` of ``<batch_dir>/records.parquet``, staged as part ``part``
    into ``out_dir``."""

    batch_dir: str
    start: int
    length: int
    out_dir: str
    part: int


def read_slice(batch_dir: Path, start: int, length: int) -> pl.DataFrame:
    """Rows of one batch in the current RAW_SCHEMA, as ``ingest.read_records`` gives them."""
    records = pl.scan_parquet(batch_dir / "records.parquet").slice(start, length).collect()
    return records.with_columns(
        pl.lit(None, t).alias(c) for c, t in RAW_SCHEMA.items() if c not in records
    ).select(list(RAW_SCHEMA))


def stage_chunk(chunk: Chunk, default_region: str, *, threads: bool = True) -> tuple[int, int]:
    """Normalise one slice; write its staged rows (sorted by record_key) and quarantine.

    Returns (staged rows, quarantined rows). ``threads=False`` in worker processes.
    """
    raw = read_slice(Path(chunk.batch_dir), chunk.start, chunk.length)
    rows = pl.int_range(chunk.start, chunk.start + raw.height, dtype=pl.UInt32, eager=True)
    normalized = normalize_records(raw, default_region=default_region, threads=threads)
    del raw
    normalized = normalized.with_columns(rows.alias(ROW))
    usable = normalized.select(usable_expr()).to_series()
    staged, quarantine = split_unusable(normalized)
    quarantine = quarantine.with_columns(normalized.get_column(ROW).filter(~usable))
    del normalized
    out = Path(chunk.out_dir)
    staged.sort("record_key", maintain_order=True).write_parquet(
        out / f"staged-{chunk.part:04d}.parquet"
    )
    quarantine.write_parquet(out / f"quarantine-{chunk.part:04d}.parquet")
    return staged.height, quarantine.height


def run_chunks(chunks: list[Chunk], default_region: str) -> list[tuple[int, int]]:
    """``stage_chunk`` over every slice; (staged, quarantined) counts in the order given."""
    total = sum(c.length for c in chunks)
    workers = min(MAX_WORKERS, len(chunks), os.cpu_count() or 1)
    if workers < 2 or total < PARALLEL_FROM_ROWS:
        return [stage_chunk(c, default_region) for c in chunks]
    groups = deal([c.length for c in chunks], workers)
    log.info("staging in parallel", extra={"workers": len(groups), "slices": len(chunks)})
    # Plain child interpreters, not multiprocessing: spawn re-runs the caller's __main__,
    # which breaks scripts without a main guard; these only run this module.
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", __name__, default_region, json.dumps([chunks[i] for i in g])],
            stdout=subprocess.PIPE,
            text=True,
        )
        for g in groups
    ]
    counts: dict[int, tuple[int, int]] = {}
    for group, proc in zip(groups, procs, strict=True):
        out, _ = proc.communicate()
        if proc.returncode != 0:
            for other in procs:
                other.kill()
            msg = (
                f"staging worker failed (exit {proc.returncode}) on slices of "
                f"{sorted({chunks[i].batch_dir for i in group})}; see its error above"
            )
            raise RuntimeError(msg)
        counts.update(zip(group, (tuple(c) for c in json.loads(out)), strict=True))
    return [counts[i] for i in range(len(chunks))]


def _main(argv: list[str]) -> None:
    """Worker entry: ``python -m pipelines.stagework REGION CHUNKS_JSON`` → counts JSON."""
    region, specs = argv
    logging.basicConfig(level=logging.WARNING)
    counts = [stage_chunk(Chunk(*spec), region, threads=False) for spec in json.loads(specs)]
    print(json.dumps(counts))


if __name__ == "__main__":
    _main(sys.argv[1:])
