"""What one name token can be: the curated gazetteer, patronymic and surname rules, junk words.

The first-name gazetteer and the diminutive table are CSV files in ``data/`` so reviewers can
read and extend them; they are loaded once. Token features are cached by token, since a
million rows hold only tens of thousands of distinct tokens.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import iuliia

from identity.normalize.name_text import fold, is_latin, latin_key

DATA = Path(__file__).with_name("data")
_SCHEMAS = (iuliia.ICAO_DOC_9303, iuliia.WIKIPEDIA, iuliia.GOST_52535)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Strong patronymic endings decide a token's role; a bare "-ич" is also a Serbian/Belarusian
# surname ending (Бабич), so it only leans.
_PATR_STRONG_M = re.compile(r"(?:ович|евич|ьич)$")
_PATR_WEAK_M = re.compile(r"(?<=[бвгдзклмнпрстфхцчшщ])ич$")
_PATR_F = re.compile(r"(?:овна|евна|ична|инична|инишна|ишна)$")
_PATR_LAT = re.compile(r"(?:ovich|evich|ovna|evna|ichna|inichna)$")
TURKIC_PATRONYMIC = {"оглы": "m", "оглу": "m", "улы": "m", "уулу": "m", "кызы": "f", "гызы": "f"}

# (ending, strength, gender) checked in order; the first match wins.
_SURNAME_ENDINGS: tuple[tuple[str, int, str | None], ...] = (
    ("ская", 2, "f"), ("цкая", 2, "f"), ("ский", 2, "m"), ("цкий", 2, "m"),
    ("ской", 2, "m"), ("цкой", 2, "m"), ("ова", 2, "f"), ("ева", 2, "f"),
    ("ина", 1, "f"), ("ына", 2, "f"), ("ов", 2, "m"), ("ев", 2, "m"), ("ин", 1, "m"),
    ("ын", 2, "m"), ("енко", 2, None), ("швили", 2, None), ("дзе", 2, None),
    ("янц", 2, None), ("ян", 1, None), ("ук", 1, None), ("юк", 1, None), ("ых", 2, None),
    ("их", 1, None), ("ко", 1, None), ("уллин", 2, "m"), ("уллина", 2, "f"),
)  # fmt: skip
_LATIN_SURNAME_ENDINGS: tuple[tuple[str, int, str | None], ...] = (
    ("skaia", 2, "f"), ("ski", 2, "m"), ("ova", 2, "f"), ("eva", 2, "f"), ("ina", 1, "f"),
    ("ov", 2, "m"), ("ev", 2, "m"), ("in", 1, "m"), ("enko", 2, None), ("ian", 1, None),
)  # fmt: skip
# Common surnames with no telling ending; Ким and Ян are also (rare) first names.
KNOWN_SURNAMES = _words(
    "ким цой ли пак тен хан шин хегай лим нам югай когай мельник коваль кравец лебедь гусь бык "
    "жук швец ткач гончар рябоконь черных белых седых долгих"
)

JUNK_WORDS = _words(
    "test tests тест тестовый тестовая тестов проверка asdf asd qwe qwerty йцукен фыва нет не "
    "указано неизвестно неизвестный неизвестная нету клиент клиентка покупатель гость аноним "
    "anonymous noname no name none null nil nan n/a na - . ? ... x xx xxx ххх фио имя фамилия "
    "отчество name first last user пользователь admin администратор менеджер заказчик физлицо "
    "физ лицо частное лицо без имени безымянный unknown"
) | {"не указано", "без имени", "частное лицо", "физ лицо", "no name", "не знаю"}

# Legal forms and words that make a name cell an organisation, not a person.
COMPANY_WORDS = _words(
    "ооо оао зао пао ао нао нко ано гуп муп фгуп фгбу гбу мбу мбоу гбоу мку тоо llc ltd inc "
    "gmbh corp компания фирма группа холдинг магазин банк завод фабрика комбинат салон "
    "агентство центр студия торговый тд ук тсж снт гк"
)
SOLE_TRADER_WORDS = frozenset({"ип", "кфх", "пбоюл", "чп"})
SOLE_TRADER_PHRASES = (("индивидуальный", "предприниматель"), ("глава", "кфх"))


@dataclass(frozen=True, slots=True)
class FirstName:
    """A first-name lookup hit: canonical names it may stand for and whether it was a pet form."""

    canonicals: tuple[str, ...]
    diminutive: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Role evidence for one token; strengths are 0 (none), 1 (leans), 2 (decides)."""

    first: FirstName | None
    patr: int
    patr_gender: str | None
    surn: int
    surn_gender: str | None
    morph: str | None = None
    morph_gender: str | None = None


