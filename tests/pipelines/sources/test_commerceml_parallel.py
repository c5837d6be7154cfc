"""Two-process CommerceML reading gives exactly what one pass gives, wherever the file is cut."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.sample import write_benchmark_commerceml
from pipelines.sources import _cml_parallel, commerceml
from pipelines.sources.base import ReadResult, SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "commerceml"


def source_file(path: Path) -> SourceFile:
    return SourceFile(
        path=path,
        relpath=f"inbox/{path.name}",
        source="shop",
        kind="commerceml",
        sha256="0" * 64,
        batch_id="b1",
        ingested_at=datetime(2026, 11, 25, tzinfo=UTC),
    )


@pytest.fixture
def joins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Parallel reading on for any size; counts the times the halves were joined (no re-read)."""
    monkeypatch.setattr(_cml_parallel, "THRESHOLD_BYTES", 0)
    calls: list[int] = []
    join = _cml_parallel._join

    def spy(*args: Any) -> tuple[ReadResult, pl.DataFrame]:
        calls.append(1)
        return join(*args)

    monkeypatch.setattr(_cml_parallel, "_join", spy)
    return calls


def assert_same(file: SourceFile, near: int | None = None) -> ReadResult:
    """Parallel output equals one-pass output; returns the parallel one."""
    found = _cml_parallel.read_parallel(file, True, near)
    assert found is not None, "the file was not cut"
    result, events = found
    threshold = _cml_parallel.THRESHOLD_BYTES
    _cml_parallel.THRESHOLD_BYTES = 1 << 62
    try:
        expected, expected_events = commerceml.read_with_events(file)
    finally:
        _cml_parallel.THRESHOLD_BYTES = threshold
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
    write_benchmark_commerceml(path, 2_000_000)
    offsets = cuts(path, "windows-1251")
    for near in (offsets[len(offsets) // 3], path.stat().st_size // 2, offsets[-2]):
        assert_same(source_file(path), near)
    assert joins, "no cut was joined without re-reading the second half"


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
    assert not joins  # the shared Ид made the second half be read on in this process


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


def test_files_that_cannot_be_cut_are_left_to_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cml_parallel, "THRESHOLD_BYTES", 0)
    for name in ("cml3_contragents.xml", "enterprisedata.xml"):
        assert _cml_parallel.read_parallel(source_file(FIXTURES / name), True) is None
