"""The warehouse (DuckDB) and its Parquet mirror: read the published state, publish atomically.

Publishing writes every published table once, as the tables of snapshot N (schema
``snapshot_store``), and switches the public names — views — to them inside one DuckDB
transaction, so a failure leaves the previous tables as they were and a snapshot costs no copy;
the Parquet mirror is written to a side folder first and swapped in only after the commit. The
write path itself (``Publication``) is ``pipelines.publication``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from identity.registry import LINKS_SCHEMA, REGISTRY_SCHEMA

#: Tables replaced on every publish, in this order.
PUBLISHED_TABLES: tuple[str, ...] = (
    "profiles",
    "identifiers",
    "record_links",
    "quarantine",
    "events",
    "customer_registry",
    "identity_changes",
    "identity_guards",
    "link_evidence",
    "golden_values",
    "companies",
    "customer_companies",
    "consents",
    "profiles_history",
)

#: Published tables that are versioned (rows appended, old versions closed), never replaced.
VERSIONED_TABLES: tuple[str, ...] = ("profiles_history",)

#: Indexes rebuilt after each publish: what `svod profile` looks up by (table → columns).
PUBLISHED_INDEXES: dict[str, tuple[str, ...]] = {
    "identifiers": ("value", "customer_id"),
    "events": ("customer_id",),
    "companies": ("inn", "company_id"),
    "customer_companies": ("customer_id", "company_id"),
    "golden_values": ("customer_id",),
    "profiles": ("customer_id",),
}

RUNS_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR",
    "started_at": "TIMESTAMPTZ",
    "finished_at": "TIMESTAMPTZ",
    "status": "VARCHAR",
    "failed_stage": "VARCHAR",
    "error": "VARCHAR",
    "files_seen": "BIGINT",
    "files_ingested": "BIGINT",
    "files_skipped": "BIGINT",
    "files_failed": "BIGINT",
    "rows_read": "BIGINT",
    "rows_staged": "BIGINT",
    "rows_quarantined": "BIGINT",
    "customers": "BIGINT",
    "records_per_customer": "DOUBLE",
    "customers_created": "BIGINT",
    "customers_merged": "BIGINT",
    "files": "JSON",
    "fingerprint": "VARCHAR",  # JSON: hashes of what decided the result (pipelines.fingerprint)
    "note": "VARCHAR",  # e.g. why a run did nothing
}
#: Columns added to ``runs`` after its first release; older warehouses get them on next write.
_RUNS_ADDED = ("fingerprint", "note")


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted (table names cannot be bound parameters)."""
    return '"' + name.replace('"', '""') + '"'


def create_runs_sql() -> str:
    cols = ", ".join(f"{quote_ident(k)} {v}" for k, v in RUNS_COLUMNS.items())
    return f"CREATE TABLE IF NOT EXISTS runs ({cols})"


def insert_run_sql() -> str:
    cols = ", ".join(quote_ident(k) for k in RUNS_COLUMNS)
    marks = ", ".join("?" for _ in RUNS_COLUMNS)
    return f"INSERT INTO runs ({cols}) VALUES ({marks})"  # noqa: S608 (quoted identifiers)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def read_table(
    con: duckdb.DuckDBPyConnection, name: str, schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """A published table (only ``schema``'s columns); empty before the first publish."""
    if not table_exists(con, name):
        return pl.DataFrame(schema=dict(schema))
    cols = ", ".join(quote_ident(c) for c in schema)
    frame: pl.DataFrame = con.sql(f"SELECT {cols} FROM {quote_ident(name)}").pl()  # noqa: S608
    casts: dict[str, pl.DataType] = dict(schema)
    return frame.cast(casts)  # type: ignore[arg-type]


