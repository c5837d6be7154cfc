"""Person names (ФИО): clean → parse → match keys, for whole columns.

Name cells come in every order and case ("ИВАНОВ И.И.", "Иван Иванов", "Ivanov Ivan"), with
pet forms (Саша), Latin spellings, companies and junk. We split them into surname, first name
and patronymic, infer gender, map diminutives to canonical names through a curated table
(``data/diminutives.csv``) and build keys that ignore ё/е, the feminine surname ending and
the script. Ambiguous pet forms stay ambiguous unless gender evidence resolves them.

>>> p = parse_name("ИВАНОВА А.С.")
>>> p.last_name, p.first_initial, p.middle_initial, p.gender, p.last_name_key
('Иванова', 'А', 'С', 'f', 'иванов')
>>> parse_name("Саша Петров").first_name_canonical
'Александр'
>>> parse_name("Саша").first_name_alternatives
('Александр', 'Александра')
"""

from __future__ import annotations

import polars as pl

from identity.normalize.name_cell import (
    NameParts,
    canonical_first_names,
    field_parts,
    has_text,
    parse_cell,
)
from identity.normalize.name_fast import parse_given_fields, parse_plain_full, plain_full_orders
from identity.normalize.name_parse import Unit
from identity.normalize.name_text import latin_key

__all__ = ["NameParts", "canonical_first_names", "latin_key", "normalize_names", "parse_name"]


OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "last_name": pl.String(),
    "first_name": pl.String(),
    "middle_name": pl.String(),
    "first_initial": pl.String(),
    "middle_initial": pl.String(),
    "first_name_canonical": pl.String(),
    "first_name_alternatives": pl.List(pl.String()),
    "gender": pl.String(),
    "last_name_key": pl.String(),
    "first_name_key": pl.String(),
    "latin_last_key": pl.String(),
    "latin_first_key": pl.String(),
    "name_kind": pl.String(),
    "name_flags": pl.List(pl.String()),
}
_INPUTS = ("full_name", "last", "first", "middle")


def parse_name(
    full_name: str | None,
    last: str | None = None,
    first: str | None = None,
    middle: str | None = None,
) -> NameParts:
    """Parse one name; explicit last/first/middle win over ``full_name``, which fills gaps."""
    return parse_cell(full_name, last, first, middle)


