"""Split a name cell into units and decide which unit is the surname, first name and patronymic.

Each unit is scored for each role from its evidence (gazetteer, patronymic and surname
endings, pymorphy3 for unknown tokens); the best-scoring allowed order wins. Ties go to
the official Фамилия Имя Отчество order.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import permutations

from identity.normalize.name_lexicon import (
    COMPANY_WORDS,
    JUNK_WORDS,
    KNOWN_SURNAMES,
    SOLE_TRADER_PHRASES,
    SOLE_TRADER_WORDS,
    TURKIC_PATRONYMIC,
    TokenInfo,
    gazetteer,
    token_info,
)
from identity.normalize.name_text import clean_text, display_case, fold, fold_homoglyphs, is_latin

_TOKEN = re.compile(r"[^\s.,;:_/\\|()\"«»“”„!?*+=<>#№]+\.?")
_PARENS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")
_QUOTED = re.compile(r"[«\"“„]")
_VOWELS = re.compile(r"[аеёиоуыэюяaeiouy]", re.IGNORECASE)
_DIGITS = re.compile(r"\d")
# Two to four Cyrillic words, single spaces, no punctuation but inner hyphens.
_WORD = r"[А-ЯЁа-яё]{2,}(?:-[А-ЯЁа-яё]{2,})*"
PLAIN_PATTERN = rf"{_WORD}(?: {_WORD}){{1,3}}"
_PLAIN = re.compile(PLAIN_PATTERN)

# Allowed role orders by unit count, with a small prior: official order first.
_ORDERS: dict[int, tuple[tuple[str, float], ...]] = {
    1: (("F", 0.1), ("S", 0.0), ("M", 0.0)),
    2: (("SF", 0.1), ("FS", 0.0), ("FM", 0.0)),
    3: (("SFM", 0.5), ("FMS", 0.0)),
}


@dataclass(frozen=True, slots=True)
class Unit:
    """One surname, first name or patronymic candidate (a particle such as "оглы" included)."""

    text: str
    folded: str
    info: TokenInfo
    initial: bool = False
    latin: bool = False
    scores: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    display: str = field(default="", compare=False, hash=False)

    #: small int standing for the (S, F, M) scores: order choices are cached on tuples of these
    score_id: int = field(default=0, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.scores.update({r: score(self, r) for r in "SFM"})
        key = (self.scores["S"], self.scores["F"], self.scores["M"])
        object.__setattr__(self, "score_id", _score_id(key))
        words = self.text.split()
        shown = " ".join(
            w.lower() if k and fold(w) in TURKIC_PATRONYMIC else display_case(w)
            for k, w in enumerate(words)
        )
        object.__setattr__(self, "display", shown)


_SCORE_KEYS: dict[tuple[float, float, float], int] = {}
_SCORES: list[tuple[float, float, float]] = []


_SCORE_LOCK = threading.Lock()


def _score_id(key: tuple[float, float, float]) -> int:
    with _SCORE_LOCK:  # units may be built in several threads
        found = _SCORE_KEYS.get(key)
        if found is None:
            found = _SCORE_KEYS[key] = len(_SCORES)
            _SCORES.append(key)
        return found


@dataclass(frozen=True, slots=True)
class Parsed:
    """Role assignment for a cell: kind, role letter (S/F/M) → unit, and flags."""

    kind: str
    roles: dict[str, Unit]
    flags: tuple[str, ...] = ()


EMPTY = Parsed("empty", {})
JUNK = Parsed("junk", {}, ("name_junk",))


@lru_cache(maxsize=1 << 16)
def make_unit(text: str) -> Unit:
    """Build a unit from a cleaned token (or several, for a double surname or a particle)."""
    text = text.rstrip(".")
    words = text.split()
    if len(words) == 2 and fold(words[1]) in TURKIC_PATRONYMIC:
        info = TokenInfo(None, 2, TURKIC_PATRONYMIC[fold(words[1])], 0, None)
        return Unit(text, fold(text), info)
    folded = fold(text)
    letters = folded.replace("-", "").replace("'", "")
    return Unit(text, folded, token_info(folded), len(letters) == 1, is_latin(text))


def is_plain(cell: str) -> bool:
    """Two to four Cyrillic words, single spaces: the cell cleaning would not change."""
    return _PLAIN.fullmatch(cell) is not None


def tokenize(cell: str) -> tuple[list[str], set[str]] | None:
    """Clean a cell into tokens and flags, or None when nothing name-like is left (junk)."""
    if _PLAIN.fullmatch(cell):  # the common case: the steps below would change nothing
        tokens = cell.split(" ")
        facts = [plain_token(t) for t in tokens]
        junk = _folded(cell) in JUNK_WORDS or all(j for j, _ in facts)
        return None if junk or all(m for _, m in facts) else (tokens, set())
    flags: set[str] = set()
    text = clean_text(cell)
    if _PARENS.search(text):
        text, flags = _PARENS.sub(" ", text), {"name_parenthetical"}
    if re.search(r"[;/\\|]|\s[иИ]\s", text):
        text = re.split(r"[;/\\|]|\s[иИ]\s", text)[0]
        flags.add("name_multiple")
    if "@" in text or fold(text).strip(" .-") in JUNK_WORDS:
        return None
    if _DIGITS.search(text):
        flags.add("name_digits")
    tokens = [fold_homoglyphs(_DIGITS.sub("", t)) for t in _TOKEN.findall(text)]
    tokens = [t for t in tokens if t.strip(".-'")]
    if not tokens or all(fold(t).rstrip(".") in JUNK_WORDS for t in tokens):
        return None
    if all(_mash(t.rstrip(".")) for t in tokens):
        return None
    return tokens, flags


def _folded(text: str) -> str:
    """``fold`` without its cache: whole cells are mostly unique and would evict tokens."""
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=1 << 16)
def plain_token(token: str) -> tuple[bool, bool]:
    """(a junk word, keyboard noise) for one word of a plain cell; words repeat, cells do not."""
    return fold(token) in JUNK_WORDS, _mash(token)


def _mash(token: str) -> bool:
    """Keyboard noise: no vowel in 3+ letters ("ывфв" is not, "жжж" is), or one letter repeated."""
    return len(token) >= 3 and (not _VOWELS.search(token) or len(set(token.lower())) == 1)


def split_company(tokens: list[str]) -> tuple[str, list[str]]:
    """("company" | "sole_trader" | "person", remaining tokens) from legal-form words."""
    words = [fold(t).rstrip(".") for t in tokens]
    if words and words[0] in SOLE_TRADER_WORDS:
        return "sole_trader", tokens[1:]
    if tuple(words[:2]) in SOLE_TRADER_PHRASES:
        return "sole_trader", tokens[2:]
    if any(w in COMPANY_WORDS for w in words):
        return "company", tokens
    return "person", tokens


def units_from_tokens(tokens: list[str]) -> list[Unit]:
    """Merge Turkic particles into the father's name and split glued initials ("ИИ")."""
    out: list[str] = []
    for tok in tokens:
        turkic, glued = token_shape(tok)
        if turkic and out:
            out[-1] = f"{out[-1]} {tok.lower()}"
        elif glued and len(tokens) > 1:
            out.extend(tok)
        else:
            out.append(tok)
    return [make_unit(t) for t in out]


