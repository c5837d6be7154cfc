"""Sales managers' spreadsheets: two xlsx workbooks and a cp1251 CSV, each with its own habits.

Headers come from ``pipelines.schema.HEADER_SYNONYMS`` so the spreadsheet connector maps them
without configuration. Physical row numbers in the truth count title and header rows.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.sample.companies import Company
from pipelines.sample.plan import Slot, record_emails, record_phones
from pipelines.sample.render import SALES_STYLES, full_name
from pipelines.sample.truth import TruthRow, Where, junk_row, person_row

Cell = str | int | date
FIXED_CREATED = datetime(2025, 6, 30, 9, 0, 0)  # workbook metadata date: stable bytes

IVANOVA_HEADERS = ("ФИО", "Телефон", "E-mail", "Город", "Дата рождения", "Комментарий")
LEADS_HEADERS = ("Клиент", "Тел.", "Почта", "Город", "Дата обращения", "Ответственный")
MANAGERS = ("Иванова М.", "Петров О.", "Сидоренко А.А.", "Ким Е.", "Лебедева Светлана")
_COMMENTS = (
    "перезвонить после 15:00", "хочет скидку", "VIP", "не берёт трубку", "оплата по счёту",
    "повторный клиент", "интересовался доставкой", "просил КП на почту", "",
)  # fmt: skip
_CITY_HABITS = {"Москва": ("Мск", "г. Москва", "москва"), "Санкт-Петербург": ("СПб", "Питер")}


def new_workbook(path: Path, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    """A workbook whose bytes depend only on its content (fixed metadata date)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    book.set_properties({"created": FIXED_CREATED, "author": "svod sample"})
    return book


def city_cell(rng: random.Random, city: str) -> str:
    """A city as typed: usually the name, sometimes an abbreviation or a "г." prefix."""
    habits = _CITY_HABITS.get(city)
    return rng.choice(habits) if habits and rng.random() < 0.3 else city


@dataclass
class ContactRow:
    """The cells of one person row, by field, and its truth."""

    name: str
    phone: str | int
    email: str
    city: str
    birth: Cell  # a date for real date cells, text otherwise, "" when absent
    comment: str
    truth: TruthRow
    company: Company | None  # the person's employer, for sheets with company columns


def contact_row(
    rng: random.Random, slot: Slot, where: Where, *, numeric_ok: bool, birth_dates: bool
) -> ContactRow:
    """A one-name-cell person row (ФИО / Клиент) with its truth."""
    person = slot.person
    name = full_name(rng, person, SALES_STYLES, maiden=slot.maiden, clean=slot.clean)
    phones = record_phones(rng, slot, numeric_ok=numeric_ok)
    emails = record_emails(rng, slot)
    birth: Cell = ""
    true_birth: date | None = None
    if birth_dates and rng.random() < 0.75:
        true_birth = person.birth_date
        roll = rng.random()
        if roll < 0.7 and numeric_ok:
            birth = true_birth
        elif roll < 0.9:
            birth = true_birth.strftime("%d.%m.%Y")
        else:
            birth = true_birth.isoformat()
    truth = person_row(where, person.pid, name, phones, emails, birth_date=true_birth)
    city = city_cell(rng, person.city.name) if rng.random() < 0.85 else ""
    return ContactRow(
        name.full, phones.text, str(emails.text), city, birth, rng.choice(_COMMENTS), truth,
        person.company,
    )  # fmt: skip


def write_cells(sheet: Worksheet, row: int, cells: Sequence[Cell], date_format: object) -> None:
    """Write one row, keeping numbers as numbers and dates as real date cells."""
    for col, value in enumerate(cells):
        if isinstance(value, date):
            stamp = datetime(value.year, value.month, value.day)
            sheet.write_datetime(row, col, stamp, date_format)
        elif isinstance(value, int):
            sheet.write_number(row, col, value)
        elif value != "":
            sheet.write_string(row, col, value)


def write_ivanova(path: Path, rel: str, slots: list[Slot], rng: random.Random) -> list[TruthRow]:
    """`ФИО | Телефон | E-mail | Город | Дата рождения | Комментарий`, header in row 1."""
    book = new_workbook(path)
    sheet = book.add_worksheet("Клиенты")
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet.write_row(0, 0, IVANOVA_HEADERS, book.add_format({"bold": True}))
    truths: list[TruthRow] = []
    junk_at = {len(slots) // 3: "empty_row", (2 * len(slots)) // 3: "test_row"}
    row = 1
    for i, slot in enumerate(slots):
        if i in junk_at:
            truths.append(junk_row(Where(rel, "Клиенты", row + 1), junk_at[i]))
            if junk_at[i] == "test_row":
                write_cells(sheet, row, ["test", 9999999999, "test@test.ru"], date_format)
            row += 1
        where = Where(rel, "Клиенты", row + 1)
        r = contact_row(rng, slot, where, numeric_ok=True, birth_dates=True)
        write_cells(sheet, row, [r.name, r.phone, r.email, r.city, r.birth, r.comment], date_format)
        truths.append(r.truth)
        row += 1
    book.close()
    return truths


def write_leads(path: Path, rel: str, slots: list[Slot], rng: random.Random) -> list[TruthRow]:
    """`Клиент;Тел.;Почта;Город;Дата обращения;Ответственный` in cp1251 with CRLF."""
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    out.writerow(LEADS_HEADERS)
    truths: list[TruthRow] = []
    line = 2
    for i, slot in enumerate(slots):
        if i == len(slots) // 2:
            out.writerow(["тест", "9999999999", "test@test.ru", "", "01.02.2025", MANAGERS[1]])
            out.writerow([""] * len(LEADS_HEADERS))
            truths.append(junk_row(Where(rel, "", line), "test_row"))
            truths.append(junk_row(Where(rel, "", line + 1), "empty_row"))
            line += 2
        r = contact_row(rng, slot, Where(rel, "", line), numeric_ok=False, birth_dates=False)
        seen = date(2025, 1, 9).toordinal() + rng.randrange(170)
        stamp = date.fromordinal(seen).strftime("%d.%m.%Y")
        out.writerow([r.name, r.phone, r.email, r.city, stamp, rng.choice(MANAGERS)])
        truths.append(r.truth)
        line += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("cp1251"))
    return truths
