"""The synthetic population: people in households, some employed by companies.

People are made in seeded chunks, so a million of them stream in bounded memory and any chunk
can be rebuilt alone. Every chunk carries the hard cases a matcher must get right: namesakes,
spouses and children sharing a phone or e-mail, a woman known under two surnames, colleagues
behind one office line and role mailbox.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pipelines.sample import ids
from pipelines.sample.companies import Company, make_company
from pipelines.sample.contacts import public_email, work_email
from pipelines.sample.names import FEMALE_FIRST, MALE_FIRST, SURNAMES, patronymic, surname_for
from pipelines.sample.places import City, pick_city
from pipelines.sample.weighted import Weighted

CHUNK_SIZE = 5000
_YOUNGEST = date(2007, 6, 1)  # every customer is an adult on the fixed sample dates
_MALE, _FEMALE, _SURNAMES = Weighted(MALE_FIRST), Weighted(FEMALE_FIRST), Weighted(SURNAMES)
_POSITIONS = (
    "менеджер по закупкам", "главный бухгалтер", "генеральный директор", "офис-менеджер",
    "инженер", "юрист", "снабженец", "коммерческий директор", "бухгалтер", "логист",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """One real human: the truth every messy record of them is rendered from."""

    pid: str  # truth id P000001
    index: int  # global person index, drives unique phones
    gender: str  # "M" or "F"
    last_name: str
    first_name: str
    middle_name: str
    maiden_name: str  # surname before marriage, "" if unchanged
    birth_date: date
    city: City
    phones: tuple[str, ...]  # E.164; the first is the one people write down
    emails: tuple[str, ...]
    inn: str = ""  # personal 12-digit ИНН, known to 1C for some customers
    company: Company | None = None
    position: str = ""
    ext: str = ""  # office extension
    work_email: str = ""
    tags: tuple[str, ...] = ()  # hard cases this person takes part in


class _ChunkBuilder:
    """Builds one chunk; holds the chunk's RNG and the e-mails already handed out."""

    def __init__(self, chunk: int, start: int, seed: int) -> None:
        self.rng = random.Random(f"svod-sample:{seed}:{chunk}")
        self.chunk, self.next_index, self.seed = chunk, start, seed
        self.taken: set[str] = set()
        self.people: list[Person] = []

    def email(self, first: str, last: str, middle: str, year: int) -> str:
        for _ in range(20):
            candidate = public_email(self.rng, first, last, middle, year)
            local, domain = candidate.split("@")
            if self.chunk:  # locals never end in ".<digits>", so chunks cannot collide
                candidate = f"{local}.{self.chunk}@{domain}"
            if candidate not in self.taken:
                break
        self.taken.add(candidate)
        return candidate

    def person(
        self,
        gender: str,
        surname: str,
        *,
        first: str | None = None,
        middle: str | None = None,
        father: str | None = None,
        born: date | None = None,
        city: City | None = None,
        tags: tuple[str, ...] = (),
    ) -> Person:
        rng, index = self.rng, self.next_index
        self.next_index += 1
        first = first or (_MALE if gender == "M" else _FEMALE).pick(rng)
        father = father or _MALE.pick(rng)
        middle = middle or patronymic(father, gender)
        city = city or pick_city(rng)
        born = born or date(1955, 1, 1) + timedelta(days=rng.randrange(50 * 365))
        phones = [ids.mobile_phone(2 * index, self.seed)]
        if rng.random() < 0.15:
            phones.append(ids.mobile_phone(2 * index + 1, self.seed))
        last = surname_for(surname, gender)
        emails = [self.email(first, last, middle, born.year)] if rng.random() < 0.88 else []
        if emails and rng.random() < 0.1:
            emails.append(self.email(first, last, middle, born.year))
        inn = ids.personal_inn(2 * index, city, self.seed)
        return Person(
            pid=f"P{index + 1:06d}", index=index, gender=gender, last_name=last,
            first_name=first, middle_name=middle, maiden_name="", birth_date=born,
            city=city, phones=tuple(phones), emails=tuple(emails),
            inn=inn if rng.random() < 0.1 else "", tags=tags,
        )  # fmt: skip

    def surname(self) -> str:
        return _SURNAMES.pick(self.rng)

    def household(self, kind: str) -> list[Person]:
        """A single, a couple, a couple with a grown child, or a namesake pair."""
        rng = self.rng
        if kind == "single":
            return [self.person(rng.choice("MF"), self.surname())]
        if kind == "namesakes":
            base = self.surname()
            a = self.person(rng.choice("MF"), base, tags=("namesake",))
            b = self.person(a.gender, base, first=a.first_name, middle=a.middle_name, tags=a.tags)
            return [a, b]
        family = self.surname()
        husband = self.person("M", family, tags=("family",))
        born = husband.birth_date + timedelta(days=rng.randint(-6 * 365, 3 * 365))
        wife = self.person("F", family, born=born, city=husband.city, tags=("family",))
        if kind == "maiden" or rng.random() < 0.2:
            maiden = wife.last_name
            while maiden == wife.last_name:
                maiden = surname_for(self.surname(), "F")
            wife = replace(wife, maiden_name=maiden, tags=(*wife.tags, "maiden"))
        share = rng.random()
        if kind == "shared" or share < 0.35:  # the wife gives the family (husband's) number
            wife = replace(wife, phones=(husband.phones[0], *wife.phones[1:]))
            wife = replace(wife, tags=(*wife.tags, "shared_phone"))
        elif share < 0.5 and husband.emails:
            wife = replace(wife, emails=husband.emails[:1], tags=(*wife.tags, "shared_email"))
        members = [husband, wife]
        if kind == "child" or rng.random() < 0.15:
            born = max(wife.birth_date, husband.birth_date)
            born += timedelta(days=rng.randint(20 * 365, 32 * 365))
            if born > _YOUNGEST:
                born = _YOUNGEST - timedelta(days=rng.randrange(3 * 365))
            child = self.person(
                rng.choice("MF"), family, father=husband.first_name, born=born,
                city=husband.city, tags=("family",),
            )  # fmt: skip
            parent = rng.choice(members)
            if rng.random() < 0.5:
                child = replace(child, phones=parent.phones[:1], tags=("family", "shared_phone"))
            elif parent.emails:
                child = replace(child, emails=parent.emails[:1], tags=("family", "shared_email"))
            members.append(child)
        return members

    def employ(self, companies: list[Company]) -> None:
        """Employ a quarter of adults: each company gets one, the first a guaranteed pair.

        The pair is tagged ``office_line``: their clean records show the shared office number
        and role mailbox, so every chunk has colleagues a matcher must keep apart.
        """
        rng = self.rng
        adults = [i for i, p in enumerate(self.people) if p.birth_date.year <= 2001]
        rng.shuffle(adults)
        adults.sort(key=lambda i: bool(self.people[i].tags))  # the pair has no other hard case
        pair = adults[:2]
        rest = adults[2:]
        rng.shuffle(rest)
        chosen = pair + rest[: max(len(companies) - 1, len(adults) // 4 - 2)]
        for k, i in enumerate(chosen):
            tag: tuple[str, ...] = ("office_line",) if k < 2 else ()
            if k < 2:
                company = companies[0]
            elif k - 1 < len(companies):
                company = companies[k - 1]
            else:
                company = rng.choice(companies)
            p = self.people[i]
            mail = ""
            for _ in range(10 if company.domain else 0):
                mail = work_email(rng, p.first_name, p.last_name, p.middle_name, company.domain)
                if mail not in self.taken:
                    break
            self.taken.add(mail)
            self.people[i] = replace(
                p,
                company=company,
                position=rng.choice(_POSITIONS),
                ext=str(rng.randint(100, 599)) if rng.random() < 0.6 else "",
                work_email=mail,
                tags=(*p.tags, "employee", *tag),
            )


_KINDS = ("single", "couple", "child", "namesakes")
_KIND_WEIGHTS = (62, 26, 10, 2)
_QUOTA = ("namesakes", "maiden", "shared", "child", "namesakes", "maiden")


def _make_chunk(chunk: int, start: int, n: int, seed: int, chunk_size: int) -> list[Person]:
    builder = _ChunkBuilder(chunk, start, seed)
    quota = list(_QUOTA) if n >= 20 else []
    while len(builder.people) < n:
        kind = quota.pop(0) if quota else builder.rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        members = builder.household(kind)
        builder.people.extend(members[: n - len(builder.people)])
    count = max(1, min(n // 12, chunk_size // 8))
    labels: set[str] = set()
    companies = [
        make_company(builder.rng, start // 8 + j, seed, labels, bare_ok=chunk == 0)
        for j in range(count)
    ]
    builder.employ(companies)
    return builder.people


def iter_chunks(count: int, seed: int, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Person]]:
    """People in independent seeded chunks; a chunk's companies employ only its own people."""
    for chunk, start in enumerate(range(0, count, chunk_size)):
        yield _make_chunk(chunk, start, min(chunk_size, count - start), seed, chunk_size)


def iter_people(count: int, seed: int, chunk_size: int = CHUNK_SIZE) -> Iterator[Person]:
    """``count`` people generated lazily: memory holds one chunk, never the population."""
    for people in iter_chunks(count, seed, chunk_size):
        yield from people
