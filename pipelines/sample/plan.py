"""Which sources a person shows up in, how often, and which of their contacts each record knows.

Most people appear once or twice, a few up to five times (the skew real customer bases have).
Hard-case people always get one clean record, so the case is visible in the data and a test
that looks for it cannot pass or fail by luck.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipelines.sample.contacts import Rendered, render_emails, render_phones
from pipelines.sample.people import Person
from pipelines.sample.weighted import Weighted

SOURCES = ("ivanova", "petrov", "leads", "1c", "forms", "tickets")
_INDIVIDUAL_WEIGHTS = Weighted(dict(zip(SOURCES, (20, 4, 20, 16, 24, 16), strict=True)))
_EMPLOYEE_WEIGHTS = Weighted(dict(zip(SOURCES, (6, 34, 10, 28, 12, 10), strict=True)))
_COUNTS = Weighted({1: 40, 2: 28, 3: 17, 4: 10, 5: 5})  # records per person: skewed
_HARD = frozenset({"namesake", "maiden", "shared_phone", "shared_email", "office_line"})


@dataclass(frozen=True)
class Slot:
    """One future record of a person."""

    person: Person
    maiden: bool = False  # written under the maiden surname
    clean: bool = False  # no destructive noise: full name, phone and e-mail all present


def person_slots(person: Person, rng: random.Random) -> list[tuple[str, Slot]]:
    """The records one person gets, each with the source it lands in."""
    count = _COUNTS.pick(rng)
    hard = bool(_HARD.intersection(person.tags))
    if person.maiden_name:
        count = max(count, 2)
    weights = _EMPLOYEE_WEIGHTS if person.company else _INDIVIDUAL_WEIGHTS
    out = []
    for k in range(count):
        source = weights.pick(rng)
        maiden = bool(person.maiden_name) and (k == 1 or (k > 1 and rng.random() < 0.3))
        out.append((source, Slot(person, maiden=maiden, clean=hard and k < 2)))
    return out


def plan_records(people: list[Person], rng: random.Random) -> dict[str, list[Slot]]:
    """Slots per source, in a shuffled but seeded order."""
    plan: dict[str, list[Slot]] = {source: [] for source in SOURCES}
    for person in people:
        for source, slot in person_slots(person, rng):
            plan[source].append(slot)
    for slots in plan.values():
        rng.shuffle(slots)
    return plan


def record_phones(
    rng: random.Random, slot: Slot, *, numeric_ok: bool = False, masked: bool = False
) -> Rendered:
    """The phone cell of a record: the office line with extension for some employees."""
    person = slot.person
    if not slot.clean and rng.random() < 0.08:
        return Rendered()
    if slot.clean and person.company and "office_line" in person.tags:
        return render_phones(rng, [person.company.phone], masked=masked, clean=True)
    if person.company and not slot.clean and rng.random() < 0.3:
        ext = person.ext if rng.random() < 0.7 else ""
        return render_phones(rng, [person.company.phone], ext=ext, masked=masked)
    return render_phones(
        rng, list(person.phones), numeric_ok=numeric_ok, masked=masked, clean=slot.clean
    )


def record_emails(rng: random.Random, slot: Slot) -> Rendered:
    """The e-mail cell of a record: work, role mailbox or private address."""
    person = slot.person
    if not slot.clean and rng.random() < 0.1:
        return Rendered()
    company = person.company
    if slot.clean and company and "office_line" in person.tags:
        return render_emails(rng, [company.mailbox], clean=True)
    if company and not slot.clean:
        roll = rng.random()
        if roll < 0.12:
            return render_emails(rng, [company.mailbox])
        if roll < 0.6 and person.work_email:
            return render_emails(rng, [person.work_email])
    return render_emails(rng, list(person.emails), clean=slot.clean)
