"""Spreadsheet connector: ``.xlsx``/``.xls``/``.ods`` workbooks and ``.csv``/``.tsv``/``.txt`` text.

Everything is read as text (a phone stored as a number keeps its digits, an ИНН keeps its leading
zero where the file has it). Encodings and delimiters are detected; the header row is found below
title rows; every sheet is read unless ``options.sheets`` names some. amoCRM, Bitrix24 and 1C list
exports are recognised from their headers (``crm.py``). Row numbers are the physical ones a person
sees in Excel or a text editor.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from charset_normalizer import from_bytes

from pipelines.errors import SourceFileError
from pipelines.schema import RAW_SCHEMA
from pipelines.sources.base import ReadResult, SourceFile, quarantine_rows
from pipelines.sources.tables import TableRows, clean_grid, make_table, table_to_records

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
DELIMITERS = (";", ",", "\t", "|")
FIX_HINT = "open the file in Excel or LibreOffice and save it again as .xlsx or UTF-8 .csv"


@dataclass(frozen=True)
class TextFormat:
    """How a text table was decoded (``parser``: ``polars`` fast path or ``csv`` module)."""

    encoding: str
    delimiter: str
    parser: str = "polars"


def _is_utf8(data: bytes) -> bool:
    """UTF-8 validity checked in 16 MB steps, so a large file is never held twice as text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    step = 1 << 24
    try:
        for start in range(0, len(view), step):
            decoder.decode(view[start : start + step], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes, relpath: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else the best Cyrillic code page."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if _is_utf8(data):
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


def _physical_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def _csv_module_grid(text: str, delimiter: str, relpath: str) -> tuple[pl.DataFrame, pl.Series]:
    """Slow path for ragged rows and quoted line breaks: rows keep their first physical line."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    starts: list[int] = []
    line = 0
    try:
        for row in reader:
            starts.append(line + 1)
            rows.append(row)
            line = reader.line_num
    except csv.Error as exc:
        raise SourceFileError(
            relpath, f"broken CSV quoting: {exc}", FIX_HINT, location=f"line {line + 1}"
        ) from None
    width = max((len(r) for r in rows), default=0)
    columns = {f"c{c}": [r[c] if c < len(r) else None for r in rows] for c in range(width)}
    grid = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return clean_grid(grid), pl.Series("row", starts, dtype=pl.Int64)


def read_text_grid(
    path: Path, relpath: str, options: Mapping[str, Any] | None = None
) -> tuple[TextFormat, pl.DataFrame, pl.Series]:
    """Decode a CSV/TSV into a cleaned grid of text cells and physical line numbers.

    ``options.encoding`` / ``options.delimiter`` (svod.toml) override detection.
    """
    options = options or {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(relpath, f"cannot open the file ({exc.strerror})", FIX_HINT) from None
    configured = _codec(options.get("encoding"), relpath)
    encoding = configured or detect_encoding(data, relpath)
    if encoding.startswith("utf-8"):
        utf8 = data  # polars drops the BOM itself; no second copy of a large file
        if (configured or encoding == "utf-8-sig") and not _is_utf8(data):
            raise _decode_error(relpath, encoding)
    else:
        try:
            utf8 = data.decode(encoding).removeprefix("\ufeff").encode()
        except UnicodeDecodeError:
            raise _decode_error(relpath, encoding) from None
    del data
    head = utf8[:65536].decode("utf-8", errors="ignore").removeprefix("\ufeff")
    delimiter = str(options.get("delimiter") or "") or detect_delimiter(
        head.splitlines(), Path(relpath).suffix.lower()
    )
    try:
        grid = pl.read_csv(
            utf8, has_header=False, infer_schema=False, separator=delimiter, quote_char='"'
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
        grid = None
    if grid is not None and grid.height == _physical_lines(utf8):
        rows = pl.Series("row", range(1, grid.height + 1), dtype=pl.Int64)
        grid = clean_grid(grid)
        return TextFormat(encoding, delimiter), grid, rows
    del grid
    text = utf8.decode("utf-8").removeprefix("\ufeff")
    del utf8
    grid, rows = _csv_module_grid(text, delimiter, relpath)
    return TextFormat(encoding, delimiter, "csv"), grid, rows


def _codec(name: object, relpath: str) -> str | None:
    """A configured encoding, checked and named as Python knows it."""
    if not name:
        return None
    try:
        return codecs.lookup(str(name)).name.replace("_", "-")
    except LookupError:
        raise SourceFileError(
            relpath,
            f"unknown encoding {name!r} in options.encoding",
            "write utf-8, utf-8-sig, cp1251 or utf-16 in svod.toml",
        ) from None


def _decode_error(relpath: str, encoding: str) -> SourceFileError:
    return SourceFileError(
        relpath,
        f"the text is not valid {encoding}",
        "save the file as UTF-8 or set options.encoding in svod.toml",
    )


def _short(exc: Exception) -> str:
    """The first line of a library error, without the absolute paths it repeats."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_workbook(path: Path, relpath: str) -> Any:
    """A fastexcel reader, or a clear error for a file that is not a readable workbook."""
    import fastexcel

    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types per format problem
        raise SourceFileError(
            relpath, f"not a readable workbook ({_short(exc)})", FIX_HINT
        ) from None


def read_workbook(
    path: Path, relpath: str, sheets: list[str] | None
) -> Iterator[tuple[str, pl.DataFrame, pl.Series]]:
    """Yield (sheet name, cleaned grid, physical row numbers) for each wanted sheet."""
    reader = open_workbook(path, relpath)
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
        # skip_rows=0 keeps leading empty rows, so frame row i is Excel row i + 1
        rows = pl.Series("row", range(1, frame.height + 1), dtype=pl.Int64)
        yield name, clean_grid(frame), rows


def read_tables(file: SourceFile) -> tuple[list[TableRows], list[str], str]:
    """The tables of a file, notes for the user, and the record-id prefix (text files)."""
    suffix = file.path.suffix.lower()
    tables: list[TableRows] = []
    notes: list[str] = []
    if suffix in TEXT_SUFFIXES:
        fmt, grid, rows = read_text_grid(file.path, file.relpath, file.options)
        notes.append(f"encoding {fmt.encoding}, delimiter {fmt.delimiter!r}")
        table = make_table(file, grid, rows, None)
        tables += [table] if table else []
        prefix = f"{file.relpath}:"
    elif suffix in WORKBOOK_SUFFIXES:
        sheets = file.options.get("sheets") or None
        for sheet, grid, rows in read_workbook(file.path, file.relpath, sheets):
            table = make_table(file, grid, rows, sheet)
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
    for table in tables:
        if table.profile is not None:
            where = f" (sheet {table.sheet!r})" if table.sheet else ""
            notes.append(f"recognised as {table.profile.label}{where}")
    return tables, notes, prefix


def read(file: SourceFile) -> ReadResult:
    """Read one spreadsheet file into raw records (and quarantined blank rows)."""
    tables, notes, prefix = read_tables(file)
    frames, items = [], []
    while tables:
        table = tables.pop(0)  # free each grid once its records are built
        id_prefix = prefix or f"{file.relpath}:{table.sheet}:"
        records, rejected = table_to_records(file, table, id_prefix=id_prefix)
        frames.append(records)
        items += rejected
    records = pl.concat(frames) if frames else pl.DataFrame(schema=RAW_SCHEMA)
    return ReadResult(records=records, quarantine=quarantine_rows(file, items), notes=notes)
