"""The Parquet mirror of the published tables (``lake/published``): written aside, swapped in.

A publish writes the new mirror into a side folder while its transaction runs and swaps it in
only after the commit, so readers of the folder see the old tables or the new ones, never a mix;
a failed publish just deletes the side folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import polars as pl

#: A table to publish: a frame, or a Parquet file holding it (read by DuckDB, copied as the
#: mirror — the frame never has to be in memory).
Table = pl.DataFrame | Path


def in_utc(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Time-zone-aware columns labelled UTC. Tables read back from DuckDB carry its session time
    zone (the machine's: "Etc/UTC", "Europe/Moscow"); the other mirror files say "UTC". The
    instants are the same; the label is what readers see."""
    aware = [
        name
        for name, dtype in frame.collect_schema().items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC")
    ]
    return frame.with_columns(pl.col(aware).dt.convert_time_zone("UTC")) if aware else frame


def incoming(target: Path) -> Path:
    """The side folder the next mirror of ``target`` is written into."""
    return target.with_name(target.name + ".incoming")


def write_mirror(tables: Mapping[str, Table], target: Path) -> Path:
    """Add ``tables`` to the side folder of the mirror (swapped in after the commit)."""
    staging = incoming(target)
    staging.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if isinstance(table, Path):
            shutil.copyfile(table, staging / f"{name}.parquet")  # not a link: files get rewritten
        else:
            table.write_parquet(staging / f"{name}.parquet")
    return staging


def swap_in(staging: Path, target: Path) -> None:
    """Make ``staging`` the mirror at ``target`` (the old one is moved aside, then deleted)."""
    old = target.with_name(target.name + ".previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
