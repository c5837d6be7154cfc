"""The B2B manager's workbook: split name columns, company and ИНН, a title row, two sheets.

It holds the colleagues who share an office line and role mailbox, company-only rows, and
ИНН typed as numbers (a leading zero lost, as Excel does to Bashkortostan's 02…).
"""

from __future__ import annotations

import random
from pathlib import Path

from pipelines.sample.companies import Company
from pipelines.sample.contacts import Rendered, render_emails, render_phones
from pipelines.sample.plan import Slot, record_emails, record_phones
from pipelines.sample.render import NameOut, split_name
from pipelines.sample.sales import Cell, new_workbook, write_cells
from pipelines.sample.truth import TruthRow, Where, junk_row, person_row

MAIN_SHEET = "Клиенты"
ARCHIVE_SHEET = "Архив 2024"
TITLE = "Клиенты отдела продаж"
MAIN_HEADERS = ("Фамилия", "Имя", "Отчество", "Моб. телефон", "Эл. почта", "Компания", "ИНН")
ARCHIVE_HEADERS = (
    "Фамилия", "Имя", "Отчество", "Телефон", "Email", "Организация", "ИНН", "Должность",
)  # fmt: skip

Item = tuple[str, Slot | Company | str]


def _company_cell(rng: random.Random, company: Company) -> str:
    if company.form == "ИП":
        return company.name
    brand = company.name.split('"')[1]
    forms = (company.name, company.name, brand, f"{company.form} {brand}", company.official_name)
    return rng.choice(forms)


def _inn_cell(rng: random.Random, inn: str) -> Cell:
    return int(inn) if rng.random() < 0.4 else inn


def _person_cells(
    rng: random.Random, slot: Slot, where: Where, archive: bool
) -> tuple[list[Cell], TruthRow]:
    person, company = slot.person, slot.person.company
    name: NameOut = split_name(rng, person, maiden=slot.maiden, clean=slot.clean)
    phones = record_phones(rng, slot, numeric_ok=True)
    emails = record_emails(rng, slot)
    company_text, inn = "", ""
    inn_cell: Cell = ""
    if company and (slot.clean or rng.random() < 0.9):
        company_text = _company_cell(rng, company)
        if rng.random() < 0.7:
            inn, inn_cell = company.inn, _inn_cell(rng, company.inn)
    cells: list[Cell] = [name.last, name.first, name.middle, phones.text, str(emails.text)]
    cells += [company_text, inn_cell]
    if archive:
        cells.append(person.position if company else "")
    return cells, person_row(where, person.pid, name, phones, emails, inn=inn)


def _company_cells(
    rng: random.Random, company: Company, where: Where
) -> tuple[list[Cell], TruthRow]:
    phones: Rendered = render_phones(rng, [company.phone])
    emails = render_emails(rng, [company.mailbox])
    cells: list[Cell] = ["", "", "", phones.text, str(emails.text), _company_cell(rng, company)]
    cells.append(_inn_cell(rng, company.inn))
    truth = TruthRow(
        where, "company", company.kid, phones=tuple(phones.phones),
        emails=tuple(emails.emails), inn=company.inn, noise=(*phones.noise, *emails.noise),
    )  # fmt: skip
    return cells, truth


def _items(rng: random.Random, slots: list[Slot], with_junk: bool) -> list[Item]:
    items: list[Item] = [("person", s) for s in slots]
    companies = {s.person.company.kid: s.person.company for s in slots if s.person.company}
    items += [("company", c) for _, c in sorted(companies.items()) if rng.random() < 0.3]
    rng.shuffle(items)
    if with_junk:
        items.insert(0, ("junk", "group_row"))
        items.insert(len(items) // 2, ("junk", "empty_row"))
    return items


def write_petrov(path: Path, rel: str, slots: list[Slot], rng: random.Random) -> list[TruthRow]:
    """Main sheet with a title row and a blank row above the header; an archive sheet."""
    book = new_workbook(path)
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    split = (3 * len(slots)) // 4
    truths: list[TruthRow] = []
    for sheet_name, part, headers, first_row in (
        (MAIN_SHEET, slots[:split], MAIN_HEADERS, 3),
        (ARCHIVE_SHEET, slots[split:], ARCHIVE_HEADERS, 1),
    ):
        sheet = book.add_worksheet(sheet_name)
        if first_row == 3:
            sheet.merge_range(0, 0, 0, len(headers) - 1, TITLE, book.add_format({"bold": True}))
        sheet.write_row(first_row - 1, 0, headers, bold)
        archive = sheet_name == ARCHIVE_SHEET
        for offset, (kind, item) in enumerate(_items(rng, part, with_junk=not archive)):
            row = first_row + offset
            where = Where(rel, sheet_name, row + 1)
            if kind == "junk":
                truths.append(junk_row(where, str(item)))
                if item == "group_row":
                    write_cells(sheet, row, ["Постоянные клиенты"], date_format)
                continue
            if isinstance(item, Company):
                cells, truth = _company_cells(rng, item, where)
            else:
                assert isinstance(item, Slot)
                cells, truth = _person_cells(rng, item, where, archive)
            write_cells(sheet, row, cells, date_format)
            truths.append(truth)
    book.close()
    return truths