def previous_identity(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(record_key → customer_id links, customer registry) as last published."""
    return read_table(con, "record_links", LINKS_SCHEMA), read_table(
        con, "customer_registry", REGISTRY_SCHEMA
    )


def _run_values(run: Mapping[str, Any]) -> list[Any]:
    values = []
    for key in RUNS_COLUMNS:
        value = run.get(key)
        encode = key == "files" or (key == "fingerprint" and isinstance(value, dict))
        values.append(json.dumps(value, ensure_ascii=False) if encode else value)
    return values


def record_run(con: duckdb.DuckDBPyConnection, run: Mapping[str, Any]) -> None:
    """Append one row to ``runs`` (used on its own for a failed run)."""
    con.execute(create_runs_sql())
    for column in _RUNS_ADDED:
        kind = RUNS_COLUMNS[column]
        con.execute(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {quote_ident(column)} {kind}")
    con.execute(insert_run_sql(), _run_values(run))


def mirror_runs(con: duckdb.DuckDBPyConnection, mirror_dir: Path) -> None:
    """Rewrite ``runs.parquet`` of the Parquet mirror (for a run that published nothing)."""
    if not mirror_dir.is_dir() or not table_exists(con, "runs"):
        return
    tmp = mirror_dir / ".runs.parquet.tmp"
    con.sql("SELECT * FROM runs ORDER BY started_at").pl().write_parquet(tmp)
    tmp.replace(mirror_dir / "runs.parquet")


#: Every publish (and rollback) writes its tables into this schema as snapshot N; the public
#: names in ``main`` are views over the latest one, switched inside the publish transaction.
SNAPSHOT_SCHEMA = "snapshot_store"
SNAPSHOTS_COLUMNS: dict[str, str] = {
    "snapshot": "BIGINT",
    "created_at": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
    "kind": "VARCHAR",  # publish | rollback
    "restored_from": "BIGINT",
    "tables": "JSON",  # table name -> row count
}


def snapshot_table(snapshot: int, table: str) -> str:
    """The quoted, schema-qualified name of one table of a snapshot."""
    return f"{quote_ident(SNAPSHOT_SCHEMA)}.{quote_ident(snapshot_table_name(snapshot, table))}"


def snapshot_table_name(snapshot: int, table: str) -> str:
    """The unquoted name (in ``SNAPSHOT_SCHEMA``) of one table of a snapshot."""
    return f"s{snapshot:06d}_{table}"


def copy_table_sql(target: str, source: str) -> str:
    # both names come from PUBLISHED_TABLES / snapshot numbers, quoted; never user values
    return f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}"  # noqa: S608


def ensure_snapshot_log(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"{quote_ident(k)} {v}" for k, v in SNAPSHOTS_COLUMNS.items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(SNAPSHOT_SCHEMA)}")
    con.execute(f"CREATE TABLE IF NOT EXISTS snapshots ({cols})")


def next_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The number the next snapshot gets (its tables are written under it before it is taken)."""
    ensure_snapshot_log(con)
    rows = con.execute("SELECT coalesce(max(snapshot), 0) + 1 FROM snapshots").fetchall()
    return int(rows[0][0])


def stored_table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """A base table (not a view) ``schema.name``."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows[0][0])


def _point_view(con: duckdb.DuckDBPyConnection, name: str, source: str) -> None:
    """``main.name`` becomes a view over ``source`` (a warehouse from before views: its table
    is dropped; the snapshot tables keep the data)."""
    if stored_table_exists(con, "main", name):
        con.execute(f"DROP TABLE main.{quote_ident(name)}")
    con.execute(f"CREATE OR REPLACE VIEW main.{quote_ident(name)} AS SELECT * FROM {source}")  # noqa: S608


def _move_indexes(con: duckdb.DuckDBPyConnection, number: int, names: list[str]) -> None:
    """The lookup indexes go to the tables of snapshot ``number`` (older ones need none)."""
    schema = quote_ident(SNAPSHOT_SCHEMA)
    for table in names:
        for column in PUBLISHED_INDEXES.get(table, ()):
            index = quote_ident(f"idx_{table}_{column}")
            con.execute(f"DROP INDEX IF EXISTS {schema}.{index}")
            con.execute(
                f"CREATE INDEX {index} ON {snapshot_table(number, table)} ({quote_ident(column)})"
            )


def take_snapshot(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    kind: str,
    restored_from: int | None = None,
    *,
    number: int,
) -> int:
    """Make snapshot ``number`` current: point the public names at its tables (written by the
    caller), move the indexes, log it. Inside the caller's transaction; nothing is copied."""
    present = [
        name
        for name in PUBLISHED_TABLES
        if stored_table_exists(con, SNAPSHOT_SCHEMA, snapshot_table_name(number, name))
    ]
    counts: dict[str, int] = {}
    for name in present:
        source = snapshot_table(number, name)
        _point_view(con, name, source)
        found = con.execute(f"SELECT count(*) FROM {source}").fetchall()  # noqa: S608
        counts[name] = int(found[0][0])
    for name in PUBLISHED_TABLES:  # a table the snapshot does not have is not published
        if name not in counts:
            if stored_table_exists(con, "main", name):
                con.execute(f"DROP TABLE main.{quote_ident(name)}")
            con.execute(f"DROP VIEW IF EXISTS main.{quote_ident(name)}")
    _move_indexes(con, number, present)
    con.execute(
        "INSERT INTO snapshots VALUES (?, now(), ?, ?, ?, ?)",
        [number, run_id, kind, restored_from, json.dumps(counts)],
    )
    return number


def prune_snapshots(con: duckdb.DuckDBPyConnection, keep: int) -> list[int]:
    """Drop the tables of all but the latest ``keep`` snapshots (never the current one).

    Their rows stay in ``snapshots`` (the history of publishes); a rollback to one of them is
    refused with a message. Returns the snapshot numbers whose tables were dropped.
    """
    if not table_exists(con, "snapshots"):
        return []
    rows = con.execute("SELECT snapshot FROM snapshots ORDER BY snapshot DESC").fetchall()
    older = sorted(int(r[0]) for r in rows[max(keep, 1) :])
    return [number for number in older if drop_snapshot_tables(con, number)]


def drop_snapshot_tables(con: duckdb.DuckDBPyConnection, number: int) -> bool:
    """Drop every stored table of snapshot ``number``; whether there was any."""
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? "
        "AND starts_with(table_name, ?)",
        [SNAPSHOT_SCHEMA, snapshot_table_name(number, "")],
    ).fetchall()
    for (name,) in names:
        con.execute(f"DROP TABLE {quote_ident(SNAPSHOT_SCHEMA)}.{quote_ident(str(name))}")
    return bool(names)


