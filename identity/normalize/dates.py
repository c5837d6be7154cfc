"""Birth dates: clean → parse → plausibility.

Exports carry every date shape at once: `12.03.1985` from 1C, `1985-03-12 00:00:00` from a
pandas round-trip, `31118` from an Excel cell formatted as a number, `12 марта 1985 г.` typed
by hand. Day-first is assumed everywhere (Russian usage). A date that cannot be a birth date
is nulled with a flag saying why.

>>> parse_birth_date("12 мар. 1985 г.", today=date(2026, 1, 1))
DateCell(value=datetime.date(1985, 3, 12), flags=())
>>> parse_birth_date("31.02.1990").flags
('birth_date_impossible',)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

MAX_AGE_YEARS = 110
_SEP = "\x1f"
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0, after its 1900 leap-year bug
_ONE_C_EMPTY = date(1, 1, 1)  # 1C writes "01.01.0001" for an empty date

_TIME = r"(?:[t\s]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
_DMY = re.compile(r"^(\d{1,2})[./\-\s](\d{1,2})[./\-\s](\d{4}|\d{2})" + _TIME + "$")
_YMD = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})" + _TIME + "$")
_WORDS = re.compile(r"^(\d{1,2})\s*([а-яa-z]+)\.?,?\s*(\d{4})$")
_SERIAL = re.compile(r"^(\d{5})(?:[.,]0+)?$")
_YEAR_SUFFIX = re.compile(r"\s*(?:г\.?|года?)\s*$")
_MONTHS = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7,
    "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DateCell:
    """A plausible birth date, or None with a flag explaining why."""

    value: date | None = None
    flags: tuple[str, ...] = ()


_EMPTY = DateCell()


def _year(text: str, today: date) -> int:
    """Four digits as is; two digits pivot on the current year (`85` → 1985, `05` → 2005)."""
    if len(text) == 4:
        return int(text)
    yy = int(text)
    return 1900 + yy if yy > today.year % 100 else 2000 + yy


def _month(word: str) -> int | None:
    return _MONTHS.get(word[:3]) if len(word) >= 3 else None


def _parts(text: str, today: date) -> tuple[int, int, int] | date | None:
    """(year, month, day) as written, a date for Excel serials, or None when unreadable."""
    if m := _DMY.match(text):
        return _year(m.group(3), today), int(m.group(2)), int(m.group(1))
    if m := _YMD.match(text):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _WORDS.match(text):
        month = _month(m.group(2))
        return None if month is None else (int(m.group(3)), month, int(m.group(1)))
    if m := _SERIAL.match(text):
        return _EXCEL_EPOCH + timedelta(days=int(m.group(1)))
    return None


def parse_birth_date(raw: str | None, *, today: date | None = None) -> DateCell:
    """Parse one raw birth-date cell; impossible, future and implausible dates become None."""
    if raw is None:
        return _EMPTY
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    text = _YEAR_SUFFIX.sub("", text)
    if not text:
        return _EMPTY
    today = today or date.today()
    parts = _parts(text, today)
    if parts is None:
        return DateCell(None, ("birth_date_invalid",))
    if isinstance(parts, date):
        value = parts
    else:
        try:
            value = date(*parts)
        except ValueError:
            return DateCell(None, ("birth_date_impossible",))
    if value == _ONE_C_EMPTY:
        return _EMPTY
    if value > today:
        return DateCell(None, ("birth_date_future",))
    if (today.year - value.year) - ((today.month, today.day) < (value.month, value.day)) > (
        MAX_AGE_YEARS
    ):
        return DateCell(None, ("birth_date_implausible",))
    return DateCell(value)


def normalize_birth_dates(values: pl.Series) -> pl.DataFrame:
    """Vectorised `parse_birth_date`: one row per input row, same order, each distinct value
    parsed once. Date-typed input is accepted (cast to ISO strings first)."""
    raw = values.cast(pl.String).rename("raw")
    uniques = raw.drop_nulls().unique().to_list()
    today = date.today()
    cells = [parse_birth_date(r, today=today) for r in uniques]
    lookup = pl.DataFrame(
        {
            "raw": uniques,
            "birth_date": [c.value for c in cells],
            "birth_date_flags": [_SEP.join(c.flags) or None for c in cells],
        },
        schema={"raw": pl.String, "birth_date": pl.Date, "birth_date_flags": pl.String},
    )
    joined = raw.to_frame().join(lookup, on="raw", how="left", maintain_order="left")
    return joined.select("birth_date", pl.col("birth_date_flags").str.split(_SEP).fill_null([]))
