"""Export the published tables as Parquet or CSV (UTF-8, or cp1251 for Excel on Russian Windows).

CSV cannot hold lists or nested values, so list cells are joined with `` | `` and nested ones
written as JSON. UTF-8 files get a BOM (so Excel detects the encoding) and `,`; cp1251 files get
`;`, a decimal comma and CRLF, as Russian Excel expects. cp1251 cannot encode every character:
each such cell is first decomposed (``é`` → ``e``), and whatever still does not fit becomes ``?``;
every changed cell is counted per table and column in the report (or, with ``on_unencodable=
"error"``, the export stops and names the first cell) — nothing is dropped silently.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from pipelines.errors import SvodError
from pipelines.warehouse import PUBLISHED_TABLES, quote_ident, table_exists

Format = Literal["parquet", "csv"]
Encoding = Literal["utf-8", "cp1251"]

EXPORT_TABLES: tuple[str, ...] = (*PUBLISHED_TABLES, "runs")

_CP1251 = "".join(ch for b in range(256) if (ch := bytes([b]).decode("cp1251", errors="ignore")))
# a Rust-regex class of every character outside cp1251 (``\x{…}`` escapes, no meta clashes)
_OUTSIDE_CP1251 = "[^" + "".join(f"\\x{{{ord(c):X}}}" for c in _CP1251) + "]"


class ExportError(SvodError, ValueError):
    """A value cannot be exported as asked."""


@dataclass
class ExportReport:
    """What was written, and every cell changed to fit the encoding (table → column → count)."""

    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, dict[str, int]] = field(default_factory=dict)


def to_cp1251(text: str) -> str:
    """The closest cp1251 text: accents dropped by decomposition, anything else as ``?``."""
    out = []
    for ch in text:
        if ch in _CP1251:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(c in _CP1251 for c in base) else "?")
    return "".join(out)


def flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV-ready: list cells joined with `` | ``, nested values as JSON."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List) and not isinstance(dtype.inner, pl.List | pl.Struct):
            exprs.append(col.cast(pl.List(pl.String)).list.join(" | "))
        elif isinstance(dtype, pl.List | pl.Struct | pl.Array):
            exprs.append(
                col.map_elements(
                    lambda v: json.dumps(v, ensure_ascii=False, default=str),
                    return_dtype=pl.String,
                )
            )
        else:
            exprs.append(col)
    return frame.select(exprs)


def fit_cp1251(frame: pl.DataFrame, table: str, report: ExportReport, strict: bool) -> pl.DataFrame:
    """Replace characters cp1251 lacks (see module doc), counting each changed cell."""
    fixes = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String():
            continue
        bad = frame.get_column(name).str.contains(_OUTSIDE_CP1251).fill_null(False)
        count = int(bad.sum())
        if not count:
            continue
        if strict:
            row = int(bad.arg_true()[0])
            raise ExportError(
                f"{table}.{name}, row {row + 1}: {frame[row, name]!r} has characters cp1251 "
                "cannot encode; export with --encoding utf-8, or allow replacement"
            )
        report.replaced.setdefault(table, {})[name] = count
        fixes.append(
            pl.when(pl.lit(bad))
            .then(pl.col(name).map_elements(to_cp1251, return_dtype=pl.String))
            .otherwise(pl.col(name))
            .alias(name)
        )
    return frame.with_columns(fixes) if fixes else frame


def export_tables(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    fmt: Format = "parquet",
    encoding: Encoding = "utf-8",
    *,
    strict: bool = False,
) -> ExportReport:
    """Write every published table (and ``runs``) to ``out_dir``; return what was done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    for table in EXPORT_TABLES:
        if not table_exists(con, table):
            continue
        frame = con.sql(f"SELECT * FROM {quote_ident(table)}").pl()  # noqa: S608
        report.rows[table] = frame.height
        if fmt == "parquet":
            path = out_dir / f"{table}.parquet"
            frame.write_parquet(path)
        elif encoding == "utf-8":
            path = out_dir / f"{table}.csv"
            flatten(frame).write_csv(path, include_bom=True)
        else:
            path = out_dir / f"{table}.cp1251.csv"
            flat = fit_cp1251(flatten(frame), table, report, strict)
            text = flat.write_csv(separator=";", decimal_comma=True, line_terminator="\r\n")
            path.write_bytes(text.encode("cp1251"))
        report.files.append(path)
    if report.replaced:
        (out_dir / "export_report.json").write_text(
            json.dumps({"replaced_cells": report.replaced}, ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    return report
