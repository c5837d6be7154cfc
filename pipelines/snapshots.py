"""Numbered snapshots of the published state, and rolling back to one.

Every publish writes the published tables — including ``record_links`` and
``customer_registry``, which are the customer-ID registry the next run starts from — as the tables
of snapshot N (schema ``snapshot_store``); the public names are views over the latest snapshot,
switched inside the publish transaction (``pipelines.warehouse.take_snapshot``). A rollback copies
the tables of snapshot N into a new snapshot and switches the views to it in one transaction, so
history only grows and a rollback can itself be rolled back.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.errors import SvodError
from pipelines.mirror import swap_in
from pipelines.warehouse import (
    SNAPSHOT_SCHEMA,
    copy_table_sql,
    drop_snapshot_tables,
    next_snapshot,
    quote_ident,
    snapshot_table,
    snapshot_table_name,
    stored_table_exists,
    table_exists,
    take_snapshot,
)

log = logging.getLogger(__name__)


class SnapshotError(SvodError, LookupError):
    """The snapshot asked for does not exist, or there is nothing to roll back to."""


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: the snapshot restored, the new snapshot recording it, row counts."""

    restored: int
    snapshot: int
    tables: dict[str, int]


def list_snapshots(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every snapshot, oldest first (empty before the first publish)."""
    if not table_exists(con, "snapshots"):
        return pl.DataFrame(
            schema={
                "snapshot": pl.Int64,
                "created_at": pl.Datetime("us", "UTC"),
                "run_id": pl.String,
            }
        )
    frame: pl.DataFrame = con.sql("SELECT * FROM snapshots ORDER BY snapshot").pl()
    return frame


def _snapshot_row(snapshots: pl.DataFrame, number: int) -> dict[str, Any]:
    found = snapshots.filter(pl.col("snapshot") == number)
    if found.is_empty():
        known = ", ".join(str(n) for n in snapshots["snapshot"].to_list()) or "none"
        raise SnapshotError(
            f"snapshot {number} does not exist (snapshots: {known}); see 'svod snapshots'"
        )
    return found.row(0, named=True)


def _mirror_from_warehouse(con: duckdb.DuckDBPyConnection, tables: list[str], target: Path) -> None:
    """Rewrite the Parquet mirror from the warehouse, swapped in whole."""
    staging = target.with_name(target.name + ".incoming")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in [*tables, "runs", "quality_results"]:
        if table_exists(con, name):
            con.sql(f"SELECT * FROM main.{quote_ident(name)}").pl().write_parquet(  # noqa: S608
                staging / f"{name}.parquet"
            )
    swap_in(staging, target)


def batches_at_snapshot(con: duckdb.DuckDBPyConnection, number: int) -> tuple[set[str], datetime]:
    """Batch ids whose rows were published in snapshot ``number``, and when it was taken."""
    row = _snapshot_row(list_snapshots(con), number)
    keep: set[str] = set()
    for name in ("record_links", "quarantine"):
        source = snapshot_table(number, name)
        if stored_table_exists(con, SNAPSHOT_SCHEMA, snapshot_table_name(number, name)):
            ids = con.sql(f"SELECT DISTINCT batch_id FROM {source}").fetchall()  # noqa: S608
            keep |= {str(i[0]) for i in ids if i[0] is not None}
    created: datetime = row["created_at"]
    return keep, created


def rollback(
    con: duckdb.DuckDBPyConnection, mirror_dir: Path, target: int | None = None
) -> Rollback:
    """Restore the published tables and the ID registry to snapshot ``target``.

    Default: the snapshot before the latest. Its tables are copied as the new snapshot and the
    public names switched to them in one transaction; the Parquet mirror is rewritten after it
    commits.
    """
    snapshots = list_snapshots(con)
    if snapshots.is_empty():
        raise SnapshotError("nothing to roll back: no publish has been recorded yet")
    latest = int(snapshots["snapshot"].max())  # type: ignore[arg-type]
    if target is None:
        if latest < 2:
            raise SnapshotError(
                "nothing to roll back to: only snapshot 1 exists (the first publish)"
            )
        target = latest - 1
    row = _snapshot_row(snapshots, target)
    if target == latest:
        raise SnapshotError(f"snapshot {target} is already the current state; nothing to do")
    counts: dict[str, int] = json.loads(row["tables"])
    restored = list(counts)
    missing = [
        name
        for name in restored
        if not stored_table_exists(con, SNAPSHOT_SCHEMA, snapshot_table_name(target, name))
    ]
    if missing:
        raise SnapshotError(
            f"snapshot {target} can no longer be restored: its tables {missing} were pruned; "
            "see 'svod snapshots' for the ones kept"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        number = next_snapshot(con)
        drop_snapshot_tables(con, number)  # left by a publish that stopped before it was logged
        for name in restored:
            con.execute(copy_table_sql(snapshot_table(number, name), snapshot_table(target, name)))
        number = take_snapshot(
            con, f"rollback-to-{target}", "rollback", restored_from=target, number=number
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    _mirror_from_warehouse(con, restored, mirror_dir)
    log.info("rolled back", extra={"snapshot": target, "new_snapshot": number})
    return Rollback(restored=target, snapshot=number, tables=counts)
