"""Russian business identifiers: ИНН, КПП, ОГРН, ОГРНИП, ОКПО, СНИЛС.

Checksums follow ECOSYSTEM §C5. ОГРНИП is implemented here because python-stdnum 2.2 drops
the official "младший разряд остатка" step and rejects about a quarter of valid numbers.
Validators take strings and never raise; `repair_inn` undoes what Excel does to an ИНН.

>>> inn_is_valid("7797228188"), ogrnip_is_valid("321509660888445")
(True, True)
>>> repair_inn("504104575082.0"), repair_inn(" 7797228188 ")
('504104575082', '7797228188')
"""

from __future__ import annotations

import re

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_DIGITS = re.compile(r"^\d+$")
_EXCEL_TAIL = re.compile(r"[.,]0+$")
_SPACES = re.compile(r"[\s\u00a0\-]+")


def _digits(s: str, *lengths: int) -> bool:
    return len(s) in lengths and bool(_DIGITS.match(s)) and s.isascii()


def _weighted(s: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(s, weights, strict=False)) % 11 % 10


def inn_check_digits(body: str) -> str:
    """Check digit(s) for a 9-digit (company) or 10-digit (person) ИНН body."""
    if len(body) == 9:
        return str(_weighted(body, _INN10))
    d11 = str(_weighted(body, _INN11))
    return d11 + str(_weighted(body + d11, _INN12))


def inn_is_valid(s: str | None) -> bool:
    """10-digit (organisation) or 12-digit (person, ИП) ИНН with valid check digits."""
    if s is None or not _digits(s, 10, 12):
        return False
    if len(s) == 10:
        return inn_check_digits(s[:9]) == s[9]
    return inn_check_digits(s[:10]) == s[10:]


def kpp_is_valid(s: str | None) -> bool:
    """КПП format `NNNN PP XXX`; it carries no checksum."""
    return s is not None and bool(_KPP.match(s)) and not s.startswith("0000")


def ogrn_check_digit(body: str) -> str:
    """Check digit of a 12-digit ОГРН body."""
    return str(int(body) % 11 % 10)


def ogrnip_check_digit(body: str) -> str:
    """Check digit of a 14-digit ОГРНИП body: the last digit of the remainder mod 13."""
    return str(int(body) % 13 % 10)


def ogrn_is_valid(s: str | None) -> bool:
    """13-digit ОГРН of a legal entity (first digit 1 or 5; 2, 6–9 are later ГРН records)."""
    if s is None or not _digits(s, 13) or s[0] == "0":
        return False
    return ogrn_check_digit(s[:12]) == s[12]


def ogrnip_is_valid(s: str | None) -> bool:
    """15-digit ОГРНИП of a sole trader, official rule (not python-stdnum's)."""
    if s is None or not _digits(s, 15) or s[0] == "0":
        return False
    return ogrnip_check_digit(s[:14]) == s[14]


def okpo_check_digit(body: str) -> str:
    """ОКПО check digit: weights 1,2,…; on remainder 10 retry from 3; 10 again gives 0."""
    for start in (1, 3):
        r = sum(int(d) * ((start + i - 1) % 10 + 1) for i, d in enumerate(body)) % 11
        if r < 10:
            return str(r)
    return "0"


def okpo_is_valid(s: str | None) -> bool:
    """8-digit (organisation) or 10-digit (ИП) ОКПО with a valid check digit."""
    if s is None or not _digits(s, 8, 10):
        return False
    return okpo_check_digit(s[:-1]) == s[-1]


def snils_check_digits(body: str) -> str:
    """Two check digits for a 9-digit СНИЛС body."""
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    if total < 100:
        return f"{total:02d}"
    if total in (100, 101):
        return "00"
    return f"{total % 101 % 100:02d}"


def snils_is_valid(s: str | None) -> bool:
    """11-digit СНИЛС (separators allowed); numbers up to 001-001-998 carry no checksum."""
    if s is None:
        return False
    s = _SPACES.sub("", s)
    if not _digits(s, 11):
        return False
    if int(s[:9]) <= 1001998:
        return True
    return snils_check_digits(s[:9]) == s[9:]


def clean_digits(raw: str | None) -> str | None:
    """Strip spaces, dashes and an Excel `.0`; None when nothing digit-like remains."""
    if raw is None:
        return None
    s = _EXCEL_TAIL.sub("", _SPACES.sub("", raw.strip()))
    return s if s and _DIGITS.match(s) and s.isascii() else None


def repair_inn(raw: str | None) -> str | None:
    """A valid ИНН from an Excel-mangled cell, or None; the lost leading zero is put back
    only when the checksum then validates (`274062111` → `0274062111`)."""
    s = clean_digits(raw)
    if s is None:
        return None
    if len(s) in (9, 11):
        s = "0" + s
    return s if inn_is_valid(s) else None
