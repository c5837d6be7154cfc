"""Birth-date cells from 1C, CRMs, Excel and web forms."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from identity.normalize.dates import normalize_birth_dates, parse_birth_date

TODAY = date(2026, 6, 1)
D = date(1985, 3, 12)

CASES: list[tuple[str | None, date | None, list[str]]] = [
    (None, None, []),
    ("", None, []),
    ("   ", None, []),
    ("12.03.1985", D, []),
    ("12.3.1985", D, []),
    (" 12.03.1985 ", D, []),
    ("12.03.85", D, []),
    ("12.03.05", date(2005, 3, 12), []),  # 05 ≤ 26: this century
    ("12.03.27", date(1927, 3, 12), []),  # 27 > 26: last century
    ("1985-03-12", D, []),
    ("1985-03-12T00:00:00", D, []),
    ("1985-03-12T00:00:00.000+03:00", D, []),
    ("1985-03-12 00:00:00", D, []),  # polars / pandas datetime as text
    ("12.03.1985 0:00:00", D, []),  # 1C
    ("12/03/1985", D, []),  # day first
    ("12-03-1985", D, []),
    ("1985.03.12", D, []),
    ("12 марта 1985", D, []),
    ("12 мар. 1985 г.", D, []),
    ("12 Марта 1985 года", D, []),
    ("12 мая 1985", date(1985, 5, 12), []),
    ("1 января 2000 г", date(2000, 1, 1), []),
    ("12 March 1985", D, []),
    ("31118", D, []),  # Excel serial
    ("31118.0", D, []),
    ("29.02.2000", date(2000, 2, 29), []),
    ("01.01.0001 0:00:00", None, []),  # 1C empty date
    ("31.02.1990", None, ["birth_date_impossible"]),
    ("29.02.1999", None, ["birth_date_impossible"]),
    ("12.13.1985", None, ["birth_date_impossible"]),
    ("00.00.0000", None, ["birth_date_impossible"]),
    ("01.01.2030", None, ["birth_date_future"]),
    ("02.06.2026", None, ["birth_date_future"]),
    ("01.01.1900", None, ["birth_date_implausible"]),
    ("1985", None, ["birth_date_invalid"]),  # a year alone
    ("abc", None, ["birth_date_invalid"]),
    ("не помню", None, ["birth_date_invalid"]),
    ("12 абв 1985", None, ["birth_date_invalid"]),
    # Known-bad, kept: US month-first dates are read day-first and rejected.
    ("03/31/1985", None, ["birth_date_impossible"]),
    # Known-bad, kept: only the first three letters of a month word are checked.
    ("12 мартабря 1985", D, []),
]


@pytest.mark.parametrize(("raw", "value", "flags"), CASES)
def test_parse_birth_date(raw, value, flags):
    cell = parse_birth_date(raw, today=TODAY)
    assert (cell.value, list(cell.flags)) == (value, flags)


def test_vectorised_agrees_with_per_value():
    # normalize_birth_dates uses the real today; these cases do not depend on it.
    stable = [c for c in CASES if c[0] not in ("02.06.2026", "12.03.27")]
    out = normalize_birth_dates(pl.Series([c[0] for c in stable], dtype=pl.String))
    assert out.schema == {"birth_date": pl.Date, "birth_date_flags": pl.List(pl.String)}
    for row, (raw, value, flags) in zip(out.iter_rows(), stable, strict=True):
        assert row == (value, flags), raw


def test_vectorised_keeps_order_length_and_nulls():
    out = normalize_birth_dates(pl.Series([None, "12.03.1985", None, "x"]))
    assert out["birth_date"].to_list() == [None, D, None, None]
    assert out["birth_date_flags"].to_list() == [[], [], [], ["birth_date_invalid"]]


def test_date_typed_input():
    out = normalize_birth_dates(pl.Series([D, None], dtype=pl.Date))
    assert out["birth_date"].to_list() == [D, None]
