"""The bulk path for plain full names answers exactly what the per-cell parser answers, field
for field, and leaves every unusual cell to that parser."""

from __future__ import annotations

from itertools import product

import polars as pl

from identity.normalize.name_fast import parse_given_fields, parse_plain_full
from identity.normalize.names import (
    OUTPUT_SCHEMA,
    NameParts,
    _bulk,
    _field_unit,
    normalize_names,
    parse_name,
)

SURNAMES = ["Иванов", "Петрова", "Достоевская", "Цой", "Ёлкин", "Гогоберидзе", "Римский-Корсаков"]
FIRSTS = ["Иван", "Саша", "Женя", "Анна", "Ваня", "Фёдор", "Зульфия", "Никита"]
PATRONYMICS = ["Иванович", "Сергеевна", "Ильич", "Кузьмич"]


def _plain_cells() -> list[str]:
    cells = []
    for s, f, m in product(SURNAMES, FIRSTS, PATRONYMICS):
        cells += [f"{s} {f} {m}", f"{f} {m} {s}", f"{s} {f}", f"{f} {s}", f"{f} {m}"]
        cells += [f"{s.upper()} {f.upper()} {m.upper()}", f"{s.lower()} {f.lower()}"]
    cells += ["Иван Иван", "Петров Петров Петрович"]  # the same word twice
    return sorted(set(cells))


UNUSUAL = [
    "Тест Тестов",  # junk word
    "Магазин Ромашка",  # company word
    "ИП Иванов Иван",  # sole trader
    "Алиев Рашид оглы",  # Turkic particle
    "Иванов ИИ",  # glued initials
    "Петров Водкин Кузьма Сергеевич",  # four words
    "Ыыы Ррр",  # keyboard noise
    "не указано",  # junk phrase
]


def _as_row(cell: str | None, *fields: str | None) -> dict[str, object]:
    p = parse_name(cell, *fields)
    return {
        "last_name": p.last_name,
        "first_name": p.first_name,
        "middle_name": p.middle_name,
        "first_initial": p.first_initial,
        "middle_initial": p.middle_initial,
        "first_name_canonical": p.first_name_canonical,
        "first_name_alternatives": "|".join(p.first_name_alternatives),
        "gender": p.gender,
        "last_name_key": p.last_name_key,
        "first_name_key": p.first_name_key,
        "latin_last_key": p.latin_last_key,
        "latin_first_key": p.latin_first_key,
        "name_kind": p.kind,
        "name_flags": "|".join(p.flags),
    }


def _parse_row(row: tuple[str | None, ...]) -> NameParts:
    return parse_name(*row)


def test_bulk_path_equals_the_per_cell_parse_field_for_field() -> None:
    cells = _plain_cells()
    out = parse_plain_full(pl.Series(cells + UNUSUAL), _parse_row)
    answered = set(out.get_column("full_name"))
    assert answered == set(cells)  # every plain cell answered, no unusual one
    for row in out.iter_rows(named=True):
        cell = row.pop("full_name")
        assert (row.pop("last"), row.pop("first"), row.pop("middle")) == (None, None, None)
        assert row == _as_row(cell), cell


def test_given_fields_bulk_path_equals_the_per_row_parse() -> None:
    fields = [
        *product(SURNAMES, FIRSTS, PATRONYMICS),
        *product(FIRSTS, SURNAMES, PATRONYMICS[:2]),  # swapped: flagged name_swapped
        *product(PATRONYMICS[:2], FIRSTS[:3], SURNAMES[:3]),
    ]
    unusual = [("Иванов", "ООО Ромашка", "Иванович"), ("ИП Петров", "Иван", "Ильич"),
               ("Иванов", "Иван (Ваня)", "Иванович"), ("Иванов", "Иван", "  ")]  # fmt: skip
    rows = pl.DataFrame(fields + unusual, schema=["last", "first", "middle"], orient="row")
    out = parse_given_fields(rows, _field_unit, _parse_row)
    answered = set(out.select("last", "first", "middle").iter_rows())
    assert answered == set(fields)
    flags = set()
    for row in out.iter_rows(named=True):
        key = (row.pop("full_name"), row.pop("last"), row.pop("first"), row.pop("middle"))
        assert row == _as_row(*key), key
        flags |= set(row["name_flags"].split("|"))
    assert "name_swapped" in flags


