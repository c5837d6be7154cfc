"""``profiles_history``: every version of every profile, with valid_from / valid_to.

Unlike the other published tables it is not replaced but versioned, inside the same publish
transaction: an open version (``valid_to`` null) whose content hash no longer matches the new
profile is closed at the run's start time; a profile without an open version of the same content
gets a new one, naming the columns that changed. Re-running on unchanged input adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import polars as pl
import pyarrow as pa

from pipelines.errors import PublishError

#: Columns history adds in front of the profile's own.
VERSION_COLUMNS: dict[str, str] = {
    "customer_id": "VARCHAR",
    "valid_from": "TIMESTAMPTZ",
    "valid_to": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
    "changed_columns": "VARCHAR[]",
    "content_hash": "VARCHAR",
}


#: Rows are JSON-encoded and hashed in this many slices, ``_AT_ONCE`` at a time: the JSON
#: text of every profile (about twice the profiles' size) is never in memory whole.
_CHUNKS = 16
_AT_ONCE = 2


def content_hashes(profiles: pl.DataFrame) -> pl.Series:
    """``content_hash`` of each profile row: an MD5 of the row as JSON (stable across runs).

    DuckDB's ``md5`` hashes the UTF-8 text exactly like ``hashlib.md5``. The slices encoded
    together go to it as one Arrow table of one batch each, handed over without a copy
    (string views): DuckDB scans a batch per thread, so every core hashes.
    """
    size = max(1, -(-profiles.height // _CHUNKS))
    starts = list(range(0, max(profiles.height, 1), size))
    hashes: list[pl.DataFrame] = []
    with duckdb.connect() as con:
        for first in range(0, len(starts), _AT_ONCE):
            encode = [
                profiles.lazy()
                .slice(start, size)
                .select(row=pl.struct(pl.all()).struct.json_encode())
                for start in starts[first : first + _AT_ONCE]
            ]  # JSON encoding runs on one core per query: slices use them all
            batches = [
                batch
                for content in pl.collect_all(encode)
                for batch in content.to_arrow(compat_level=pl.CompatLevel.newest()).to_batches()
            ]
            if not batches:
                continue
            con.register("content", pa.Table.from_batches(batches))
            hashes.append(con.sql("SELECT md5(row) AS content_hash FROM content").pl())
            con.unregister("content")
    if not hashes:
        return pl.Series("content_hash", [], dtype=pl.String)
    return pl.concat(hashes).get_column("content_hash")


def history_snapshot(profiles: pl.DataFrame) -> pl.DataFrame:
    """``customer_id`` and ``content_hash`` of each profile, in the profiles' order.

    What the publish hands over as ``profiles_history``: the rows themselves are read from the
    snapshot's ``profiles`` table (``versions_view_sql``), not written and loaded a second time.
    """
    return profiles.select("customer_id", content_hashes(profiles))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qt(name: str) -> str:
    """A quoted table name; ``schema.table`` (names of ours, never user values) is split."""
    return ".".join(_q(part) for part in name.split("."))


def misaligned_sql(profiles: str, hashes: str) -> str:
    """Rows where the hashes (in the profiles' order) do not belong to the profile beside them."""
    return (
        f"SELECT count(*) FROM {_qt(profiles)} AS p POSITIONAL JOIN {_qt(hashes)} AS h "  # noqa: S608
        "WHERE p.customer_id IS DISTINCT FROM h.customer_id"
    )


def versions_view_sql(view: str, profiles: str, hashes: str) -> str:
    """The incoming versions: each stored profile beside its content hash, in the stored order."""
    return (
        f"CREATE OR REPLACE TEMP VIEW {_qt(view)} AS SELECT p.*, h.content_hash "  # noqa: S608
        f"FROM {_qt(profiles)} AS p POSITIONAL JOIN {_qt(hashes)} AS h"
    )


def create_history_sql(table: str, view: str) -> str:
    """Create an empty history table shaped like the incoming snapshot, if there is none."""
    lead = ", ".join(
        f"NULL::{t} AS {_q(c)}" for c, t in VERSION_COLUMNS.items() if c != "customer_id"
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {_qt(table)} AS SELECT customer_id, {lead}, "  # noqa: S608
        f"* EXCLUDE (customer_id, content_hash) FROM {_qt(view)} LIMIT 0"
    )


def close_versions_sql(table: str, view: str) -> str:
    """Close open versions whose customer is gone or whose content changed ($1 = valid_to)."""
    return (
        f"UPDATE {_qt(table)} AS h SET valid_to = $1 WHERE h.valid_to IS NULL "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {_qt(view)} AS i "
        "WHERE i.customer_id = h.customer_id AND i.content_hash = h.content_hash)"
    )


def insert_versions_sql(table: str, view: str, columns: Sequence[str]) -> str:
    """Open a version for each profile without an open one ($1 = valid_from, $2 = run id)."""
    diffs = ", ".join(
        f"CASE WHEN i.{_q(c)} IS DISTINCT FROM p.{_q(c)} THEN '{c}' END"
        for c in columns
        if c not in VERSION_COLUMNS and "'" not in c
    )
    changed = (
        "CASE WHEN p.customer_id IS NULL THEN NULL "
        f"ELSE list_filter([{diffs}], lambda x: x IS NOT NULL) END"
    )
    return (
        f"INSERT INTO {_qt(table)} BY NAME SELECT i.*, $1 AS valid_from, "  # noqa: S608
        f"NULL::TIMESTAMPTZ AS valid_to, $2 AS run_id, {changed} AS changed_columns "
        f"FROM {_qt(view)} AS i LEFT JOIN {_qt(table)} AS p "
        "ON p.customer_id = i.customer_id AND p.valid_to = $1 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_qt(table)} AS h "
        "WHERE h.valid_to IS NULL AND h.customer_id = i.customer_id)"
    )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {_qt(relation)}").fetchall()  # noqa: S608
    return {str(r[0]): str(r[1]) for r in rows}


def apply_history(
    con: duckdb.DuckDBPyConnection, table: str, view: str, run_id: str, at: datetime
) -> None:
    """Version ``table`` against the snapshot in ``view``; the caller holds the transaction."""
    con.execute(create_history_sql(table, view))
    incoming, existing = _columns(con, view), _columns(con, table)
    for name, kind in incoming.items():
        if name not in existing:  # a column added since the table was created
            con.execute(f"ALTER TABLE {_qt(table)} ADD COLUMN {_q(name)} {kind}")
    con.execute(close_versions_sql(table, view), [at])
    # the incoming rows probe the (narrow) open versions, never the reverse: new versions keep
    # the incoming order on one thread, and no hash table holds every incoming profile
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        con.execute(insert_versions_sql(table, view, list(incoming)), [at, run_id])
    finally:
        con.execute("SET disabled_optimizers = ?", [before])


def version_profiles(
    con: duckdb.DuckDBPyConnection,
    table: str,
    profiles: str,
    hashes: str,
    run_id: str,
    at: datetime,
) -> None:
    """``apply_history`` with the stored ``profiles`` beside their content ``hashes`` (in the
    profiles' order, ``history_snapshot``): the rows are not handed over a second time."""
    wrong = con.execute(misaligned_sql(profiles, hashes)).fetchall()[0][0]
    if wrong:
        raise PublishError(
            f"{table}: {wrong} content hashes do not match the profile in their row; hand over "
            "history_snapshot(profiles) of the profiles published"
        )
    view = "_incoming_versions"
    con.execute(versions_view_sql(view, profiles, hashes))
    try:
        apply_history(con, table, view, run_id, at)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {_q(view)}")
