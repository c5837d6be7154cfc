"""Phone cells: clean → parse → E.164 match keys.

A CRM or 1C phone cell is free text: several numbers, extensions spelled in Russian, Excel
floats, a messenger name after the number. We clean what phonenumbers rejects (see
ECOSYSTEM §0.8 and §E1), parse every number we can, and flag what we drop so the caller can
keep the raw cell.

>>> parse_phone_cell("8 (916) 234-56-78 доп. 12").numbers[0]
Phone(e164='+79162345678', kind='mobile', extension='12', region='RU')
>>> parse_phone_cell("+7 999 000-00-00").flags
('phone_junk',)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers as pn
import polars as pl

from identity.normalize.phones_fast import (
    JUNK_SUBSCRIBERS,
    RU_MOBILE_SHAPE,
    RUNS,
    SEP,
    fast_ru,
    fast_short,
)

FLAG_ORDER = (
    "phone_invalid",
    "phone_junk",
    "phone_truncated",
    "phone_unallocated",
    "phone_multiple",
    "phone_extension",
)
_OUTPUT_SCHEMA = {
    "phones": pl.List(pl.String),
    "phone_types": pl.List(pl.String),
    "phone_exts": pl.List(pl.String),
    "phone_flags": pl.List(pl.String),
}


@dataclass(frozen=True, slots=True)
class Phone:
    """One parsed number: E.164 without extension, coarse kind, extension, ISO region."""

    e164: str
    kind: str
    extension: str | None
    region: str


@dataclass(frozen=True, slots=True)
class PhoneCell:
    """Every number found in one raw cell, plus cell-level flags."""

    numbers: tuple[Phone, ...] = ()
    flags: tuple[str, ...] = ()


_EMPTY = PhoneCell()

# phonenumbers knows "доб." but not these spellings of an extension.
_EXT_WORDS = re.compile(r"(?i)\b(?:добавочный|внутренний|внутр|доб|доп|вн)\b\.?\s*(?=\d)")
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
SEPARATORS = re.compile(r"[,;/|\\\n]|\s+(?:или|or|и)\s+", re.IGNORECASE)
# Two numbers separated only by spaces: cut before a second full "+7/8 (xxx) xxx-xx-xx".
_SECOND_NUMBER = re.compile(
    r"\s+(?=(?:\+7|\+8|8)\s*\(?\s*\d{3}\s*\)?[\s\-]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d))"
)
_EXCEL_INT = re.compile(r"^(\+?\d{5,})[.,]0+$")
_EXCEL_SCI = re.compile(r"^(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})$")
_PLUS_EIGHT = re.compile(r"^\+8(?=[\s(\-]|9)")
_NON_DIGITS = re.compile(r"\D")

_RU_MOBILE = re.compile(RU_MOBILE_SHAPE)
# An extension split from its number by a comma or put in brackets: "…-06, доб. 247".
_DETACHED_EXT = re.compile(r"[\s,;(]+доб\.\s*(\d{1,6})\s*\)?")

_KINDS = {
    pn.PhoneNumberType.MOBILE: "mobile",
    pn.PhoneNumberType.FIXED_LINE: "fixed",
    pn.PhoneNumberType.TOLL_FREE: "toll_free",
    pn.PhoneNumberType.VOIP: "voip",
}


def is_junk_digits(digits: str) -> bool:
    """True for placeholder digit strings: one repeated digit, `…000-00-00`, `1234567`, runs."""
    if not digits or len(set(digits)) == 1:
        return True
    subscriber = digits[-7:]
    return subscriber in JUNK_SUBSCRIBERS or any(run in digits for run in RUNS)


def _clean(raw: str) -> str:
    """NFKC, one kind of space, extension words phonenumbers understands."""
    text = unicodedata.normalize("NFKC", raw).replace("\n", ";")  # a line per number
    text = _SPACES.sub(" ", text).strip(" ;")
    return _DETACHED_EXT.sub(r" доб. \1", _EXT_WORDS.sub(" доб. ", text))


def _excel_repair(text: str) -> tuple[str, bool]:
    """Undo Excel number formatting; the bool is True when digits were lost (`9.16E+09`)."""
    if m := _EXCEL_INT.match(text):
        return m.group(1), False
    if m := _EXCEL_SCI.match(text):
        lead, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
        if len(frac) < exp:
            return "", True
        if len(frac) == exp:
            return lead + frac, False
    return text, False


def _kind(number: pn.PhoneNumber) -> str:
    if is_unallocated_mobile(number):
        return "mobile"
    kind = pn.number_type(number)
    if kind == pn.PhoneNumberType.FIXED_LINE_OR_MOBILE:
        national = str(number.national_number)
        return "mobile" if number.country_code == 7 and national.startswith("9") else "fixed"
    return _KINDS.get(kind, "other")


def is_unallocated_mobile(number: pn.PhoneNumber) -> bool:
    """A well-formed +7 9xx number in a range phonenumbers' metadata does not (yet) list."""
    return (
        number.country_code == 7
        and _RU_MOBILE.match(str(number.national_number)) is not None
        and not pn.is_valid_number(number)
    )


