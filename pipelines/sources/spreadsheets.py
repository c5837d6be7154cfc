"""Spreadsheet connector: ``.xlsx``/``.xls``/``.ods`` workbooks and ``.csv``/``.tsv``/``.txt`` text.

Everything is read as text (a phone stored as a number keeps its digits, an ИНН keeps its leading
zero where the file has it). Encodings and delimiters are detected; the header row is found below
title rows; every sheet is read unless ``options.sheets`` names some.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

from pipelines.errors import SourceFileError
from pipelines.schema import RAW_SCHEMA
from pipelines.sources.base import ReadResult, SourceFile, quarantine_rows
from pipelines.sources.tables import (
    IDENTIFYING_FIELDS,
    Cell,
    TableRows,
    clean_cell,
    find_header_row,
    map_headers,
    table_to_records,
)

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
DELIMITERS = (";", ",", "\t", "|")
FIX_HINT = "open the file in Excel or LibreOffice and save it again as .xlsx or UTF-8 .csv"


@dataclass(frozen=True)
class TextFormat:
    """How a text table was decoded."""

    encoding: str
    delimiter: str


def detect_encoding(data: bytes, relpath: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else the best Cyrillic code page."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if b"\x00" in data[:4096]:
        raise SourceFileError(relpath, "the file looks binary, not a text table", FIX_HINT)
    guess = from_bytes(data[:200_000], cp_isolation=["cp1251", "koi8_r", "cp866", "mac_cyrillic"])
    best = guess.best()
    return best.encoding if best is not None else "cp1251"


def detect_delimiter(lines: list[str], suffix: str) -> str:
    """The delimiter splitting the first lines most consistently (tab for ``.tsv``)."""
    if suffix == ".tsv":
        return "\t"
    sample = [line for line in lines if line.strip()][:30]
    best, best_score = ";", -1.0
    for delim in DELIMITERS:
        counts = [line.count(delim) for line in sample]
        if not counts or max(counts) == 0:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) + common / 100
        if common and score > best_score:
            best, best_score = delim, score
    return best


def read_text_table(path: Path, relpath: str) -> tuple[TextFormat, list[list[Cell]]]:
    """Decode a CSV/TSV and split it into rows of cleaned cells."""
    data = path.read_bytes()
    encoding = detect_encoding(data, relpath)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            relpath,
            f"cannot decode byte {exc.start} as {encoding}",
            "save the file as UTF-8 or set options.encoding in svod.toml",
        ) from None
    text = text.removeprefix("\ufeff")
    delimiter = detect_delimiter(text[:65536].splitlines(), Path(relpath).suffix.lower())
    try:
        rows = [
            [clean_cell(c) for c in row]
            for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as exc:
        raise SourceFileError(relpath, f"broken CSV quoting: {exc}", FIX_HINT) from None
    return TextFormat(encoding, delimiter), rows


def _short(exc: Exception) -> str:
    """The first line of a library error, without the absolute paths it repeats."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_workbook(
    path: Path, relpath: str, sheets: list[str] | None
) -> Iterator[tuple[str, list[list[Cell]]]]:
    """Yield (sheet name, rows) for each wanted sheet; cells are text, row 0 is Excel row 1."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types per format problem
        raise SourceFileError(
            relpath, f"not a readable workbook ({_short(exc)})", FIX_HINT
        ) from None
    names = reader.sheet_names
    wanted = sheets or names
    unknown = [s for s in wanted if s not in names]
    if unknown:
        raise SourceFileError(
            relpath,
            f"sheet(s) {unknown} not found; the workbook has {names}",
            "fix options.sheets in svod.toml",
        )
    for name in wanted:
        try:
            frame = reader.load_sheet(
                name, header_row=None, skip_rows=0, dtypes="string"
            ).to_polars()
        except Exception as exc:
            raise SourceFileError(
                relpath, f"sheet {name!r} cannot be read ({_short(exc)})", FIX_HINT
            ) from None
        rows = [[clean_cell(c) for c in row] for row in frame.iter_rows()]
        yield name, rows


def _trim_trailing_blank(rows: list[list[Cell]]) -> list[list[Cell]]:
    end = len(rows)
    while end and not any(c is not None for c in rows[end - 1]):
        end -= 1
    return rows[:end]


def _table(file: SourceFile, rows: list[list[Cell]], sheet: str | None) -> TableRows | None:
    rows = _trim_trailing_blank(rows)
    if not rows:
        return None
    header_at = find_header_row(rows, file.mapping)
    where = f"sheet {sheet!r}" if sheet else None
    if header_at is None:
        raise SourceFileError(
            file.relpath,
            f"no header maps to a Svod field in the first rows (first row: {rows[0][:6]})",
            "add a [sources.mapping] table to svod.toml naming which column is which",
            location=where,
        )
    headers = rows[header_at]
    if not IDENTIFYING_FIELDS & {f for f in map_headers(headers, file.mapping) if f}:
        raise SourceFileError(
            file.relpath,
            f"row {header_at + 1} has no name, phone, e-mail, company or ИНН column "
            f"({headers[:8]})",
            "add a [sources.mapping] table to svod.toml naming those columns",
            location=where,
        )
    data = rows[header_at + 1 :]
    numbers = list(range(header_at + 2, header_at + 2 + len(data)))
    return TableRows(headers=headers, rows=data, row_numbers=numbers, sheet=sheet)


def read(file: SourceFile) -> ReadResult:
    """Read one spreadsheet file into raw records (and quarantined blank rows)."""
    suffix = file.path.suffix.lower()
    tables: list[TableRows] = []
    notes: list[str] = []
    if suffix in TEXT_SUFFIXES:
        fmt, rows = read_text_table(file.path, file.relpath)
        notes.append(f"encoding {fmt.encoding}, delimiter {fmt.delimiter!r}")
        table = _table(file, rows, None)
        tables += [table] if table else []
        prefix = f"{file.relpath}:"
    elif suffix in WORKBOOK_SUFFIXES:
        sheets = file.options.get("sheets") or None
        for sheet, rows in read_workbook(file.path, file.relpath, sheets):
            table = _table(file, rows, sheet)
            if table is None:
                notes.append(f"sheet {sheet!r} is empty")
            else:
                tables.append(table)
        prefix = ""
    else:
        raise SourceFileError(
            file.relpath,
            f"unknown spreadsheet format '{suffix}'",
            "use .xlsx, .xls, .ods, .csv or .tsv, or move the file out of this source's path",
        )
    frames, items = [], []
    for table in tables:
        id_prefix = prefix or f"{file.relpath}:{table.sheet}:"
        records, blank = table_to_records(file, table, id_prefix=id_prefix)
        frames.append(records)
        items += blank
    records = pl.concat(frames) if frames else pl.DataFrame(schema=RAW_SCHEMA)
    return ReadResult(records=records, quarantine=quarantine_rows(file, items), notes=notes)
