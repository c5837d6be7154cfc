"""The one place identity SQL runs: it logs each statement and re-raises failures with the SQL.

SQL is built by small ``*_sql`` functions that only return strings; values are bound parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity.errors import SqlError

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).resolve().parent / "sql"


def static_sql(name: str) -> str:
    """A static statement kept as ``identity/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def execute(
    con: duckdb.DuckDBPyConnection,
    step: str,
    sql: str,
    params: Sequence[object] | None = None,
) -> None:
    """Run a statement that returns nothing (CREATE …)."""
    log.debug("sql step=%s\n%s", step, sql)
    try:
        con.execute(sql, list(params) if params else None)
    except duckdb.Error as exc:
        raise SqlError(step, sql, exc) from exc


def query(
    con: duckdb.DuckDBPyConnection,
    step: str,
    sql: str,
    params: Sequence[object] | None = None,
) -> pl.DataFrame:
    """Run a query and return its result as a polars frame."""
    log.debug("sql step=%s\n%s", step, sql)
    try:
        frame: pl.DataFrame = con.sql(sql, params=list(params) if params else None).pl()
        return frame
    except duckdb.Error as exc:
        raise SqlError(step, sql, exc) from exc


def arrays(con: duckdb.DuckDBPyConnection, step: str, sql: str) -> dict[str, np.ndarray]:
    """Run a query and return its columns as NumPy arrays (no frame in between)."""
    log.debug("sql step=%s\n%s", step, sql)
    try:
        return {name: np.asarray(column) for name, column in con.sql(sql).fetchnumpy().items()}
    except duckdb.Error as exc:
        raise SqlError(step, sql, exc) from exc
