"""A CommerceML 2.08 order export from 1C, windows-1251 encoded (ECOSYSTEM C1).

Counterparties live inside `Документ/Контрагенты/Контрагент`; a counterparty that placed
several orders is repeated verbatim with the same `Ид`, so the truth has one row per distinct
`Ид` (Контрагент or Представитель), not per repetition.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from xml.sax.saxutils import escape

from pipelines.sample import ids
from pipelines.sample.companies import Company
from pipelines.sample.contacts import Rendered, render_phones
from pipelines.sample.plan import Slot, record_emails, record_phones
from pipelines.sample.render import CML_STYLES, full_name, split_name
from pipelines.sample.truth import TruthRow, Where, person_row

ENCODING = "windows-1251"
STAMP = "2025-06-30T18:00:00"
_GOODS = (
    ("Бумага офисная А4, 500 л.", 320), ("Картридж HP 85A", 2450), ("Кресло офисное", 8900),
    ("Монитор 24\"", 12990), ("Клавиатура", 1290), ("Чай чёрный, 100 пак.", 410),
    ("Вода питьевая 19 л", 390), ("Доставка", 500), ("Степлер №24", 260),
)  # fmt: skip


def _el(tag: str, value: str) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def _contacts(pairs: Iterable[tuple[str, str]]) -> str:
    items = "".join(
        f"<Контакт><Тип>{escape(kind)}</Тип><Значение>{escape(value)}</Значение></Контакт>"
        for kind, value in pairs
        if value
    )
    return f"<Контакты>{items}</Контакты>" if items else ""


def individual_xml(
    rng: random.Random, slot: Slot, native_id: str, rel: str
) -> tuple[str, TruthRow]:
    """A private buyer: Фамилия/Имя/Отчество, maybe ДатаРождения and ИНН, mobile and e-mail."""
    person = slot.person
    name = split_name(rng, person, maiden=slot.maiden, clean=slot.clean)
    short = f"{name.first} {name.last}" if rng.random() < 0.3 and name.first else name.full
    birth = person.birth_date if rng.random() < 0.6 else None
    inn = person.inn if rng.random() < 0.8 else ""
    phones = record_phones(rng, slot)
    emails = record_emails(rng, slot)
    mail_kind = "Почта" if rng.random() < 0.85 else "Электронная почта"
    parts = [
        _el("Ид", native_id), _el("Наименование", short), _el("ПолноеНаименование", name.full),
        _el("Фамилия", name.last), _el("Имя", name.first), _el("Отчество", name.middle),
        _el("ДатаРождения", birth.isoformat() if birth else ""), _el("ИНН", inn),
        _contacts((("Телефон мобильный", str(phones.text)), (mail_kind, str(emails.text)))),
        "<Роль>Покупатель</Роль>",
    ]  # fmt: skip
    truth = person_row(
        Where(rel, native_id=native_id), person.pid, name, phones, emails,
        birth_date=birth, inn=inn,
    )  # fmt: skip
    return f"<Контрагент>{''.join(parts)}</Контрагент>", truth


def company_xml(
    rng: random.Random, company: Company, native_id: str, reps: list[tuple[str, Slot]], rel: str
) -> tuple[str, list[TruthRow]]:
    """A legal-entity buyer with its contact persons as `Представители`."""
    phones = render_phones(rng, [company.phone])
    address = f"<ЮридическийАдрес>{_el('Представление', company.address)}</ЮридическийАдрес>"
    parts = [
        _el("Ид", native_id), _el("Наименование", company.name),
        _el("ОфициальноеНаименование", company.official_name), address,
        _el("ИНН", company.inn), _el("КПП", company.kpp),
        _contacts((("Телефон рабочий", str(phones.text)), ("Почта", company.mailbox))),
    ]  # fmt: skip
    truths = [
        TruthRow(
            Where(rel, native_id=native_id),
            "company",
            company.kid,
            phones=tuple(phones.phones),
            emails=(company.mailbox,),
            inn=company.inn,
            noise=tuple(phones.noise),
        )
    ]
    rep_parts = []
    for rep_id, slot in reps:
        person = slot.person
        name = full_name(rng, person, CML_STYLES, maiden=slot.maiden, clean=slot.clean)
        with_contacts = slot.clean or rng.random() < 0.6
        rep_phones = record_phones(rng, slot) if with_contacts else Rendered()
        rep_emails = record_emails(rng, slot) if with_contacts else Rendered()
        contacts = _contacts(
            (("Телефон рабочий", str(rep_phones.text)), ("Почта", str(rep_emails.text)))
        )
        rep_parts.append(
            f"<Представитель>{_el('Ид', rep_id)}{_el('Наименование', name.full)}"
            f"<Отношение>Контактное лицо</Отношение>{contacts}</Представитель>"
        )
        where = Where(rel, native_id=rep_id)
        truths.append(person_row(where, person.pid, name, rep_phones, rep_emails))
    if rep_parts:
        parts.append(f"<Представители>{''.join(rep_parts)}</Представители>")
    parts.append("<Роль>Покупатель</Роль>")
    return f"<Контрагент>{''.join(parts)}</Контрагент>", truths


def document_xml(rng: random.Random, doc_id: str, number: int, day: date, party: str) -> str:
    """One order (`ХозОперация` "Заказ товара") with a buyer and a few goods."""
    goods, total = [], 0
    for name, price in rng.sample(_GOODS, rng.randint(1, 3)):
        qty = rng.randint(1, 10)
        total += qty * price
        goods.append(
            f"<Товар>{_el('Наименование', name)}<ЦенаЗаЕдиницу>{price}.00</ЦенаЗаЕдиницу>"
            f"<Количество>{qty}</Количество><Сумма>{qty * price}.00</Сумма></Товар>"
        )
    return (
        f"  <Документ>\n    <Ид>{doc_id}</Ид><Номер>{number:06d}</Номер>"
        f"<Дата>{day.isoformat()}</Дата>\n    <ХозОперация>Заказ товара</ХозОперация>"
        f"<Роль>Продавец</Роль><Валюта>руб</Валюта><Курс>1</Курс><Сумма>{total}.00</Сумма>\n"
        f"    <Контрагенты>{party}</Контрагенты>\n    <Товары>{''.join(goods)}</Товары>\n"
        "  </Документ>\n"
    )


class CmlWriter:
    """Streams documents into a windows-1251 file; counts bytes for size-targeted benchmarks."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: BinaryIO = path.open("wb")
        self.bytes = 0
        self._put(
            f'<?xml version="1.0" encoding="{ENCODING}"?>\n'
            '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" '
            f'ДатаФормирования="{STAMP}">\n'
        )

    def _put(self, text: str) -> None:
        data = text.encode(ENCODING)
        self._handle.write(data)
        self.bytes += len(data)

    def document(self, rng: random.Random, number: int, day: date, party: str, seed: int) -> None:
        self._put(document_xml(rng, ids.guid(seed, "doc", number), number, day, party))

    def close(self) -> None:
        self._put("</КоммерческаяИнформация>\n")
        self._handle.close()

    def __enter__(self) -> CmlWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_1c(
    path: Path, rel: str, slots: list[Slot], companies: list[Company], rng: random.Random, seed: int
) -> list[TruthRow]:
    """Every company and every 1C slot, each counterparty in one to three orders."""
    truths: list[TruthRow] = []
    parties: list[str] = []
    reps: dict[str, list[tuple[str, Slot]]] = {c.kid: [] for c in companies}
    for n, slot in enumerate(slots):
        company = slot.person.company
        if company is not None:
            reps[company.kid].append((ids.guid(seed, "rep", n), slot))
            continue
        xml, truth = individual_xml(rng, slot, ids.guid(seed, "buyer", n), rel)
        truths.append(truth)
        parties += [xml] * rng.choices((1, 2, 3), (70, 20, 10))[0]
    for company in companies:
        cid = ids.guid(seed, "company", company.index)
        xml, rows = company_xml(rng, company, cid, reps[company.kid], rel)
        truths += rows
        parties += [xml] * rng.choices((1, 2, 3), (50, 30, 20))[0]
    rng.shuffle(parties)
    first = date(2024, 1, 10).toordinal()
    days = sorted(rng.randrange(537) for _ in parties)
    with CmlWriter(path) as out:
        for number, (party, day) in enumerate(zip(parties, days, strict=True), start=1):
            out.document(rng, number, date.fromordinal(first + day), party, seed)
    return truths
