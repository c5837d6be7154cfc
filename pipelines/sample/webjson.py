"""JSON sources: Tilda-style form webhooks (D4) and a Zendesk-style helpdesk export (D6).

Forms carry what visitors type (a bare first name, the `+7 (___) ___-__-__` mask); the
helpdesk keeps one user per requester with tickets pointing at it by id.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pipelines.sample.contacts import Rendered
from pipelines.sample.plan import Slot, record_emails, record_phones
from pipelines.sample.render import FORM_STYLES, TICKET_STYLES, full_name
from pipelines.sample.truth import TruthRow, Where, junk_row, person_row

MSK = timezone(timedelta(hours=3))
_FORMS = (
    ("form512345678", "Заявка на консультацию"),
    ("form512345901", "Обратный звонок"),
    ("form498877120", "Подписка на рассылку"),
)
_UTM = (
    ("yandex", "cpc", "brand_search"),
    ("google", "cpc", "generic_2025"),
    ("vk", "social", "spring_sale"),
    ("telegram", "post", "channel_promo"),
    ("email", "newsletter", "march_digest"),
)
_COMMENTS = ("Перезвоните после 18:00", "Нужен счёт на организацию", "Сколько стоит доставка?")
_SUBJECTS = (
    "Не пришёл заказ", "Вопрос по оплате", "Возврат товара", "Не могу войти в личный кабинет",
    "Где мой чек?", "Смена адреса доставки", "Жалоба на курьера", "Счёт для юрлица",
)  # fmt: skip
_STATUSES = ("open", "pending", "solved", "closed")
_CHANNELS = ("email", "web", "phone")


def _dump(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8", newline="\n")


def write_forms(path: Path, rel: str, slots: list[Slot], rng: random.Random) -> list[TruthRow]:
    """A JSON array of submissions, oldest first, with two test submissions among them."""
    entries: list[Slot | str] = [*slots, "test", "тест"]
    rng.shuffle(entries)
    moment = datetime(2025, 2, 1, 9, 0, tzinfo=MSK)
    serial = 8_123_456_789
    out: list[dict[str, Any]] = []
    truths: list[TruthRow] = []
    for entry in entries:
        moment += timedelta(minutes=rng.randint(3, 600))
        serial += rng.randint(1, 5000)
        formid, formname = rng.choice(_FORMS)
        tranid = f"5512345:{serial}"
        where = Where(rel, native_id=tranid)
        if isinstance(entry, str):
            item: dict[str, Any] = {"Name": entry, "Phone": "9999999999", "Email": "test@test.ru"}
            truths.append(junk_row(where, "test_row"))
        else:
            slot = entry
            name = full_name(rng, slot.person, FORM_STYLES, maiden=slot.maiden, clean=slot.clean)
            phones = record_phones(rng, slot, masked=rng.random() < 0.8)
            emails = record_emails(rng, slot)
            item = {"Name": name.full, "Phone": str(phones.text), "Email": str(emails.text)}
            truths.append(person_row(where, slot.person.pid, name, phones, emails))
        item.update(formid=formid, formname=formname, tranid=tranid)
        item["submitted_at"] = moment.isoformat()
        # consent, derived without drawing from rng so every other value stays as it was
        if formid == "form498877120":
            item["email_opt_in"] = "да"
        if serial % 7 == 0:
            item["unsubscribed"] = "true"
        if rng.random() < 0.4:
            source, medium, campaign = rng.choice(_UTM)
            item.update(utm_source=source, utm_medium=medium, utm_campaign=campaign)
        if rng.random() < 0.15:
            item["Comments"] = rng.choice(_COMMENTS)
        out.append(item)
    _dump(path, out)
    return truths


def write_tickets(path: Path, rel: str, slots: list[Slot], rng: random.Random) -> list[TruthRow]:
    """`{"users": [...], "tickets": [...]}`: one end-user per slot, one to three tickets each."""
    users: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    truths: list[TruthRow] = []
    user_id = 360_012_000_000
    moment = datetime(2024, 9, 1, 8, 0, tzinfo=UTC)
    for slot in slots:
        user_id += rng.randint(1, 900_000)
        moment += timedelta(minutes=rng.randint(5, 900))
        name = full_name(rng, slot.person, TICKET_STYLES, maiden=slot.maiden, clean=slot.clean)
        emails = record_emails(rng, slot)
        phones = record_phones(rng, slot)
        if emails.emails and not slot.clean and rng.random() < 0.6:
            phones = Rendered()  # most helpdesk users only ever wrote an e-mail
        if "two_emails" in emails.noise:  # the user object holds a single primary address
            emails.text = str(emails.text).strip().replace(";", ",").replace(" ", ",").split(",")[0]
            emails.emails = emails.emails[:1]
            emails.noise.remove("two_emails")
        users.append(
            {
                "id": user_id,
                "name": name.full,
                "email": str(emails.text).strip().lower() or None,
                "phone": str(phones.text) or None,
                "role": "end-user",
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        if user_id % 6 == 0:  # a custom user field the help desk keeps (lands in `extra`)
            users[-1]["user_fields"] = {"do_not_call": True}
        emails.noise = [n for n in emails.noise if n != "email_case"]
        where = Where(rel, native_id=str(user_id))
        truths.append(person_row(where, slot.person.pid, name, phones, emails))
        for _ in range(rng.choices((1, 2, 3), (65, 25, 10))[0]):
            opened = moment + timedelta(hours=rng.randint(0, 2000))
            tickets.append(
                {
                    "id": 0,
                    "requester_id": user_id,
                    "subject": rng.choice(_SUBJECTS),
                    "status": rng.choice(_STATUSES),
                    "via": {"channel": rng.choice(_CHANNELS)},
                    "created_at": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    tickets.sort(key=lambda t: (t["created_at"], t["requester_id"]))
    for number, ticket in enumerate(tickets, start=1):
        ticket["id"] = number
    _dump(path, {"users": users, "tickets": tickets})
    return truths
