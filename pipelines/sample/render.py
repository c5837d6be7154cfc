"""Messy renderings of a person's name, as different sources and people write it (E2–E5).

A rendering reports which name parts the record *mentions* (in any form: diminutive, Latin,
initial, typo) so the truth can give the canonical value of each, and lists the distortions
applied so a scorer can leave out what no normaliser could recover.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipelines.sample.contacts import latin, typo
from pipelines.sample.names import DIMINUTIVES, LATIN_HABITS, NAME_VARIANTS
from pipelines.sample.people import Person
from pipelines.sample.weighted import Weighted

#: Full-name styles per kind of source, with weights.
SALES_STYLES = Weighted(
    {"fio": 52, "lf": 12, "fi": 10, "initials": 8, "first": 3, "dim_fl": 3, "latin": 2}
)
CML_STYLES = Weighted({"fio": 88, "lf": 6, "initials": 6})
FORM_STYLES = Weighted(
    {"first": 28, "fi": 28, "fio": 8, "dim": 12, "dim_fl": 6, "latin": 10, "lf": 8}
)
TICKET_STYLES = Weighted({"fi": 45, "latin": 25, "first": 15, "fio": 10, "dim": 5})


@dataclass
class NameOut:
    """Name cells as written, plus the canonical parts the record mentions."""

    full: str = ""
    last: str = ""
    first: str = ""
    middle: str = ""
    true_last: str = ""
    true_first: str = ""
    true_middle: str = ""
    noise: list[str] = field(default_factory=list)


def _first_form(rng: random.Random, first: str, dim: bool, noise: list[str]) -> str:
    if dim and first in DIMINUTIVES:
        noise.append("diminutive")
        return rng.choice(DIMINUTIVES[first])
    if first in NAME_VARIANTS and rng.random() < 0.3:
        noise.append("name_variant")
        return NAME_VARIANTS[first]
    return first


def _latin_word(rng: random.Random, word: str) -> str:
    if word in LATIN_HABITS and rng.random() < 0.5:
        return rng.choice(LATIN_HABITS[word])
    return latin(word, rng.randrange(4))


def _fold_yo(rng: random.Random, out: NameOut) -> None:
    """Most people never type ё: drop it in most records that would have it."""
    parts = (out.full, out.last, out.first, out.middle)
    if any("ё" in s.lower() for s in parts) and rng.random() < 0.6:
        out.full, out.last = out.full.replace("ё", "е"), out.last.replace("ё", "е")
        out.first, out.middle = out.first.replace("ё", "е"), out.middle.replace("ё", "е")
        out.full, out.last = out.full.replace("Ё", "Е"), out.last.replace("Ё", "Е")
        out.noise.append("yo_folded")


def _surname(person: Person, maiden: bool) -> str:
    return person.maiden_name if maiden and person.maiden_name else person.last_name


def full_name(
    rng: random.Random, person: Person, styles: Weighted[str], *, maiden: bool, clean: bool
) -> NameOut:
    """A one-cell name ("ФИО", "Клиент", "Name") in a style drawn from ``styles``."""
    style = "fio" if clean else styles.pick(rng)
    out = NameOut(noise=[] if style == "fio" else [f"style_{style}"])
    last, middle = _surname(person, maiden), person.middle_name
    if maiden and person.maiden_name:
        out.noise.append("maiden_name")
    if not clean and rng.random() < 0.04:
        last = typo(rng, last)
        out.noise.append("name_typo")
    first = _first_form(rng, person.first_name, style.startswith("dim"), out.noise)
    out.true_first = person.first_name
    if style == "fio":
        out.full, out.true_last, out.true_middle = f"{last} {first} {middle}", last, middle
    elif style == "lf":
        out.full, out.true_last = f"{last} {first}", last
    elif style == "fi" or style == "dim_fl":
        out.full, out.true_last = f"{first} {last}", last
    elif style == "initials":
        out.true_last, out.true_middle = last, middle
        dotted = f"{first[0]}.{middle[0]}."
        out.full = f"{last} {dotted}" if rng.random() < 0.8 else f"{dotted} {last}"
    elif style == "latin":
        words = [_latin_word(rng, first), latin(last, rng.randrange(4))]
        out.full, out.true_last = " ".join(words if rng.random() < 0.8 else words[::-1]), last
    else:  # first / dim: a bare first name
        out.full = first
    if _surname(person, maiden) != last:  # typo'd: the truth keeps the real surname
        out.true_last = _surname(person, maiden) if out.true_last else ""
        if not out.true_last:
            out.noise.remove("name_typo")
    _fold_yo(rng, out)
    roll = 1.0 if clean else rng.random()
    if roll < 0.06:
        out.full, out.noise = out.full.upper(), [*out.noise, "upper"]
    elif roll < 0.1:
        out.full, out.noise = out.full.lower(), [*out.noise, "lower"]
    return out


def split_name(rng: random.Random, person: Person, *, maiden: bool, clean: bool) -> NameOut:
    """Separate Фамилия / Имя / Отчество cells, with the usual ways they go wrong."""
    out = NameOut()
    last, first, middle = _surname(person, maiden), person.first_name, person.middle_name
    out.true_last, out.true_first, out.true_middle = last, first, middle
    if maiden and person.maiden_name:
        out.noise.append("maiden_name")
    roll = 1.0 if clean else rng.random()
    if roll < 0.03:
        out.last, out.noise = f"{last} {first} {middle}", [*out.noise, "fio_in_one_cell"]
    elif roll < 0.05:
        out.last, out.first, out.middle = first, last, middle
        out.noise.append("swapped")
    else:
        if roll < 0.08:
            last = typo(rng, last)
            out.noise.append("name_typo")
        out.last = last
        out.first = _first_form(rng, first, roll < 0.12, out.noise)
        if roll < 0.3:
            out.middle, out.true_middle = "", ""
            out.noise.append("no_middle")
        else:
            out.middle = middle
    _fold_yo(rng, out)
    if not clean and rng.random() < 0.05:
        out.last, out.first, out.middle = out.last.upper(), out.first.upper(), out.middle.upper()
        out.noise.append("upper")
    out.full = " ".join(p for p in (out.last, out.first, out.middle) if p)
    return out
