"""Turn a grid of cells with a header row into raw records: shared by every tabular connector.

A grid is a polars frame of string columns ``c0..cN`` (one row per physical row of the file or
sheet). The header row is found below title and blank rows by counting cells that map to Svod
fields; columns map by the explicit ``svod.toml`` mapping first, then by a recognised CRM export
profile (``crm.py``), then by header synonyms. Columns that map to nothing are kept in ``extra``
as JSON; several columns mapping to one field are joined. The work is column-wise so a million
rows take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.schema import RAW_FIELDS, RAW_SCHEMA, field_for_header, fold_header
from pipelines.sources.base import SourceFile
from pipelines.sources.crm import KNOWN_HEADERS, Profile, detect_profile, plan_rows

Cell = str | None
HEADER_SCAN_ROWS = 30
#: Fields joined with "; " when several columns map to them; the others take the first value.
MULTI_VALUE_FIELDS = frozenset({"phone", "email", "comment", "address"})
#: Without one of these a table cannot identify anyone.
IDENTIFYING_FIELDS = frozenset(
    {"full_name", "last_name", "first_name", "phone", "email", "company", "inn"}
)
_LINEAGE_ONLY = {k: v for k, v in RAW_SCHEMA.items() if k not in RAW_FIELDS}


def clean_cell(value: object) -> Cell:
    """Strip spaces and NBSP; an empty cell is None."""
    if value is None:
        return None
    text = str(value).replace("\u00a0", " ").strip()
    return text or None


def clean_grid(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns renamed ``c0..cN``, cast to text, NBSP → space, stripped, empty → null."""
    frame = frame.rename({old: f"c{i}" for i, old in enumerate(frame.columns)})
    text = pl.all().cast(pl.String).str.replace_all("\u00a0", " ", literal=True).str.strip_chars()
    return frame.select(pl.when(text != "").then(text))


def map_headers(
    headers: Sequence[Cell], explicit: Mapping[str, str], profile: Profile | None = None
) -> list[str | None]:
    """The Svod field of each header (explicit mapping, then profile, then synonyms)."""
    folded_explicit = {fold_header(k): v for k, v in explicit.items()}
    extra = profile.mapping if profile else {}
    fields: list[str | None] = []
    for header in headers:
        if header is None:
            fields.append(None)
            continue
        key = fold_header(header)
        fields.append(folded_explicit.get(key) or extra.get(key) or field_for_header(header))
    return fields


def find_header_row(rows: Sequence[Sequence[Cell]], explicit: Mapping[str, str]) -> int | None:
    """Index of the row with the most cells that map to Svod fields, or None when none maps."""
    best, best_hits = None, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for f in map_headers(row, explicit) if f is not None)
        if hits == 0:
            continue
        hits += sum(1 for h in row if h and fold_header(h) in KNOWN_HEADERS)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def unique_names(headers: Sequence[Cell]) -> list[str]:
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
    """Data rows of one table (a cleaned grid) with their physical row numbers (1-based)."""

    headers: list[Cell]
    grid: pl.DataFrame
    row_numbers: pl.Series
    sheet: str | None
    header_row: int  # physical row number of the header
    profile: Profile | None = None


def _nonblank() -> pl.Expr:
    return pl.any_horizontal(pl.all().is_not_null())


def make_table(
    file: SourceFile, grid: pl.DataFrame, row_numbers: pl.Series, sheet: str | None
) -> TableRows | None:
    """Find the header row of a cleaned grid; None when the grid has no values at all."""
    if grid.width == 0 or grid.height == 0:
        return None
    flags = grid.select(_nonblank()).to_series()
    last = flags.arg_true()
    if last.len() == 0:
        return None
    grid, row_numbers = grid.head(last[-1] + 1), row_numbers.head(last[-1] + 1)
    head = [list(r) for r in grid.head(HEADER_SCAN_ROWS).rows()]
    header_at = find_header_row(head, file.mapping)
    where = f"sheet {sheet!r}" if sheet else None
    if header_at is None:
        first = next((r for r in head if any(r)), head[0])
        raise SourceFileError(
            file.relpath,
            f"no header maps to a Svod field in the first {HEADER_SCAN_ROWS} rows "
            f"(first row: {first[:6]})",
            "add a [sources.mapping] table to svod.toml naming which column is which",
            location=where,
        )
    headers = head[header_at]
    profile = detect_profile(headers)
    if not IDENTIFYING_FIELDS & {f for f in map_headers(headers, file.mapping, profile) if f}:
        raise SourceFileError(
            file.relpath,
            f"row {row_numbers[header_at]} has no name, phone, e-mail, company or ИНН column "
            f"({headers[:8]})",
            "add a [sources.mapping] table to svod.toml naming those columns",
            location=where,
        )
    return TableRows(
        headers=headers,
        grid=grid.slice(header_at + 1),
        row_numbers=row_numbers.slice(header_at + 1),
        sheet=sheet,
        header_row=int(row_numbers[header_at]),
        profile=profile,
    )


