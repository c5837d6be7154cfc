"""The bulk path for the commonest name cells: a plain full name of two or three words
(Cyrillic or Latin words, or initials as in "Иванов И.И."), or Фамилия/Имя(/Отчество) fields.

Most distinct name cells are "Фамилия Имя Отчество" typed cleanly, and each one is distinct
(thousands of surnames times first names times patronymics), so caching whole cells does not
help. But the parse of such a cell splits into parts that depend on little: the surname's
columns on the surname alone, the patronymic's on the patronymic, and everything else
(gender, canonical first name, match keys, flags) on the first name, the gender evidence of
the other two words, the word order and whether any word is Latin. Here the word order comes
from the same scores ``assign_full`` uses, each part is computed once by the real parser on one
representative cell, and polars joins the parts back. Cells with anything unusual (junk,
company or sole-trader words, Turkic particles, glued initials, four words) are left to the
per-cell parser; a test checks both paths agree. Parts are kept per process (``_PARTS``), so
a worker parses a surname's columns once for all the slices it stages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import polars as pl

from identity.normalize.name_lexicon import (
    COMPANY_WORDS,
    JUNK_WORDS,
    SOLE_TRADER_PHRASES,
    SOLE_TRADER_WORDS,
)
from identity.normalize.name_parse import (
    Unit,
    best_fields_order,
    best_order,
    make_unit,
    plain_token,
    token_shape,
)
from identity.normalize.name_text import fold

_SPECIAL = COMPANY_WORDS | SOLE_TRADER_WORDS | {w for phrase in SOLE_TRADER_PHRASES for w in phrase}
# The words of a cell ``name_parse.tokenize`` would leave as they are, split on single spaces:
# one script per word (so no homoglyph folding applies) and no punctuation but inner hyphens
# and the dot of an initial ("Иванов И.И." is the words "Иванов", "И.", "И.").
_CYR_WORD = r"[А-ЯЁа-яё]{2,}(?:-[А-ЯЁа-яё]{2,})*"
_LAT_WORD = r"[A-Za-z]{2,}(?:-[A-Za-z]{2,})*"
_INITIAL = r"[А-ЯЁ]\."
WORD = f"{_CYR_WORD}|{_LAT_WORD}|{_INITIAL}"
_ITEM = f"(?:{_CYR_WORD}|{_LAT_WORD}|(?:{_INITIAL}){{1,2}})"
BULK_CELL = f"^{_ITEM}(?: {_ITEM})+$"
_POS = ("t0", "t1", "t2")
_CORE = ("f", "ext_gender", "pflag", "no_s", "no_m", "m_initial", "latin")
_INPUT_COLS = ("full_name", "last", "first", "middle")
_CORE_FIELDS = (
    "first_name_canonical",
    "first_name_alternatives",
    "gender",
    "first_name_key",
    "latin_first_key",
    "name_flags",
)
_ROLE_FIELDS = {
    "s": ("last_name", "last_name_key", "latin_last_key"),
    "f": ("first_name", "first_initial"),
    "m": ("middle_name", "middle_initial"),
}


ParseRow = Callable[[tuple[str | None, ...]], "Parts"]


class Parts(Protocol):
    """What the per-cell parser returns (``names.NameParts``); other fields are read by name."""

    @property
    def first_name_alternatives(self) -> tuple[str, ...]: ...

    @property
    def flags(self) -> tuple[str, ...]: ...


def _value(parts: Parts, name: str) -> str | None:
    if name == "first_name_alternatives":
        return "|".join(parts.first_name_alternatives)
    if name == "name_flags":
        return "|".join(parts.flags)
    value: str | None = getattr(parts, name)
    return value


UnitOf = Callable[[str], "tuple[bool, Unit | None]"]


def _plain_unit(tok: str) -> tuple[bool, Unit | None]:
    """A word of a plain cell: its unit, and whether nothing about it needs the full parser.

    Junk, legal-form and noise checks see an initial without its dot, as the parser does.
    """
    turkic, glued = token_shape(tok)
    bare = tok.rstrip(".")
    junk, mash = plain_token(bare)
    special = junk or fold(bare) in _SPECIAL or turkic or glued
    return not special and not mash, make_unit(tok)


def _facts(values: list[str], unit_of: UnitOf) -> pl.DataFrame:
    """Per distinct value: may it take the bulk path, its score id, script, gender evidence."""
    rows: list[tuple[object, ...]] = []
    for value in values:
        ok, unit = unit_of(value)
        if unit is None:
            rows.append((value, False, None, None, None, None, None))
            continue
        info = unit.info
        surname_gender = info.surn_gender or (
            info.morph_gender if info.morph == "Surn" and info.morph_gender else None
        )
        rows.append(
            (value, ok, unit.score_id, unit.latin, unit.initial, surname_gender,
             info.patr_gender or None)
        )  # fmt: skip
    schema = {
        "tok": pl.String, "ok": pl.Boolean, "sid": pl.Int64, "latin": pl.Boolean,
        "initial": pl.Boolean, "s_gender": pl.String, "m_gender": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


OrderOf = Callable[[tuple[int, ...]], tuple[str, str]]


def _plain_order(score_ids: tuple[int, ...]) -> tuple[str, str]:
    """``assign_full``'s order for the words of a plain cell, and the flag it gives."""
    order = best_order(score_ids)
    fms = "F" in order and "S" in order and order.index("F") < order.index("S")
    return order, "name_order_fms" if fms else ""