def normalize_names(
    full_name: pl.Series, last_name: pl.Series, first_name: pl.Series, middle_name: pl.Series
) -> pl.DataFrame:
    """One output row per input row, same order; each distinct input tuple is parsed once."""
    cols = (full_name, last_name, first_name, middle_name)
    if len({len(c) for c in cols}) != 1:
        lengths = ", ".join(f"{n}={len(c)}" for n, c in zip(_INPUTS, cols, strict=True))
        msg = f"normalize_names: input series differ in length ({lengths}); pass aligned columns"
        raise ValueError(msg)
    frame = pl.DataFrame({n: c.cast(pl.String) for n, c in zip(_INPUTS, cols, strict=True)})
    uniq = frame.unique(maintain_order=True)
    bulk = _bulk(uniq)
    rest = uniq.join(bulk.select(_INPUTS), on=list(_INPUTS), how="anti", nulls_equal=True)
    # Chunks keep the Python objects of at most _CHUNK parses alive at once (peak memory).
    result = pl.concat(
        [bulk]
        + [_parse_frame(rest.slice(start, _CHUNK)) for start in range(0, rest.height, _CHUNK)]
        + ([] if rest.height else [_parse_frame(rest)])
    )
    joined = frame.join(
        result, on=list(_INPUTS), how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.select(list(OUTPUT_SCHEMA))


_CHUNK = 50_000
_PY_SPACE = r"[\s\x1c-\x1f]"  # what ``str.split()`` splits on


def _bulk(uniq: pl.DataFrame) -> pl.DataFrame:
    """Distinct input tuples the bulk paths (``name_fast``) answer, beside their columns."""
    full, last, first, middle = (pl.col(c) for c in _INPUTS)
    full_only = last.is_null() & first.is_null() & middle.is_null()
    plain = parse_plain_full(uniq.filter(full_only).get_column("full_name"), _parse_row)
    # Фамилия and Имя alone (Имя one word: two are read as "Имя Отчество") parse as fields
    # too when the full-name cell has no patronymic to fill the gap with: it is absent, or
    # plain with no word in that role (what the per-cell parser does, see ``name_cell._fill_gaps``).
    two = last.is_not_null() & first.is_not_null() & middle.is_null()
    two = two & ~first.str.contains(_PY_SPACE)
    with_cell = uniq.filter(two & full.is_not_null())
    orders = plain_full_orders(with_cell.get_column("full_name"))
    no_patronymic = orders.filter(~pl.col("order").str.contains("M", literal=True))
    rows = pl.concat(
        [
            uniq.filter(last.is_not_null() & first.is_not_null() & middle.is_not_null()),
            uniq.filter(two & full.is_null()),
            with_cell.join(no_patronymic, on="full_name", how="semi"),
        ]
    )
    fields = parse_given_fields(rows, _field_unit, _parse_row)
    given = rows.join(fields.drop("full_name"), on=list(_INPUTS[1:]), how="inner", nulls_equal=True)
    return pl.concat(
        [plain.select(*_INPUTS, *OUTPUT_SCHEMA), given.select(*_INPUTS, *OUTPUT_SCHEMA)]
    ).with_columns(_split_list(c) for c in ("first_name_alternatives", "name_flags"))


def _parse_row(row: tuple[str | None, ...]) -> NameParts:
    """The per-cell parse of one input tuple (what the bulk paths ask for their parts)."""
    full_name, last, first, middle = row
    return parse_cell.__wrapped__(full_name, last, first, middle)


def _field_unit(text: str) -> tuple[bool, Unit | None]:
    """A given name field's unit, and whether it is a plain one (no flag, not junk or a company)."""
    if not has_text(text):
        return False, None
    kind, unit, flags = field_parts(text)
    return kind == "person" and unit is not None and not flags, unit


def _parse_frame(uniq: pl.DataFrame) -> pl.DataFrame:
    """Distinct input tuples beside their parsed columns."""
    parsed = [parse_cell.__wrapped__(*row) for row in uniq.iter_rows()]
    values = {
        "last_name": [p.last_name for p in parsed],
        "first_name": [p.first_name for p in parsed],
        "middle_name": [p.middle_name for p in parsed],
        "first_initial": [p.first_initial for p in parsed],
        "middle_initial": [p.middle_initial for p in parsed],
        "first_name_canonical": [p.first_name_canonical for p in parsed],
        "first_name_alternatives": ["|".join(p.first_name_alternatives) for p in parsed],
        "gender": [p.gender for p in parsed],
        "last_name_key": [p.last_name_key for p in parsed],
        "first_name_key": [p.first_name_key for p in parsed],
        "latin_last_key": [p.latin_last_key for p in parsed],
        "latin_first_key": [p.latin_first_key for p in parsed],
        "name_kind": [p.kind for p in parsed],
        "name_flags": ["|".join(p.flags) for p in parsed],
    }
    joined_schema = {k: pl.String() for k in OUTPUT_SCHEMA}
    return uniq.hstack(
        pl.DataFrame(values, schema=joined_schema).with_columns(
            _split_list(c) for c in ("first_name_alternatives", "name_flags")
        )
    )


def _split_list(column: str) -> pl.Expr:
    """ "a|b" → ["a", "b"], "" → []: far faster than building List columns from Python lists."""
    col = pl.col(column)
    empty = pl.lit([], dtype=pl.List(pl.String()))
    return pl.when(col == "").then(empty).otherwise(col.str.split("|")).alias(column)
