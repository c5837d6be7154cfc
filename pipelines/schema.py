"""The canonical record schema: one module that every connector, stage and check agrees on.

A connector turns any source row into a *raw record* (every value a string, exactly as read, plus
lineage). Staging adds clean values and match keys beside the raw ones. Nothing here computes;
it only names columns and types so the contract lives in one place.
"""

from __future__ import annotations

import functools
from typing import NewType

import polars as pl

RecordKey = NewType("RecordKey", str)
CustomerId = NewType("CustomerId", str)

ENTITY_PERSON = "person"
ENTITY_COMPANY = "company"

#: Lineage attached by every connector to every row.
LINEAGE: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "source": pl.String(),
    "source_kind": pl.String(),
    "source_record_id": pl.String(),
    "source_file": pl.String(),
    "source_sheet": pl.String(),
    "source_row": pl.Int64(),
    "file_sha256": pl.String(),
    "batch_id": pl.String(),
    "ingested_at": pl.Datetime("us", "UTC"),
}

#: Contact fields as read from the source: strings, untouched (None when the source has none).
RAW_FIELDS: dict[str, pl.DataType] = {
    "entity_kind": pl.String(),
    "full_name": pl.String(),
    "last_name": pl.String(),
    "first_name": pl.String(),
    "middle_name": pl.String(),
    "phone": pl.String(),
    "email": pl.String(),
    "birth_date": pl.String(),
    "gender": pl.String(),
    "city": pl.String(),
    "address": pl.String(),
    "company": pl.String(),
    "position": pl.String(),
    "inn": pl.String(),
    "kpp": pl.String(),
    "ogrn": pl.String(),
    "snils": pl.String(),  # СНИЛС of a person
    "passport": pl.String(),  # серия и номер паспорта
    "comment": pl.String(),
    "owner": pl.String(),
    "observed_at": pl.String(),
    # consent as written (да/нет, 1/0, true/false, Y/N, ✓): per channel, and two opt-out flags
    "consent_email": pl.String(),
    "consent_sms": pl.String(),
    "consent_calls": pl.String(),
    "unsubscribed": pl.String(),  # yes = opted out of mailings (e-mail and SMS)
    "do_not_call": pl.String(),  # yes = opted out of calls
    "extra": pl.String(),  # JSON object of every source column that maps to no field
}

RAW_SCHEMA: dict[str, pl.DataType] = {**LINEAGE, **RAW_FIELDS}

#: Columns staging adds beside the raw ones (prefix ``raw_`` is put on the raw contact fields).
STAGED_FIELDS: dict[str, pl.DataType] = {
    "entity_kind": pl.String(),
    "full_name": pl.String(),
    "last_name": pl.String(),
    "first_name": pl.String(),
    "middle_name": pl.String(),
    "phones": pl.List(pl.String()),
    "phone_types": pl.List(pl.String()),
    "emails": pl.List(pl.String()),
    "email_keys": pl.List(pl.String()),
    "birth_date": pl.Date(),
    "city": pl.String(),
    "company": pl.String(),
    "inn": pl.String(),
    "snils": pl.String(),
    "passport": pl.String(),
    "quality_flags": pl.List(pl.String()),
}

