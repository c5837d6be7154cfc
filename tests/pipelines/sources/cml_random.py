"""Random CommerceML files for differential tests: odd nesting the 1C exporters allow or produce.

Repeated and conflicting Ид (from a small pool), counterparties without Ид or without fields,
Представитель in both forms, Товар and Контрагент in unusual places, owners in catalogs,
attributes, empty and whitespace-only elements, HTML entities, a namespace prefix or none.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_NAMES = ["Иванов Иван", "ООО &quot;Ромашка&quot;", "Петрова&nbsp;Анна", " Сидоров ", "ИП Лютик"]
_ROLES = ["Покупатель", "Продавец", "Плательщик", "Получатель"]
_CONTACTS = ["Почта", "Телефон рабочий", "Факс", "E-mail", "Телефон мобильный"]


class _Doc:
    def __init__(self, rng: random.Random, prefix: str) -> None:
        self.rng = rng
        self.prefix = prefix

    def tag(self, name: str, body: str = "", attrs: str = "") -> str:
        full = f"{self.prefix}{name}"
        if not body and self.rng.random() < 0.3:
            return f"<{full}{attrs}/>"
        return f"<{full}{attrs}>{body}</{full}>"

    def text(self, *choices: str) -> str:
        rng = self.rng
        value = rng.choice(choices) if choices else str(rng.randint(1, 999))
        return rng.choice(["", " ", "\n  "]) + value + rng.choice(["", " ", "&nbsp;"])

    def leaf(self, name: str, *choices: str) -> str:
        if self.rng.random() < 0.08:
            return self.tag(name, self.rng.choice(["", "  ", "\n"]))
        attrs = ' Тип="код"' if self.rng.random() < 0.05 else ""
        return self.tag(name, self.text(*choices), attrs)

    def ident(self, pool: int) -> str:
        return "" if self.rng.random() < 0.1 else self.leaf("Ид", *[f"id-{i}" for i in range(pool)])

    def contacts(self) -> str:
        items = "".join(
            self.tag("Контакт", self.leaf("Тип", *_CONTACTS) + self.leaf("Значение", "a@b.ru"))
            for _ in range(self.rng.randint(0, 3))
        )
        return self.tag("Контакты", items)

    def representative(self) -> str:
        rng = self.rng
        body = self.ident(6) + self.leaf("Наименование", *_NAMES)
        if rng.random() < 0.3:
            body = self.tag("Контрагент", body + self.leaf("Фамилия", "Орлова"))
        if rng.random() < 0.5:
            body += self.leaf("Отношение", "Контактное лицо", "Главный бухгалтер")
        if rng.random() < 0.1:
            body = ""
        return self.tag("Представитель", body)

    def party(self, name: str = "Контрагент") -> str:
        rng = self.rng
        parts = [self.ident(8)]
        fields: list[Callable[[], str]] = [
            lambda: self.leaf("Наименование", *_NAMES),
            lambda: self.leaf("ПолноеНаименование", *_NAMES),
            lambda: self.leaf("ИНН", "7797228188", "504104575082", "12"),
            lambda: self.leaf("КПП", "779701001"),
            lambda: self.leaf("Фамилия", "Иванов"),
            lambda: self.leaf("Имя", "Иван"),
            lambda: self.contacts(),
            lambda: self.tag("Адрес", self.leaf("Представление", "Москва, ул. Мира, 1")),
            lambda: self.tag("РеквизитыЮрЛица", self.leaf("ОфициальноеНаименование", "ООО")),
            lambda: self.tag(
                "Представители",
                "".join(self.representative() for _ in range(rng.randint(0, 2))),
            ),
            lambda: self.leaf("Роль", *_ROLES),
            lambda: self.leaf("Роль", *_ROLES),
        ]
        parts += [field() for field in rng.sample(fields, rng.randint(0, len(fields)))]
        if rng.random() < 0.05:
            parts = parts[:1]  # an Ид and nothing else
        return self.tag(name, "".join(parts))

    def goods(self) -> str:
        rng = self.rng
        items = []
        for _ in range(rng.randint(0, 3)):
            body = self.leaf("Наименование", "Чай", "Кофе") + self.leaf("Сумма")
            if rng.random() < 0.1:
                body += self.party()  # a counterparty inside a Товар
            attrs = ' Код="1"' if rng.random() < 0.1 else ""
            items.append(self.tag("Товар", body, attrs))
        return self.tag("Товары", "".join(items))

    def document(self) -> str:
        rng = self.rng
        parts = [
            self.ident(40),
            self.leaf("Номер"),
            self.leaf("Дата", "2026-01-02"),
            self.leaf("ХозОперация", "Заказ товара"),
            self.leaf("Сумма"),
            self.tag("Контрагенты", "".join(self.party() for _ in range(rng.randint(0, 2)))),
            self.goods(),
        ]
        if rng.random() < 0.3:
            status = self.leaf("Наименование", "Статус заказа", "Статус", "Оплата")
            value = self.tag("ЗначениеРеквизита", status + self.leaf("Значение", "Новый"))
            parts.append(self.tag("ЗначенияРеквизитов", value + value))
        if rng.random() < 0.1:
            parts.append(self.tag("Документ", self.leaf("Номер")))  # nested: not an order
        if rng.random() < 0.1:
            parts.append(self.tag("Каталог", self.party("Владелец")))
        rng.shuffle(parts)
        return self.tag("Документ", "".join(parts))

    def section(self) -> str:
        rng = self.rng
        name = rng.choice(["Классификатор", "Каталог", "ПакетПредложений", "Прочее"])
        body = "".join(
            rng.choice([self.party("Владелец"), self.party(), self.goods(), self.leaf("Ид")])
            for _ in range(rng.randint(0, 4))
        )
        if rng.random() < 0.3:
            body = self.tag("Группы", body + self.party("Владелец"))
        return self.tag(name, body)


def commerceml(seed: int) -> bytes:
    """One random file (bytes in its declared encoding)."""
    rng = random.Random(seed)
    prefix = rng.choice(["", "", "c:"])
    doc = _Doc(rng, prefix)
    if rng.random() < 0.15:
        root, children = "Контрагенты", [doc.party() for _ in range(rng.randint(0, 6))]
    else:
        root = "КоммерческаяИнформация"
        children = [
            doc.document() if rng.random() < 0.75 else doc.section()
            for _ in range(rng.randint(0, 12))
        ]
    sep = rng.choice(["", "\n", "\n  "])
    xmlns = f' xmlns{":c" if prefix else ""}="urn:1C.ru:commerceml_2"'
    body = sep.join(children)
    encoding = rng.choice(["utf-8", "windows-1251"])
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<{prefix}{root}{xmlns} ВерсияСхемы="2.08">{sep}{body}{sep}</{prefix}{root}>\n'
    )
    return text.encode(encoding)
