"""The warehouse (DuckDB) and its Parquet mirror: read the published state, publish atomically.

Publishing replaces every published table inside one DuckDB transaction, so a failure leaves
the previous tables as they were; the Parquet mirror is written to a side folder first and
swapped in only after the transaction commits.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from identity.registry import LINKS_SCHEMA, REGISTRY_SCHEMA
from pipelines.errors import PublishError
from pipelines.profile.history import apply_history

log = logging.getLogger(__name__)

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


def replace_table_sql(name: str, view: str) -> str:
    # identifiers from PUBLISHED_TABLES, quoted; never user values
    table, source = quote_ident(name), quote_ident(view)
    return f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {source}"  # noqa: S608


def create_index_sql(table: str, column: str) -> str:
    # names from PUBLISHED_INDEXES, quoted; never user values
    index = quote_ident(f"idx_{table}_{column}")
    return f"CREATE INDEX {index} ON {quote_ident(table)} ({quote_ident(column)})"


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


#: Every publish (and rollback) copies the published tables into this schema as snapshot N.
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
    return f"{quote_ident(SNAPSHOT_SCHEMA)}.{quote_ident(f's{snapshot:06d}_{table}')}"


def copy_table_sql(target: str, source: str) -> str:
    # both names come from PUBLISHED_TABLES / snapshot numbers, quoted; never user values
    return f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}"  # noqa: S608


def ensure_snapshot_log(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"{quote_ident(k)} {v}" for k, v in SNAPSHOTS_COLUMNS.items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(SNAPSHOT_SCHEMA)}")
    con.execute(f"CREATE TABLE IF NOT EXISTS snapshots ({cols})")


def take_snapshot(
    con: duckdb.DuckDBPyConnection, run_id: str, kind: str, restored_from: int | None = None
) -> int:
    """Copy every published table into snapshot N+1 (inside the caller's transaction)."""
    ensure_snapshot_log(con)
    row = con.execute("SELECT coalesce(max(snapshot), 0) + 1 FROM snapshots").fetchone()
    number = int(row[0]) if row else 1
    counts: dict[str, int] = {}
    for name in PUBLISHED_TABLES:
        if not table_exists(con, name):
            continue
        con.execute(copy_table_sql(snapshot_table(number, name), f"main.{quote_ident(name)}"))
        found = con.execute(f"SELECT count(*) FROM main.{quote_ident(name)}").fetchone()  # noqa: S608
        counts[name] = int(found[0]) if found else 0
    con.execute(
        "INSERT INTO snapshots VALUES (?, now(), ?, ?, ?, ?)",
        [number, run_id, kind, restored_from, json.dumps(counts)],
    )
    return number


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


def _mirror_staging(target: Path) -> Path:
    return target.with_name(target.name + ".incoming")


#: A table to publish: a frame, or a Parquet file holding it (read by DuckDB, copied as the
#: mirror — the frame never has to be in memory).
Table = pl.DataFrame | Path


def _write_mirror(tables: Mapping[str, Table], target: Path) -> Path:
    staging = _mirror_staging(target)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, table in tables.items():
        if isinstance(table, Path):
            shutil.copyfile(table, staging / f"{name}.parquet")  # not a link: files get rewritten
        else:
            table.write_parquet(staging / f"{name}.parquet")
    return staging


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


def _swap_mirror(staging: Path, target: Path) -> None:
    old = target.with_name(target.name + ".previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _publish_tables(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, Table],
    run: Mapping[str, Any],
    mirror: Future[Path],
    mirror_dir: Path,
) -> Path:
    """The publish transaction; it commits only once ``mirror`` (the Parquet side) succeeded."""
    try:
        con.execute("BEGIN TRANSACTION")
        for name in PUBLISHED_TABLES:
            if name not in tables:
                continue
            view = f"_incoming_{name}"
            _register(con, view, tables[name])
            try:
                if name in VERSIONED_TABLES:
                    apply_history(con, name, view, str(run["run_id"]), run["started_at"])
                else:
                    con.execute(replace_table_sql(name, view))
                    for column in PUBLISHED_INDEXES.get(name, ()):
                        con.execute(create_index_sql(name, column))
            finally:
                _unregister(con, view, tables[name])
        record_run(con, run)
        take_snapshot(con, str(run.get("run_id")), "publish")
        staging = mirror.result()  # a failed mirror write aborts the publish
        con.execute("COMMIT")
    except Exception as exc:
        con.execute("ROLLBACK")
        wait([mirror])
        shutil.rmtree(_mirror_staging(mirror_dir), ignore_errors=True)
        raise PublishError(
            f"publishing failed ({exc}); the previously published tables are unchanged"
        ) from exc
    return staging


def publish(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, Table],
    run: Mapping[str, Any],
    mirror_dir: Path,
) -> None:
    """Replace the published tables and append the run, all or nothing.

    The Parquet mirror is written by a second thread while DuckDB builds the tables (both
    release the GIL); the transaction commits only once the mirror is complete.
    """
    unknown = set(tables) - set(PUBLISHED_TABLES)
    if unknown:
        raise PublishError(f"not a published table: {sorted(unknown)}")
    mirrored = {k: v for k, v in tables.items() if k not in VERSIONED_TABLES}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="svod-mirror") as pool:
        mirror = pool.submit(_write_mirror, mirrored, mirror_dir)
        staging = _publish_tables(con, tables, run, mirror, mirror_dir)
    runs = con.sql("SELECT * FROM runs ORDER BY started_at").pl()
    runs.write_parquet(staging / "runs.parquet")
    for name in VERSIONED_TABLES:
        if name in tables:
            con.sql(f"SELECT * FROM {quote_ident(name)}").pl().write_parquet(  # noqa: S608
                staging / f"{name}.parquet"
            )
    _swap_mirror(staging, mirror_dir)
    log.info("published", extra={"tables": len(tables), "run_id": run.get("run_id")})
