"""amoCRM, Bitrix24 and 1C list exports read by a plain spreadsheet source, with no config."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.sources.base import SourceFile
from pipelines.sources.crm import detect_profile
from pipelines.sources.spreadsheets import read
from tests.pipelines.sources.source_files import source_file as make_source_file

FIXTURES = Path(__file__).parent / "fixtures" / "spreadsheets"


def source_file(path: Path, mapping: dict[str, str] | None = None) -> SourceFile:
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    return make_source_file(
        path, source="crm", kind="spreadsheet", folder="crm", mapping=mapping, ingested_at=at
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["ID", "Тип", "Полное имя контакта", "Мобильный телефон"], ("amocrm", "contact")),
        (["ID", "Название компании", "Рабочий email", "Рабочий телефон"], ("amocrm", "company")),
        (["ID", "Название сделки", "Бюджет", "Полное имя контакта"], ("amocrm", "deal")),
        (["ID", "Название лида", "Имя", "Частный e-mail"], ("bitrix24", "lead")),
        (["ID", "Имя", "Фамилия", "Рабочий e-mail"], ("bitrix24", "contact")),
        (["ID", "Название компании", "Тип компании", "Рабочий e-mail"], ("bitrix24", "company")),
        (["Наименование", "ИНН", "Вид контрагента"], ("onec_catalog", "counterparty")),
        (["Наименование", "Должность", "Владелец", "Телефон"], ("onec_contacts", "contact_person")),
    ],
)
def test_profile_detected_from_headers(headers: list[str], expected: tuple[str, str]) -> None:
    profile = detect_profile(headers)
    assert profile is not None and (profile.name, profile.entity) == expected


@pytest.mark.parametrize(
    "headers",
    [
        ["ФИО", "Телефон", "E-mail"],
        ["ID", "ФИО", "Телефон"],  # an id alone is not a CRM export
        ["Наименование", "Телефон"],  # a plain price or client list
    ],
)
def test_ordinary_spreadsheets_have_no_profile(headers: list[str]) -> None:
    assert detect_profile(headers) is None


def test_amocrm_combined_export_ids_kinds_joined_phones_and_repeats() -> None:
    result = read(source_file(FIXTURES / "amocrm_contacts.csv"))
    assert "recognised as amocrm contact export" in result.notes
    anna, romashka, oleg = result.records.iter_rows(named=True)
    assert (anna["source_record_id"], anna["record_key"]) == (
        "amocrm:contact:1001",
        "crm|amocrm:contact:1001",
    )
    assert anna["entity_kind"] == "person"
    # every phone column joined; a cell with two numbers kept whole for the normaliser
    assert anna["phone"] == "+7 (495) 123-45-67; +7 916 123-45-67, 8 903 111 22 33"
    assert anna["email"] == "anna@romashka.ru; anna.petrova@mail.ru"
    assert (anna["comment"], anna["owner"], anna["position"]) == (
        "звонить после 18; VIP",
        "Иванова М.",
        "бухгалтер",
    )
    assert anna["observed_at"] == "20.11.2025 15:45:12"
    extra = json.loads(anna["extra"])
    assert (extra["Факс"], extra["Теги"], extra["ID"]) == ("+7 495 123-45-68", "опт", "1001")
    # a company row of the same export: its own id space, its ИНН, no person name
    assert romashka["source_record_id"] == "amocrm:company:1002"
    assert (romashka["entity_kind"], romashka["company"], romashka["inn"]) == (
        "company",
        "ООО Ромашка",
        "7797228188",
    )
    assert romashka["full_name"] is None
    assert oleg["phone"] == "79261234567; 7.9261234567E10"
    reasons = result.quarantine.select("source_row", "reason").rows()
    assert reasons == [(5, "empty_row"), (6, "duplicate_id")]
    detail = result.quarantine["detail"][1]
    assert "'1001' was already read at row 2" in detail
    assert result.rows_in == 5


def test_amocrm_company_export_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "amo_companies.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Компании")
    headers = ["ID", "Название компании", "Ответственный", "Дата создания компании",
               "Кем создана компания", "Рабочий телефон", "Рабочий email", "Web",
               "ИНН"]  # fmt: skip
    sheet.write_row(0, 0, headers)
    sheet.write_row(1, 0, [501, "ООО Вектор", "Петров О.", "01.02.2024", "Петров О.",
                           74951112233, "office@vector.ru", "vector.ru", 7766201161])  # fmt: skip
    book.close()
    result = read(source_file(path))
    row = result.records.row(0, named=True)
    assert row["source_record_id"] == "amocrm:company:501"
    assert (row["entity_kind"], row["company"], row["inn"], row["phone"]) == (
        "company",
        "ООО Вектор",
        "7766201161",
        "74951112233",
    )
    assert row["observed_at"] == "01.02.2024"


def test_bitrix24_cp1251_leads_contacts_companies() -> None:
    leads = read(source_file(FIXTURES / "bitrix24_leads.csv"))
    lead, other = leads.records.iter_rows(named=True)
    assert lead["source_record_id"] == "bitrix24:lead:17"
    assert (lead["last_name"], lead["first_name"], lead["middle_name"]) == (
        "Кузнецов",
        "Иван",
        "Петрович",
    )
    assert lead["phone"] == "8 916 555-12-34; +79165551234"
    assert lead["email"] == "i.kuznetsov@stroy.ru; kuznetsov@yandex.ru"
    assert (lead["city"], lead["company"], lead["owner"]) == ("Воронеж", "СтройМонтаж", "Ким Е.")
    assert json.loads(lead["extra"])["Название лида"] == "Заявка с сайта"
    assert other["full_name"] == "Мария Лебедева"
    contact = read(source_file(FIXTURES / "bitrix24_contacts.csv")).records.row(0, named=True)
    company = read(source_file(FIXTURES / "bitrix24_companies.csv")).records.row(0, named=True)
    # the same numeric ID in three exports: three different records
    ids = {lead["source_record_id"], contact["source_record_id"], company["source_record_id"]}
    assert ids == {"bitrix24:lead:17", "bitrix24:contact:17", "bitrix24:company:17"}
    assert (contact["entity_kind"], contact["company"]) == ("person", "СтройМонтаж")
    assert contact["observed_at"] == "27.06.2023 09:35:27"
    assert (company["entity_kind"], company["company"], company["inn"], company["kpp"]) == (
        "company",
        "СтройМонтаж",
        "7766201161",
        "366401001",
    )


def test_onec_catalogue_kinds_and_group_rows() -> None:
    result = read(source_file(FIXTURES / "onec_counterparties.csv"))
    assert "recognised as onec_catalog counterparty export" in result.notes
    romashka, ivanov, smirnov = result.records.iter_rows(named=True)
    assert romashka["source_record_id"] == "onec_catalog:counterparty:00-000002"
    assert (romashka["entity_kind"], romashka["company"], romashka["full_name"]) == (
        "company",
        "Ромашка ООО",
        None,
    )
    assert romashka["source_row"] == 5  # title, blank and header rows counted
    # a person counterparty: the name moves from company to full_name
    assert (ivanov["entity_kind"], ivanov["full_name"], ivanov["company"]) == (
        "person",
        "Иванов Иван Иванович",
        None,
    )
    assert ivanov["email"] == "ivanov@mail.ru"
    assert smirnov["entity_kind"] == "person"  # ИП, as in CommerceML
    groups = result.quarantine.select("source_row", "reason").rows()
    assert groups == [(4, "group_row"), (7, "group_row")]
    assert "folder 'Покупатели'" in result.quarantine["detail"][0]
    assert json.loads(result.quarantine["raw"][0]) == {
        "Наименование": "Покупатели",
        "Код": "00-000001",
    }


def test_explicit_mapping_overrides_the_profile() -> None:
    result = read(source_file(FIXTURES / "amocrm_contacts.csv", mapping={"Факс": "phone"}))
    assert result.records["phone"][0].endswith("+7 495 123-45-68")
