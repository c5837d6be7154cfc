"""The ``order`` event of a CommerceML ``Документ``, tied to its buyer's record.

Kept apart from the reader: what an order carries (number, date, sum, status, goods and the
parties with their roles) is decided here, from the document as plain data.
"""

from __future__ import annotations

from typing import Any

from pipelines.sources._cml_map import as_list, text
from pipelines.sources._common import event_id, extra_json
from pipelines.sources.base import SourceFile, record_key

_STATUS_NAMES = ("статус заказа", "статус")
_NOT_DETAIL = frozenset(("Ид", "Дата", "Сумма", "ХозОперация"))  # order fields of their own


def order_event(
    file: SourceFile,
    doc: dict[str, Any],
    parties: list[tuple[str, list[str]]],
    items: list[Any],
    number: int,
) -> dict[str, Any]:
    """One event row: ``doc`` without its Контрагент and Товар elements, ``parties`` their
    (Ид, roles), ``items`` the Товар elements, ``number`` the document's position in the file
    (its id when it has no Ид)."""
    native = text(doc.get("Ид"))
    buyer = _buyer(parties)
    status = None
    box = doc.get("ЗначенияРеквизитов")
    for item in as_list(box.get("ЗначениеРеквизита")) if isinstance(box, dict) else []:
        name = (text(item.get("Наименование")) or "").lower() if isinstance(item, dict) else ""
        if status is None and name in _STATUS_NAMES:
            status = text(item.get("Значение"))
    detail = {k: v for k, v in doc.items() if v is not None and k not in _NOT_DETAIL}
    detail["Контрагенты"] = [{"source_record_id": r, "Роль": rs} for r, rs in parties]
    if items:
        detail["Товары"] = items
    return {
        "event_id": event_id(file, "order", native or f"{file.relpath}:{number}"),
        "record_key": record_key(file.source, buyer) if buyer else None,
        "event_type": "order",
        "occurred_at": text(doc.get("Дата")),
        "amount": text(doc.get("Сумма")),
        "status": status,
        "channel": None,
        "subject": text(doc.get("ХозОперация")),
        "detail": extra_json(detail),
    }


def _buyer(parties: list[tuple[str, list[str]]]) -> str | None:
    """The document's buyer: the party in role Покупатель, else the first non-seller."""
    for rid, party_roles in parties:
        if any("покупатель" in r.lower() for r in party_roles):
            return rid
    for rid, party_roles in parties:
        if not any("продавец" in r.lower() for r in party_roles):
            return rid
    return None
