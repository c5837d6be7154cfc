"""Mapping one CommerceML ``Контрагент`` (already turned into a dict) to raw records.

Kept apart from the streaming reader so the field rules can be read and tested on their own.
Scalar fields copied to a raw field leave the dict; structured ones (addresses, contacts) are
copied *and* kept whole in ``extra``, so contact types and address parts are never lost.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from typing import Any

from pipelines.schema import ENTITY_COMPANY, ENTITY_PERSON
from pipelines.sources._common import clean, extra_json

_EMAIL_TYPE = re.compile(r"почт|mail", re.IGNORECASE)
_PHONE_TYPE = re.compile(r"телефон|phone", re.IGNORECASE)
_INN10 = re.compile(r"\d{10}")
_CITY_TYPES = ("город", "населенный пункт", "населённый пункт")
STRIP = " \t\r\n\u00a0\ufeff"  # what _common.clean strips; to_dict inlines it for leaves
#: Fields of a Контрагент that describe its role in one Документ, not the party itself.
DOCUMENT_LOCAL = ("Роль", "РасчетныйСчет", "Склад")


class _Names(dict[str, str]):
    """Tag → name without its namespace, filled on first use (files have few distinct tags)."""

    def __missing__(self, tag: str) -> str:
        name = self[tag] = tag.rpartition("}")[2]
        return name


#: ``NAMES[tag]`` is the tag's local name: the reader is namespace-agnostic.
NAMES = _Names()


class Repeated(list[Any]):
    """A list made from repeated tags, told apart from a repeat of a single value."""


def to_dict(elem: ET.Element) -> Any:
    """An element as plain data: text for a leaf, a dict for a branch, a list for repeats."""
    if not len(elem) and not elem.keys():
        return clean(elem.text)
    return _branch(elem)


def _branch(
    elem: ET.Element,
    names: _Names = NAMES,
    strip: str = STRIP,
    repeated: type[Repeated] = Repeated,
) -> dict[str, Any]:
    """``to_dict`` of an element with children or attributes.

    The reader's hot loop (every element of a file passes here once): leaves are read inline
    (``clean`` without the call) and globals are bound as defaults. Attributes are looked up
    with ``keys()``: reading ``.attrib`` gives every element a new empty dict.
    """
    out: dict[str, Any] = {f"@{names[k]}": v for k, v in elem.items()} if elem.keys() else {}
    for child in elem:
        if len(child) or child.keys():
            value: Any = _branch(child)
        else:
            value = child.text
            if value is not None:
                value = value.strip(strip) or None
        key = names[child.tag]
        if key not in out:
            out[key] = value
        elif type(seen := out[key]) is repeated:
            seen.append(value)
        else:
            out[key] = repeated([seen, value])
    if not len(elem) and (text := clean(elem.text)) is not None:
        out["#text"] = text
    return out


def as_list(value: Any) -> list[Any]:
    """Repeated or single child as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def text(value: Any) -> str | None:
    """A leaf value, or None for a missing or structured one."""
    return value if isinstance(value, str) else None


def roles(party: dict[str, Any]) -> list[str]:
    """Every ``Роль`` of a party (3.x may repeat it)."""
    return [r for r in as_list(party.get("Роль")) if isinstance(r, str)]


def contacts(party: dict[str, Any]) -> tuple[str | None, str | None]:
    """Phones and e-mails from ``Контакты``, several joined with ``; ``."""
    phones: list[str] = []
    emails: list[str] = []
    box = party.get("Контакты")
    items = as_list(box.get("Контакт")) if isinstance(box, dict) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        value = item.get("Значение")
        if not isinstance(value, str):
            continue
        kind = item.get("Тип")
        channel = _channel(kind if isinstance(kind, str) else "")
        if channel == "email":
            emails.append(value)
        elif channel == "phone":
            phones.append(value)
    return "; ".join(phones) or None, "; ".join(emails) or None


@functools.lru_cache(maxsize=1024)
def _channel(kind: str) -> str | None:
    """What a ``Контакт/Тип`` names (files use a handful of them, so each is matched once)."""
    if _EMAIL_TYPE.search(kind):
        return "email"
    if _PHONE_TYPE.search(kind):
        return "phone"
    return None