@lru_cache(maxsize=1 << 16)
def token_shape(tok: str) -> tuple[bool, bool]:
    """(a Turkic patronymic particle, two glued initials) for one token."""
    return fold(tok) in TURKIC_PATRONYMIC, _glued_initials(tok, gazetteer()[1])


def _glued_initials(tok: str, forms: Mapping[str, object]) -> bool:
    """ "ИИ" after a surname is two initials; "ЯН" or "ЛИ" are real names."""
    if len(tok) != 2 or not tok.isalpha() or not tok.isupper():
        return False
    return fold(tok) not in forms and fold(tok) not in KNOWN_SURNAMES


def score(unit: Unit, role: str) -> float:
    """How well a unit fits a role; the numbers only need to rank the orders sensibly."""
    i = unit.info
    if unit.initial:
        return -9.0 if role == "S" else 1.0
    if role == "S":
        s = 2.0 * i.surn - (4.0 if i.patr == 2 else 0.0)
        if i.first is not None and i.surn < 2:
            s -= 2.0
        return s + (1.5 if i.morph == "Surn" else 0.0)
    if role == "F":
        s = (3.0 if i.first is not None else 0.0) - (4.0 if i.patr == 2 else 0.0)
        if i.surn == 2 and i.first is None:
            s -= 1.5
        return s + (1.5 if i.morph == "Name" else 0.0)
    s = {2: 4.0, 1: 2.0}.get(i.patr, -2.0)
    if i.first is not None and not i.patr:
        s -= 1.0
    return s + (1.5 if i.morph == "Patr" else 0.0)