def _parse_part(part: str, region: str) -> list[pn.PhoneNumber]:
    """Valid numbers in one separator-delimited chunk: strict parse first, then the matcher."""
    part = _PLUS_EIGHT.sub("8", part)
    try:
        number = pn.parse(part, region)
        if pn.is_valid_number(number) or is_unallocated_mobile(number):
            return [number]
    except pn.NumberParseException:
        pass
    found = [m.number for m in pn.PhoneNumberMatcher(part, region, leniency=pn.Leniency.VALID)]
    if not found and part.startswith("+8"):
        return _parse_part(part[1:], region)
    return found


def _to_phone(number: pn.PhoneNumber) -> Phone:
    e164 = pn.format_number(number, pn.PhoneNumberFormat.E164)
    region = pn.region_code_for_number(number) or "ZZ"
    return Phone(e164, _kind(number), number.extension or None, region)


def parse_phone_cell(raw: str | None, default_region: str = "RU") -> PhoneCell:
    """Parse every phone number in a raw cell; drop junk and invalid ones with a flag."""
    if raw is None:
        return _EMPTY
    text = _clean(raw)
    if not text:
        return _EMPTY
    text, truncated = _excel_repair(text)
    if truncated:
        return PhoneCell((), ("phone_truncated",))
    if not any(ch.isdigit() for ch in text):
        return PhoneCell((), ("phone_junk",))  # "нет", "-", "не указан"
    numbers: dict[str, Phone] = {}
    flags: set[str] = set()
    for chunk in SEPARATORS.split(text):
        for part in _SECOND_NUMBER.split(chunk.strip()):
            digits = _NON_DIGITS.sub("", part)
            if not digits:
                continue
            found = _parse_part(part, default_region)
            if not found:
                flags.add("phone_junk" if is_junk_digits(digits) else "phone_invalid")
            for number in found:
                if is_junk_digits(str(number.national_number)):
                    flags.add("phone_junk")
                    continue
                phone = _to_phone(number)
                if phone.e164 not in numbers and is_unallocated_mobile(number):
                    flags.add("phone_unallocated")
                numbers.setdefault(phone.e164, phone)
    if len(numbers) > 1:
        flags.add("phone_multiple")
    if any(p.extension for p in numbers.values()):
        flags.add("phone_extension")
    return PhoneCell(tuple(numbers.values()), tuple(f for f in FLAG_ORDER if f in flags))


def _cells_frame(raws: list[str], default_region: str) -> pl.DataFrame:
    cells = [parse_phone_cell(r, default_region) for r in raws]
    return pl.DataFrame(
        {
            "raw": raws,
            "phones": [SEP.join(p.e164 for p in c.numbers) or None for c in cells],
            "phone_types": [SEP.join(p.kind for p in c.numbers) or None for c in cells],
            "phone_exts": [SEP.join(p.extension or "" for p in c.numbers) for c in cells],
            "phone_flags": [SEP.join(c.flags) or None for c in cells],
        },
        schema={"raw": pl.String, **dict.fromkeys(_OUTPUT_SCHEMA, pl.String)},
    )


def normalize_phones(values: pl.Series, default_region: str = "RU") -> pl.DataFrame:
    """Vectorised `parse_phone_cell`: one output row per input row, same order.

    Each distinct raw value is parsed once; cells of plain Russian numbers (one or several,
    with extensions) skip phonenumbers entirely (`phones_fast.fast_ru`).
    """
    raw = values.cast(pl.String).rename("raw")
    uniques = raw.drop_nulls().unique()
    if default_region == "RU":
        fast = fast_ru(uniques)
        rest = uniques.filter(~uniques.is_in(fast["raw"].implode()))
        short = fast_short(rest)
        rest = rest.filter(~rest.is_in(short["raw"].implode()))
        lookup = pl.concat([fast, short, _cells_frame(rest.to_list(), default_region)])
    else:
        lookup = _cells_frame(uniques.to_list(), default_region)
    joined = raw.to_frame().join(lookup, on="raw", how="left", maintain_order="left")
    # Lists travel as SEP-joined strings: building list columns from Python is slow.
    phones = pl.col("phones").str.split(SEP)
    return joined.select(
        phones=phones.fill_null([]),
        phone_types=pl.col("phone_types").str.split(SEP).fill_null([]),
        # An extension "" is meaningful, so the split count follows the phones column.
        phone_exts=pl.when(phones.list.len() > 0)
        .then(pl.col("phone_exts").str.split(SEP))
        .otherwise([]),
        phone_flags=pl.col("phone_flags").str.split(SEP).fill_null([]),
    )
