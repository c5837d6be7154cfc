"""Cities, area codes and addresses for the sample generator.

Each city carries its landline area code, the tax-region prefix of ИНН/КПП and a postcode
prefix, so a generated company's phone, ИНН and address agree with each other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipelines.sample.weighted import Weighted


@dataclass(frozen=True)
class City:
    """A city with the codes that must agree with it."""

    name: str
    weight: float
    area_code: str  # landline area code after +7 (3 or 4 digits)
    region: str  # two-digit tax region code (ИНН/КПП prefix)
    postcode: str  # first three digits of the city's postcodes


CITIES: tuple[City, ...] = (
    City("Москва", 30, "495", "77", "117"),
    City("Санкт-Петербург", 14, "812", "78", "190"),
    City("Новосибирск", 5, "383", "54", "630"),
    City("Екатеринбург", 5, "343", "66", "620"),
    City("Казань", 4, "843", "16", "420"),
    City("Нижний Новгород", 4, "831", "52", "603"),
    City("Самара", 3, "846", "63", "443"),
    City("Воронеж", 3, "473", "36", "394"),
    City("Краснодар", 3, "861", "23", "350"),
    City("Ростов-на-Дону", 3, "863", "61", "344"),
    City("Челябинск", 3, "351", "74", "454"),
    City("Уфа", 3, "347", "02", "450"),
    City("Пермь", 2, "342", "59", "614"),
    City("Красноярск", 2, "391", "24", "660"),
    City("Омск", 2, "3812", "55", "644"),
    City("Тюмень", 2, "3452", "72", "625"),
)

_BY_WEIGHT = Weighted({c: c.weight for c in CITIES})

STREETS: tuple[str, ...] = (
    "ул. Ленина",
    "ул. Мира",
    "ул. Советская",
    "пр-т Победы",
    "ул. Гагарина",
    "ул. Садовая",
    "ул. Молодёжная",
    "ул. Школьная",
    "ул. Лесная",
    "ул. Набережная",
    "пер. Почтовый",
    "ул. Заводская",
    "ш. Энтузиастов",
    "ул. Вавилова",
    "ул. Пушкина",
    "наб. Реки Фонтанки",
)


def pick_city(rng: random.Random) -> City:
    """A city drawn by population weight."""
    return _BY_WEIGHT.pick(rng)


def street_address(rng: random.Random, city: City, *, office: bool) -> str:
    """A free-text address as 1C prints it: postcode, city, street, house, office or flat."""
    postcode = city.postcode + f"{rng.randrange(1000):03d}"
    house = rng.randint(1, 120)
    unit = f"оф. {rng.randint(1, 450)}" if office else f"кв. {rng.randint(1, 300)}"
    return f"{postcode}, г. {city.name}, {rng.choice(STREETS)}, д. {house}, {unit}"
