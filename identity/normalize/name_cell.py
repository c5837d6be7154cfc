"""One name cell (or one set of Фамилия / Имя / Отчество fields) parsed into its parts.

The per-cell parser behind :mod:`identity.normalize.names`: tokens become units (surname, first
name, patronymic, initials), roles are assigned from the fields given or from the order in a
full-name cell, gaps in the fields are filled from the cell, and the parts are built: display
forms, match keys, canonical first names, gender. ``names`` answers most distinct inputs in bulk
(:mod:`identity.normalize.name_fast`) and asks this module for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from identity.normalize.name_lexicon import FirstName, gazetteer, token_info
from identity.normalize.name_parse import (
    EMPTY,
    JUNK,
    Parsed,
    Unit,
    assign_fields,
    assign_full,
    is_plain,
    make_unit,
    split_company,
    tokenize,
    units_from_tokens,
)
from identity.normalize.name_text import (
    clean_text,
    display_case,
    fold,
    fold_homoglyphs,
    is_latin,
    latin_key,
    latin_surname_key,
    surname_stem,
)


@dataclass(frozen=True, slots=True)
class NameParts:
    """A parsed name: display parts (ё kept), match keys (ё folded), gender, kind and flags."""

    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    first_initial: str | None = None
    middle_initial: str | None = None
    first_name_canonical: str | None = None
    first_name_alternatives: tuple[str, ...] = ()
    gender: str | None = None
    last_name_key: str | None = None
    first_name_key: str | None = None
    latin_last_key: str | None = None
    latin_first_key: str | None = None
    kind: str = "empty"
    flags: tuple[str, ...] = ()


def canonical_first_names(name: str, gender: str | None = None) -> tuple[str, ...]:
    """Canonical full names a first name may stand for ("Женя", "f" → ("Евгения",)).

    An unknown name stands for itself, so two records can still be compared by set overlap.
    """
    text = fold_homoglyphs(clean_text(name)).rstrip(".")
    if not text:
        return ()
    hit = token_info(fold(text)).first
    if hit is None:
        return (display_case(text),)
    genders = gazetteer()[0]
    narrowed = tuple(c for c in hit.canonicals if genders.get(c) == gender)
    return narrowed or hit.canonicals


@lru_cache(maxsize=1 << 12)  # per-value callers; normalize_names dedupes and bypasses it
def parse_cell(
    full_name: str | None, last: str | None, first: str | None, middle: str | None
) -> NameParts:
    """The parts of one input: explicit fields win, a person's full-name cell fills their gaps."""
    fields = _parse_fields(last, first, middle)
    if fields.kind == "person" and len(fields.roles) == 3:
        return _build(fields)  # every role given: the full-name cell could fill no gap
    whole = _parse_full(full_name) if full_name else EMPTY
    if fields.kind == "empty" or (fields.kind == "junk" and whole.kind != "empty"):
        return _build(whole)
    if fields.kind == "person" and whole.kind == "person":
        return _build(_fill_gaps(fields, whole))
    return _build(fields)


@lru_cache(maxsize=1 << 12)
def _parse_full(cell: str) -> Parsed:
    if not is_plain(cell) and (not cell.strip() or not clean_text(cell)):
        return EMPTY  # (a plain cell is letters: never blank)
    cleaned = tokenize(cell)
    if cleaned is None:
        return JUNK
    tokens, flags = cleaned
    kind, tokens = split_company(tokens)
    if kind == "company":
        return Parsed("company", {}, ("name_company",))
    if kind == "sole_trader":
        flags.add("name_sole_trader")
    if not tokens:
        return Parsed("junk", {}, tuple(sorted(flags | {"name_junk"})))
    roles, order_flags = assign_full(units_from_tokens(tokens))
    return Parsed("person", roles, tuple(sorted(flags | order_flags)))


@lru_cache(maxsize=1 << 16)
def _parse_fields(last: str | None, first: str | None, middle: str | None) -> Parsed:
    raw = {r: t for r, t in (("S", last), ("F", first), ("M", middle)) if t and has_text(t)}
    if not raw:
        return EMPTY
    if len(raw) == 1 or (set(raw) == {"S", "F"} and len(raw["F"].split()) == 2):
        joined = " ".join(raw.values())
        if len(joined.split()) > 1:  # one field holds the whole name, or Имя = "Иван Иванович"
            return _parse_full(joined)
    fields: dict[str, Unit] = {}
    flags: set[str] = set()
    for role, text in raw.items():
        kind, unit, field_flags = field_parts(text)
        if kind == "junk":
            flags.add("name_junk_field")
            continue
        if kind == "company":
            return Parsed("company", {}, ("name_company",))
        flags |= field_flags
        if unit is not None:
            fields[role] = unit
    if not fields:
        return JUNK
    roles, swap_flags = assign_fields(fields)
    return Parsed("person", roles, tuple(sorted(flags | swap_flags)))


@lru_cache(maxsize=1 << 16)
def has_text(text: str) -> bool:
    """Whether a field holds anything once cleaned (not blank, not only punctuation)."""
    return bool(clean_text(text))


