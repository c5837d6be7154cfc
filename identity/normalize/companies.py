"""Counterparty names and their identifiers: clean → split off the legal form → match key.

1C and CRMs spell the same company as `ООО "Ромашка"`, `Ромашка ООО`, `ООО «РОМАШКА»` or
`Общество с ограниченной ответственностью "Ромашка"`. The legal form is moved to its own
column as a canonical abbreviation; the key is what is left, folded for comparison. ИНН,
КПП and ОГРН are repaired (Excel) and checked; an invalid one is nulled with a flag.

>>> c = parse_company('общество с ограниченной ответственностью «Ромашка-Мёд»', None, None, None)
>>> c.name, c.legal_form, c.name_key
('Ромашка-Мёд', 'ООО', 'ромашка мед')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from identity.normalize.identifiers import (
    clean_digits,
    kpp_is_valid,
    ogrn_is_valid,
    ogrnip_is_valid,
    repair_inn,
)

FLAG_ORDER = ("inn_invalid", "kpp_invalid", "ogrn_invalid", "inn_legal_form_mismatch")
_SEP = "\x1f"
_INDIVIDUAL_FORMS = frozenset({"ИП", "КФХ"})  # a farm (КФХ) is registered to its head

# Full forms first (longest wins), then abbreviations; words are matched case-insensitively.
_FULL_FORMS = [
    ("ФГБУ", "федеральное государственное бюджетное учреждение"),
    ("ГБУ", "государственное бюджетное учреждение"),
    ("МБУ", "муниципальное бюджетное учреждение"),
    ("ФГУП", "федеральное государственное унитарное предприятие"),
    ("ГУП", "государственное унитарное предприятие"),
    ("МУП", "муниципальное унитарное предприятие"),
    ("ООО", "общество с ограниченной ответственностью"),
    ("ТОО", "товарищество с ограниченной ответственностью"),
    ("ПАО", "публичное акционерное общество"),
    ("НАО", "непубличное акционерное общество"),
    ("ЗАО", "закрытое акционерное общество"),
    ("ОАО", "открытое акционерное общество"),
    ("АО", "акционерное общество"),
    ("АНО", "автономная некоммерческая организация"),
    ("НКО", "некоммерческая организация"),
    ("ИП", "индивидуальный предприниматель"),
    ("LLC", "limited liability company"),
]
_ABBREVIATIONS = {
    **{a: a for a in ["ООО", "ПАО", "ЗАО", "ОАО", "НАО", "АО", "ИП", "НКО", "АНО", "ГУП"]},
    **{a: a for a in ["МУП", "ФГУП", "ТОО", "LLC", "ФГБУ", "ГБУ", "МБУ", "МАУ", "МКУ", "ГАУ"]},
    **{a: a for a in ["ТСЖ", "СНТ", "КФХ"]},
    "OOO": "ООО",  # typed in Latin
    "ZAO": "ЗАО",
    "OAO": "ОАО",
    "PAO": "ПАО",
    "LTD": "Ltd",
    "LIMITED": "Ltd",
}
_B = r"(?<![\w])"
_E = r"(?![\w])"
_FULL_ALTS = [
    _B + f"(?P<f{i}>" + full.replace(" ", r"\s+") + ")" + _E
    for i, (_abbr, full) in enumerate(_FULL_FORMS)
]
_ABBR_ALT = _B + "(?P<a>" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\.?" + _E
_FORM_RE = re.compile("|".join([*_FULL_ALTS, _ABBR_ALT]), re.IGNORECASE)
_QUOTES = re.compile(r"[«»\"“”„‟'`’‘]")
_EDGE_JUNK = " ,;:-–—"
_EMPTY_PARENS = re.compile(r"\(\s*\)")
_NON_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CompanyCell:
    """A counterparty: display name, canonical legal form, match key, checked identifiers."""

    name: str | None = None
    legal_form: str | None = None
    name_key: str | None = None
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    flags: tuple[str, ...] = ()


def _form_of(match: re.Match[str]) -> str:
    if match.group("a") is not None:
        return _ABBREVIATIONS[match.group("a").upper()]
    index = next(i for i in range(len(_FULL_FORMS)) if match.group(f"f{i}") is not None)
    return _FULL_FORMS[index][0]


def looks_like_company(text: str) -> bool:
    """True when a legal-form token (ООО, ИП, Общество с …, LLC, …) appears in the text."""
    return _FORM_RE.search(unicodedata.normalize("NFKC", text)) is not None


def split_legal_form(raw: str) -> tuple[str | None, str | None]:
    """(name without legal form and quotes, canonical legal form or None)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()
    match = _FORM_RE.search(text)
    form = _form_of(match) if match else None
    if match:
        text = text[: match.start()] + " " + text[match.end() :]
    name = _EMPTY_PARENS.sub(" ", _QUOTES.sub(" ", text))
    name = _SPACES.sub(" ", name).strip(_EDGE_JUNK)
    name = _SPACES.sub(" ", name)
    return (name or None), form


