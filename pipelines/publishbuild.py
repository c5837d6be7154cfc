"""Build the profile-side published tables into Parquet files, in a child process when large.

Building the tables is the memory peak of a run: polars frames of each table in turn over every
staged record. In a fresh process that peak is not stacked on what the run's earlier stages
(Dagster, Great Expectations, the resolution) left resident, and all of it is returned to the
system when the child ends. The parent only loads the files into the warehouse
(``pipelines.publication``); small stores (tests, the sample) build in process, where starting
a worker would cost more than it saves.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import polars as pl

from pipelines.parallel import run_in_child
from pipelines.profile.build import LINEAGE, PROFILE_UNUSED, build_profile_tables, record_links
from pipelines.profile.history import history_snapshot
from pipelines.rawlake import load_events
from pipelines.snapshotload import DUCKDB_ROW_GROUP
from pipelines.workspace import Workspace

#: From this many staged records the tables are built in a child process.
CHILD_FROM_ROWS = 200_000

#: Written by a second thread while the profiles' content hashes are computed (the frame is
#: in memory for them anyway). Not the events: kept until written, they are in memory beside
#: the hashing (measured at 1M records: that phase 1.2 → 2.0 GB, above the build's peak).
WRITTEN_ASIDE: frozenset[str] = frozenset({"profiles"})


@dataclass(frozen=True)
class BuiltTables:
    """The Parquet file of each built table, in the order built, and the number of customers."""

    files: list[tuple[str, Path]]
    customers: int


def spill_path(folder: Path, name: str) -> Path:
    """Where :func:`spill` writes table ``name``."""
    return folder / f"{name}.parquet"


def spill(folder: Path, name: str, frame: pl.DataFrame, *, compress: bool = True) -> Path:
    """Write one table to ``folder/<name>.parquet``: publish reads the file, not the frame.

    ``compress=False`` for a file only DuckDB reads (the mirror copies the others as they are):
    no zstd to write nor to decode.
    """
    path = spill_path(folder, name)
    rows = DUCKDB_ROW_GROUP  # DuckDB loads such files on two threads (see pipelines.publication)
    if compress:  # level 1: ~20% less CPU than the default 3, files within a few %
        frame.write_parquet(path, compression="zstd", compression_level=1, row_group_size=rows)
    else:
        frame.write_parquet(path, compression="uncompressed", row_group_size=rows)
    return path


def build_tables(ws: Workspace, scratch: Path, started: datetime) -> BuiltTables:
    """record_links, every profile table and the profiles_history hashes, each spilled when final.

    The staged records are scanned straight into the one frame the builders share; each table
    is written and let go as soon as it is final.
    """
    path = ws.staged_dir / "staged.parquet"
    ident = ws.identity_dir
    wanted = [c for c in pl.read_parquet_schema(path) if c not in PROFILE_UNUSED]
    links = pl.read_parquet(ident / "links.parquet", columns=["record_key", "customer_id"])
    files: list[tuple[str, Path]] = []
    customers = 0
    writer = ThreadPoolExecutor(1, thread_name_prefix="svod-spill")
    written: list[Future[Path]] = []

    def sink(name: str, frame: pl.DataFrame) -> None:
        nonlocal customers
        if name not in WRITTEN_ASIDE:
            files.append((name, spill(scratch, name, frame)))
            return
        written.append(writer.submit(spill, scratch, name, frame))
        files.append((name, spill_path(scratch, name)))
        if name == "profiles":
            customers = frame.height
            hashes = history_snapshot(frame)  # the rows are read from the stored profiles
            files.append(
                ("profiles_history", spill(scratch, "profiles_history", hashes, compress=False))
            )

    rules = pl.read_parquet(ident / "assignments.parquet", columns=["record_key", "match_rule"])
    sink("record_links", record_links(pl.scan_parquet(path), links, rules))
    del rules
    lean = pl.scan_parquet(path).select([c for c in wanted if c not in LINEAGE])
    events = partial(load_events, ws)  # read when the builders need them, not before
    try:
        build_profile_tables(lean, links, events, ws.config.profile, started.date(), sink=sink)
    finally:
        writer.shutdown(wait=True)
    for future in written:
        future.result()  # a failed write fails the build
    return BuiltTables(files=files, customers=customers)


def _build_in_child(root: Path, scratch: Path, started: datetime) -> BuiltTables:
    return build_tables(Workspace.open(root), scratch, started)


def build_published_files(
    ws: Workspace, scratch: Path, started: datetime, staged_rows: int
) -> BuiltTables:
    """``build_tables``, in a child process from ``CHILD_FROM_ROWS`` staged records."""
    if staged_rows < CHILD_FROM_ROWS:
        return build_tables(ws, scratch, started)
    return run_in_child(_build_in_child, ws.root, scratch, started)
