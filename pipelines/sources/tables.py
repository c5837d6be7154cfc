"""Turn a grid of cells with a header row into raw records: shared by every tabular connector.

The header row is found below title and blank rows by counting cells that map to Svod fields;
columns map by the explicit ``svod.toml`` mapping first, then by header synonyms. Columns that map
to nothing are kept in ``extra`` as JSON; several columns mapping to one field are joined.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.schema import RAW_FIELDS, RAW_SCHEMA, field_for_header, fold_header
from pipelines.sources.base import SourceFile, record_key

Cell = str | None
HEADER_SCAN_ROWS = 30
#: Fields joined with "; " when several columns map to them; the others take the first value.
MULTI_VALUE_FIELDS = frozenset({"phone", "email", "comment", "address"})
#: Without one of these a table cannot identify anyone.
IDENTIFYING_FIELDS = frozenset(
    {"full_name", "last_name", "first_name", "phone", "email", "company", "inn"}
)


def clean_cell(value: object) -> Cell:
    """Strip spaces and NBSP; an empty cell is None."""
    if value is None:
        return None
    text = str(value).replace("\u00a0", " ").strip()
    return text or None


def map_headers(headers: Sequence[Cell], explicit: Mapping[str, str]) -> list[str | None]:
    """The Svod field of each header (explicit mapping wins), None where it maps to nothing."""
    folded_explicit = {fold_header(k): v for k, v in explicit.items()}
    fields: list[str | None] = []
    for header in headers:
        if header is None:
            fields.append(None)
            continue
        fields.append(folded_explicit.get(fold_header(header)) or field_for_header(header))
    return fields


def find_header_row(rows: Sequence[Sequence[Cell]], explicit: Mapping[str, str]) -> int | None:
    """Index of the row with the most cells that map to Svod fields, or None when none maps."""
    best, best_hits = None, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for f in map_headers(row, explicit) if f is not None)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def _unique_names(headers: Sequence[Cell]) -> list[str]:
    """Header texts made unique (a blank header becomes ``column_N``)."""
    seen: dict[str, int] = {}
    names = []
    for i, header in enumerate(headers):
        name = header or f"column_{i + 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name} ({count + 1})")
    return names


@dataclass
class TableRows:
    """Data rows of one table with their physical row numbers (1-based)."""

    headers: list[Cell]
    rows: list[list[Cell]]
    row_numbers: list[int]
    sheet: str | None


def table_to_records(
    file: SourceFile, table: TableRows, *, id_prefix: str
) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    """Map a table to raw records; return them and the quarantine items for blank rows."""
    fields = map_headers(table.headers, file.mapping)
    names = _unique_names(table.headers)
    width = max([len(table.headers), *(len(r) for r in table.rows)], default=0)
    names += [f"column_{i + 1}" for i in range(len(names), width)]
    fields += [None] * (width - len(fields))

    keep: list[int] = []
    quarantine: list[dict[str, object]] = []
    for i, row in enumerate(table.rows):
        if any(cell is not None for cell in row):
            keep.append(i)
        else:
            quarantine.append(
                {
                    "source_record_id": f"{id_prefix}{table.row_numbers[i]}",
                    "source_sheet": table.sheet,
                    "source_row": table.row_numbers[i],
                    "reason": "empty_row",
                    "detail": "the row has no values",
                    "raw": {},
                }
            )
    columns = [
        [table.rows[i][c] if c < len(table.rows[i]) else None for i in keep] for c in range(width)
    ]
    grid = pl.DataFrame(
        {f"c{c}": columns[c] for c in range(width)},
        schema={f"c{c}": pl.String() for c in range(width)},
    )
    rownums = [table.row_numbers[i] for i in keep]
    exprs: dict[str, pl.Expr] = {}
    for field in RAW_FIELDS:
        cols = [f"c{c}" for c in range(width) if fields[c] == field]
        if not cols:
            continue
        if len(cols) == 1:
            exprs[field] = pl.col(cols[0])
        elif field in MULTI_VALUE_FIELDS:
            joined = pl.concat_str([pl.col(c) for c in cols], separator="; ", ignore_nulls=True)
            exprs[field] = pl.when(joined == "").then(None).otherwise(joined)
        else:
            exprs[field] = pl.coalesce([pl.col(c) for c in cols])
    unmapped = [c for c in range(width) if fields[c] is None]
    if unmapped:
        exprs["extra"] = pl.struct(
            [pl.col(f"c{c}").alias(names[c]) for c in unmapped]
        ).struct.json_encode()
    mapped = grid.select(**exprs) if exprs else pl.DataFrame(height=grid.height)
    record_ids = [f"{id_prefix}{n}" for n in rownums]
    lineage = pl.DataFrame(
        {
            "record_key": [record_key(file.source, r) for r in record_ids],
            "source": file.source,
            "source_kind": file.kind,
            "source_record_id": record_ids,
            "source_file": file.relpath,
            "source_sheet": table.sheet,
            "source_row": rownums,
            "file_sha256": file.sha256,
            "batch_id": file.batch_id,
            "ingested_at": file.ingested_at,
        },
        schema={k: RAW_SCHEMA[k] for k in RAW_SCHEMA if k not in RAW_FIELDS},
    )
    records = pl.concat([lineage, mapped], how="horizontal")
    missing = {k: pl.lit(None, dtype=v) for k, v in RAW_SCHEMA.items() if k not in records.columns}
    return records.with_columns(**missing).select(list(RAW_SCHEMA)), quarantine


def describe_mapping(headers: Sequence[Cell], explicit: Mapping[str, str]) -> list[tuple[str, str]]:
    """(header, field or 'extra') pairs for ``svod inspect``."""
    return [
        (name, field or "extra")
        for name, field in zip(_unique_names(headers), map_headers(headers, explicit), strict=False)
    ]


def dumps_row(headers: Sequence[str], row: Sequence[Cell]) -> str:
    """A row as a JSON object keyed by header, for quarantine ``raw``."""
    return json.dumps(dict(zip(headers, row, strict=False)), ensure_ascii=False)
