"""Personal national identifiers: СНИЛС and the Russian passport (internal and foreign).

Both identify one person for life (СНИЛС) or for years (a passport is replaced at 20 and 45, or
when lost), so the engine treats an equal СНИЛС as near-proof and two different valid ones as a
conflict, while two different passports say nothing. Values are kept as digits only:

>>> parse_snils("112-233-445 95"), parse_snils("11223344596")
('11223344595', None)
>>> parse_passport("45 08 № 123456"), parse_passport("серия 4508 номер 123456")
('4508123456', '4508123456')
>>> parse_passport("75 1234567")  # заграничный паспорт: 2 + 7 digits
'751234567'
"""

from __future__ import annotations

import re

import polars as pl

from identity.normalize.identifiers import clean_digits, snils_is_valid

_NOT_DIGITS = re.compile(r"[^\d]+")
_LETTERS = re.compile(r"[A-Za-zА-Яа-яЁё]")
_PASSPORT_WORDS = re.compile(r"(серия|номер|сер\.|ном\.|№|n°|no\.|паспорт\s+рф|паспорт)", re.I)
_JUNK = re.compile(r"^(\d)\1+$")
_DIGIT_RUNS = re.compile(r"\d+")
#: how the digits are grouped: internal 4+6 (or 2+2+6, or run together), foreign 2+7
_PASSPORT_GROUPS = {(10,), (4, 6), (2, 2, 6), (9,), (2, 7)}
_UNCHECKED_UP_TO = 1_001_998  # СНИЛС bodies up to 001-001-998 carry no checksum


def parse_snils(raw: str | None) -> str | None:
    """The 11 digits of a valid СНИЛС, or None. An Excel number that lost its leading zeros
    (``1234567890`` for ``012-345-678 90``) is padded back only when the checksum then holds."""
    if raw is None:
        return None
    s = clean_digits(raw.replace(".", "-") if raw.count(".") > 1 else raw)
    if s is None or not 9 <= len(s) <= 11:
        return None
    padded = len(s) < 11
    s = s.zfill(11)
    if _JUNK.match(s) or int(s[:9]) == 0:
        return None
    if padded and int(s[:9]) <= _UNCHECKED_UP_TO:
        return None  # a short number with no checksum to confirm the padding
    return s if snils_is_valid(s) else None


def parse_passport(raw: str | None) -> str | None:
    """Digits of a Russian passport: 10 for the internal one (4-digit series + 6-digit number),
    9 for the foreign one (2 + 7); None for anything else, including placeholders."""
    if raw is None:
        return None
    text = _PASSPORT_WORDS.sub(" ", raw)
    if _LETTERS.search(text):  # a foreign country's passport or a note, not a number
        return None
    groups = tuple(len(g) for g in _DIGIT_RUNS.findall(text))
    digits = _NOT_DIGITS.sub("", text)
    if groups not in _PASSPORT_GROUPS or _JUNK.match(digits):
        return None
    if len(digits) == 10 and (digits[:2] == "00" or digits[4:] == "000000"):
        return None  # series region 00 does not exist; number 000000 is a placeholder
    return digits


def normalize_national_ids(snils: pl.Series, passport: pl.Series) -> pl.DataFrame:
    """Vectorised parsers: ``snils``, ``passport`` and ``national_id_flags`` (``snils_invalid``,
    ``passport_invalid`` when a value was written but is not one); one row per input row."""
    frame = pl.DataFrame([snils.cast(pl.String).rename("s"), passport.cast(pl.String).rename("p")])
    s_vals = frame.get_column("s").drop_nulls().unique().to_list()
    p_vals = frame.get_column("p").drop_nulls().unique().to_list()
    s_map = {v: parse_snils(v) for v in s_vals}
    p_map = {v: parse_passport(v) for v in p_vals}
    blank = pl.col("s").str.strip_chars() == ""
    out = frame.with_columns(
        snils=pl.col("s").replace_strict(s_map, default=None, return_dtype=pl.String),
        passport=pl.col("p").replace_strict(p_map, default=None, return_dtype=pl.String),
    )
    s_bad = pl.col("s").is_not_null() & ~blank & pl.col("snils").is_null()
    p_bad = (
        pl.col("p").is_not_null()
        & (pl.col("p").str.strip_chars() != "")
        & pl.col("passport").is_null()
    )
    flags = pl.concat_list(
        pl.when(s_bad).then(pl.lit(["snils_invalid"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(p_bad).then(pl.lit(["passport_invalid"])).otherwise(pl.lit([], pl.List(pl.String))),
    )
    return out.select("snils", "passport", national_id_flags=flags)
