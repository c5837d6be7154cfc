"""The CommerceML reader fed whole elements by the C tree builder reads exactly what a reader fed
every start and end tag (``iterparse``, the way it read before) reads: same rows, row numbers,
quarantine, events and notes, whatever the chunk borders."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.errors import SourceFileError
from pipelines.sources import _cml_tree, commerceml
from pipelines.sources._cml_map import NAMES, to_dict
from pipelines.sources._cml_stream import HtmlEntities, parse_error
from pipelines.sources.base import SourceFile, quarantine_rows
from tests.pipelines.sources.cml_random import commerceml as random_commerceml
from tests.pipelines.sources.source_files import source_file

_OWNER_PARENTS = {"Классификатор", "Каталог", "ПакетПредложений", "ИзмененияПакетаПредложений"}


class EventReader(commerceml._Reader):
    """Oracle: the reader driven element by element, as it was with ``iterparse``."""

    def run(self, parse: Iterator[tuple[str, Any]]) -> None:
        stack: list[ET.Element] = []
        unit: ET.Element | None = None
        doc: ET.Element | None = None
        for event, elem in parse:
            if event == "start":
                if unit is None:
                    name = NAMES[elem.tag]
                    if not stack:
                        self._check_root(name)
                    elif name == "Контрагент" or (
                        name == "Владелец" and NAMES[stack[-1].tag] in _OWNER_PARENTS
                    ):
                        unit = elem
                    elif name == "Документ" and len(stack) == 1:
                        doc = elem
                stack.append(elem)
                continue
            stack.pop()
            if unit is not None:
                if elem is not unit:
                    continue
                self._party(unit, in_document=doc is not None)
                unit = None
            elif doc is not None and elem is doc:
                self._document(to_dict(doc) if self.with_events else None)
                doc = None
            elif doc is not None:
                if NAMES[elem.tag] != "Товар":
                    continue
                if self.with_events:
                    self.doc_items.append(to_dict(elem))
            if stack:
                stack[-1].remove(elem)
            elem.clear()


def read_by_events(file: SourceFile, with_events: bool) -> Any:
    reader = EventReader(file, with_events)
    try:
        with file.path.open("rb") as raw:
            reader.run(ET.iterparse(HtmlEntities(raw), events=("start", "end")))
    except ET.ParseError as exc:
        return str(parse_error(file.path, file.relpath, exc))
    except SourceFileError as exc:
        return str(exc)
    quarantine = quarantine_rows(file, reader.quarantine)
    return reader.records.frame(), quarantine, reader.events.frame(), reader.notes()


def read_by_tree(file: SourceFile, with_events: bool) -> Any:
    try:
        result, events = commerceml.read_with_events(file, with_events=with_events)
    except SourceFileError as exc:
        return str(exc)
    return result.records, result.quarantine, events, result.notes


def assert_same(expected: Any, got: Any) -> None:
    if isinstance(expected, str):
        assert got == expected
        return
    assert not isinstance(got, str), got
    for left, right in zip(expected[:3], got[:3], strict=True):
        assert isinstance(left, pl.DataFrame) and isinstance(right, pl.DataFrame)
        assert left.equals(right)
    assert expected[3] == got[3]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("block", range(4))
def test_random_files_read_as_element_by_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, block: int
) -> None:
    monkeypatch.setattr(_cml_tree, "CHUNK_BYTES", chunk)
    path = tmp_path / "orders.xml"
    file = source_file(path)
    for seed in range(block * 15, block * 15 + 15):
        data = random_commerceml(seed)
        if seed % 7 == 3:
            data = data[: len(data) * 2 // 3]  # truncated: the same error at the same place
        path.write_bytes(data)
        for with_events in (True, False):
            assert_same(read_by_events(file, with_events), read_by_tree(file, with_events))


def test_wrong_root_is_reported_before_an_error_further_on(tmp_path: Path) -> None:
    path = tmp_path / "message.xml"
    path.write_bytes("<Message><Body><Контрагент></Body>".encode())
    with pytest.raises(SourceFileError, match=r"the root element is <Message>"):
        commerceml.read(source_file(path))


def test_a_catalog_is_read_and_dropped_while_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = "<Владелец><Ид>o{n}</Ид><Наименование>ООО Поставщик {n}</Наименование></Владелец>"
    party = "<Контрагент><Ид>p{n}</Ид><Наименование>ИП Лютик {n}</Наименование></Контрагент>"
    goods = "".join(
        f"<Товар><Ид>t{n}</Ид><Наименование>Товар {n}</Наименование>{party.format(n=n)}</Товар>"
        f"<Группа>{owner.format(n=n)}</Группа>"  # an owner only of a catalog, not of a group
        for n in range(1000)
    )
    path = tmp_path / "import.xml"
    path.write_bytes(
        f"<КоммерческаяИнформация><Каталог>{owner.format(n='k')}<Товары>{goods}</Товары>"
        "</Каталог></КоммерческаяИнформация>".encode()
    )
    monkeypatch.setattr(_cml_tree, "CHUNK_BYTES", 1024)
    sizes: list[int] = []
    drain = commerceml._Reader.open

    def spy(self: commerceml._Reader, elem: ET.Element) -> None:
        drain(self, elem)
        below = elem.find("Товары")
        sizes.append(len(below) if below is not None else 0)

    monkeypatch.setattr(commerceml._Reader, "open", spy)
    file = source_file(path)
    records = commerceml.read(file).records
    assert records.height == 1001  # the catalog's owner and the goods' counterparties
    assert records["source_record_id"][:2].to_list() == ["ok", "p0"]
    assert len(sizes) > 100 and max(sizes) <= 2, "finished goods were kept in memory"
    monkeypatch.setattr(commerceml._Reader, "open", drain)
    assert_same(read_by_events(file, True), read_by_tree(file, True))
