"""Loading one published table into snapshot N: a frame or a Parquet file copied into its
stored table (on two DuckDB threads when the file's row groups allow it), and
``profiles_history`` versioned against the snapshot's stored profiles.

``pipelines.publication`` drives these inside its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import PublishError
from pipelines.mirror import Table
from pipelines.profile.history import version_profiles
from pipelines.warehouse import (
    SNAPSHOT_SCHEMA,
    VERSIONED_TABLES,
    copy_table_sql,
    quote_ident,
    snapshot_table,
    snapshot_table_name,
    stored_table_exists,
    table_exists,
)


def _register(con: duckdb.DuckDBPyConnection, view: str, table: Table) -> None:
    if isinstance(table, Path):
        con.read_parquet(str(table)).create_view(view, replace=True)
    else:
        con.register(view, table.to_arrow())


def _unregister(con: duckdb.DuckDBPyConnection, view: str, table: Table) -> None:
    if isinstance(table, Path):
        con.execute(f"DROP VIEW IF EXISTS {quote_ident(view)}")
    else:
        con.unregister(view)


#: Rows in a DuckDB row group (its default). A file in row groups of exactly this many rows (the
#: last one fewer) loads on ``LOAD_THREADS`` threads into the full row groups, in the order, that
#: one thread writes, in about half the time. Other inputs load on one thread: two would leave a
#: part-filled row group per file row group, which the commit then merges (+4 s CPU at 1M).
DUCKDB_ROW_GROUP = 122_880
LOAD_THREADS = 2
_ROW_GROUPS = (
    "SELECT max(row_group_num_rows) FROM parquet_metadata(?) "
    "GROUP BY row_group_id ORDER BY row_group_id"
)


def aligned(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    """Whether ``table`` is a Parquet file in row groups of ``DUCKDB_ROW_GROUP`` rows."""
    if not isinstance(table, Path):
        return False
    sizes = [int(n) for (n,) in con.execute(_ROW_GROUPS, [str(table)]).fetchall()]
    return all(n == DUCKDB_ROW_GROUP for n in sizes[:-1]) and sizes[-1:] <= [DUCKDB_ROW_GROUP]


def load_table(
    con: duckdb.DuckDBPyConnection,
    number: int,
    name: str,
    table: Table,
    run: Mapping[str, Any],
    parallel: int = 1,
) -> None:
    """Write one table of snapshot ``number`` from the incoming frame or file (on ``parallel``
    DuckDB threads when its row groups allow it, see ``DUCKDB_ROW_GROUP``)."""
    view = f"_incoming_{name}"
    target = snapshot_table(number, name)
    _register(con, view, table)
    try:
        if name in VERSIONED_TABLES:
            _load_versions(con, number, name, view, run, parallel)
        else:
            threads = parallel if parallel > 1 and aligned(con, table) else 1
            con.execute(f"SET threads = {int(threads)}")
            con.execute(copy_table_sql(target, quote_ident(view)))
    finally:
        _unregister(con, view, table)
        con.execute("SET threads = 1")


def _load_versions(
    con: duckdb.DuckDBPyConnection,
    number: int,
    name: str,
    hashes: str,
    run: Mapping[str, Any],
    parallel: int,
) -> None:
    """Version ``name`` (``profiles_history``) against snapshot ``number``'s stored profiles,
    whose content hashes are in ``hashes`` (``version_profiles``)."""
    profiles = snapshot_table_name(number, "profiles")
    if not stored_table_exists(con, SNAPSHOT_SCHEMA, profiles):
        raise PublishError(f"{name} is published with the profiles it versions: none were given")
    if table_exists(con, name):  # history carries on from the current version
        con.execute(f"SET threads = {int(parallel)}")  # stored: full row groups
        con.execute(copy_table_sql(snapshot_table(number, name), f"main.{quote_ident(name)}"))
    con.execute("SET threads = 1")  # one thread keeps new versions in the profiles' order
    stored = f"{SNAPSHOT_SCHEMA}.{snapshot_table_name(number, name)}"
    at, run_id = run["started_at"], str(run["run_id"])
    version_profiles(con, stored, f"{SNAPSHOT_SCHEMA}.{profiles}", hashes, run_id, at)
