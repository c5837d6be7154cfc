"""Two-process CommerceML reading gives exactly what one pass gives, wherever the file is cut."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.sample import write_benchmark_commerceml
from pipelines.sources import _cml_merge, _cml_parallel, commerceml
from pipelines.sources.base import ReadResult, SourceFile
from tests.pipelines.sources.source_files import source_file

FIXTURES = Path(__file__).parent / "fixtures" / "commerceml"


@pytest.fixture
def joins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the times the halves were joined (the second half not read again here)."""
    calls: list[int] = []
    join = _cml_merge.join

    def spy(*args: Any) -> pl.DataFrame:
        calls.append(1)
        return join(*args)

    monkeypatch.setattr(_cml_parallel, "join", spy)
    return calls


def assert_same(file: SourceFile, near: int | None = None) -> ReadResult:
    """Parallel output (any file size is cut) equals one-pass output; returns the parallel one."""
    found = _cml_parallel.read_parallel(file, True, near, threshold=0)
    assert found is not None, "the file was not cut"
    result, events = found
    expected, expected_events = commerceml.read_with_events(file)  # small: one pass
    assert result.records.equals(expected.records)
    assert result.quarantine.equals(expected.quarantine)
    assert events.equals(expected_events)
    assert result.notes == expected.notes
    return result


def cuts(path: Path, encoding: str = "utf-8") -> list[int]:
    """An offset just before each ``</Документ>``: the cut falls right after it."""
    data = path.read_bytes()
    return [m.start() for m in re.finditer(b"</(?:c:)?" + "Документ>".encode(encoding), data)]


def party(pid: str, name: str, with_id: bool = True) -> str:
    ident = f"<Ид>{pid}</Ид>" if with_id else ""
    return (
        f"<Контрагенты><Контрагент>{ident}<Наименование>{name}</Наименование>"
        f"<Роль>Покупатель</Роль></Контрагент></Контрагенты>"
    )


def write_orders(path: Path, parties: list[str], *, doc_ids: bool = True) -> None:
    docs = "".join(
        f"\n  <Документ>{f'<Ид>d{n}</Ид>' if doc_ids else ''}<Номер>{n}</Номер>"
        f"<Дата>2026-01-0{n % 9 + 1}</Дата><Сумма>{n}00</Сумма>{p}</Документ>"
        for n, p in enumerate(parties, start=1)
    )
    text = (
        '<?xml version="1.0" encoding="windows-1251"?>\n'
        '<c:КоммерческаяИнформация xmlns:c="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08">'
        f"{docs.replace('<', '<c:').replace('<c:/', '</c:')}\n</c:КоммерческаяИнформация>\n"
    )
    path.write_bytes(text.encode("windows-1251"))


def test_fixture_cut_after_every_document(joins: list[int]) -> None:
    path = FIXTURES / "cml208_orders.xml"
    offsets = cuts(path)
    assert len(offsets) >= 2
    for near in offsets:
        assert_same(source_file(path), near)


