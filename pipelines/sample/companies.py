"""Companies: legal form, checksum-valid ИНН/КПП, office landline and corporate domain.

Brands repeat on purpose (there are many ООО "Вектор" in Russia, told apart only by ИНН), while
ИНН, phones and domains are unique by construction (see ``ids``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipelines.sample import ids
from pipelines.sample.contacts import slug
from pipelines.sample.names import MALE_FIRST, SURNAMES, patronymic
from pipelines.sample.places import City, pick_city, street_address

_STANDALONE = (
    "Ромашка", "Вектор", "Меридиан", "Гранит", "Орион", "Восход", "Полюс", "Созвездие",
    "Фортуна", "Спектр", "Лидер", "Прогресс", "Эталон", "Зенит", "Атлант", "Импульс",
    "Северный ветер", "Горизонт", "Магистраль", "Кристалл",
)  # fmt: skip
_PREFIXES = (
    "Техно", "Строй", "Агро", "Торг", "Мега", "Энерго", "Сиб", "Урал", "Волга", "Нева",
    "Инвест", "Гео", "Медиа", "Пром", "Авто",
)  # fmt: skip
_SUFFIXES = (
    "Сервис", "Групп", "Трейд", "Снаб", "Маркет", "Монтаж", "Пром", "Софт", "Строй",
    "Комплект", "Ресурс", "Альянс", "Лайн",
)  # fmt: skip
_FORMS: dict[str, tuple[str, float]] = {
    "ООО": ("Общество с ограниченной ответственностью", 70),
    "АО": ("Акционерное общество", 10),
    "ПАО": ("Публичное акционерное общество", 3),
    "ИП": ("Индивидуальный предприниматель", 17),
}
_FORM_NAMES = list(_FORMS)
_FORM_WEIGHTS = [w for _, w in _FORMS.values()]

ROLE_MAILBOXES = ("info", "office", "zakaz", "sales", "mail")


@dataclass(frozen=True)
class Company:
    """A customer organisation (or ИП) as its own truth entity."""

    kid: str  # truth id K000001
    index: int  # global company index, drives unique identifiers
    form: str  # ООО / АО / ПАО / ИП
    name: str  # short name as 1C shows it: ООО "Ромашка", ИП Сидоров П.А.
    official_name: str
    inn: str
    kpp: str  # empty for ИП
    city: City
    address: str
    phone: str  # E.164 office landline
    domain: str  # corporate e-mail domain ("" for an ИП without one)
    mailbox: str  # role mailbox shared by colleagues: info@… / zakaz@…


def _brand(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return rng.choice(_STANDALONE)
    return rng.choice(_PREFIXES) + rng.choice(_SUFFIXES)


def make_company(
    rng: random.Random, index: int, seed: int, taken: set[str], *, bare_ok: bool = True
) -> Company:
    """One company; ``taken`` holds this chunk's domain labels, ``bare_ok`` is False past chunk 0.

    A label gets the unique company index appended when it is taken or when other chunks may
    use it too; labels never contain digits, so suffixed and bare labels cannot collide.
    """
    form = rng.choices(_FORM_NAMES, weights=_FORM_WEIGHTS)[0]
    city = pick_city(rng)
    phone = ids.landline(index, city, seed)
    if form == "ИП":
        first = rng.choice(list(MALE_FIRST))
        father = rng.choice(list(MALE_FIRST))
        last = rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]
        middle = patronymic(father, "M")
        name = f"ИП {last} {first[0]}.{middle[0]}."
        official = f"{_FORMS[form][0]} {last} {first} {middle}"
        inn, kpp = ids.personal_inn(2 * index + 1, city, seed), ""
        box = f"ip.{slug(last)}{index}@{rng.choice(('mail.ru', 'yandex.ru'))}"
        return Company(
            f"K{index + 1:06d}", index, form, name, official, inn, kpp, city,
            street_address(rng, city, office=True), phone, "", box,
        )  # fmt: skip
    brand = _brand(rng)
    label = slug(brand).replace(" ", "")
    if label in taken or not bare_ok:
        label = f"{label}-{index}"
    taken.add(label)
    domain = f"{label}.{rng.choice(('ru', 'ru', 'ru', 'com', 'pro'))}"
    inn = ids.company_inn(index, city, seed)
    return Company(
        kid=f"K{index + 1:06d}",
        index=index,
        form=form,
        name=f'{form} "{brand}"',
        official_name=f'{_FORMS[form][0]} "{brand}"',
        inn=inn,
        kpp=ids.kpp(inn, index),
        city=city,
        address=street_address(rng, city, office=True),
        phone=phone,
        domain=domain,
        mailbox=f"{rng.choice(ROLE_MAILBOXES)}@{domain}",
    )
