"""A random sample of source records beside the profiles they ended in, for a person to check.

Records come from the published ``record_links`` (so the sample matches what analysts query);
their values as written in the source are read back from the raw batch they were read in.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.errors import WorkspaceError
from pipelines.warehouse import quote_ident, table_exists
from pipelines.workspace import Workspace

#: Source values shown (as written) and the profile values beside them.
RECORD_FIELDS = ("full_name", "last_name", "first_name", "phone", "email", "company", "inn")
PROFILE_FIELDS = ("full_name", "phone", "email", "company_name", "inn", "record_count", "sources")


def _source_name(raw: pl.DataFrame) -> pl.Expr:
    parts = [pl.col(c) for c in ("last_name", "first_name") if c in raw.columns]
    return pl.coalesce(pl.col("full_name"), pl.concat_str(parts, separator=" ", ignore_nulls=True))


def _raw_values(ws: Workspace, links: pl.DataFrame) -> pl.DataFrame:
    frames = []
    for (source, batch_id), group in links.group_by("source", "batch_id"):
        path = ws.raw_dir / str(source) / str(batch_id) / "records.parquet"
        if not path.is_file():
            continue
        raw = pl.read_parquet(path, columns=["record_key", *RECORD_FIELDS])
        raw = raw.filter(pl.col("record_key").is_in(group["record_key"].to_list()))
        frames.append(raw.with_columns(full_name=_source_name(raw)).drop("last_name", "first_name"))
    if not frames:
        return pl.DataFrame(schema={"record_key": pl.String})
    return pl.concat(frames).rename({c: f"record_{c}" for c in RECORD_FIELDS if c in frames[0]})


def verification_sample(ws: Workspace, size: int = 50, seed: int = 0) -> pl.DataFrame:
    """``size`` random published records (seeded) with source values and their profile."""
    if not ws.warehouse.exists():
        raise WorkspaceError(f"nothing published in {ws.root} yet; run 'svod run' first")
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        if not table_exists(con, "record_links") or not table_exists(con, "profiles"):
            raise WorkspaceError(f"nothing published in {ws.root} yet; run 'svod run' first")
        links = con.sql(
            "SELECT record_key, customer_id, match_rule, source, source_file, source_sheet, "
            "source_row, batch_id FROM record_links"
        ).pl()
        cols = [c for c in PROFILE_FIELDS if c in _columns(con, "profiles")]
        picked_cols = ", ".join(quote_ident(c) for c in ["customer_id", *cols])
        profiles = con.sql(f"SELECT {picked_cols} FROM profiles").pl()  # noqa: S608 (quoted)
    picked = links.sample(n=min(size, links.height), seed=seed).sort("source", "record_key")
    profiles = profiles.rename({c: f"profile_{c}" for c in cols})
    if "profile_sources" in profiles.columns:
        profiles = profiles.with_columns(pl.col("profile_sources").list.join(", "))
    joined: pl.DataFrame = picked.join(_raw_values(ws, picked), on="record_key", how="left").join(
        profiles, on="customer_id", how="left"
    )
    return joined


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """The sample as CSV (UTF-8 with BOM, so Excel shows Cyrillic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + frame.write_csv().encode("utf-8"))
    return path