@cache
def gazetteer() -> tuple[dict[str, str], dict[str, FirstName], dict[str, FirstName]]:
    """(canonical → gender, folded spelling → FirstName, latin key → FirstName)."""
    genders: dict[str, str] = {}
    with (DATA / "first_names.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            genders[row["name"]] = row["gender"]
    by_form: defaultdict[str, list[str]] = defaultdict(list)
    diminutive: set[str] = set()
    with (DATA / "diminutives.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_form[fold(row["variant"])].append(row["canonical"])
            if row["kind"] == "diminutive":
                diminutive.add(fold(row["variant"]))
    for name in genders:
        by_form.setdefault(fold(name), [name])
    forms = {f: FirstName(tuple(dict.fromkeys(c)), f in diminutive) for f, c in by_form.items()}
    by_latin: defaultdict[str, list[str]] = defaultdict(list)
    latin_dim: set[str] = set()
    latin_full: set[str] = set()
    primary = {form: _latin_spellings(form, _SCHEMAS) for form in forms}
    taken = set().union(*primary.values())
    for form, hit in forms.items():
        # Telegram's j = ж only where no usual spelling claims the key (Janna is not Яна)
        extra = _latin_spellings(form, (iuliia.TELEGRAM,)) - taken
        for key in primary[form] | extra:
            by_latin[key].extend(hit.canonicals)
            (latin_dim if hit.diminutive else latin_full).add(key)
    with (DATA / "latin_names.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_latin[latin_key(row["variant"])].append(row["canonical"])
    latin = {
        k: FirstName(tuple(dict.fromkeys(c)), k in latin_dim and k not in latin_full)
        for k, c in by_latin.items()
    }
    return genders, forms, latin


def _latin_spellings(form: str, schemas: tuple[Any, ...]) -> set[str]:
    """Latin keys of a Cyrillic name as passports, banks and messengers spell it (iuliia):
    our folds already join ICAO, МВД and Wikipedia spellings, but Telegram's ж → j
    ("Nadejda") and ГОСТ 52535's ц → tc need their own keys."""
    return {latin_key(form)} | {latin_key(schema.translate(form)) for schema in schemas}


def _surname_evidence(folded: str, latin: bool) -> tuple[int, str | None]:
    if latin:
        key = latin_key(folded)
        if key in _latin_known_surnames():
            return 2, None
        for ending, strength, gender in _LATIN_SURNAME_ENDINGS:
            if key.endswith(ending) and len(key) > len(ending) + 2:
                return strength, gender
        return 0, None
    parts = [p for p in re.split(r"[-\s]+", folded) if p]
    if len(parts) > 1:
        found = [_surname_evidence(p, False) for p in parts]
        return max(s for s, _ in found) or 1, next((g for s, g in found if g), None)
    if folded in KNOWN_SURNAMES:
        return 2, None
    for ending, strength, gender in _SURNAME_ENDINGS:
        if folded.endswith(ending) and len(folded) > len(ending) + 1:
            return strength, gender
    return 0, None


@cache
def _latin_known_surnames() -> frozenset[str]:
    return frozenset(latin_key(s) for s in KNOWN_SURNAMES)


@lru_cache(maxsize=1 << 18)
def token_info(folded: str) -> TokenInfo:
    """Evidence for a folded (lower, ё→е) token; Latin tokens go through the Latin key."""
    _, forms, by_latin = gazetteer()
    latin = is_latin(folded)
    first = by_latin.get(latin_key(folded)) if latin else forms.get(folded)
    patr, patr_gender = 0, None
    if latin:
        if _PATR_LAT.search(latin_key(folded)):
            patr, patr_gender = 2, ("f" if latin_key(folded).endswith("na") else "m")
    elif _PATR_F.search(folded):
        patr, patr_gender = 2, "f"
    elif _PATR_STRONG_M.search(folded):
        patr, patr_gender = 2, "m"
    elif _PATR_WEAK_M.search(folded):
        patr, patr_gender = 1, "m"
    surn, surn_gender = _surname_evidence(folded, latin)
    if first is not None or patr or surn or latin:
        return TokenInfo(first, patr, patr_gender, surn, surn_gender)
    morph, morph_gender = morph_guess(folded) if USE_MORPH else (None, None)
    return TokenInfo(None, 0, None, 0, None, morph, morph_gender)


# pymorphy3 is consulted only for Cyrillic tokens the gazetteer and the ending rules know
# nothing about (a few thousand distinct tokens per million rows). On held-out names it lifts
# the order of "unknown first + unknown surname" pairs from 47% to 86% correct and the gender
# of unknown first names from 4% to 80%, for ~30 MB and ~60 µs per distinct unknown token.
# Switch it off (tests, benchmarks) with USE_MORPH = False; a missing package also turns it off.
USE_MORPH = True
_CYRILLIC_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")
_MORPH_GENDER = {"masc": "m", "femn": "f"}


@cache
def _analyzer() -> Any:
    try:
        import pymorphy3
    except ImportError:  # optional at run time: the gazetteer and rules still work
        return None
    return pymorphy3.MorphAnalyzer()


def morph_guess(folded: str) -> tuple[str | None, str | None]:
    """pymorphy3's best nominative Name/Surn/Patr reading of an unknown token, with gender."""
    if len(folded) < 2 or not _CYRILLIC_WORD.fullmatch(folded):
        return None, None
    analyzer = _analyzer()
    if analyzer is None:
        return None, None
    best: tuple[float, str, str | None] | None = None
    for parse in analyzer.parse(folded):
        tag = parse.tag
        if "nomn" not in tag:
            continue
        for role in ("Name", "Surn", "Patr"):
            if role in tag and (best is None or parse.score > best[0]):
                best = (parse.score, role, _MORPH_GENDER.get(str(tag.gender)))
    if best is None:
        return None, None
    return best[1], best[2]
