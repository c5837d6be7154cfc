"""CommerceML 2.x / 3.x connector (kind ``commerceml``): 1C "Обмен с сайтом" XML files.

Counterparties appear in each ``Документ/Контрагенты`` (2.x), as ``Классификатор/Владелец`` and in
a root ``Контрагенты`` list (3.x). Files reach gigabytes, so the XML is streamed with ``iterparse``
and every element is dropped once handled; only one counterparty or one order lives in memory.
Each ``Документ`` is also an ``order`` event (see :func:`events`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.sources import _cml_parallel
from pipelines.sources._cml_map import (
    DOCUMENT_LOCAL,
    NAMES,
    as_list,
    map_party,
    map_representative,
    party_kind,
    roles,
    text,
    to_dict,
)
from pipelines.sources._cml_merge import DIFFERS, NEW, Log, Seen
from pipelines.sources._cml_stream import HtmlEntities, parse_error
from pipelines.sources._common import (
    FrameBuilder,
    duplicate_item,
    event_id,
    extra_json,
    fallback_id,
    fingerprint,
)
from pipelines.sources.base import ReadResult, SourceFile, quarantine_rows, record_key

_ROOTS = ("КоммерческаяИнформация", "Контрагенты")
_OWNER_PARENTS = {"Классификатор", "Каталог", "ПакетПредложений", "ИзмененияПакетаПредложений"}
_STATUS_NAMES = ("статус заказа", "статус")


def read(file: SourceFile) -> ReadResult:
    """Contact records of every Контрагент and Представитель in the file."""
    return read_with_events(file, with_events=False)[0]


def read_with_events(
    file: SourceFile, *, with_events: bool = True
) -> tuple[ReadResult, pl.DataFrame]:
    """Records and events in one pass over the file (two halves at once for large files)."""
    if (halves := _cml_parallel.read_parallel(file, with_events)) is not None:
        return halves
    reader = _Reader(file, with_events)
    try:
        with file.path.open("rb") as raw:
            reader.run(ET.iterparse(HtmlEntities(raw), events=("start", "end")))
    except ET.ParseError as exc:
        raise parse_error(file.path, file.relpath, exc) from exc
    result = ReadResult(
        records=reader.records.frame(),
        quarantine=quarantine_rows(file, reader.quarantine),
        notes=reader.notes(),
    )
    return result, reader.events.frame()


class _Reader:
    """Streaming state: the counterparty or document being read, counts, seen ids."""

    def __init__(self, file: SourceFile, with_events: bool) -> None:
        self.file = file
        self.with_events = with_events
        self.records = FrameBuilder(file)
        self.events = FrameBuilder(file, events=True)
        self.quarantine: list[dict[str, Any]] = []
        self.seen = Seen()
        self.log: Log | None = None  # set by the parallel worker: every Ид check is logged
        self.row = 0  # every Контрагент, Владелец and Представитель element takes one
        self.counts = {"company": 0, "person": 0, "representative": 0, "document": 0}
        self.doc_parties: list[tuple[str, list[str]]] = []
        self.doc_items: list[Any] = []
        self.local_ids = 0  # ids made from row or document numbers (position-dependent)

    def run(self, parse: Iterator[tuple[str, Any]]) -> None:
        """Hand each Контрагент, Владелец, Документ and Товар over when it ends.

        Every element of the file passes here twice, so names used per event are local.
        """
        stack: list[ET.Element] = []
        push, pop, names = stack.append, stack.pop, NAMES
        unit: ET.Element | None = None  # the Контрагент / Владелец being read
        doc: ET.Element | None = None
        for event, elem in parse:
            if event == "start":
                if unit is None:
                    name = names[elem.tag]
                    if not stack:
                        self._check_root(name)
                    elif name == "Контрагент" or (
                        name == "Владелец" and names[stack[-1].tag] in _OWNER_PARENTS
                    ):
                        unit = elem
                    elif name == "Документ" and len(stack) == 1:
                        doc = elem
                push(elem)
                continue
            pop()
            if unit is not None:
                if elem is not unit:
                    continue  # read with its Контрагент
                self._party(unit, in_document=doc is not None)
                unit = None
            elif doc is not None and elem is doc:
                self._document(doc)
                doc = None
            elif doc is not None:
                if names[elem.tag] != "Товар":
                    continue  # document fields are read when the document ends
                if self.with_events:
                    self.doc_items.append(to_dict(elem))
            if stack:
                stack[-1].remove(elem)
            elem.clear()

    def _check_root(self, name: str) -> None:
        if name not in _ROOTS:
            raise SourceFileError(
                self.file.relpath,
                f"the root element is <{name}>, not <КоммерческаяИнформация> (CommerceML 2.x) "
                "or <Контрагенты> (3.x)",
                "Check that this is a CommerceML exchange file; EnterpriseData (<Message>) and "
                "other XML need another connector kind",
            )

    def _next_row(self) -> int:
        self.row += 1
        return self.row

    def _check(self, rid: str, content: Any, row: int, raw: Any) -> str:
        """Whether this Ид is new, a same-content repeat or a conflicting one (quarantined)."""
        digest = fingerprint(content)
        status, first = self.seen.check(rid, digest, row)
        if self.log is not None:
            self.log.add((row, rid, digest, status), raw)
        if status == DIFFERS:
            self.quarantine.append(duplicate_item(rid, row, first, raw))
        return status

    def _kept(self, record: dict[str, Any], kind: str) -> None:
        self.records.add(record)
        self.counts[kind] += 1
        if self.log is not None:
            self.log.kept(kind)

    def _party(self, elem: ET.Element, *, in_document: bool) -> None:
        """A Контрагент or Владелец; its Представители are read whether it is kept or not."""
        row = self._next_row()
        party = to_dict(elem)
        native = text(party.get("Ид")) if isinstance(party, dict) else None
        if native is None:
            self.local_ids += 1
        rid = native or fallback_id(self.file, row)
        if in_document and isinstance(party, dict):
            self.doc_parties.append((rid, roles(party)))
        content = (
            {k: v for k, v in party.items() if k not in DOCUMENT_LOCAL and k != "Ид"}
            if (isinstance(party, dict))
            else {}
        )
        if not any(v is not None for v in content.values()):
            self._reject(rid, row, "empty_record", "Контрагент has no fields besides its Ид", party)
            return
        kind = None
        if self._check(rid, content, row, party) == NEW:
            fields = dict(content)
            fields.pop("Представители", None)
            for key in DOCUMENT_LOCAL:  # roles of the first occurrence are kept for reference
                if key in party:
                    fields[key] = party[key]
            record = map_party(fields, rid, row)
            kind = str(record["entity_kind"])
            self._kept(record, kind)
        box = content.get("Представители")
        for rep in as_list(box.get("Представитель")) if isinstance(box, dict) else []:
            self._representative(rep, content, (rid, kind))

    def _representative(
        self, rep: Any, parent: dict[str, Any], link: tuple[str, str | None]
    ) -> None:
        """A contact person; ``link`` is the parent's Ид and kind (None: not mapped, a repeat)."""
        parent_rid, parent_kind = link
        row = self._next_row()
        nested = rep.get("Контрагент") if isinstance(rep, dict) else None
        native = text(rep.get("Ид")) if isinstance(rep, dict) else None
        if native is None and isinstance(nested, dict):
            native = text(nested.get("Ид"))
        if native is None:
            self.local_ids += 1
        rid = native or fallback_id(self.file, row)
        if not isinstance(rep, dict) or not any(k != "Ид" and v for k, v in rep.items()):
            self._reject(rid, row, "empty_record", "Представитель has no fields", rep)
            return
        if self._check(rid, {"rep": rep, "company_id": parent_rid}, row, rep) != NEW:
            return
        kind = parent_kind or party_kind(parent)
        self._kept(map_representative(rep, parent, kind, (parent_rid, rid, row)), "representative")

    def _reject(self, rid: str, row: int, reason: str, detail: str, raw: Any) -> None:
        self.quarantine.append(
            {
                "source_record_id": rid,
                "source_row": row,
                "reason": reason,
                "detail": detail,
                "raw": raw,
            }
        )

    def _document(self, elem: ET.Element) -> None:
        self.counts["document"] += 1
        if self.with_events:
            self.events.add(self._order(to_dict(elem)))
        self.doc_parties = []
        self.doc_items = []

    def _order(self, doc: Any) -> dict[str, Any]:
        fields: dict[str, Any] = dict(doc) if isinstance(doc, dict) else {}
        native = text(fields.pop("Ид", None))
        self.local_ids += native is None
        buyer = _buyer(self.doc_parties)
        status = None
        box = fields.get("ЗначенияРеквизитов")
        for item in as_list(box.get("ЗначениеРеквизита")) if isinstance(box, dict) else []:
            name = (text(item.get("Наименование")) or "").lower() if isinstance(item, dict) else ""
            if status is None and name in _STATUS_NAMES:
                status = text(item.get("Значение"))
        detail = {k: v for k, v in fields.items() if v is not None and k not in ("Дата", "Сумма")}
        detail.pop("ХозОперация", None)
        detail["Контрагенты"] = [{"source_record_id": r, "Роль": rs} for r, rs in self.doc_parties]
        if self.doc_items:
            detail["Товары"] = self.doc_items
        return {
            "event_id": event_id(
                self.file, "order", native or f"{self.file.relpath}:{self.counts['document']}"
            ),
            "record_key": record_key(self.file.source, buyer) if buyer else None,
            "event_type": "order",
            "occurred_at": text(fields.get("Дата")),
            "amount": text(fields.get("Сумма")),
            "status": status,
            "channel": None,
            "subject": text(fields.get("ХозОперация")),
            "detail": extra_json(detail),
        }

    def notes(self) -> list[str]:
        c = self.counts
        out = [
            f"{c['company'] + c['person']} Контрагент records ({c['company']} companies, "
            f"{c['person']} persons) and {c['representative']} contact persons (Представитель)"
        ]
        if self.seen.repeats:
            out.append(
                f"{self.seen.repeats} repeated Контрагент/Представитель entries with the same "
                "Ид and content were read once"
            )
        if dup := sum(1 for q in self.quarantine if q["reason"] == "duplicate_id"):
            out.append(f"{dup} entries reuse an Ид with different content (quarantined)")
        if c["document"]:
            out.append(f"{c['document']} Документ elements (orders) found; events() returns them")
        if c["company"] + c["person"] == 0:
            out.append("no Контрагент found: the file may be a catalog or offers file")
        return out


def _buyer(parties: list[tuple[str, list[str]]]) -> str | None:
    """The document's buyer: the party in role Покупатель, else the first non-seller."""
    for rid, party_roles in parties:
        if any("покупатель" in r.lower() for r in party_roles):
            return rid
    for rid, party_roles in parties:
        if not any("продавец" in r.lower() for r in party_roles):
            return rid
    return None
