"""Identifiers that are unique by construction: phones, ИНН, КПП and GUIDs.

Random draws collide at scale (a million people drawn from 6·10⁸ mobiles share about a thousand
numbers), and a collision would be a false "shared phone" in the truth. So every number is a
seeded affine permutation of a global index: unique, stateless and streaming-friendly.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

from stdnum.ru import inn as inn_checksum

from pipelines.sample.places import City

#: Mobile DEF codes in common use (9xx); 999 is left out so "+7 999…" stays a junk marker.
MOBILE_CODES: tuple[str, ...] = (
    "900", "901", "902", "903", "904", "905", "906", "908", "909", "910", "911", "912", "913",
    "914", "915", "916", "917", "918", "919", "920", "921", "922", "923", "924", "925", "926",
    "927", "928", "929", "930", "931", "932", "933", "934", "936", "937", "938", "939", "950",
    "951", "952", "953", "958", "960", "961", "962", "963", "964", "965", "966", "967", "968",
    "969", "977", "978", "980", "981", "982", "983", "984", "985", "986", "987", "988", "989",
    "991", "992", "993", "994", "995", "996",
)  # fmt: skip

_SUBSCRIBERS = 10_000_000
_MOBILE_SPACE = len(MOBILE_CODES) * _SUBSCRIBERS
_MULTIPLIER = 2_654_435_761  # a prime larger than every space, so coprime to each


@lru_cache(maxsize=256)
def _offset(seed: int, salt: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{salt}".encode()).digest()[:8], "big")


def permute(index: int, space: int, seed: int, salt: int) -> int:
    """A bijection of ``range(space)`` keyed by seed: distinct indices give distinct values."""
    return (index * _MULTIPLIER + _offset(seed, salt)) % space


def mobile_phone(slot: int, seed: int) -> str:
    """The E.164 mobile number of a phone slot (two slots per person)."""
    value = permute(slot, _MOBILE_SPACE, seed, 1)
    code, subscriber = divmod(value, _SUBSCRIBERS)
    return f"+7{MOBILE_CODES[code]}{subscriber:07d}"


def landline(index: int, city: City, seed: int) -> str:
    """The E.164 office number of a company: unique per city for up to 800k companies."""
    digits = 10 - len(city.area_code)
    space = 8 * 10 ** (digits - 1)
    subscriber = 2 * 10 ** (digits - 1) + permute(index, space, seed, 2)
    return f"+7{city.area_code}{subscriber:0{digits}d}"


def company_inn(index: int, city: City, seed: int) -> str:
    """A checksum-valid 10-digit ИНН of a legal entity registered in the city's region."""
    body = city.region + f"{permute(index, 10_000_000, seed, 3):07d}"
    return body + inn_checksum.calc_company_check_digit(body)


def personal_inn(index: int, city: City, seed: int) -> str:
    """A checksum-valid 12-digit ИНН of an individual (or ИП)."""
    body = city.region + f"{permute(index, 100_000_000, seed, 4):08d}"
    return body + inn_checksum.calc_personal_check_digits(body)


def kpp(inn: str, index: int) -> str:
    """A КПП at the organisation's location: tax office of the ИНН, reason 01, serial."""
    return inn[:4] + "01" + f"{1 + index % 999:03d}"


def guid(seed: int, kind: str, index: int | str) -> str:
    """A GUID-like 1C `Ид`, stable for the same seed, kind and index."""
    digest = hashlib.md5(f"{seed}:{kind}:{index}".encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest))