def test_generated_file_with_repeats_across_the_cut(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "bench.xml"
    write_benchmark_commerceml(path, 1_000_000)
    offsets = cuts(path, "windows-1251")
    for near in (offsets[len(offsets) // 3], path.stat().st_size // 2, offsets[-2]):
        assert_same(source_file(path), near)
    assert len(joins) == 3, "a cut was not joined: the second half was read again"


def test_repeat_across_the_cut_same_and_different_content(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "orders.xml"
    write_orders(
        path,
        [
            party("x", "Иванов"),
            party("y", "ООО Ромашка"),
            party("x", "Иванов"),
            party("y", "ООО Лютик"),
            party("z", "Петров"),
        ],
    )
    near = cuts(path, "windows-1251")[1]  # documents 1-2 | 3-5
    result = assert_same(source_file(path), near)
    assert result.records["source_record_id"].to_list() == ["x", "y", "z"]
    assert result.quarantine["source_row"].to_list() == [4]
    assert "already read at row 2" in str(result.quarantine["detail"][0])
    assert any(n.startswith("1 repeated") for n in result.notes)
    assert any(n.startswith("1 entries reuse an Ид") for n in result.notes)
    assert joins == [1]  # Ид shared by the halves are settled when joining


def test_second_half_joined_with_rows_renumbered(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "orders.xml"
    write_orders(
        path,
        [
            party("a", "Иванов"),
            party("b", "Сидоров"),
            party("c", "Петров"),
            party("c", "Петров"),
            party("c", "Петрова"),
        ],
    )
    result = assert_same(source_file(path), cuts(path, "windows-1251")[1])
    assert joins == [1]
    assert result.records["source_row"].to_list() == [1, 2, 3]
    assert result.quarantine["source_row"].to_list() == [5]
    assert "already read at row 3" in str(result.quarantine["detail"][0])


def test_ids_made_from_positions_match(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "orders.xml"
    parties = [party(f"p{n}", f"Имя{n}", with_id=n != 4) for n in range(1, 6)]
    write_orders(path, parties, doc_ids=False)
    result = assert_same(source_file(path), cuts(path, "windows-1251")[1])
    assert "inbox/orders.xml:4" in result.records["source_record_id"].to_list()
    assert not joins  # ids made from positions: the second half was read on in this process


def test_broken_second_half_reports_the_one_pass_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.xml"
    write_orders(path, [party(f"p{n}", f"Имя{n}") for n in range(1, 7)])
    path.write_bytes(path.read_bytes().replace(b"<c:\xd1\xf3\xec\xec\xe0>600", b"<c:X>600", 1))
    expected = pytest.raises(SourceFileError)
    with expected as one_pass:
        commerceml.read_with_events(source_file(path))
    monkeypatch.setattr(_cml_parallel, "THRESHOLD_BYTES", 0)
    with pytest.raises(SourceFileError) as parallel:
        commerceml.read_with_events(source_file(path))
    assert str(parallel.value) == str(one_pass.value)
    assert "line 8" in str(parallel.value)  # document 6, in the second half


def test_files_that_cannot_be_cut_are_left_to_one_pass() -> None:
    for name in ("cml3_contragents.xml", "enterprisedata.xml"):
        assert _cml_parallel.read_parallel(source_file(FIXTURES / name), True, threshold=0) is None


def company(pid: str, phone: str, reps: list[tuple[str, str]]) -> str:
    """A company buyer with contact persons (``reps``: Ид and name)."""
    people = "".join(
        f"<Представитель><Ид>{rid}</Ид><Наименование>{name}</Наименование>"
        "<Отношение>Контактное лицо</Отношение></Представитель>"
        for rid, name in reps
    )
    return (
        f"<Контрагенты><Контрагент><Ид>{pid}</Ид><Наименование>ООО {pid}</Наименование>"
        f"<ИНН>7707083893</ИНН><Контакты><Контакт><Тип>Телефон</Тип><Значение>{phone}</Значение>"
        f"</Контакт></Контакты><Представители>{people}</Представители><Роль>Покупатель</Роль>"
        "</Контрагент></Контрагенты>"
    )


ANNA, PETR, OLGA = ("r1", "Анна"), ("r2", "Пётр"), ("r4", "Ольга")
FAR = [
    company("C1", "111", [ANNA, PETR]),  # rows 1-3
    party("x", "Иванов"),  # 4
    company("C2", "222", [("r3", "Олег")]),  # 5-6
    party("x", "Иванов"),  # 7: same content, far from row 4
    company("C1", "111", [ANNA, PETR]),  # 8-10: company and both persons read once
    company("C1", "999", [ANNA, OLGA]),  # 11-13: new phone (quarantined), Анна once, Ольга new
    "<Контрагенты><Контрагент><Ид>empty</Ид><Роль>Получатель</Роль></Контрагент></Контрагенты>",
    company("C2", "222", [("r3", "Олег"), ANNA]),  # 15-17: C2 and Анна (other company) differ
    party("x", "Иванова"),  # 18: changed content
    company("C1", "999", [ANNA, OLGA]),  # 19-21: the changed C1 again: quarantined again
]


def test_far_repeats_of_companies_and_contact_persons(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "far.xml"
    write_orders(path, FAR)
    offsets = cuts(path, "windows-1251")
    for doc in (1, 4, 7):  # cut after the first, fourth or seventh document
        result = assert_same(source_file(path), offsets[doc - 1])
    assert len(joins) == 3
    records = result.records
    assert records["source_record_id"].to_list() == ["C1", "r1", "r2", "x", "C2", "r3", "r4"]
    assert records["source_row"].to_list() == [1, 2, 3, 4, 5, 6, 13]
    olga = records.row(6, named=True)
    assert (olga["company"], olga["position"]) == ("ООО C1", "Контактное лицо")
    quarantine = result.quarantine
    assert quarantine["source_row"].to_list() == [11, 14, 15, 17, 18, 19]
    assert quarantine["reason"].to_list()[1] == "empty_record"
    first_rows = [re.search(r"row (\d+)", str(d)) for d in quarantine["detail"]]
    assert [int(m.group(1)) for m in first_rows if m] == [1, 5, 2, 4, 1]
    assert result.notes[:3] == [
        "3 Контрагент records (2 companies, 1 persons) and 4 contact persons (Представитель)",
        "8 repeated Контрагент/Представитель entries with the same Ид and content were read once",
        "5 entries reuse an Ид with different content (quarantined)",
    ]


def test_generated_far_repeats_cross_the_cut(tmp_path: Path, joins: list[int]) -> None:
    path = tmp_path / "bench.xml"
    write_benchmark_commerceml(path, 1_000_000, far_repeats=0.3)
    near = path.stat().st_size // 2
    cut = _cml_parallel.plan(path, near)
    assert cut is not None
    data = path.read_bytes()
    ids = [set(re.findall(rb"<\xca\xee\xed\xf2\xf0\xe0\xe3\xe5\xed\xf2><\xc8\xe4>([^<]+)", part))
           for part in (data[: cut.split], data[cut.split :])]  # fmt: skip
    assert len(ids[0] & ids[1]) > 50, "few counterparties of the first half reappear later"
    result = assert_same(source_file(path), near)
    assert joins == [1]
    assert result.records["source_record_id"].is_unique().all()


def test_far_repeats_generator_is_deterministic(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.xml", "b.xml", "near.xml")]
    for path, share in zip(paths, (0.3, 0.3, 0.0), strict=True):
        write_benchmark_commerceml(path, 200_000, seed=3, far_repeats=share)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    with pytest.raises(ValueError, match="far_repeats"):
        write_benchmark_commerceml(tmp_path / "bad.xml", 1_000, far_repeats=1.0)


def test_helper_share_places_the_cut_and_zero_reads_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, joins: list[int]
) -> None:
    path = tmp_path / "orders.xml"
    write_orders(path, [party(f"p{n}", f"Имя{n}") for n in range(1, 21)])
    monkeypatch.setattr(_cml_parallel, "THRESHOLD_BYTES", 0)
    plain = source_file(path)
    assert _cml_parallel.read_parallel(replace(plain, helper_share=0.0), True) is None
    cuts_seen: list[int] = []
    plan = _cml_parallel.plan

    def spy(file_path: Path, near: int | None = None) -> _cml_parallel.Plan | None:
        found = plan(file_path, near)
        cuts_seen.append(found.split if found else -1)
        return found

    monkeypatch.setattr(_cml_parallel, "plan", spy)
    size = path.stat().st_size
    for share in (0.2, 0.6):
        found = _cml_parallel.read_parallel(replace(plain, helper_share=share), True)
        assert found is not None
        expected, expected_events = commerceml.read_with_events(replace(plain, helper_share=0))
        assert found[0].records.equals(expected.records)
        assert found[1].equals(expected_events)
    low, high = cuts_seen
    assert size * 0.8 <= low < size * 0.9 and size * 0.4 <= high < size * 0.5
    assert joins == [1, 1]
