"""A staged row's quality flags: every field's flags, field after field, each flag once."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_series_equal

from pipelines.schema import RAW_SCHEMA
from pipelines.staging import normalize_records, quality_flags

FLAGS = pl.List(pl.String)


def _row_by_row(columns: list[pl.Series]) -> pl.Series:
    """The obvious definition, one row at a time."""
    rows = zip(*(c.to_list() for c in columns), strict=True)
    merged = [list(dict.fromkeys(f for field in row for f in field or [])) for row in rows]
    return pl.Series("quality_flags", merged, dtype=FLAGS)


def test_flags_keep_field_order_and_drop_repeats() -> None:
    names = pl.Series([["b", "a"], [], ["x"], [], None], dtype=FLAGS)
    phones = pl.Series([["c"], [], ["x", "y"], ["a"], []], dtype=FLAGS)
    emails = pl.Series([["a", "d"], [], [], [], []], dtype=FLAGS)
    got = quality_flags([names, phones, emails], 5).to_series()
    assert got.to_list() == [["b", "a", "c", "d"], [], ["x", "y"], ["a"], []]
    assert_series_equal(got, _row_by_row([names, phones, emails]))


def test_flags_of_no_rows_and_of_rows_without_flags() -> None:
    assert quality_flags([pl.Series([], dtype=FLAGS)] * 3, 0).to_series().dtype == FLAGS
    empty = pl.Series([[], [], []], dtype=FLAGS)
    assert quality_flags([empty, empty], 3).to_series().to_list() == [[], [], []]


def test_normalised_records_carry_every_fields_flags_in_order() -> None:
    given = {
        "full_name": ["ИВАНОВ И.И.", "Тест Тестов", None, "Anna Maslova"],
        "phone": ["8-916-79", "8 916 482-17-35, 8 916 482-17-36", None, "нет"],
        "email": ["ivan@gmial.com; ivan@gmial.com", "test@test.ru", None, "x@mail.ru"],
        "inn": ["123", None, None, None],
    }
    raw = pl.DataFrame(given).with_columns(
        pl.lit(None, t).alias(c) for c, t in RAW_SCHEMA.items() if c not in given
    )
    out = normalize_records(raw.select(list(RAW_SCHEMA)), threads=False)
    assert out.get_column("quality_flags").to_list() == [
        ["name_initials", "phone_invalid", "email_domain_typo", "inn_invalid"],
        ["name_junk", "phone_multiple", "email_test"],
        [],
        ["name_latin", "name_order_fms", "phone_junk", "email_test"],
    ]