#: Header names (lower-cased, ё folded) that map to each raw field. Connectors use this table;
#: an explicit mapping in ``svod.toml`` overrides it.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "фио",
        "ф.и.о.",
        "ф.и.о",
        "контактное лицо",
        "клиент",
        "полное имя",
        "полное имя контакта",
        "имя, фамилия",
        "покупатель",
        "заказчик",
        "name",
        "full name",
        "full_name",
        "contact",
        "contact name",
        "customer",
        "client",
    ),
    "last_name": ("фамилия", "last name", "last_name", "surname", "lastname", "family name"),
    "first_name": ("имя", "first name", "first_name", "firstname", "given name"),
    "middle_name": ("отчество", "middle name", "middle_name", "patronymic", "second name"),
    "phone": (
        "телефон",
        "тел.",
        "тел",
        "моб. телефон",
        "мобильный телефон",
        "мобильный",
        "сотовый",
        "контактный телефон",
        "телефон клиента",
        "рабочий телефон",
        "номер телефона",
        "phone",
        "phone number",
        "mobile",
        "tel",
        "telephone",
    ),
    "email": (
        "e-mail",
        "email",
        "e-mail адрес",
        "эл. почта",
        "эл.почта",
        "электронная почта",
        "почта",
        "адрес электронной почты",
        "mail",
        "email address",
    ),
    "birth_date": (
        "дата рождения",
        "д.р.",
        "др",
        "день рождения",
        "birth date",
        "birthday",
        "date of birth",
        "dob",
    ),
    "gender": ("пол", "gender", "sex"),
    "city": ("город", "населенный пункт", "city", "town"),
    "address": ("адрес", "фактический адрес", "юридический адрес", "address"),
    "company": (
        "компания",
        "организация",
        "название компании",
        "контрагент",
        "наименование",
        "company",
        "organization",
        "organisation",
    ),
    "position": ("должность", "position", "job title", "title"),
    "inn": ("инн", "inn", "tax id"),
    "kpp": ("кпп", "kpp"),
    "ogrn": ("огрн", "огрнип", "ogrn"),
    "snils": ("снилс", "номер снилс", "страховой номер", "страховое свидетельство", "snils"),
    "passport": (
        "паспорт",
        "паспорт рф",
        "паспортные данные",
        "серия и номер паспорта",
        "серия, номер паспорта",
        "номер паспорта",
        "passport",
        "passport number",
    ),
    "comment": ("комментарий", "примечание", "комментарии", "comment", "comments", "note", "notes"),
    "owner": ("ответственный", "менеджер", "owner", "manager", "responsible"),
    "observed_at": (
        "дата",
        "дата создания",
        "дата обращения",
        "дата контакта",
        "created",
        "created_at",
        "date",
    ),
    "consent_email": (
        "согласие на рассылку",
        "согласие на email рассылку",
        "согласие на e-mail рассылку",
        "подписка на рассылку",
        "подписан на рассылку",
        "email_opt_in",
        "email opt-in",
        "email consent",
        "accepts_marketing",
    ),
    "consent_sms": (
        "согласие на смс",
        "согласие на sms",
        "sms_opt_in",
        "sms opt-in",
        "sms consent",
    ),
    "consent_calls": ("согласие на звонки", "можно звонить", "calls_opt_in", "call consent"),
    "unsubscribed": (
        "отказ от рассылки",
        "отписан",
        "отписался",
        "отписан от рассылки",
        "unsubscribed",
        "opt_out",
        "opt-out",
        "email_opt_out",
    ),
    "do_not_call": ("не звонить", "do not call", "do_not_call", "dnc"),
}


def empty_raw_frame() -> pl.DataFrame:
    """A raw-record frame with no rows and the canonical columns."""
    return pl.DataFrame(schema=RAW_SCHEMA)


@functools.lru_cache(maxsize=65_536)
def fold_header(name: str) -> str:
    """Normalise a header for synonym lookup: trim, lower-case, fold ё and inner spaces.

    Cached: JSON connectors fold the same few keys once per payload, millions of times.
    """
    return " ".join(name.replace("\u00a0", " ").strip().lower().replace("ё", "е").split())


_SYNONYM_INDEX: dict[str, str] = {
    fold_header(syn): field for field, syns in HEADER_SYNONYMS.items() for syn in syns
}


def field_for_header(header: str) -> str | None:
    """The raw field a source header maps to, or None when it maps to none."""
    return _SYNONYM_INDEX.get(fold_header(header))


#: One row per input row (or whole file) that could not be staged, with a reason code.
#: The quarantine columns that say which input row a quarantined record was (its lineage).
QUARANTINE_LINEAGE: tuple[str, ...] = (
    "record_key",
    "source",
    "source_file",
    "source_sheet",
    "source_row",
    "batch_id",
)
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "source": pl.String(),
    "source_file": pl.String(),
    "source_sheet": pl.String(),
    "source_row": pl.Int64(),
    "batch_id": pl.String(),
    "stage": pl.String(),  # "ingest" or "stage"
    "reason": pl.String(),  # a reason code from quality.reasons
    "field": pl.String(),
    "detail": pl.String(),
    "raw": pl.String(),  # the row as read, JSON
}


#: One row per event (order, form submission, ticket) found in a source file.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "record_key": pl.String(),  # the contact record the event belongs to (may be null)
    "source": pl.String(),
    "source_file": pl.String(),
    "event_type": pl.String(),  # "order", "form_submission" or "ticket"
    "occurred_at": pl.String(),  # as in the source
    "amount": pl.String(),
    "status": pl.String(),
    "channel": pl.String(),
    "subject": pl.String(),
    "detail": pl.String(),  # JSON object of the remaining event fields
}


def empty_quarantine_frame() -> pl.DataFrame:
    """A quarantine frame with no rows."""
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
