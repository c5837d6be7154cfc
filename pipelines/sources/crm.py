"""Legacy CRM and 1C list exports recognised from their headers, with no configuration.

A plain ``kind = "spreadsheet"`` source reads amoCRM, Bitrix24 and 1C «Контрагенты» /
«Контактные лица» exports: once the header row is found, :func:`detect_profile` names the export
(ECOSYSTEM D1, D2, C4). The profile adds header mappings the general synonyms lack (several phone
and e-mail columns, ``Примечание 1..5``), takes the native ``ID``/``Код`` as ``source_record_id``
(prefixed per entity type, so a contact and a company with the same number stay apart), reads
the entity kind from ``Тип`` / ``Вид контрагента``, and sends 1C folder rows to quarantine
(``group_row``). An explicit ``[sources.mapping]`` still wins over the profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.schema import ENTITY_COMPANY, ENTITY_PERSON, fold_header

Cell = str | None

_PHONE, _EMAIL = "phone", "email"
_AMO_MAP: dict[str, str] = {
    "полное имя контакта": "full_name",
    "имя": "first_name",
    "фамилия": "last_name",
    "название компании": "company",
    "компания контакта": "company",
    "название": "company",
    "ответственный за контакт": "owner",
    "дата создания контакта": "observed_at",
    "дата создания компании": "observed_at",
    "дата создания сделки": "observed_at",
    "рабочий телефон": _PHONE,
    "рабочий прямой телефон": _PHONE,
    "мобильный телефон": _PHONE,
    "домашний телефон": _PHONE,
    "другой телефон": _PHONE,
    "рабочий email": _EMAIL,
    "личный email": _EMAIL,
    "другой email": _EMAIL,
    **{f"примечание {n}": "comment" for n in range(1, 6)},
}
_BITRIX_MAP: dict[str, str] = {
    "название компании": "company",
    "рабочий телефон": _PHONE,
    "мобильный телефон": _PHONE,
    "домашний телефон": _PHONE,
    "телефон для рассылок": _PHONE,
    "другой телефон": _PHONE,
    "рабочий e-mail": _EMAIL,
    "частный e-mail": _EMAIL,
    "e-mail для рассылок": _EMAIL,
    "другой e-mail": _EMAIL,
    "дата создания": "observed_at",
}
_ONEC_CATALOG_MAP: dict[str, str] = {
    "наименование": "company",  # a person's counterparty: moved to full_name by kind
    "регистрационный номер": "ogrn",
    "адрес электронной почты": _EMAIL,
    "email": _EMAIL,
}
_ONEC_CONTACTS_MAP: dict[str, str] = {
    "наименование": "full_name",
    "контрагент": "company",
    "владелец": "company",
    "партнер": "company",
    "должность по визитке": "position",
}
_AMO_MARKS = frozenset(
    {
        "полное имя контакта",
        "рабочий прямой телефон",
        "дата создания контакта",
        "кем создан контакт",
        "дата создания компании",
        "кем создана компания",
        "рабочий email",
        "личный email",
        "название сделки",
    }
)
_BITRIX_MARKS = frozenset(
    {
        "частный e-mail",
        "рабочий e-mail",
        "e-mail для рассылок",
        "другой e-mail",
        "телефон для рассылок",
        "номер пейджера",
        "название лида",
        "тип контакта",
        "тип компании",
        "контакт telegram",
        "кем изменен",
    }
)
_ONEC_KIND_HEADERS = ("вид контрагента", "юр./физ. лицо", "юр. / физ. лицо", "юридическое лицо")
_PERSON_NAME_HEADERS = frozenset({"полное имя контакта", "имя", "фамилия", "имя, фамилия"})
#: Every header some profile knows, so the header row is found even when few are synonyms.
KNOWN_HEADERS = (
    (frozenset(_AMO_MAP) | frozenset(_BITRIX_MAP) | frozenset(_ONEC_CATALOG_MAP) | _AMO_MARKS)
    | _BITRIX_MARKS
    | frozenset(_ONEC_KIND_HEADERS)
)

#: Values of ``Тип`` / ``Вид контрагента`` (folded) and the entity kind they mean.
KIND_VALUES: dict[str, str] = {
    "контакт": ENTITY_PERSON,
    "contact": ENTITY_PERSON,
    "компания": ENTITY_COMPANY,
    "company": ENTITY_COMPANY,
    "юридическое лицо": ENTITY_COMPANY,
    "юр. лицо": ENTITY_COMPANY,
    "юрлицо": ENTITY_COMPANY,
    "юр.лицо": ENTITY_COMPANY,
    "физическое лицо": ENTITY_PERSON,
    "физ. лицо": ENTITY_PERSON,
    "физлицо": ENTITY_PERSON,
    "физ.лицо": ENTITY_PERSON,
    "индивидуальный предприниматель": ENTITY_PERSON,  # as CommerceML: an ИП is a person
    "ип": ENTITY_PERSON,
}
_ENTITY_OF_KIND = {ENTITY_PERSON: "contact", ENTITY_COMPANY: "company"}


@dataclass(frozen=True)
class Profile:
    """A recognised export: who wrote it, which entity it lists, and how to read its columns."""

    name: str  # "amocrm" | "bitrix24" | "onec_catalog" | "onec_contacts"
    entity: str  # "contact" | "company" | "lead" | "deal" | "counterparty" | "contact_person"
    mapping: Mapping[str, str] = field(default_factory=dict)  # folded header -> field
    id_header: str | None = None  # folded header of the native id column
    kind_header: str | None = None  # folded header of a per-row entity kind column
    default_kind: str = ENTITY_PERSON
    name_in_company: bool = False  # the name column holds persons' names too (1C catalogue)

    @property
    def label(self) -> str:
        return f"{self.name} {self.entity} export"


def detect_profile(headers: Sequence[Cell]) -> Profile | None:
    """The export a header row belongs to, or None for an ordinary spreadsheet."""
    folded = {fold_header(h) for h in headers if h}
    if "id" in folded and folded & _AMO_MARKS:
        return _amo(folded)
    if "id" in folded and folded & _BITRIX_MARKS:
        return _bitrix(folded)
    kind_header = next((h for h in _ONEC_KIND_HEADERS if h in folded), None)
    if "наименование" in folded and (kind_header or "полное наименование" in folded):
        return Profile(
            "onec_catalog",
            "counterparty",
            _ONEC_CATALOG_MAP,
            id_header="код" if "код" in folded else None,
            kind_header=kind_header,
            default_kind=ENTITY_COMPANY,
            name_in_company=True,
        )
    owner = folded & {"контрагент", "владелец", "партнер"}
    if "наименование" in folded and owner and "инн" not in folded:
        return Profile(
            "onec_contacts",
            "contact_person",
            _ONEC_CONTACTS_MAP,
            id_header="код" if "код" in folded else None,
        )
    return None


def _amo(folded: set[str]) -> Profile:
    if "название сделки" in folded:
        return Profile("amocrm", "deal", _AMO_MAP, id_header="id")
    if "тип" in folded:
        return Profile("amocrm", "contact", _AMO_MAP, id_header="id", kind_header="тип")
    if not folded & _PERSON_NAME_HEADERS:
        return Profile("amocrm", "company", _AMO_MAP, id_header="id", default_kind=ENTITY_COMPANY)
    return Profile("amocrm", "contact", _AMO_MAP, id_header="id")


def _bitrix(folded: set[str]) -> Profile:
    if "название лида" in folded:
        return Profile("bitrix24", "lead", _BITRIX_MAP, id_header="id")
    if "тип компании" in folded or not folded & (_PERSON_NAME_HEADERS | {"отчество"}):
        return Profile(
            "bitrix24", "company", _BITRIX_MAP, id_header="id", default_kind=ENTITY_COMPANY
        )
    return Profile("bitrix24", "contact", _BITRIX_MAP, id_header="id")


@dataclass
class RowPlan:
    """Per data row: its record id and entity kind, or a quarantine item instead."""

    ids: list[str]
    kinds: list[str | None]
    rejected: dict[int, dict[str, Any]]


def _cell(row: Sequence[Cell], col: int | None) -> Cell:
    return row[col] if col is not None and col < len(row) else None


def _column(headers: Sequence[Cell], folded_name: str | None) -> int | None:
    if folded_name is None:
        return None
    return next((i for i, h in enumerate(headers) if h and fold_header(h) == folded_name), None)


def plan_rows(
    profile: Profile,
    headers: Sequence[Cell],
    fields: Sequence[str | None],
    rows: Sequence[Sequence[Cell]],
    row_numbers: Sequence[int],
    id_prefix: str,
) -> RowPlan:
    """Native ids (first one wins, a repeat is ``duplicate_id``), kinds and 1C folder rows."""
    id_col, kind_col = _column(headers, profile.id_header), _column(headers, profile.kind_header)
    group_col = _column(headers, "группа")
    name_cols = [i for i, f in enumerate(fields) if f in ("company", "full_name")]
    key_cols = [i for i, f in enumerate(fields) if f in ("inn", "phone", "email")]
    quiet = {c for c in (id_col, group_col, *name_cols) if c is not None}
    folders = {r[group_col] for r in rows if group_col is not None and len(r) > group_col}
    plan = RowPlan([], [], {})
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        fallback = f"{id_prefix}{row_numbers[i]}"
        kind_text = _cell(row, kind_col)
        kind = KIND_VALUES.get(fold_header(kind_text)) if kind_text else None
        kind = kind or profile.default_kind
        entity = _ENTITY_OF_KIND[kind] if profile.kind_header == "тип" else profile.entity
        native = _cell(row, id_col)
        rid = f"{profile.name}:{entity}:{native}" if native else fallback
        plan.ids.append(rid)
        plan.kinds.append(kind)
        name = next((v for c in name_cols if (v := _cell(row, c))), None)
        if profile.name == "onec_catalog" and name and kind_text is None:
            bare = not any(_cell(row, c) for c in key_cols) and not any(
                v for c, v in enumerate(row) if c not in quiet
            )
            if bare or (name in folders and not any(_cell(row, c) for c in key_cols)):
                plan.rejected[i] = {
                    "reason": "group_row",
                    "detail": f"folder {name!r} of the 1C catalogue: a name only, no ИНН, "
                    "phone or e-mail",
                }
                continue
        if native:
            if rid in first_row:
                plan.rejected[i] = {
                    "reason": "duplicate_id",
                    "field": "source_record_id",
                    "detail": f"id {native!r} was already read at row {first_row[rid]}; "
                    "the first one was kept",
                }
                plan.ids[-1] = fallback
            else:
                first_row[rid] = row_numbers[i]
    return plan
