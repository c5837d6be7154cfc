"""CommerceML connector: 2.x documents, 3.x lists, encodings, broken files, bounded memory."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.schema import EVENT_SCHEMA, RAW_SCHEMA
from pipelines.sources import commerceml
from pipelines.sources._cml_stream import HtmlEntities
from tests.pipelines.sources.source_files import source_file

FIXTURES = Path(__file__).parent / "fixtures" / "commerceml"
ROMASHKA = "a3f0c2d4-0b1e-11ef-8f3a-00155d01a0b7"


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {str(r["source_record_id"]): r for r in frame.iter_rows(named=True)}


def test_cp1251_fixture_from_the_ecosystem_notes() -> None:
    result = commerceml.read(source_file(FIXTURES / "cml205_cp1251.xml"))
    assert result.records.schema == pl.Schema(RAW_SCHEMA)
    rows = by_id(result.records)
    assert list(rows) == [ROMASHKA, "c1", "2202"]
    company = rows[ROMASHKA]
    assert company["entity_kind"] == "company"
    assert company["company"] == 'ООО "Ромашка"'
    assert (company["inn"], company["kpp"]) == ("7797228188", "779701001")
    assert company["address"] == "117997, г. Москва, ул. Вавилова, д. 19"
    assert company["city"] == "Москва"
    assert company["phone"] == "8 (495) 500-55-50 доб. 123"
    assert company["email"] == "zakaz@romashka.example"
    extra = json.loads(str(company["extra"]))
    assert extra["ОКПО"] == "42056730"
    assert extra["ОфициальноеНаименование"].startswith("Общество")
    person = rows["2202"]
    assert person["entity_kind"] == "person"
    assert person["full_name"] == "Проверочкин Иван Петрович"
    assert (person["last_name"], person["first_name"], person["middle_name"]) == (
        "Проверочкин",
        "Иван",
        "Петрович",
    )
    assert person["inn"] == "504104575082"
    assert json.loads(str(person["extra"]))["Наименование"] == "Иван Проверочкин"
    assert [r["source_row"] for r in result.records.iter_rows(named=True)] == [1, 2, 3]
    assert result.records["source_sheet"].null_count() == 3
    assert result.records["record_key"][0] == f"shop|{ROMASHKA}"
    assert result.quarantine.is_empty()


def test_representative_is_a_person_linked_to_its_company() -> None:
    rows = by_id(commerceml.read(source_file(FIXTURES / "cml205_cp1251.xml")).records)
    rep = rows["c1"]
    assert rep["entity_kind"] == "person"
    assert rep["full_name"] == "Петрова Анна Сергеевна"
    assert rep["company"] == 'ООО "Ромашка"'
    assert rep["position"] == "Контактное лицо"
    assert rep["inn"] is None  # the company's ИНН is not the person's
    extra = json.loads(str(rep["extra"]))
    assert extra == {"company_id": ROMASHKA, "company_inn": "7797228188"}


def test_same_counterparty_in_several_documents_is_one_record() -> None:
    result = commerceml.read(source_file(FIXTURES / "cml208_orders.xml"))
    ids = result.records["source_record_id"].to_list()
    assert ids.count(ROMASHKA) == 1
    assert ids.count("owner-0001") == 1  # Классификатор and Каталог both name the owner
    assert ids.count("rep-anna") == 1
    assert any("read once" in note for note in result.notes)
    company = by_id(result.records)[ROMASHKA]
    assert company["phone"] == "+7 (495) 500-55-50; 8 916 123-45-67"  # fax is not a phone
    assert company["address"] == "г. Москва, ул. Вавилова, д. 19"
    # the fourth document repeats the Ид with other contacts: first kept, second quarantined
    dup = result.quarantine.filter(pl.col("reason") == "duplicate_id")
    assert dup.height == 1
    assert dup["record_key"][0] == f"shop|{ROMASHKA}"
    # rows are positions: owner ×2, Ромашка + 2 Представители ×2, 2202 + 1 → the 11th element
    assert dup["source_row"][0] == 11
    assert "+7 (495) 777-00-00" in dup["raw"][0]
    assert "row 3" in dup["detail"][0]


def test_representative_without_contacts_and_bitrix_nested_form() -> None:
    rows = by_id(commerceml.read(source_file(FIXTURES / "cml208_orders.xml")).records)
    petr = rows["rep-petr"]
    assert (petr["full_name"], petr["position"]) == ("Сидоров Пётр", "Главный бухгалтер")
    assert petr["phone"] is None and petr["email"] is None
    anna = rows["rep-anna"]
    assert (anna["phone"], anna["email"]) == ("+7 916 000-11-22", "anna.petrova@romashka.example")
    wife = rows["2202-wife"]  # Представитель/Контрагент of an individual
    assert wife["full_name"] == "Проверочкина Мария"
    assert wife["company"] is None
    assert json.loads(str(wife["extra"]))["represents_id"] == "2202"


def test_nbsp_entity_and_whitespace_around_id() -> None:
    rows = by_id(commerceml.read(source_file(FIXTURES / "cml208_orders.xml")).records)
    assert ROMASHKA in rows  # <Ид> had newlines and spaces around it
    ivan = rows["2202"]
    assert ivan["full_name"] == "Проверочкин\u00a0Иван Петрович"  # inner NBSP kept, trailing cut
    assert ivan["email"] == "ivan@example.ru"
    assert (ivan["birth_date"], ivan["gender"]) == ("1985-03-14", "М")
    assert json.loads(str(ivan["extra"]))["Наименование"] == "Иван\u00a0Проверочкин"


def test_counterparty_without_fields_is_quarantined() -> None:
    result = commerceml.read(source_file(FIXTURES / "cml208_orders.xml"))
    empty = result.quarantine.filter(pl.col("reason") == "empty_record")
    assert empty["record_key"].to_list() == ["shop|ref-only-77"]
    assert result.rows_in == result.records.height + 2


def test_documents_are_order_events_tied_to_the_buyer() -> None:
    frame = commerceml.read_with_events(source_file(FIXTURES / "cml208_orders.xml"))[1]
    assert frame.schema == pl.Schema(EVENT_SCHEMA)
    rows = {r["event_id"]: r for r in frame.iter_rows(named=True)}
    first = rows["shop|order:order-1001"]
    assert first["record_key"] == f"shop|{ROMASHKA}"
    assert (first["occurred_at"], first["amount"], first["status"]) == (
        "2026-11-20",
        "2400.00",
        "[N] Принят",
    )
    assert first["subject"] == "Заказ товара"
    detail = json.loads(first["detail"])
    assert detail["Номер"] == "1001" and detail["Валюта"] == "RUB"
    assert detail["Товары"][0]["Количество"] == "8"
    assert rows["shop|order:order-1003"]["record_key"] == "shop|2202"
    assert rows["shop|order:order-1003"]["status"] == "Новый"
    assert frame.height == 4


def test_commerceml_3_counterparty_list() -> None:
    result = commerceml.read(source_file(FIXTURES / "cml3_contragents.xml"))
    rows = by_id(result.records)
    ip = rows["b7e1d3c0-9a55-11ef-8f3a-00155d01a0b7"]
    assert ip["entity_kind"] == "person"  # 12-digit ИНН, no КПП
    assert ip["city"] == "Воронеж"
    assert json.loads(str(ip["extra"]))["Роль"] == ["Поставщик", "Покупатель"]
    lyutik = rows["c9a0aa11-9a55-11ef-8f3a-00155d01a0b7"]
    assert lyutik["email"] == "info@lyutik.example; buh@lyutik.example"
    assert result.quarantine["reason"].to_list() == ["empty_record"]


def test_truncated_file_names_file_and_location() -> None:
    with pytest.raises(SourceFileError) as info:
        commerceml.read(source_file(FIXTURES / "truncated.xml"))
    err = info.value
    assert err.location == "line 28, column 16"
    assert "truncated" in err.reason
    assert str(err).startswith("inbox/truncated.xml (line 28, column 16): ")
    assert "export it again from 1C" in str(err)


def test_file_not_in_its_declared_encoding() -> None:
    with pytest.raises(SourceFileError) as info:
        commerceml.read(source_file(FIXTURES / "declared_utf8_but_cp1251.xml"))
    assert info.value.location == "line 2, column 2"
    assert "not valid UTF-8" in str(info.value)


def test_one_pass_repeats_ignore_child_order_and_quarantine_conflicts(tmp_path: Path) -> None:
    """The one-pass reader digests with ``local_fingerprint``: same decisions as ``fingerprint``."""

    def doc(number: int, party: str) -> str:
        return f"<Документ><Номер>{number}</Номер><Контрагенты>{party}</Контрагенты></Документ>"

    anna = "<Ид>p1</Ид><Наименование>Анна</Наименование><Телефон>+7 900</Телефон>"
    swapped = "<Телефон>+7 900</Телефон><Наименование>Анна</Наименование><Ид>p1</Ид>"
    other = "<Ид>p1</Ид><Наименование>Анна Б.</Наименование>"
    role = "<Роль>Покупатель</Роль>"
    body = "".join(
        doc(n, f"<Контрагент>{party}</Контрагент>")
        for n, party in enumerate((anna + role, swapped, other + role, anna), start=1)
    )
    path = tmp_path / "repeats.xml"
    path.write_text(f'<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2">{body}'
                    "</КоммерческаяИнформация>", encoding="utf-8")  # fmt: skip
    result, events = commerceml.read_with_events(source_file(path))
    assert result.records["source_record_id"].to_list() == ["p1"]
    assert result.quarantine.select("source_row", "reason").rows() == [(3, "duplicate_id")]
    assert "2 repeated Контрагент/Представитель entries" in " ".join(result.notes)
    assert events["record_key"].to_list() == ["shop|p1"] * 4


def test_unknown_root_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match=r"root element is <Message>"):
        commerceml.read(source_file(FIXTURES / "enterprisedata.xml"))
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    with pytest.raises(SourceFileError, match=r"inbox/empty.xml \(line 1, column 1\): the file is"):
        commerceml.read(source_file(empty))


@pytest.mark.parametrize("size", [1, 3, 7, 64])
def test_html_entities_are_rewritten_across_chunk_borders(size: int) -> None:
    data = "<a>Иван&nbsp;Петров &laquo;ООО&raquo; &amp; &lt; &bogus; &#160;</a>".encode()
    reader = HtmlEntities(io.BytesIO(data))
    out = b"".join(iter(lambda: reader.read(size), b""))
    assert out.decode() == "<a>Иван&#160;Петров &#171;ООО&#187; &amp; &lt; &bogus; &#160;</a>"


_DOC = """<Документ><Ид>o{n}</Ид><Номер>{n}</Номер><Дата>2026-11-20</Дата><Сумма>10.00</Сумма>
<Контрагенты><Контрагент><Ид>p{n}</Ид><Наименование>ООО "Компания {n}"</Наименование>
<Роль>Покупатель</Роль><ИНН>7797228188</ИНН><КПП>779701001</КПП><Контакты><Контакт><Тип>Почта</Тип>
<Значение>c{n}@example.ru</Значение></Контакт></Контакты></Контрагент></Контрагенты><Товары>{items}
</Товары></Документ>
"""
_ITEM = "<Товар><Ид>t{i}</Ид><Наименование>Товар {i}</Наименование><Сумма>1.00</Сумма></Товар>"


def _synthetic(path: Path, size: int) -> int:
    items = "".join(_ITEM.format(i=i) for i in range(20))
    count = written = 0
    with path.open("wb") as fh:
        fh.write('<?xml version="1.0"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08">\n'.encode())
        while written < size:
            written += fh.write(_DOC.format(n=count, items=items).encode())
            count += 1
        fh.write("</КоммерческаяИнформация>\n".encode())
    return count


@pytest.mark.slow
def test_memory_stays_bounded_on_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    documents = _synthetic(path, 50_000_000)
    tracemalloc.start()
    try:
        result = commerceml.read(source_file(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.records.height == documents
    assert peak < path.stat().st_size / 5, f"peak {peak / 1e6:.1f} MB of Python objects"


@pytest.mark.parametrize("name", ["cml205_cp1251.xml", "cml208_orders.xml", "cml3_contragents.xml"])
def test_record_keys_are_unique_and_extra_is_a_json_object(name: str) -> None:
    records = commerceml.read(source_file(FIXTURES / name)).records
    assert records["record_key"].is_unique().all()
    assert set(records["source_file"]) == {f"inbox/{name}"}
    for extra in records["extra"].drop_nulls():
        assert isinstance(json.loads(extra), dict)
