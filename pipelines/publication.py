"""Publishing: every published table written as snapshot N, then indexed and made current by
switching the public views to it (two transactions, see ``Publication``), with the Parquet
mirror written aside and swapped in after the commit.

The warehouse's tables, snapshots and runs are in ``pipelines.warehouse``; this module is the
write path (``Publication``, ``publish``) that ``publish_stage`` and the tests drive.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import PublishError
from pipelines.mirror import Table, in_utc, incoming, swap_in, write_mirror
from pipelines.snapshotload import LOAD_THREADS, load_table
from pipelines.warehouse import (
    PUBLISHED_TABLES,
    VERSIONED_TABLES,
    copy_table_sql,
    drop_snapshot_tables,
    next_snapshot,
    prune_snapshots,
    quote_ident,
    record_run,
    snapshot_table,
    table_exists,
    take_snapshot,
)

log = logging.getLogger(__name__)


#: DuckDB settings while the publish transaction writes the tables: one thread unless the input
#: allows more (``pipelines.snapshotload.load_table``), and each full row group written out at
#: once rather than five at a time (DuckDB's default): at 1M records the run's process peaks
#: ~350 MB lower for the same CPU, and a table of under five row groups is compressed as it
#: loads, not in the commit.
PUBLISH_SETTINGS: dict[str, int] = {"threads": 1, "write_buffer_row_group_count": 1}


@contextmanager
def _settings(con: duckdb.DuckDBPyConnection, settings: Mapping[str, int]) -> Iterator[None]:
    """Run the block with DuckDB ``settings``, then restore the connection's own values."""
    query = "SELECT name, value FROM duckdb_settings() WHERE list_contains(?, name)"
    before = dict(con.execute(query, [list(settings)]).fetchall())
    for name, value in settings.items():
        con.execute(f"SET {name} = {int(value)}")
    try:
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = {int(value)}")


