"""Small labelled staged records for engine tests, built with the real normalisers."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from identity.normalize.companies import normalize_companies
from identity.normalize.dates import normalize_birth_dates
from identity.normalize.emails import normalize_emails
from identity.normalize.names import normalize_names
from identity.normalize.phones import normalize_phones
from identity.normalize.places import normalize_cities


@dataclass(frozen=True)
class Rec:
    """One source record as a person wrote it; ``who`` is the truth label."""

    key: str
    who: str
    name: str = ""
    phone: str = ""
    email: str = ""
    dob: str = ""
    city: str = ""
    company: str = ""
    inn: str = ""
    kind: str = "person"


def staged(records: list[Rec]) -> pl.DataFrame:
    """The staged columns the engine reads, one row per record."""

    def col(name: str) -> pl.Series:
        return pl.Series([getattr(r, name) or None for r in records], dtype=pl.String())

    none = pl.Series([None] * len(records), dtype=pl.String())
    names = normalize_names(col("name"), none, none, none)
    phones = normalize_phones(col("phone"))
    emails = normalize_emails(col("email"))
    dates = normalize_birth_dates(col("dob"))
    cities = normalize_cities(col("city"))
    companies = normalize_companies(col("company"), col("inn"), none, none)
    return pl.concat(
        [
            pl.DataFrame(
                {
                    "record_key": [r.key for r in records],
                    "entity_kind": [r.kind for r in records],
                }
            ),
            names.drop("name_flags"),
            phones.select("phones", "phone_types"),
            emails.select("emails", "email_keys"),
            dates.select("birth_date"),
            cities.select("city"),
            companies.select("company_key", "inn"),
        ],
        how="horizontal",
    )


def truth(records: list[Rec]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for r in records:
        groups.setdefault(r.who, set()).add(r.key)
    return {frozenset(g) for g in groups.values()}


def groups(assignments: pl.DataFrame) -> set[frozenset[str]]:
    frame = assignments.group_by("cluster_key").agg(pl.col("record_key"))
    return {frozenset(keys) for keys in frame["record_key"].to_list()}


#: A small population with the hard cases: the same people across sources (diminutives,
#: Latin spelling, initials, typos), a family sharing a phone and a mailbox, namesakes, an
#: office line shared by colleagues, a company by ИНН.
PEOPLE: list[Rec] = [
    Rec(
        "crm|1",
        "ivan",
        "Иванов Иван Петрович",
        "+7 916 321-54-76",
        "ivanov.ip@mail.ru",
        "12.03.1980",
        "Москва",
    ),
    Rec("form|1", "ivan", "Ваня Иванов", "89163215476", "", "", ""),
    Rec("desk|1", "ivan", "Ivanov Ivan", "", "ivanov.ip@mail.ru", "", ""),
    Rec("1c|1", "ivan", "Иванов И.П.", "+79163215476", "", "1980-03-12", ""),
    Rec(
        "crm|2",
        "maria",
        "Иванова Мария Сергеевна",
        "+7 916 321-54-76",
        "ivanov.ip@mail.ru",
        "05.07.1983",
        "Москва",
    ),
    Rec("form|2", "maria", "Маша Иванова", "+7 903 555-11-22", "masha.ivanova@yandex.ru", "", ""),
    Rec("crm|3", "maria", "Иванова Мария", "+79035551122", "", "", "Москва"),
    Rec(
        "crm|4",
        "petr1",
        "Сидоров Петр Алексеевич",
        "+7 925 000-11-01",
        "sidorov.pa@mail.ru",
        "01.01.1970",
        "Казань",
    ),
    Rec("1c|4", "petr1", "Сидоров Пётр Алексеевич", "+79250001101", "", "1970-01-01", ""),
    Rec(
        "crm|5",
        "petr2",
        "Сидоров Петр Алексеевич",
        "+7 926 777-22-33",
        "petr.sidorov@gmail.com",
        "15.09.1991",
        "Пермь",
    ),
    Rec("form|5", "petr2", "Петя Сидоров", "+79267772233", "", "", ""),
    Rec(
        "crm|6",
        "olga",
        "Смирнова Ольга Викторовна",
        "+7 495 111-22-33 доб. 101",
        "info@romashka.ru",
        "",
        "Москва",
    ),
    Rec(
        "crm|7",
        "anna",
        "Кузнецова Анна Игоревна",
        "+7 495 111-22-33 доб. 102",
        "info@romashka.ru",
        "",
        "Москва",
    ),
    Rec("form|7", "anna", "Анна Кузнецова", "+7 915 444-55-66", "anna.kuz@mail.ru", "", ""),
    Rec("crm|8", "anna", "Кузнецова Анна", "+79154445566", "anna.kuz@mail.ru", "", ""),
    Rec("1c|9", "romashka", company="ООО «Ромашка»", inn="7707083893", kind="company"),
    Rec("sales|9", "romashka", company="Ромашка ООО", inn="7707083893", kind="company"),
]