def name_key(name: str) -> str | None:
    """Lower-case, ё→е, punctuation and quotes to single spaces."""
    key = _NON_WORD.sub(" ", name.lower().replace("ё", "е")).replace("_", " ")
    return _SPACES.sub(" ", key).strip() or None


def _clean_kpp(raw: str | None) -> str | None:
    if raw is None:
        return None
    s = re.sub(r"[.,]0+$", "", _SPACES.sub("", unicodedata.normalize("NFKC", raw))).upper()
    return "0" + s if len(s) == 8 and s.isdigit() else s  # Excel lost a leading zero


def parse_company(
    name: str | None, inn: str | None, kpp: str | None, ogrn: str | None
) -> CompanyCell:
    """Split the legal form off the name, build its key, repair and check the identifiers."""
    display, form, key = _name_parts(name) if name is not None else (None, None, None)
    good_inn, inn_bad = _inn(inn)
    good_kpp, kpp_bad = _kpp(kpp)
    good_ogrn, ogrn_bad = _ogrn(ogrn)
    mismatch = False
    if good_inn and form:
        individual = form in _INDIVIDUAL_FORMS
        mismatch = (len(good_inn) == 12) is not individual and form != "Ltd" and form != "LLC"
    flags = (inn_bad, kpp_bad, ogrn_bad, mismatch)  # in FLAG_ORDER
    return CompanyCell(
        name=display,
        legal_form=form,
        name_key=key,
        inn=good_inn,
        kpp=good_kpp,
        ogrn=good_ogrn,
        flags=tuple(f for f, on in zip(FLAG_ORDER, flags, strict=True) if on),
    )


# Each field is checked on its own and values repeat across rows (a few thousand company
# names, tens of thousands of ИНН), so the parts are cached per value.
@lru_cache(maxsize=1 << 14)
def _name_parts(name: str) -> tuple[str | None, str | None, str | None]:
    """(display name, legal form, match key) of a name cell."""
    display, form = split_legal_form(name)
    return display, form, name_key(display) if display else None


@lru_cache(maxsize=1 << 16)
def _inn(inn: str | None) -> tuple[str | None, bool]:
    """(the repaired ИНН or None, whether a non-blank cell was invalid)."""
    good = repair_inn(inn)
    return good, inn is not None and bool(inn.strip()) and good is None


@lru_cache(maxsize=1 << 16)
def _kpp(kpp: str | None) -> tuple[str | None, bool]:
    good = _clean_kpp(kpp)
    if good is not None and not kpp_is_valid(good):
        return None, bool(good)
    return good, False


@lru_cache(maxsize=1 << 16)
def _ogrn(ogrn: str | None) -> tuple[str | None, bool]:
    good = clean_digits(ogrn)
    if good is not None and not (ogrn_is_valid(good) or ogrnip_is_valid(good)):
        good = None
    return good, ogrn is not None and bool(ogrn.strip()) and good is None


def normalize_companies(
    name: pl.Series, inn: pl.Series, kpp: pl.Series, ogrn: pl.Series
) -> pl.DataFrame:
    """Vectorised `parse_company`: one row per input row, same order; each distinct
    (name, ИНН, КПП, ОГРН) combination is parsed once."""
    cols = ["name", "inn", "kpp", "ogrn"]
    frame = pl.DataFrame(
        [s.cast(pl.String).rename(c) for s, c in zip((name, inn, kpp, ogrn), cols, strict=True)]
    )
    uniques = frame.unique(maintain_order=False)
    cells = [parse_company(*row) for row in uniques.iter_rows()]
    out_cols = ["company_name", "legal_form", "company_key", "inn_ok", "kpp_ok", "ogrn_ok"]
    lookup = uniques.with_columns(
        pl.Series(c, [getattr(cell, f) for cell in cells], dtype=pl.String)
        for c, f in zip(
            out_cols, ["name", "legal_form", "name_key", "inn", "kpp", "ogrn"], strict=True
        )
    ).with_columns(
        pl.Series("company_flags", [_SEP.join(c.flags) or None for c in cells], dtype=pl.String)
    )
    joined = frame.join(lookup, on=cols, how="left", nulls_equal=True, maintain_order="left")
    return joined.select(
        "company_name",
        "legal_form",
        "company_key",
        inn="inn_ok",
        kpp="kpp_ok",
        ogrn="ogrn_ok",
        company_flags=pl.col("company_flags").str.split(_SEP).fill_null([]),
    )