def _fields_order(score_ids: tuple[int, ...]) -> tuple[str, str]:
    """``assign_fields``'s order for given Фамилия, Имя (, Отчество), and the flag it gives."""
    given = ("S", "F", "M")[: len(score_ids)]
    best = best_fields_order(given, score_ids)
    return "".join(best), "name_swapped" if best != given else ""


def _orders(keys: pl.DataFrame, order_of: OrderOf) -> pl.DataFrame:
    """The role order ("SFM": the role of each position) and its flag, per score ids."""
    rows = [(*ids, *order_of(tuple(i for i in ids if i is not None))) for ids in keys.iter_rows()]
    schema = {"sid0": pl.Int64, "sid1": pl.Int64, "sid2": pl.Int64, "order": pl.String,
              "pflag": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _role(letter: str) -> pl.Expr:
    order = pl.col("order")
    return (
        pl.when(order.str.slice(0, 1) == letter)
        .then(pl.col("t0"))
        .when(order.str.slice(1, 1) == letter)
        .then(pl.col("t1"))
        .when(order.str.slice(2, 1) == letter)
        .then(pl.col("t2"))
    )


def _evidence(role: str, column: str) -> pl.Expr:
    """The gender evidence ``column`` of the word in ``role`` (null when no word has it)."""
    return pl.coalesce(
        pl.when(pl.col(role) == pl.col(p)).then(pl.col(f"{column}{i}")) for i, p in enumerate(_POS)
    )


#: Parts already computed in this process, by (parser, path, fields, key): slices of one
#: batch share most surnames and first names (a worker meets ~23,000 keys at 1M rows, ~10 MB).
#: Cleared when full (~500 bytes a key).
_PARTS: dict[tuple[object, ...], tuple[str | None, ...]] = {}
_PARTS_MAX = 1 << 16


def _parts_by(
    frame: pl.DataFrame, key: list[str], fields: tuple[str, ...], parse: ParseRow, path: object
) -> pl.DataFrame:
    """``fields`` of the real parse of one representative row per distinct ``key``."""
    reps = frame.unique(subset=key, keep="first", maintain_order=True)
    keys = reps.select(key)
    rows: list[tuple[str | None, ...]] = []
    for k, row in zip(keys.iter_rows(), reps.select(_INPUT_COLS).iter_rows(), strict=True):
        memo = (parse, path, fields, k)
        parts = _PARTS.get(memo)
        if parts is None:
            parsed = parse(row)
            parts = _PARTS[memo] = tuple(_value(parsed, f) for f in fields)
        rows.append(parts)
    if len(_PARTS) > _PARTS_MAX:
        _PARTS.clear()
    schema = dict.fromkeys(fields, pl.String)
    return keys.hstack(pl.DataFrame(rows, schema=schema, orient="row"))


def _ordered(frame: pl.DataFrame, unit_of: UnitOf, order_of: OrderOf) -> pl.DataFrame:
    """The rows of ``frame`` (words ``t0``–``t2``) that qualify, with their words' facts and
    role ``order``."""
    words = pl.concat([frame.get_column(p) for p in _POS]).drop_nulls().unique().sort()
    facts = _facts(words.to_list(), unit_of)
    for i, p in enumerate(_POS):
        renamed = facts.rename({c: f"{c}{i}" for c in facts.columns})
        frame = frame.join(renamed, left_on=p, right_on=f"tok{i}", how="left")
    ok = pl.all_horizontal(pl.col(p).is_null() | pl.col(f"ok{i}") for i, p in enumerate(_POS))
    frame = frame.filter(ok)
    ids = ["sid0", "sid1", "sid2"]
    orders = _orders(frame.select(ids).unique(), order_of)
    return frame.join(orders, on=ids, how="left", nulls_equal=True)


def _assemble(
    frame: pl.DataFrame, unit_of: UnitOf, order_of: OrderOf, parse: ParseRow
) -> pl.DataFrame:
    """Parsed columns of the rows of ``frame`` (inputs and words ``t0``–``t2``) that qualify."""
    frame = _ordered(frame, unit_of, order_of)
    frame = frame.with_columns(s=_role("S"), f=_role("F"), m=_role("M"))
    frame = frame.with_columns(
        ext_gender=pl.coalesce(_evidence("m", "m_gender"), _evidence("s", "s_gender")),
        no_s=pl.col("s").is_null(),
        no_m=pl.col("m").is_null(),
        m_initial=_evidence("m", "initial"),
        latin=pl.any_horizontal(pl.col(f"latin{i}").fill_null(False) for i in range(3)),
    )
    out = frame.select(*_INPUT_COLS, "s", "m", *_CORE)
    core = _parts_by(frame, list(_CORE), _CORE_FIELDS, parse, order_of)
    joined = out.join(core, on=list(_CORE), how="left", nulls_equal=True)
    for role, fields in _ROLE_FIELDS.items():
        present = frame.filter(pl.col(role).is_not_null())
        parts = _parts_by(present, [role], fields, parse, order_of)
        joined = joined.join(parts, on=role, how="left")
    return joined.with_columns(name_kind=pl.lit("person")).drop("s", "f", "m", *_CORE[1:])


def parse_plain_full(cells: pl.Series, parse: ParseRow) -> pl.DataFrame:
    """Parsed columns (lists still "|"-joined) of the distinct cells this path can answer.

    ``cells`` are full-name cells with no separate name fields; ``parse`` is the per-row
    parser (full, last, first, middle). Rows it leaves out must go to that parser. Cells of
    two or three words qualify (Cyrillic or Latin words, initials as in "Иванов И.И.").
    """
    return _assemble(_plain_cells(cells), _plain_unit, _plain_order, parse)


def _plain_cells(cells: pl.Series) -> pl.DataFrame:
    """The distinct cells of two or three plain words, split into words ``t0``–``t2``."""
    return (
        cells.unique().drop_nulls().to_frame("full_name")
        .filter(pl.col("full_name").str.contains(BULK_CELL))
        .with_columns(words=pl.col("full_name").str.extract_all(WORD))
        .filter(pl.col("words").list.len() <= 3)
        .filter(~pl.col("full_name").str.to_lowercase().str.replace_all("ё", "е")
                .str.strip_chars(" .-").is_in(sorted(JUNK_WORDS)))
        .with_columns(pl.col("words").list.get(i, null_on_oob=True).alias(p)
                      for i, p in enumerate(_POS))
        .with_columns(pl.lit(None, pl.String).alias(c) for c in _INPUT_COLS[1:])
    )  # fmt: skip


def plain_full_orders(cells: pl.Series) -> pl.DataFrame:
    """(full_name, order) for the distinct cells ``parse_plain_full`` answers: the role of each
    word ("SF": surname, first name), as the per-cell parser assigns them."""
    return _ordered(_plain_cells(cells), _plain_unit, _plain_order).select("full_name", "order")


def parse_given_fields(rows: pl.DataFrame, unit_of: UnitOf, parse: ParseRow) -> pl.DataFrame:
    """The same for distinct (last, first, middle) rows with Фамилия and Имя given.

    The caller passes rows whose full-name cell cannot fill a gap (every role given, or no
    cell), so it is not read (``full_name`` is null in the answer); ``unit_of`` is the
    per-field cleaner (``name_cell.field_parts``' unit).
    """
    frame = (
        rows.select(_INPUT_COLS[1:]).unique().drop_nulls(list(_INPUT_COLS[1:3]))
        .with_columns(pl.lit(None, pl.String).alias("full_name"))
        .with_columns(pl.col(c).alias(p) for c, p in zip(_INPUT_COLS[1:], _POS, strict=True))
    )  # fmt: skip
    return _assemble(frame, unit_of, _fields_order, parse)
