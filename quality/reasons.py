"""Quarantine reason codes: one code per way a row or file can fail, with words for a person."""

from __future__ import annotations

REASONS: dict[str, str] = {
    "empty_row": "The row has no values. / Пустая строка.",
    "no_identifier": (
        "No usable name, phone, e-mail or ИНН: nothing identifies a customer. "
        "/ Нет ни имени, ни телефона, ни e-mail, ни ИНН."
    ),
    "junk_record": (
        "The name is a placeholder or test value and there is no valid phone, e-mail or ИНН. "
        "/ Тестовая или мусорная запись."
    ),
    "file_unreadable": "The file could not be read; see detail. / Файл не удалось прочитать.",
    "not_an_object": "The JSON item is not an object. / Элемент JSON не является объектом.",
    "empty_record": "The record has no fields. / Запись без полей.",
    "duplicate_id": "Another record in the file has the same id. / Повтор идентификатора.",
    "broken_line": "The line is not valid JSON. / Строка не является корректным JSON.",
    "agent_not_customer": "A help-desk agent, not a customer. / Сотрудник поддержки, не клиент.",
    "duplicate_record": (
        "The same record (same source id) is also in a file read later; that copy is used. "
        "/ Та же запись есть в более новом файле."
    ),
    "group_row": (
        "A folder (group) row of a 1C catalogue export: a name only, no ИНН, phone or e-mail. "
        "/ Строка группы справочника 1С."
    ),
}


def describe(reason: str) -> str:
    """Words for a reason code (the code itself when unknown)."""
    return REASONS.get(reason, reason)