QUALITY_COLUMNS_SQL = (
    "run_id VARCHAR, layer VARCHAR, kind VARCHAR, name VARCHAR, source VARCHAR, field VARCHAR, "
    "value DOUBLE, threshold DOUBLE, passed BOOLEAN, blocking BOOLEAN, detail VARCHAR, "
    "expectation VARCHAR, recorded_at TIMESTAMPTZ"
)


def record_quality(
    con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, mirror_dir: Path | None = None
) -> None:
    """Append ``quality_results`` rows (kept across runs, like ``runs``); refresh their mirror."""
    con.execute(f"CREATE TABLE IF NOT EXISTS quality_results ({QUALITY_COLUMNS_SQL})")
    if not rows.is_empty():
        con.register("_incoming_quality", rows.to_arrow())
        try:
            cols = ", ".join(quote_ident(c) for c in rows.columns)
            con.execute(
                f"INSERT INTO quality_results ({cols}, recorded_at) "  # noqa: S608
                f"SELECT {cols}, now() FROM _incoming_quality"
            )
        finally:
            con.unregister("_incoming_quality")
    if mirror_dir is not None and mirror_dir.is_dir():
        tmp = mirror_dir / ".quality_results.parquet.tmp"
        con.sql("SELECT * FROM quality_results").pl().write_parquet(tmp)
        tmp.replace(mirror_dir / "quality_results.parquet")
