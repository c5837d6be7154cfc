"""Text folds for person names: cleaning, homoglyphs, ё/е, surname stems and the Latin key.

Everything here is a pure function of one string, so callers can cache by token.

>>> latin_key("Юлия") == latin_key("Yulia") == latin_key("Iuliia") == latin_key("Julia")
True
>>> surname_stem("петровская"), surname_stem("иванова-петрова")
('петровский', 'ивановпетров')
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_CYR = re.compile(r"[а-яёА-ЯЁіїєґўІЇЄҐЎ]")
_LAT = re.compile(r"[a-zA-Z]")

# Latin letters that look like Cyrillic ones; CRMs and OCR mix them into Cyrillic words.
_LAT_TO_CYR = str.maketrans("aeopcxykmthbAEOPCXYKMTHB", "аеорсхукмтнвАЕОРСХУКМТНВ")
_CYR_TO_LAT = str.maketrans("аеорсхукАЕОРСХУКМТНВ", "aeopcxykAEOPCXYKMTHB")

_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "і": "i", "ї": "i", "є": "e", "ґ": "g", "ў": "u",
    }
)  # fmt: skip

# Applied in order to the lower-case Latin spelling of either script, so that ICAO
# (Iuliia), МВД (Yuliya), Wikipedia (Yulia) and home-made (Julia) spellings meet.
_LATIN_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"[^a-z]", ""),
        (r"shch|shh|sch", "sh"),
        (r"tsch|tch", "ch"),
        (r"kh", "h"),
        (r"x", "ks"),
        (r"ph", "f"),
        (r"w", "v"),
        (r"ck|q", "k"),
        (r"ts|tz|cz", "q"),  # q marks ц from here on
        (r"c(?!h)", "k"),
        (r"(?:(?<=^)|(?<=[bdfghklmnpqrstvz]))[yji]o", "e"),  # Fyodor, Yolkin, Artiom: ё
        (r"[yji]a", "ia"),
        (r"(?<=[bdfghklmnpqrstvz])[yji]u", "u"),  # Lyudmila, Ludmila; Юлия keeps "iu"
        (r"[yj]u", "iu"),
        (r"[yj]e", "e"),
        (r"[yj]", "i"),
        (r"(.)\1+", r"\1"),
    )
)
_LATIN_SURNAME_ENDINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"(?<=ov|ev|in)a$", ""),
        (r"(?<=\w{3})(?:aia|oi)$", "i"),
    )
)

_SURNAME_ENDINGS = (
    ("ская", "ский"),
    ("цкая", "цкий"),
    ("ской", "ский"),
    ("цкой", "цкий"),
    ("ова", "ов"),
    ("ева", "ев"),
    ("ина", "ин"),
    ("ына", "ын"),
)
_SOFT_ADJ = re.compile(r"(?<=[кгхжшчщ])(?:ая|ой)$")
_HARD_ADJ = re.compile(r"(?<=...)(?:ая|ой)$")


def clean_text(text: str) -> str:
    """NFKC, unify dashes/quotes, collapse whitespace: the one entry point for raw cells."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCT)
    return _SPACES.sub(" ", text).strip()


_PUNCT = str.maketrans(
    {"‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "’": "'", "`": "'", "ʼ": "'"}
)


@lru_cache(maxsize=1 << 16)
def fold_homoglyphs(token: str) -> str:
    """Rewrite look-alike letters into the token's majority script ("Ивaнов" with a Latin a)."""
    cyr = len(_CYR.findall(token))
    lat = len(_LAT.findall(token))
    if cyr and lat:
        return token.translate(_LAT_TO_CYR if cyr >= lat else _CYR_TO_LAT)
    return token


def is_latin(token: str) -> bool:
    """True when the token has Latin letters and no Cyrillic ones."""
    return bool(_LAT.search(token)) and not _CYR.search(token)


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lower-case and ё→е: the base of every Cyrillic match key (display keeps ё)."""
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=1 << 16)
def display_case(token: str) -> str:
    """Title-case tokens typed in one case ("ИВАНОВ", "иванов-петрова"); keep mixed case."""
    if token.isupper() or token.islower():
        return "-".join(p[:1].upper() + p[1:].lower() for p in token.split("-"))
    return token


@lru_cache(maxsize=1 << 16)
def latin_key(text: str) -> str:
    """Script-neutral spelling key: Cyrillic is transliterated, then Latin variants folded.

    Lossy on purpose (Щ and Ш meet); use it for comparison and blocking, never for display.
    """
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c) or c == "\u0306")
    text = unicodedata.normalize("NFC", text).translate(_TRANSLIT)
    for pattern, repl in _LATIN_FOLDS:
        text = pattern.sub(repl, text)
    return text


# In Latin-typed surnames a lone "c" is ц (Telegram scheme: Kuznecov, Cvetkov, Savickii);
# English spellings with c = к are first names (Nicolai, Victor), which the gazetteer handles.
_SURNAME_C = re.compile(r"c(?!h)", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def latin_surname_key(text: str) -> str:
    """Latin key of a surname with the feminine ending removed (Ivanova, Иванова → ivanov)."""
    text = _SURNAME_C.sub("ts", text) if is_latin(text) else text
    parts = [latin_key(p) for p in re.split(r"[-\s]+", text)]
    out = []
    for part in parts:
        for pattern, repl in _LATIN_SURNAME_ENDINGS:
            part = pattern.sub(repl, part)
        out.append(part)
    return "".join(out)


@lru_cache(maxsize=1 << 16)
def surname_stem(folded: str) -> str:
    """Gender-neutral surname key from a folded surname; hyphen and space parts are joined."""
    return "".join(_stem_part(p) for p in re.split(r"[-\s]+", folded) if p)


def _stem_part(part: str) -> str:
    if len(part) < 5:
        return part
    for ending, repl in _SURNAME_ENDINGS:
        if part.endswith(ending):
            return part[: -len(ending)] + repl
    if _SOFT_ADJ.search(part):
        return part[:-2] + "ий"
    if _HARD_ADJ.search(part) and len(part) >= 6:
        return part[:-2] + "ый"
    return part