class Publication:
    """A publish under way: the tables handed over are loaded into snapshot N at ``commit``
    (loading each while the caller built the next was measured at 1M: no gain on two cores,
    and 0.3-0.5 GB more for the two processes together).

    Two transactions: the first stores snapshot N's tables, which nothing reads yet; the second
    builds their lookup indexes, logs the run and the snapshot and switches the views. An index
    built on stored rows costs about half of one built while its rows are committed (~1.5 s of
    CPU at 1M records). A second thread copies each table's mirror file while the next table
    loads, and writes the versioned tables' mirror from the stored snapshot while the indexes
    build; a failed write aborts the publish like a failed load. Use as a context manager and
    call ``commit`` at the end of the block; leaving the block by an exception (or a failed
    load or mirror write) rolls back and drops snapshot N's tables: the published tables and
    the Parquet mirror stay as they were. Tables left by a publish that stopped between the two
    transactions are dropped by the next one.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, mirror_dir: Path, run_id: str, at: Any):
        self.con, self.mirror_dir = con, mirror_dir
        self.run = {"run_id": run_id, "started_at": at}
        self.names: list[str] = []
        self.queued: list[tuple[str, Table]] = []
        self._settings = _settings(con, PUBLISH_SETTINGS)
        self._copier = ThreadPoolExecutor(1, thread_name_prefix="svod-mirror")
        self._copies: list[Future[Path]] = []
        self.number = 0
        self.stored = self.committed = False

    def __enter__(self) -> Publication:
        shutil.rmtree(incoming(self.mirror_dir), ignore_errors=True)
        threads = self.con.execute("SELECT current_setting('threads')").fetchall()
        self.parallel = max(1, min(LOAD_THREADS, int(threads[0][0])))
        self._settings.__enter__()
        try:
            self.con.execute("BEGIN TRANSACTION")
            self.number = next_snapshot(self.con)
            drop_snapshot_tables(self.con, self.number)  # left by a publish that stopped
        except Exception:
            self.con.execute("ROLLBACK")
            self._settings.__exit__(None, None, None)
            raise
        return self

    def add(self, name: str, table: Table) -> None:
        """Hand over ``table`` (a file must stay until ``commit``; a frame is kept till then)."""
        if name not in PUBLISHED_TABLES or name in self.names:
            raise PublishError(f"not a published table, or given twice: {name!r}")
        self.names.append(name)
        self.queued.append((name, table))

    def _load(self, name: str, table: Table) -> None:
        load_table(self.con, self.number, name, table, self.run, self.parallel)
        if name not in VERSIONED_TABLES:  # copied aside while the next table loads
            self._copies.append(self._copier.submit(write_mirror, {name: table}, self.mirror_dir))

    def commit(self, run: Mapping[str, Any]) -> None:
        """Load and store the tables; then index them, log the run and the snapshot and switch
        the views in a second transaction."""
        versioned = [q for q in self.queued if q[0] in VERSIONED_TABLES]  # after the profiles
        for name, table in [q for q in self.queued if q[0] not in VERSIONED_TABLES] + versioned:
            self._load(name, table)  # a failed load (or mirror write) aborts the publish
        self.queued = []
        con, number = self.con, self.number
        for name in PUBLISHED_TABLES:
            if name not in self.names and table_exists(con, name):  # kept as it was
                current = f"main.{quote_ident(name)}"
                con.execute(copy_table_sql(snapshot_table(number, name), current))
        for copy in self._copies:
            copy.result()  # a failed mirror write aborts the publish
        con.execute("COMMIT")  # snapshot N's tables, published by the next transaction
        self.stored = True
        reader = con.cursor()  # DuckDB builds an index on one thread, whatever `threads` is:
        mirrored = self._copier.submit(self._mirror_versions, reader)  # the other mirrors
        try:
            con.execute("BEGIN TRANSACTION")
            record_run(con, run)
            take_snapshot(con, str(run.get("run_id")), "publish", number=number)
        finally:
            wait([mirrored])
            reader.close()
        mirrored.result()  # a failed mirror write rolls the publish back
        con.execute("COMMIT")
        self.committed = True

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None and not self.committed:
            exc = PublishError("publish block ended without commit(); nothing was published")
        self._copier.shutdown(wait=True)  # no copy lands in the side folder after this
        try:
            if not self.committed:
                self._roll_back()
        finally:
            self._settings.__exit__(None, None, None)
        if self.committed:
            self._finish_mirror()
            log.info("published", extra={"tables": len(self.names), "run_id": self.run["run_id"]})
        elif isinstance(exc, PublishError) and kind is None:
            raise exc
        elif isinstance(exc, Exception) and not isinstance(exc, PublishError):
            raise PublishError(
                f"publishing failed ({exc}); the previously published tables are unchanged"
            ) from exc

    def _roll_back(self) -> None:
        """Undo an unfinished publish: its transaction, its stored tables, its mirror folder."""
        try:
            self.con.execute("ROLLBACK")
        except duckdb.TransactionException:  # none open: stopped between the transactions
            pass
        finally:
            shutil.rmtree(incoming(self.mirror_dir), ignore_errors=True)
        if self.stored:  # unpublished; if this fails too, the next publish drops them
            try:
                drop_snapshot_tables(self.con, self.number)
            except duckdb.Error as exc:
                log.warning("dropping an unpublished snapshot failed", extra={"error": str(exc)})

    def _mirror_versions(self, reader: duckdb.DuckDBPyConnection) -> None:
        """The versioned tables' mirror, from snapshot N's stored tables (which the published
        names show once the views switch), read through ``reader``, a cursor of its own."""
        staging = incoming(self.mirror_dir)
        staging.mkdir(parents=True, exist_ok=True)
        for name in VERSIONED_TABLES:  # zstd level 1: ~25% less CPU than 3, same size here
            if name in self.names:  # streamed: at 1M records ~340 MB less than a whole frame
                stored = reader.sql(f"SELECT * FROM {snapshot_table(self.number, name)}")  # noqa: S608
                in_utc(stored.pl(lazy=True)).sink_parquet(
                    staging / f"{name}.parquet", compression="zstd", compression_level=1
                )

    def _finish_mirror(self) -> None:
        """After the commit: ``runs``, then swap the mirror in."""
        staging = incoming(self.mirror_dir)
        staging.mkdir(parents=True, exist_ok=True)
        runs = in_utc(self.con.sql("SELECT * FROM runs ORDER BY started_at").pl().lazy())
        runs.collect().write_parquet(staging / "runs.parquet")
        swap_in(staging, self.mirror_dir)


def publish(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, Table],
    run: Mapping[str, Any],
    mirror_dir: Path,
) -> None:
    """Replace the published tables and append the run, all or nothing (see ``Publication``)."""
    unknown = set(tables) - set(PUBLISHED_TABLES)
    if unknown:
        raise PublishError(f"not a published table: {sorted(unknown)}")
    with Publication(con, mirror_dir, str(run.get("run_id")), run.get("started_at")) as pub:
        for name, table in tables.items():
            pub.add(name, table)
        pub.commit(run)


def prune_after_publish(con: duckdb.DuckDBPyConnection, keep: int) -> list[int]:
    """After a committed publish: drop the tables of all but the latest ``keep`` snapshots
    (``[warehouse] keep_snapshots``; 0 keeps all). Returns the snapshots pruned.

    The publish has already succeeded, so a failure here is logged, not raised (the next
    publish tries again).
    """
    if keep <= 0:
        return []
    try:
        dropped = prune_snapshots(con, keep)
    except duckdb.Error as exc:
        log.warning("pruning old snapshots failed", extra={"error": str(exc)})
        return []
    if dropped:
        log.info("pruned snapshots", extra={"dropped": dropped, "kept": keep})
    return dropped
