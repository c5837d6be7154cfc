"""Phones and e-mails: how people own them and how messily they get typed.

Each ``render_*`` returns the cell as written plus what a perfect normaliser should recover from
it, so the truth file and the noise can never drift apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

import iuliia

from pipelines.sample.places import CITIES
from pipelines.sample.weighted import Weighted

PUBLIC_DOMAINS: dict[str, float] = {
    "mail.ru": 35,
    "yandex.ru": 25,
    "gmail.com": 15,
    "bk.ru": 6,
    "list.ru": 5,
    "inbox.ru": 5,
    "rambler.ru": 5,
    "ya.ru": 2,
}
_BY_WEIGHT = Weighted(PUBLIC_DOMAINS)

#: Typed domain -> intended domain; a normaliser may correct exactly these.
DOMAIN_TYPOS: dict[str, str] = {
    "mail.ry": "mail.ru",
    "maill.ru": "mail.ru",
    "gmial.com": "gmail.com",
    "gmail.co": "gmail.com",
    "yandex.ry": "yandex.ru",
    "yandx.ru": "yandex.ru",
    "bk.ry": "bk.ru",
    "list.ry": "list.ru",
    "rambler.ry": "rambler.ru",
}
_TYPOS_BY_DOMAIN: dict[str, list[str]] = {}
for _typo, _good in DOMAIN_TYPOS.items():
    _TYPOS_BY_DOMAIN.setdefault(_good, []).append(_typo)

_SCHEMAS = (iuliia.WIKIPEDIA, iuliia.ICAO_DOC_9303, iuliia.TELEGRAM, iuliia.YANDEX_MAPS)
_FOUR_DIGIT_AREAS = tuple(c.area_code for c in CITIES if len(c.area_code) == 4)


@lru_cache(maxsize=4096)
def latin(text: str, schema: int = 0) -> str:
    """Cyrillic text in one of the common Latin schemes (E3)."""
    return str(_SCHEMAS[schema].translate(text))


@lru_cache(maxsize=16384)
def slug(text: str, schema: int = 0) -> str:
    """A lower-case ASCII token for e-mail local parts and domains."""
    return "".join(ch for ch in latin(text, schema).lower() if ch.isascii() and ch.isalnum())


def public_email(rng: random.Random, first: str, last: str, middle: str, year: int) -> str:
    """A private mailbox the way Russians pick them: translit name parts, digits, a free domain."""
    schema = rng.choice((0, 0, 1, 2, 3))
    f, la, m = slug(first, schema), slug(last, schema), slug(middle, schema) or "x"
    yy = f"{year % 100:02d}"
    local = rng.choice(
        (
            f"{f}.{la}",
            f"{f}{la}{yy}",
            f"{f[0]}{la}",
            f"{la}.{f}",
            f"{la}{year}",
            f"{la}_{f[0]}{m[0]}",
            f"{f}_{la}",
            f"{f}{year}",
            f"{la}{rng.randint(1, 999)}",
        )
    )
    return f"{local}@{_BY_WEIGHT.pick(rng)}"


def work_email(rng: random.Random, first: str, last: str, middle: str, domain: str) -> str:
    """A corporate mailbox on the company domain."""
    f, la, m = slug(first), slug(last), slug(middle) or "x"
    local = rng.choice((f"{f[0]}.{la}", la, f"{f}.{la}", f"{la}.{f[0]}{m[0]}", f"{la}{f[0]}"))
    return f"{local}@{domain}"


@dataclass
class Rendered:
    """A cell as written and the normalised values a perfect reader would recover from it."""

    text: str | int = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)


def _split(e164: str) -> tuple[str, str]:
    national = e164[2:]
    width = 4 if national.startswith(_FOUR_DIGIT_AREAS) else 3
    return national[:width], national[width:]


def _groups(rest: str) -> tuple[str, str, str]:
    if len(rest) == 7:
        return rest[:3], rest[3:5], rest[5:]
    return rest[:2], rest[2:4], rest[4:]


def format_phone(rng: random.Random, e164: str, *, masked: bool = False) -> str:
    """One number in one of the ways Russians type it (E1)."""
    area, rest = _split(e164)
    b, c, d = _groups(rest)
    if masked:
        return f"+7 ({area}) {b}-{c}-{d}"
    return rng.choice(
        (
            f"8-{area}-{b}-{c}-{d}",
            f"+7 ({area}) {b}-{c}-{d}",
            f"8{area}{rest}",
            f"{area}{rest}",
            f"8 ({area}) {b}-{c}-{d}",
            f"+7{area}{rest}",
            f"8 {area} {b} {c} {d}",
            f"7{area}{rest}",
            f"+7 {area} {b}{c}{d}",
        )
    )


_GARBAGE = ("нет", "-", "не звонить", "уточнить", "0")


def render_phones(
    rng: random.Random,
    phones: list[str],
    *,
    ext: str = "",
    numeric_ok: bool = False,
    masked: bool = False,
    clean: bool = False,
) -> Rendered:
    """A phone cell for ``phones`` (first is primary), with extension, numeric or garbage forms."""
    out = Rendered()
    if not phones:
        return out
    roll = 1.0 if clean else rng.random()
    if roll < 0.02:
        out.text, out.noise = rng.choice(_GARBAGE), ["garbage_phone"]
        return out
    if roll < 0.04:
        full = format_phone(rng, phones[0])
        out.text, out.noise = full[: rng.randint(5, len(full) - 3)], ["truncated_phone"]
        return out
    if numeric_ok and not ext and rng.random() < 0.35:
        out.text, out.phones, out.noise = int(rng.choice("78") + phones[0][2:]), [phones[0]], []
        out.noise.append("numeric_phone")
        return out
    text = format_phone(rng, phones[0], masked=masked)
    out.phones = [phones[0]]
    if ext:
        text += rng.choice((" доб. ", ", доб. ", " доб.", " (доб. ", " вн. ")) + ext
        text += ")" if "(доб" in text else ""
        out.noise.append("extension")
    if len(phones) > 1 and not masked and (clean or rng.random() < 0.3):
        text += rng.choice((", ", "; ", " / ", " или ")) + format_phone(rng, phones[1])
        out.phones.append(phones[1])
        out.noise.append("two_phones")
    out.text = text
    return out


def typo(rng: random.Random, word: str) -> str:
    """One character edit (substitute, delete, duplicate or swap) away from ``word``."""
    spots = [i for i in range(1, len(word) - 1) if word[i].isalpha() and word[i - 1].isalpha()]
    if not spots:
        return word
    i = rng.choice(spots)
    kind = rng.randrange(4)
    if kind == 0:
        pool = "aeiont" if word[i].isascii() else "аеиоуынтсрвлк"
        return word[:i] + rng.choice([ch for ch in pool if ch != word[i]]) + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _case(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    if rng.random() < 0.5:
        local = ".".join(p.capitalize() for p in local.split("."))
    shouty = domain[:-2] + "RU" if domain.endswith(".ru") else domain.upper()
    return f"{local}@{rng.choice((domain.upper(), domain.capitalize(), shouty))}"


def render_emails(rng: random.Random, emails: list[str], *, clean: bool = False) -> Rendered:
    """An e-mail cell: case changes, a domain typo (truth corrected) or a local-part typo."""
    out = Rendered()
    if not emails:
        return out
    email = emails[0]
    local, domain = email.split("@")
    roll = 1.0 if clean else rng.random()
    if roll < 0.03 and domain in _TYPOS_BY_DOMAIN:
        text, out.noise = f"{local}@{rng.choice(_TYPOS_BY_DOMAIN[domain])}", ["domain_typo"]
    elif roll < 0.05 and len(local) > 4:
        local = typo(rng, local)
        email = text = f"{local}@{domain}"
        out.noise = ["email_typo"]
    else:
        text = email
    if not clean and roll > 0.88:
        text = _case(rng, text)
        out.noise.append("email_case")
    out.emails = [email]
    if len(emails) > 1 and (clean or rng.random() < 0.15):
        text += rng.choice((", ", "; ", " ")) + emails[1]
        out.emails.append(emails[1])
        out.noise.append("two_emails")
    out.text = f" {text} " if not clean and rng.random() < 0.02 else text
    return out