@lru_cache(maxsize=1 << 16)
def field_parts(text: str) -> tuple[str, Unit | None, frozenset[str]]:
    """One explicit name field: ("junk" | "company" | "person", its unit, flags).

    Field values repeat far more than whole names (a few thousand surnames), so this is
    cached per value rather than per (last, first, middle) combination.
    """
    cleaned = tokenize(text)
    if cleaned is None:
        return "junk", None, frozenset()
    tokens, flags = cleaned
    kind, tokens = split_company(tokens)
    if kind == "company":
        return "company", None, frozenset()
    if kind == "sole_trader":
        flags = flags | {"name_sole_trader"}
    return "person", make_unit(" ".join(tokens)) if tokens else None, frozenset(flags)


def _fill_gaps(fields: Parsed, whole: Parsed) -> Parsed:
    """Take the surname or patronymic from the full-name cell when its first name agrees."""
    f_given, f_whole = fields.roles.get("F"), whole.roles.get("F")
    if f_given and f_whole and not _same_first(f_given, f_whole):
        return fields
    roles = {**whole.roles, **fields.roles}
    return Parsed("person", roles, fields.flags)


def _same_first(a: Unit, b: Unit) -> bool:
    if a.initial or b.initial:
        return a.folded[:1] == b.folded[:1]
    ca = set(a.info.first.canonicals) if a.info.first else {a.folded}
    cb = set(b.info.first.canonicals) if b.info.first else {b.folded}
    return bool(ca & cb) or a.folded == b.folded


def _display(unit: Unit | None) -> str | None:
    if unit is None or unit.initial:
        return None
    return unit.display


def _build(parsed: Parsed) -> NameParts:
    if parsed.kind != "person":
        return NameParts(kind=parsed.kind, flags=parsed.flags)
    roles = parsed.roles
    s, f, m = roles.get("S"), roles.get("F"), roles.get("M")
    flags = set(parsed.flags)
    gender = _external_gender(s, m)
    canonical, alternatives = _resolve_first(f, gender, flags)
    if gender is None and f is not None and f.info.first:
        gender = _common_gender(alternatives)
    if gender is None and f is not None and f.info.morph_gender:
        gender = f.info.morph_gender
    last, first = _display(s), _display(f)
    if first is not None and canonical is None and f is not None and f.info.first is None:
        canonical, alternatives = first, (first,)
        flags.add("name_first_unknown")
    if (s is not None and s.latin) or (f is not None and f.latin) or (m is not None and m.latin):
        flags.add("name_latin")
    if f is None:
        flags.add("name_no_first")
    if s is None:
        flags.add("name_no_last")
    if s is None and f is not None and f.initial and (m is None or m.initial):
        flags.add("name_initials_only")
    elif f is not None and f.initial:
        flags.add("name_initials")
    first_key = canonical or first
    return NameParts(
        last_name=last,
        first_name=first,
        middle_name=_display(m),
        first_initial=f.text[:1].upper() if f is not None else None,
        middle_initial=m.text[:1].upper() if m is not None else None,
        first_name_canonical=canonical,
        first_name_alternatives=alternatives,
        gender=gender,
        last_name_key=_last_key(last) if last else None,
        first_name_key=fold(first_key) if first_key else None,
        latin_last_key=latin_surname_key(last) if last else None,
        latin_first_key=latin_key(first_key) if first_key else None,
        kind="person",
        flags=tuple(sorted(flags)),
    )


@lru_cache(maxsize=1 << 12)
def _common_gender(names: tuple[str, ...]) -> str | None:
    """The gender all these canonical names share (None if they differ or are unknown)."""
    genders = {gazetteer()[0].get(a) for a in names}
    return genders.pop() if len(genders) == 1 else None


@lru_cache(maxsize=1 << 16)
def _last_key(last: str) -> str:
    return latin_surname_key(last) if is_latin(last) else surname_stem(fold(last))


def _external_gender(s: Unit | None, m: Unit | None) -> str | None:
    """Gender from the patronymic, else the surname ending (first names come later)."""
    if m is not None and m.info.patr_gender:
        return m.info.patr_gender
    if s is not None and s.info.surn_gender:
        return s.info.surn_gender
    if s is not None and s.info.morph == "Surn" and s.info.morph_gender:
        return s.info.morph_gender
    return None


def _resolve_first(
    f: Unit | None, gender: str | None, flags: set[str]
) -> tuple[str | None, tuple[str, ...]]:
    if f is None or f.initial or f.info.first is None:
        return None, ()
    canonical, narrowed, added = _narrow(f.info.first, gender)
    flags.update(added)
    return canonical, narrowed


@lru_cache(maxsize=1 << 12)
def _narrow(
    hit: FirstName, gender: str | None
) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """(canonical or None, candidates, flags) for a first-name hit given gender evidence."""
    genders = gazetteer()[0]
    narrowed = tuple(c for c in hit.canonicals if genders.get(c) == gender) or hit.canonicals
    flags = ("name_diminutive",) if hit.diminutive else ()
    if len(narrowed) == 1:
        return narrowed[0], narrowed, flags
    if len({genders.get(c) for c in narrowed}) > 1:
        return None, narrowed, (*flags, "name_ambiguous_gender")
    return None, narrowed, (*flags, "name_ambiguous_first")
