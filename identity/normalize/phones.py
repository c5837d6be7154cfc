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

FLAG_ORDER = (
    "phone_invalid",
    "phone_junk",
    "phone_truncated",
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
_SEP = "\x1f"  # joins list items on the way to polars; never in phone text

# phonenumbers knows "доб." but not these spellings of an extension.
_EXT_WORDS = re.compile(r"(?i)\b(?:добавочный|внутренний|внутр|доб|доп|вн)\b\.?\s*(?=\d)")
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
_SEPARATORS = re.compile(r"[,;/|\\\n]|\s+(?:или|or|и)\s+", re.IGNORECASE)
# Two numbers separated only by spaces: cut before a second full "+7/8 (xxx) xxx-xx-xx".
_SECOND_NUMBER = re.compile(
    r"\s+(?=(?:\+7|\+8|8)\s*\(?\s*\d{3}\s*\)?[\s\-]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d))"
)
_EXCEL_INT = re.compile(r"^(\+?\d{5,})[.,]0+$")
_EXCEL_SCI = re.compile(r"^(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})$")
_PLUS_EIGHT = re.compile(r"^\+8(?=[\s(\-]|9)")
_NON_DIGITS = re.compile(r"\D")

# Placeholders typed to get past a required field. Junk is judged on the national number.
_RUNS = ("01234567", "12345678", "23456789", "98765432", "87654321", "76543210")
_JUNK_SUBSCRIBERS = frozenset([d * 7 for d in "0123456789"] + ["1234567", "7654321"])

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
    return subscriber in _JUNK_SUBSCRIBERS or any(run in digits for run in _RUNS)


def _clean(raw: str) -> str:
    """NFKC, one kind of space, extension words phonenumbers understands."""
    text = unicodedata.normalize("NFKC", raw)
    text = _SPACES.sub(" ", text).strip()
    return _EXT_WORDS.sub(" доб. ", text)


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
    kind = pn.number_type(number)
    if kind == pn.PhoneNumberType.FIXED_LINE_OR_MOBILE:
        national = str(number.national_number)
        return "mobile" if number.country_code == 7 and national.startswith("9") else "fixed"
    return _KINDS.get(kind, "other")


def _parse_part(part: str, region: str) -> list[pn.PhoneNumber]:
    """Valid numbers in one separator-delimited chunk: strict parse first, then the matcher."""
    part = _PLUS_EIGHT.sub("8", part)
    try:
        number = pn.parse(part, region)
        if pn.is_valid_number(number):
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
    for chunk in _SEPARATORS.split(text):
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
                numbers.setdefault(phone.e164, phone)
    if len(numbers) > 1:
        flags.add("phone_multiple")
    if any(p.extension for p in numbers.values()):
        flags.add("phone_extension")
    return PhoneCell(tuple(numbers.values()), tuple(f for f in FLAG_ORDER if f in flags))


def _ru_type_patterns() -> list[tuple[str, str]]:
    """RU number-type regexes from phonenumbers' own metadata, in its `number_type` order."""
    meta = pn.PhoneMetadata.metadata_for_region("RU")
    assert meta is not None
    order = [
        ("premium_rate", "other"),
        ("toll_free", "toll_free"),
        ("shared_cost", "other"),
        ("voip", "voip"),
        ("personal_number", "other"),
        ("pager", "other"),
        ("uan", "other"),
        ("voicemail", "other"),
        ("fixed_line", "fixed"),
        ("mobile", "mobile"),
    ]
    patterns = []
    for attr, kind in order:
        desc = getattr(meta, attr)
        if desc is None or desc.national_number_pattern is None:
            continue
        if desc.possible_length and 10 not in desc.possible_length:
            continue
        patterns.append((f"^(?:{desc.national_number_pattern})$", kind))
    return patterns


_RU_TYPES = _ru_type_patterns()


def _fast_ru(uniques: pl.Series) -> pl.DataFrame:
    """Plain Russian numbers (`8 916 …`, `+7(495)…`, `916…`) classified without phonenumbers.

    Only shapes that phonenumbers reads unambiguously qualify (national numbers starting
    3/4/8/9, which its metadata assigns to RU, never KZ), and types are matched with its own
    RU regexes, so the answer equals `parse_phone_cell` (a property test checks this).
    Anything else, or anything invalid, goes to the slow path.
    """
    raw = pl.col("raw")
    ext_re = r"(?i)\s+(?:доб|доп|вн|внутр)\.?\s*([0-9]{1,6})\s*$"
    ext = raw.str.extract(ext_re, 1)
    text = raw.str.replace(ext_re, "").str.replace(r"^(\+?[0-9]{5,})[.,]0+$", "$1")
    digits = text.str.replace_all(r"[^0-9]", "")
    n = digits.str.len_chars()
    plain = text.str.contains(r"^[\s0-9()\-]+$")
    plus7 = text.str.contains(r"^\s*\+7[\s0-9()\-]+$")
    eleven = (n == 11) & digits.str.contains(r"^[78][3489]")
    ten = (n == 10) & digits.str.contains(r"^[349]")
    ok = (plain & (eleven | ten)) | (plus7 & eleven & digits.str.starts_with("7"))
    frame = pl.DataFrame({"raw": uniques}).select(
        "raw", nsn=pl.when(ok).then(digits.str.slice(-10)), ext=ext.fill_null("")
    )
    nsn = pl.col("nsn")
    kind = pl.lit(None, dtype=pl.String)
    for pattern, name in reversed(_RU_TYPES):
        kind = pl.when(nsn.str.contains(pattern)).then(pl.lit(name)).otherwise(kind)
    frame = frame.with_columns(kind=kind).filter(pl.col("kind").is_not_null())
    junk = nsn.str.slice(-7).is_in(list(_JUNK_SUBSCRIBERS)) | nsn.str.contains_any(list(_RUNS))
    return frame.select(
        "raw",
        phones=pl.when(~junk).then(pl.lit("+7") + nsn),
        phone_types=pl.when(~junk).then(pl.col("kind")),
        phone_exts=pl.when(~junk).then(pl.col("ext")),
        phone_flags=pl.when(junk)
        .then(pl.lit("phone_junk"))
        .when(pl.col("ext") != "")
        .then(pl.lit("phone_extension")),
    )


def _cells_frame(raws: list[str], default_region: str) -> pl.DataFrame:
    cells = [parse_phone_cell(r, default_region) for r in raws]
    return pl.DataFrame(
        {
            "raw": raws,
            "phones": [_SEP.join(p.e164 for p in c.numbers) or None for c in cells],
            "phone_types": [_SEP.join(p.kind for p in c.numbers) or None for c in cells],
            "phone_exts": [_SEP.join(p.extension or "" for p in c.numbers) for c in cells],
            "phone_flags": [_SEP.join(c.flags) or None for c in cells],
        },
        schema={"raw": pl.String, **dict.fromkeys(_OUTPUT_SCHEMA, pl.String)},
    )


def normalize_phones(values: pl.Series, default_region: str = "RU") -> pl.DataFrame:
    """Vectorised `parse_phone_cell`: one output row per input row, same order.

    Each distinct raw value is parsed once; plain RU mobiles skip phonenumbers entirely.
    """
    raw = values.cast(pl.String).rename("raw")
    uniques = raw.drop_nulls().unique()
    if default_region == "RU":
        fast = _fast_ru(uniques)
        rest = uniques.filter(~uniques.is_in(fast["raw"].implode()))
        lookup = pl.concat([fast, _cells_frame(rest.to_list(), default_region)])
    else:
        lookup = _cells_frame(uniques.to_list(), default_region)
    joined = raw.to_frame().join(lookup, on="raw", how="left", maintain_order="left")
    # Lists travel as _SEP-joined strings: building list columns from Python is slow.
    phones = pl.col("phones").str.split(_SEP)
    return joined.select(
        phones=phones.fill_null([]),
        phone_types=pl.col("phone_types").str.split(_SEP).fill_null([]),
        # An extension "" is meaningful, so the split count follows the phones column.
        phone_exts=pl.when(phones.list.len() > 0)
        .then(pl.col("phone_exts").str.split(_SEP))
        .otherwise([]),
        phone_flags=pl.col("phone_flags").str.split(_SEP).fill_null([]),
    )
