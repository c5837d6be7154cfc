"""CommerceML 2.x / 3.x connector (kind ``commerceml``): 1C "Обмен с сайтом" XML files.

Counterparties appear in each ``Документ/Контрагенты`` (2.x), as ``Классификатор/Владелец`` and in
a root ``Контрагенты`` list (3.x). Files reach gigabytes, so the XML is streamed: each child of the
root is read whole when it ends (``_cml_tree``) and dropped, a long section even while it grows;
only one order or one counterparty lives in memory. Each ``Документ`` is also an ``order`` event.
Elements are handed over in the order their end tags come, the order row numbers follow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.sources import _cml_parallel
from pipelines.sources._cml_map import (
    DOCUMENT_LOCAL,
    NAMES,
    STRIP,
    Repeated,
    map_party_fields,
    map_representative,
    party_kind,
    roles,
    text,
    to_dict,
)
from pipelines.sources._cml_merge import DIFFERS, NEW, Log, Seen
from pipelines.sources._cml_orders import order_event
from pipelines.sources._cml_stream import HtmlEntities, parse_error
from pipelines.sources._cml_tree import Readable, parse_top_level
from pipelines.sources._common import (
    FrameBuilder,
    clean,
    duplicate_item,
    fallback_id,
    fingerprint,
    local_fingerprint,
    paused_gc,
)
from pipelines.sources.base import ReadResult, SourceFile, quarantine_rows

_ROOTS = ("КоммерческаяИнформация", "Контрагенты")
_OWNER_PARENTS = {"Классификатор", "Каталог", "ПакетПредложений", "ИзмененияПакетаПредложений"}
_NOT_CONTENT = frozenset((*DOCUMENT_LOCAL, "Ид"))  # what a repeat may change: roles, its Ид


def read(file: SourceFile) -> ReadResult:
    """Contact records of every Контрагент and Представитель in the file."""
    return read_with_events(file, with_events=False)[0]


def read_with_events(
    file: SourceFile, *, with_events: bool = True
) -> tuple[ReadResult, pl.DataFrame]:
    """Records and events in one pass over the file (two halves at once for large files)."""
    with paused_gc():
        if (halves := _cml_parallel.read_parallel(file, with_events)) is not None:
            return halves
        reader = _Reader(file, with_events, one_pass=True)
        try:
            with file.path.open("rb") as raw:
                reader.read(HtmlEntities(raw))
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

    def __init__(self, file: SourceFile, with_events: bool, *, one_pass: bool = False) -> None:
        self.file = file
        self.with_events = with_events
        # a half's digests are compared with the other process's: those must not be seeded
        self.digest: Callable[[Any], str | int] = local_fingerprint if one_pass else fingerprint
        self.records = FrameBuilder(file)
        self.events = FrameBuilder(file, events=True)
        self.quarantine: list[dict[str, Any]] = []
        self.seen = Seen()
        self.log: Log | None = None  # set by the parallel worker: every Ид check is logged
        self.row = 0  # every Контрагент, Владелец and Представитель element takes one
        self.counts = {"company": 0, "person": 0, "representative": 0, "document": 0}
        self.doc_parties: list[tuple[str, list[str]]] = []  # (Ид, roles) of this Документ
        self.doc_items: list[Any] = []  # its Товар elements as plain data
        self.local_ids = 0  # ids made from row or document numbers (position-dependent)

    def read(self, raw: Readable) -> None:
        """Read the whole stream (``ET.ParseError`` where the XML breaks)."""
        parse_top_level(raw, self)

    def root(self, elem: ET.Element) -> None:
        self._check_root(NAMES[elem.tag])

    def finished(self, elem: ET.Element) -> None:
        """A whole child of the root: a 3.x Контрагент, a Документ, or a section to search."""
        name = NAMES[elem.tag]
        if name == "Контрагент":
            self._party(elem, in_document=False)
        elif name != "Документ":
            self._units_in(elem, name, len(elem), in_document=False)
        elif self.with_events:
            self._document(self._document_part(elem, name))
        else:
            self._units_in(elem, name, len(elem), in_document=True)
            self._document(None)

    def open(self, elem: ET.Element) -> None:
        """The root's unfinished last child: units already finished in a section are read and
        dropped, so a catalog of any size stays small (a Документ is read when it ends)."""
        name = NAMES[elem.tag]
        while name not in ("Контрагент", "Документ"):
            if (done := len(elem) - 1) > 0:
                self._units_in(elem, name, done, in_document=False)
                del elem[:done]
            if not len(elem):
                return
            last, owner = elem[-1], name in _OWNER_PARENTS
            name = NAMES[last.tag]
            if name == "Владелец" and owner:
                return
            elem = last

    def _units_in(self, elem: ET.Element, name: str, count: int, *, in_document: bool) -> None:
        """Every Контрагент (and catalog Владелец) among the first ``count`` children of
        ``elem`` and below, in the order they end; the element's own end does nothing."""
        owner = name in _OWNER_PARENTS
        for child in elem[:count] if count < len(elem) else elem:
            child_name = NAMES[child.tag]
            if child_name == "Контрагент" or (owner and child_name == "Владелец"):
                self._party(child, in_document=in_document)
            elif len(child):
                self._units_in(child, child_name, len(child), in_document=in_document)

    def _document_part(self, elem: ET.Element, name: str) -> Any:
        """``to_dict`` of a part of a Документ once its Контрагент and Товар elements, read in
        the order they end, are taken out (a Товар becomes an item of the order)."""
        names, strip, repeated = NAMES, STRIP, Repeated
        attributes = elem.keys()
        out: dict[str, Any] = {f"@{names[k]}": v for k, v in elem.items()} if attributes else {}
        base, owner = len(out), name in _OWNER_PARENTS
        for child in elem:
            key = names[child.tag]
            if key == "Контрагент" or (owner and key == "Владелец"):
                self._party(child, in_document=True)
                continue
            if len(child):
                value: Any = self._document_part(child, key)
            elif child.keys():
                value = to_dict(child)
            else:
                value = child.text
                if value is not None:
                    value = value.strip(strip) or None
            if key == "Товар":
                self.doc_items.append(value)
            elif key not in out:
                out[key] = value
            elif type(seen := out[key]) is repeated:
                seen.append(value)
            else:
                out[key] = repeated([seen, value])
        if len(out) > base:  # a child was kept
            return out
        if not attributes:
            return clean(elem.text)
        if (text_value := clean(elem.text)) is not None:
            out["#text"] = text_value
        return out

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
        digest = self.digest(content)
        status, first = self.seen.check(rid, digest, row)
        if self.log is not None:
            self.log.add((row, rid, str(digest), status), raw)
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
        self.row = row = self.row + 1
        party = to_dict(elem)
        if type(party) is dict:
            native = party.get("Ид")
            if not isinstance(native, str):
                native = None
                self.local_ids += 1
            rid = native or fallback_id(self.file, row)
            if in_document:
                self.doc_parties.append((rid, roles(party)))
            content = {k: v for k, v in party.items() if k not in _NOT_CONTENT}
        else:
            self.local_ids += 1
            rid, content = fallback_id(self.file, row), {}
        if not any(v is not None for v in content.values()):
            self._reject(rid, row, "empty_record", "Контрагент has no fields besides its Ид", party)
            return
        kind = None
        if self._check(rid, content, row, party) == NEW:
            fields = {k: v for k, v in content.items() if k != "Представители"}
            for key in DOCUMENT_LOCAL:  # roles of the first occurrence are kept for reference
                if key in party:
                    fields[key] = party[key]
            record = map_party_fields(fields, rid, row)
            kind = str(record["entity_kind"])
            self._kept(record, kind)
        box = content.get("Представители")
        if isinstance(box, dict) and (reps := box.get("Представитель")) is not None:
            for rep in reps if isinstance(reps, list) else (reps,):
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

    def _document(self, doc: Any) -> None:
        """A Документ read (``doc``: its fields as plain data, when events are wanted)."""
        self.counts["document"] += 1
        if self.with_events:
            fields = doc if isinstance(doc, dict) else {}
            self.local_ids += not isinstance(fields.get("Ид"), str)
            number, items = self.counts["document"], self.doc_items
            self.events.add(order_event(self.file, fields, self.doc_parties, items, number))
        self.doc_parties = []
        self.doc_items = []

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