def test_normalize_names_mixes_both_paths_in_input_order() -> None:
    cells = [*UNUSUAL, *_plain_cells()[:200], None, ""]
    cells = cells + cells[::-1]
    nulls = pl.Series([None] * len(cells), dtype=pl.String)
    out = normalize_names(pl.Series(cells, dtype=pl.String), nulls, nulls, nulls)
    assert list(out.schema) == list(OUTPUT_SCHEMA)
    for cell, row in zip(cells, out.iter_rows(named=True), strict=True):
        expected = _as_row(cell) if cell is not None else _as_row("")
        for key in ("first_name_alternatives", "name_flags"):
            expected[key] = [v for v in str(expected[key]).split("|") if v]
        assert row == expected, cell


LATIN = ["Anna Maslova", "Maslova Anna", "IVAN PETROV", "Ivanov Ivan Ivanovich", "Anna Иванова"]
LATIN += ["Anna-Maria Ivanova", "Aleksey Savitskiy", "Zhenya Tsoi", "Olga Kuznetsova"]
INITIALS = [f"{s} {i}" for s in SURNAMES for i in ("И.И.", "А.", "Е. Ю.")]
INITIALS += [f"{i} {s}" for s in SURNAMES for i in ("И.И.", "Ж.")] + ["И. И.", "Анна И."]
NOT_BULK = [
    "Ивaнов Иван",  # a Latin "a" inside a Cyrillic word: homoglyphs are folded per cell
    "Test Testov",  # junk word
    "LLC Romashka",  # legal form
    "Ivanov I.I.",  # Latin initials
    "И.И.",  # initials alone
    "Иванов И.И. Петрович",  # four words
    "Иванов Ив.",  # an abbreviation, not an initial
    "Иванов, Иван",  # punctuation
]


def test_bulk_path_answers_latin_names_and_initials_as_the_per_cell_parse() -> None:
    cells = LATIN + INITIALS
    out = parse_plain_full(pl.Series(cells + NOT_BULK), _parse_row)
    assert set(out.get_column("full_name")) == set(cells)
    for row in out.iter_rows(named=True):
        cell = row.pop("full_name")
        del row["last"], row["first"], row["middle"]
        assert row == _as_row(cell), cell


#: full name, surname, first name, patronymic cells
NameRow = tuple[str | None, str, str, None]


def test_surname_and_first_name_fields_take_the_bulk_path_unless_a_cell_fills_a_gap() -> None:
    pairs = list(product(SURNAMES, FIRSTS))
    alone: list[NameRow] = [(None, s, f, None) for s, f in pairs]
    same_cell: list[NameRow] = [(f"{s} {f}", s, f, None) for s, f in pairs]
    with_patronymic: list[NameRow] = [(f"{s} {f} Ильич", s, f, None) for s, f in pairs[:10]]
    two_words: list[NameRow] = [
        (None, "Иванов", "Иван Ильич", None),
        ("Иван Ильич", "Иванов", "Иван", None),
    ]
    rows = alone + same_cell + with_patronymic + two_words
    schema = dict.fromkeys(["full_name", "last", "first", "middle"], pl.String)
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    answered = set(_bulk(frame).select("full_name", "last", "first", "middle").iter_rows())
    assert answered == set(alone + same_cell)  # the others go to the per-row parse
    out = normalize_names(*(frame.get_column(c) for c in frame.columns))
    for key, row in zip(rows, out.iter_rows(named=True), strict=True):
        expected = _as_row(*key)
        for field in ("first_name_alternatives", "name_flags"):
            expected[field] = [v for v in str(expected[field]).split("|") if v]
        assert row == expected, key


def test_parts_are_parsed_once_per_process_and_per_parser() -> None:
    calls: list[tuple[str | None, ...]] = []
    other: list[tuple[str | None, ...]] = []

    def counting(row: tuple[str | None, ...]) -> NameParts:
        calls.append(row)
        return parse_name(*row)

    def another(row: tuple[str | None, ...]) -> NameParts:
        other.append(row)
        return parse_name(*row)

    cells = pl.Series(["Иванов Иван Ильич", "Петрова Анна", "Anna Maslova"])
    first = parse_plain_full(cells, counting)
    parsed = len(calls)
    assert parsed > 0
    again = parse_plain_full(pl.Series(["Анна Петрова", "Иванов Иван Ильич"]), counting)
    assert len(calls) == parsed + 1  # only the new word order's first-name parts
    assert again.filter(pl.col("full_name") == "Иванов Иван Ильич").equals(
        first.filter(pl.col("full_name") == "Иванов Иван Ильич")
    )
    parse_plain_full(cells, another)
    assert len(other) == parsed  # another parser's parts are its own