def address(party: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``Представление`` of the first non-empty address among ``keys``, and its city."""
    found: str | None = None
    city: str | None = None
    for key in keys:
        value = party.get(key)
        if isinstance(value, str):
            found = found or value
            continue
        if not isinstance(value, dict):
            continue
        found = found or text(value.get("Представление"))
        for part in as_list(value.get("АдресноеПоле")):
            if isinstance(part, dict) and city is None:
                kind = (text(part.get("Тип")) or "").lower()
                if kind in _CITY_TYPES:
                    city = text(part.get("Значение"))
    return found, city


def flatten_requisites(party: dict[str, Any]) -> str | None:
    """Lift ``РеквизитыЮрЛица``/``РеквизитыФизЛица`` children to the top; return which was seen."""
    seen = None
    for group, kind in (("РеквизитыЮрЛица", ENTITY_COMPANY), ("РеквизитыФизЛица", ENTITY_PERSON)):
        value = party.get(group)
        if isinstance(value, dict):
            party.pop(group)
            for key, item in value.items():
                party.setdefault(key, item)
            seen = seen or kind
    return seen


def is_company(party: dict[str, Any], declared: str | None) -> bool:
    """A legal entity: declared so, or has an official name, a 10-digit ИНН or a КПП."""
    if declared is not None:
        return declared == ENTITY_COMPANY
    inn = text(party.get("ИНН")) or ""
    return (
        "ОфициальноеНаименование" in party
        or _INN10.fullmatch(inn) is not None
        or text(party.get("КПП")) is not None
    )


def party_kind(party: dict[str, Any]) -> str:
    """``entity_kind`` :func:`map_party` would give (for contact persons of an unmapped repeat)."""
    fields = dict(party)
    return ENTITY_COMPANY if is_company(fields, flatten_requisites(fields)) else ENTITY_PERSON


def _pop(fields: dict[str, Any], *keys: str) -> str | None:
    """First leaf value among ``keys``, removed from ``fields``; structured values stay."""
    for key in keys:
        if isinstance(fields.get(key), str):
            return str(fields.pop(key))
    return None


#: (raw field, keys whose first leaf value it takes) of a company and of a person, then of both
_COMPANY_FIELDS = (("company", ("Наименование", "ОфициальноеНаименование")),)
_PERSON_FIELDS = (
    ("full_name", ("ПолноеНаименование", "Наименование")),
    ("last_name", ("Фамилия",)),
    ("first_name", ("Имя",)),
    ("middle_name", ("Отчество",)),
    ("birth_date", ("ДатаРождения",)),
    ("gender", ("Пол",)),
)
_COMMON_FIELDS = (
    ("inn", ("ИНН",)),
    ("kpp", ("КПП",)),
    ("ogrn", ("ОГРН", "ОГРНИП")),
    ("comment", ("Комментарий",)),
)
_REQUISITES = frozenset(("РеквизитыЮрЛица", "РеквизитыФизЛица"))


def _take(fields: dict[str, Any], out: dict[str, Any], rules: tuple[Any, ...]) -> None:
    """``out[name] = _pop(fields, *keys)`` for each rule, in order (the reader's hot path)."""
    get = fields.get
    for name, keys in rules:
        for key in keys:
            if isinstance(value := get(key), str):
                del fields[key]
                out[name] = value
                break
        else:
            out[name] = None


def map_party(party: dict[str, Any], rid: str, row: int) -> dict[str, Any]:
    """One raw record from a ``Контрагент`` dict (``Ид`` and ``Представители`` already taken)."""
    return map_party_fields(dict(party), rid, row)


def map_party_fields(fields: dict[str, Any], rid: str, row: int) -> dict[str, Any]:
    """:func:`map_party` on a dict of the caller's own, which it takes apart."""
    declared = flatten_requisites(fields) if not _REQUISITES.isdisjoint(fields) else None
    company = is_company(fields, declared)
    out: dict[str, Any] = {"source_record_id": rid, "source_row": row, "source_sheet": None}
    if company:
        out["entity_kind"] = ENTITY_COMPANY
        _take(fields, out, _COMPANY_FIELDS)
        out["address"], out["city"] = address(fields, ("ЮридическийАдрес", "Адрес"))
    else:
        out["entity_kind"] = ENTITY_PERSON
        _take(fields, out, _PERSON_FIELDS)
        out["address"], out["city"] = address(fields, ("АдресРегистрации", "Адрес"))
    _take(fields, out, _COMMON_FIELDS)
    out["phone"], out["email"] = contacts(fields)
    out["extra"] = extra_json({k: v for k, v in fields.items() if v is not None})
    return out


def map_representative(
    rep: dict[str, Any], parent: dict[str, Any], parent_kind: str, ids: tuple[str, str, int]
) -> dict[str, Any]:
    """A contact person: a person record linked to its company (or person) through ``extra``.

    ``ids`` is (parent record id, own record id, source_row). The parent's ИНН is not copied
    to ``inn``: it identifies the company, not this person.
    """
    parent_rid, rid, row = ids
    fields = dict(rep)
    nested = fields.pop("Контрагент", None)  # Bitrix style: Представитель/Контрагент/...
    if isinstance(nested, dict):
        for key, value in nested.items():
            fields.setdefault(key, value)
    fields.pop("Ид", None)
    out: dict[str, Any] = {
        "source_record_id": rid,
        "source_row": row,
        "source_sheet": None,
        "entity_kind": ENTITY_PERSON,
        "full_name": _pop(fields, "Наименование", "ПолноеНаименование"),
        "last_name": _pop(fields, "Фамилия"),
        "first_name": _pop(fields, "Имя"),
        "middle_name": _pop(fields, "Отчество"),
        "position": _pop(fields, "Отношение", "Должность"),
        "comment": _pop(fields, "Комментарий"),
    }
    if parent_kind == ENTITY_COMPANY:
        out["company"] = text(parent.get("Наименование")) or text(
            parent.get("ОфициальноеНаименование")
        )
    out["address"], out["city"] = address(fields, ("Адрес",))
    out["phone"], out["email"] = contacts(fields)
    link = "company" if parent_kind == ENTITY_COMPANY else "represents"
    extra = {f"{link}_id": parent_rid, f"{link}_inn": text(parent.get("ИНН"))}
    extra.update({k: v for k, v in fields.items() if v is not None})
    out["extra"] = extra_json({k: v for k, v in extra.items() if v is not None})
    return out