def assign_full(units: list[Unit]) -> tuple[dict[str, Unit], set[str]]:
    """Roles for the units of a free-text full name; long names keep the patronymic anchor."""
    flags: set[str] = set()
    if len(units) > 3:
        units, flags = _fold_long(units), {"name_extra_tokens"}
    best = best_order(tuple([u.score_id for u in units]))
    if "F" in best and "S" in best and best.index("F") < best.index("S"):
        flags.add("name_order_fms")
    return dict(zip(best, units, strict=True)), flags


@lru_cache(maxsize=4096)
def best_order(score_ids: tuple[int, ...]) -> str:
    """The best allowed order for units with these (S, F, M) scores; few distinct inputs."""
    index = {"S": 0, "F": 1, "M": 2}
    scores = [_SCORES[i] for i in score_ids]
    return max(
        _ORDERS[len(scores)],
        key=lambda o: sum(sc[index[r]] for sc, r in zip(scores, o[0], strict=True)) + o[1],
    )[0]


def _fold_long(units: list[Unit]) -> list[Unit]:
    """Reduce 4+ units to 3: the units around a patronymic keep their places, the rest join
    the surname ("Петров Водкин Кузьма Сергеевич")."""
    patr = [k for k, u in enumerate(units) if u.info.patr == 2]
    if patr and patr[0] == len(units) - 1:
        p = patr[0]
        return [_join(units[: p - 1]), units[p - 1], units[p]]
    if patr and patr[0] == 1:
        return [units[0], units[1], _join(units[2:])]
    return units[:3]


def _join(units: list[Unit]) -> Unit:
    text = " ".join(u.text for u in units)
    return Unit(text, fold(text), token_info(fold(text)), latin=all(u.latin for u in units))


def assign_fields(fields: dict[str, Unit]) -> tuple[dict[str, Unit], set[str]]:
    """Roles for explicit Фамилия/Имя/Отчество fields: a swap must beat the given order."""
    given = tuple(fields)
    units = [fields[r] for r in given]
    best = best_fields_order(given, tuple([u.score_id for u in units]))
    flags = {"name_swapped"} if best != given else set()
    return dict(zip(best, units, strict=True)), flags


@lru_cache(maxsize=4096)
def best_fields_order(given: tuple[str, ...], score_ids: tuple[int, ...]) -> tuple[str, ...]:
    """The best order of the given roles for units with these (S, F, M) scores."""
    index = {"S": 0, "F": 1, "M": 2}
    scores = [_SCORES[i] for i in score_ids]

    def total(order: tuple[str, ...]) -> float:
        bonus = 1.0 if order == given else 0.0
        return sum(sc[index[r]] for sc, r in zip(scores, order, strict=True)) + bonus

    return max(permutations(given), key=total)
