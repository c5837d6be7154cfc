"""ИНН/КПП/ОГРН/ОГРНИП/ОКПО/СНИЛС: property tests against the rules in ECOSYSTEM §C5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from identity.normalize.identifiers import (
    clean_digits,
    inn_check_digits,
    inn_is_valid,
    kpp_is_valid,
    ogrn_check_digit,
    ogrn_is_valid,
    ogrnip_check_digit,
    ogrnip_is_valid,
    okpo_check_digit,
    okpo_is_valid,
    repair_inn,
    snils_check_digits,
    snils_is_valid,
)


def body(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def flip(s: str, data: st.DataObject) -> str:
    """Change exactly one digit."""
    i = data.draw(st.integers(0, len(s) - 1))
    d = data.draw(st.sampled_from([c for c in "0123456789" if c != s[i]]))
    return s[:i] + d + s[i + 1 :]


# Oracles written straight from the table in ECOSYSTEM §C5, independent of the module.
def oracle_inn(s: str) -> bool:
    def check(digits: str, weights: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    w12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    if len(s) == 10:
        return check(s, w12[2:]) == int(s[9])
    return check(s, w12[1:]) == int(s[10]) and check(s, w12) == int(s[11])


def oracle_ogrn(s: str) -> bool:
    return s[0] != "0" and int(s[:12]) % 11 % 10 == int(s[12])


def oracle_ogrnip(s: str) -> bool:
    return s[0] != "0" and int(s[:14]) % 13 % 10 == int(s[14])


# A changed body digit can keep the check digit (remainders 0 and 10 both give 0), so after a
# flip the validator must agree with the oracle; a changed check digit must always fail.
@given(body(9), st.data())
def test_inn10_property(b, data):
    s = b + inn_check_digits(b)
    assert inn_is_valid(s)
    assert stdnum_inn.is_valid(s)
    changed = flip(s, data)
    assert inn_is_valid(changed) is oracle_inn(changed) is stdnum_inn.is_valid(changed)
    assert not inn_is_valid(s[:9] + str((int(s[9]) + 1) % 10))


@given(body(10), st.data())
def test_inn12_property(b, data):
    s = b + inn_check_digits(b)
    assert inn_is_valid(s)
    assert stdnum_inn.is_valid(s)
    changed = flip(s, data)
    assert inn_is_valid(changed) is oracle_inn(changed) is stdnum_inn.is_valid(changed)
    assert not inn_is_valid(s[:11] + str((int(s[11]) + 1) % 10))


@given(st.sampled_from(["1", "5", "2"]), body(11), st.data())
def test_ogrn_property(first, b, data):
    s = first + b + ogrn_check_digit(first + b)
    assert ogrn_is_valid(s)
    changed = flip(s, data)
    assert ogrn_is_valid(changed) is oracle_ogrn(changed)
    assert not ogrn_is_valid(s[:12] + str((int(s[12]) + 1) % 10))


@given(body(13), st.data())
def test_ogrnip_property(b, data):
    s = "3" + b + ogrnip_check_digit("3" + b)
    assert ogrnip_is_valid(s)
    changed = flip(s, data)
    assert ogrnip_is_valid(changed) is oracle_ogrnip(changed)
    assert not ogrnip_is_valid(s[:14] + str((int(s[14]) + 1) % 10))


def test_ogrnip_where_stdnum_is_wrong():
    # Remainder 10..12: the official rule keeps the last digit, stdnum 2.2 cannot match.
    body14 = next(f"3{n:013d}" for n in range(10**6) if int(f"3{n:013d}") % 13 >= 10)
    s = body14 + ogrnip_check_digit(body14)
    assert ogrnip_is_valid(s)
    assert not stdnum_ogrn.is_valid(s)


@given(st.sampled_from([7, 9]).flatmap(body), st.data())
def test_okpo_property(b, data):
    s = b + okpo_check_digit(b)
    assert okpo_is_valid(s)
    assert not okpo_is_valid(s[:-1] + str((int(s[-1]) + 1) % 10))


@given(st.integers(1001999, 999999999).map(lambda n: f"{n:09d}"), st.data())
def test_snils_property(b, data):
    s = b + snils_check_digits(b)
    assert snils_is_valid(s)
    assert snils_is_valid(f"{s[:3]}-{s[3:6]}-{s[6:9]} {s[9:]}")
    assert not snils_is_valid(s[:9] + f"{(int(s[9:]) + 1) % 100:02d}")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("7797228188", True),
        ("7766201161", True),
        ("504104575082", True),
        ("500407933727", True),
        ("7797228189", False),
        ("504104575083", False),
        ("779722818", False),
        ("77972281880", False),
        ("7797 228188", False),  # validators do not clean; repair_inn does
        ("７７９７２２８１８８", False),  # full-width digits
        ("", False),
        (None, False),
        ("abcdefghij", False),
    ],
)
def test_inn_table(value, valid):
    assert inn_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("770101001", True),
        ("7701AB001", True),  # reason code letters since 2013
        ("7701ab001", False),
        ("77010100", False),
        ("000001001", False),
        ("7701010011", False),
        (None, False),
    ],
)
def test_kpp_table(value, valid):
    assert kpp_is_valid(value) is valid


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (ogrn_is_valid, "1267791566855", True),
        (ogrn_is_valid, "1267791566856", False),
        (ogrn_is_valid, "126779156685", False),
        (ogrnip_is_valid, "321509660888445", True),
        (ogrnip_is_valid, "321509660888446", False),
        (okpo_is_valid, "42056730", True),
        (okpo_is_valid, "42056731", False),
        (snils_is_valid, "112-233-445 95", True),
        (snils_is_valid, "11223344595", True),
        (snils_is_valid, "11223344596", False),
        (snils_is_valid, "001-001-998 00", True),  # below the checksum range
        (snils_is_valid, None, False),
    ],
)
def test_other_tables(check, value, valid):
    assert check(value) is valid


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("7797228188", "7797228188"),
        (" 7797228188 ", "7797228188"),
        ("7797228188.0", "7797228188"),
        ("504104575082.0", "504104575082"),
        ("5041 0457 5082", "504104575082"),
        ("504-104-575-082", "504104575082"),
        ("\u00a07797228188", "7797228188"),
        ("7797228189", None),
        ("", None),
        (None, None),
        ("нет", None),
        ("ИНН 7797228188", None),  # known-bad: labels inside the cell are not stripped
    ],
)
def test_repair_inn_table(raw, repaired):
    assert repair_inn(raw) == repaired


@given(body(8), body(9))
def test_repair_inn_restores_lost_zero(b8, b9):
    inn10 = "0" + b8 + inn_check_digits("0" + b8)
    inn12 = "0" + b9 + inn_check_digits("0" + b9)
    assert repair_inn(inn10[1:]) == inn10
    assert repair_inn(inn12[1:]) == inn12
    assert repair_inn(inn12[1:] + ".0") == inn12


def test_repair_inn_does_not_pad_invalid():
    assert repair_inn("779722818") is None  # padding gives 0779722818, checksum fails


def test_clean_digits():
    assert clean_digits(" 42 05 67 30,0 ") == "42056730"
    assert clean_digits("abc") is None