def _field_exprs(fields: Sequence[str | None], names: Sequence[str]) -> dict[str, pl.Expr]:
    exprs: dict[str, pl.Expr] = {}
    for field in RAW_FIELDS:
        cols = [f"c{c}" for c, f in enumerate(fields) if f == field]
        if not cols:
            continue
        if len(cols) == 1:
            exprs[field] = pl.col(cols[0])
        elif field in MULTI_VALUE_FIELDS:
            joined = pl.concat_str([pl.col(c) for c in cols], separator="; ", ignore_nulls=True)
            exprs[field] = pl.when(joined != "").then(joined)
        else:
            exprs[field] = pl.coalesce([pl.col(c) for c in cols])
    unmapped = [c for c, f in enumerate(fields) if f is None]
    if unmapped:
        exprs["extra"] = pl.struct(
            [pl.col(f"c{c}").alias(names[c]) for c in unmapped]
        ).struct.json_encode()
    return exprs


def _blank_items(table: TableRows, blank_rows: list[int], prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "source_record_id": f"{prefix}{n}",
            "source_sheet": table.sheet,
            "source_row": n,
            "reason": "empty_row",
            "detail": "the row has no values",
            "raw": {},
        }
        for n in blank_rows
    ]


def _kind_fixes(profile: Profile) -> dict[str, pl.Expr]:
    """Move a name to the right column once the row's entity kind is known."""
    is_company, is_person = pl.col("entity_kind") == "company", pl.col("entity_kind") == "person"
    no_person_name = pl.all_horizontal(
        pl.col(c).is_null() for c in ("full_name", "last_name", "first_name")
    )
    company: Any = pl.when(is_company & pl.col("company").is_null()).then(pl.col("full_name"))
    full_name: Any = pl.when(is_company & pl.col("company").is_null()).then(None)
    if profile.name_in_company:
        company = company.when(is_person & no_person_name).then(None)
        full_name = full_name.when(is_person & no_person_name).then(pl.col("company"))
    return {
        "company": company.otherwise(pl.col("company")),
        "full_name": full_name.otherwise(pl.col("full_name")),
    }


def table_to_records(
    file: SourceFile, table: TableRows, *, id_prefix: str
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Map a table to raw records; return them and quarantine items (blank, folder, repeats)."""
    profile = table.profile
    fields = map_headers(table.headers, file.mapping, profile)
    width = table.grid.width
    names = unique_names(table.headers) + [
        f"column_{i + 1}" for i in range(len(table.headers), width)
    ]
    fields += [None] * (width - len(fields))
    keep = table.grid.select(_nonblank()).to_series()
    grid = table.grid.with_columns(_row=table.row_numbers.cast(pl.Int64))
    nonblank = grid.select("_row", keep=keep)
    items = _blank_items(table, nonblank.filter(~pl.col("keep"))["_row"].to_list(), id_prefix)
    grid = grid.filter(nonblank["keep"])
    if profile is not None:
        rows = grid.drop("_row").rows()
        plan = plan_rows(profile, table.headers, fields, rows, grid["_row"].to_list(), id_prefix)
        for i, item in plan.rejected.items():
            number = grid["_row"][i]
            raw = dict(zip(names, rows[i], strict=False))
            item.update(
                source_record_id=f"{id_prefix}{number}",
                source_sheet=table.sheet,
                source_row=number,
                raw={k: v for k, v in raw.items() if v is not None},
            )
            items.append(item)
        grid = grid.with_columns(
            _id=pl.Series(plan.ids, dtype=pl.String),
            _kind=pl.Series(plan.kinds, dtype=pl.String),
        ).filter(~pl.int_range(pl.len()).is_in(list(plan.rejected)))
    else:
        grid = grid.with_columns(_id=pl.lit(id_prefix) + pl.col("_row").cast(pl.String))
    exprs = _field_exprs(fields, names)
    if profile is not None:
        kind = pl.col("_kind")
        exprs["entity_kind"] = (
            pl.coalesce(exprs["entity_kind"], kind) if "entity_kind" in exprs else kind
        )
    records = grid.select(
        record_key=pl.lit(f"{file.source}|") + pl.col("_id"),
        source=pl.lit(file.source),
        source_kind=pl.lit(file.kind),
        source_record_id=pl.col("_id"),
        source_file=pl.lit(file.relpath),
        source_sheet=pl.lit(table.sheet, dtype=pl.String),
        source_row=pl.col("_row"),
        file_sha256=pl.lit(file.sha256),
        batch_id=pl.lit(file.batch_id),
        ingested_at=pl.lit(file.ingested_at, dtype=_LINEAGE_ONLY["ingested_at"]),
        **exprs,
    )
    missing = {k: pl.lit(None, dtype=v) for k, v in RAW_SCHEMA.items() if k not in records.columns}
    records = records.with_columns(**missing)
    if profile is not None:
        records = records.with_columns(**_kind_fixes(profile))
    return records.select(list(RAW_SCHEMA)).cast(RAW_SCHEMA), items  # type: ignore[arg-type]


def describe_mapping(
    headers: Sequence[Cell], explicit: Mapping[str, str], profile: Profile | None = None
) -> list[tuple[str, str]]:
    """(header, field or 'extra') pairs for ``svod inspect``."""
    return [
        (name, field or "extra")
        for name, field in zip(
            unique_names(headers), map_headers(headers, explicit, profile), strict=False
        )
    ]
