"""E-mail cells as they come out of CRMs, web forms and 1C."""

from __future__ import annotations

import polars as pl
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.normalize.emails import (
    _validate,
    canonical_domain,
    email_key,
    normalize_emails,
    parse_email_cell,
)

IDN = "xn--e1afmkfd.xn--p1ai"  # пример.рф

# raw cell, emails, keys, flags
CASES: list[tuple[str | None, list[str], list[str], list[str]]] = [
    (None, [], [], []),
    ("", [], [], []),
    ("  ;  ", [], [], []),
    ("ivan@mail.ru", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("Ivan.Petrov@Mail.RU", ["ivan.petrov@mail.ru"], ["ivan.petrov@mail.ru"], []),
    (" ivan@mail.ru\u00a0", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("IVAN＠MAIL.RU", ["ivan@mail.ru"], ["ivan@mail.ru"], []),  # full-width @
    ("mailto:Ivan@Mail.Ru", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("<ivan@mail.ru>", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ('"Иван Петров" <ivan@bk.ru>', ["ivan@bk.ru"], ["ivan@bk.ru"], []),
    ("«ivan@list.ru»", ["ivan@list.ru"], ["ivan@list.ru"], []),
    ("ivan@mail.ru (личная)", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("ivan @ mail.ru", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("ivan@mail.ru.", ["ivan@mail.ru"], ["ivan@mail.ru"], []),  # sentence full stop
    ("почта@mail.ru", ["почта@mail.ru"], ["почта@mail.ru"], []),  # smtputf8 local part
    ("Почта@Пример.РФ", [f"почта@{IDN}"], [f"почта@{IDN}"], []),
    ("89164821735@mail.ru", ["89164821735@mail.ru"], ["89164821735@mail.ru"], []),
    (
        "ivan@mail.ru; petr@bk.ru",
        ["ivan@mail.ru", "petr@bk.ru"],
        ["ivan@mail.ru", "petr@bk.ru"],
        ["email_multiple"],
    ),
    (
        "ivan@ bk.ru, Petr@list.ru sidor@inbox.ru",
        ["ivan@bk.ru", "petr@list.ru", "sidor@inbox.ru"],
        ["ivan@bk.ru", "petr@list.ru", "sidor@inbox.ru"],
        ["email_multiple"],
    ),
    ("ivan@mail.ru, IVAN@MAIL.RU", ["ivan@mail.ru"], ["ivan@mail.ru"], []),
    ("ivan@internet.ru", ["ivan@internet.ru"], ["ivan@internet.ru"], []),  # not mail.ru
    # Gmail: dots and +tags do not matter.
    ("I.V.A.N@gmail.com", ["i.v.a.n@gmail.com"], ["ivan@gmail.com"], []),
    ("ivan+shop@googlemail.com", ["ivan+shop@googlemail.com"], ["ivan@gmail.com"], []),
    (
        "ivan.petrov+shop@gmail.con",
        ["ivan.petrov+shop@gmail.con"],
        ["ivanpetrov@gmail.com"],
        ["email_domain_typo"],
    ),
    ("ivan@gmial.com", ["ivan@gmial.com"], ["ivan@gmail.com"], ["email_domain_typo"]),
    ("ivan@gmai.com", ["ivan@gmai.com"], ["ivan@gmail.com"], ["email_domain_typo"]),
    # Yandex: alias domains and "-" = "."
    ("ivan-petrov@ya.ru", ["ivan-petrov@ya.ru"], ["ivan.petrov@yandex.ru"], []),
    ("ivan.petrov@yandex.by", ["ivan.petrov@yandex.by"], ["ivan.petrov@yandex.ru"], []),
    ("ivan@yandex.com", ["ivan@yandex.com"], ["ivan@yandex.ru"], []),
    ("ivan@narod.ru", ["ivan@narod.ru"], ["ivan@yandex.ru"], []),
    ("ivan@yandex.ry", ["ivan@yandex.ry"], ["ivan@yandex.ru"], ["email_domain_typo"]),
    ("ivan@yandex.ri", ["ivan@yandex.ri"], ["ivan@yandex.ru"], ["email_domain_typo"]),
    # Cyrillic х typed into the domain: the e-mail keeps it, the key fixes it.
    ("ivan@yandeх.ru", ["ivan@xn--yande-uze.ru"], ["ivan@yandex.ru"], ["email_domain_typo"]),
    ("ivan@mail.ry", ["ivan@mail.ry"], ["ivan@mail.ru"], ["email_domain_typo"]),
    ("ivan@maill.ru", ["ivan@maill.ru"], ["ivan@mail.ru"], ["email_domain_typo"]),
    ("ivan@mail.ru.ru", ["ivan@mail.ru.ru"], ["ivan@mail.ru"], ["email_domain_typo"]),
    ("ivan@mai.ru", ["ivan@mai.ru"], ["ivan@mai.ru"], []),  # a real university, not a typo
    ("ivan+crm@romashka.ru", ["ivan+crm@romashka.ru"], ["ivan@romashka.ru"], []),
    # Role mailboxes are kept but flagged.
    ("info@romashka.ru", ["info@romashka.ru"], ["info@romashka.ru"], ["email_role"]),
    ("Zakaz@Romashka.ru", ["zakaz@romashka.ru"], ["zakaz@romashka.ru"], ["email_role"]),
    ("buh@romashka.ru", ["buh@romashka.ru"], ["buh@romashka.ru"], ["email_role"]),
    # Test placeholders are dropped.
    ("test@test.ru", [], [], ["email_test"]),
    ("asdf@mail.ru", [], [], ["email_test"]),
    ("123@mail.ru", [], [], ["email_test"]),
    ("ivan.petrov@example.com", [], [], ["email_test"]),
    ("qwerty@yandex.ru", [], [], ["email_test"]),
    ("ivan@mail.ru, test@test.ru", ["ivan@mail.ru"], ["ivan@mail.ru"], ["email_test"]),
    # Invalid ones are dropped.
    ("ivan@mail..ru", [], [], ["email_invalid"]),
    ("ivan@gmail", [], [], ["email_invalid"]),
    ("ivan.mail.ru", [], [], ["email_invalid"]),
    ("нет", [], [], ["email_invalid"]),
    ("-", [], [], ["email_invalid"]),
    ("a@b.test", [], [], ["email_invalid"]),  # special-use domain
    ("ivan@@mail.ru", [], [], ["email_invalid"]),
    ("ivan@mail.ru, petr@", ["ivan@mail.ru"], ["ivan@mail.ru"], ["email_invalid"]),
    # Known-bad, kept: "ivan at mail.ru" is an address to a human, not to us.
    ("ivan at mail.ru", [], [], ["email_invalid"]),
    # Known-bad, kept: a comma typed for a dot splits the address in two.
    ("ivan@mail,ru", [], [], ["email_invalid"]),
]


@pytest.mark.parametrize(("raw", "emails", "keys", "flags"), CASES)
def test_parse_email_cell(raw, emails, keys, flags):
    cell = parse_email_cell(raw)
    assert (list(cell.emails), list(cell.keys), list(cell.flags)) == (emails, keys, flags)


def test_vectorised_agrees_with_per_value():
    out = normalize_emails(pl.Series([c[0] for c in CASES], dtype=pl.String))
    assert out.schema == dict.fromkeys(["emails", "email_keys", "email_flags"], pl.List(pl.String))
    for row, (raw, emails, keys, flags) in zip(out.iter_rows(), CASES, strict=True):
        assert row == (emails, keys, flags), raw


def test_vectorised_keeps_order_length_and_nulls():
    raws = [None, "ivan@mail.ru", None, "нет", "ivan@mail.ru", ""]
    out = normalize_emails(pl.Series(raws))
    assert out.height == len(raws)
    assert out["emails"].to_list() == [[], ["ivan@mail.ru"], [], [], ["ivan@mail.ru"], []]
    assert out["email_flags"].to_list() == [[], [], [], ["email_invalid"], [], []]
    assert normalize_emails(pl.Series([], dtype=pl.String)).height == 0


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mail.ru", ("mail.ru", False)),
        ("bk.ru", ("bk.ru", False)),
        ("inbox.ru", ("inbox.ru", False)),
        ("ya.ru", ("yandex.ru", False)),
        ("gmail.ru", ("gmail.ru", False)),  # a different service, left alone
        ("yandex.ua", ("yandex.ru", False)),
        ("почта.рф", ("почта.рф", False)),
        ("rambler.ry", ("rambler.ru", True)),
        ("gmail.com.ru", ("gmail.com", True)),
    ],
)
def test_canonical_domain(domain, expected):
    assert canonical_domain(domain) == expected


def test_email_key_plus_only_local_is_kept():
    assert email_key("+tag", "mail.ru") == ("+tag@mail.ru", False)


ATOM = st.text(alphabet="abcXYZ019_-+.", min_size=1, max_size=8)
LABEL = st.text(alphabet="abz09-", min_size=1, max_size=6)


@settings(max_examples=500, deadline=None)
@given(
    local=ATOM,
    labels=st.lists(LABEL, min_size=1, max_size=3),
    tld=st.sampled_from(["ru", "com", "RU", "test", "local", "r", "xn--p1ai", "onion", "рф"]),
)
def test_fast_validation_agrees_with_email_validator(local, labels, tld):
    token = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        result = validate_email(token, check_deliverability=False, allow_smtputf8=True)
        expected = (result.local_part.lower(), result.ascii_domain)
    except EmailNotValidError:
        expected = None
    got = _validate(token)
    assert (got[:2] if got else None) == expected


@settings(max_examples=500, deadline=None)
@given(
    local=st.sampled_from(["info", "Sales+x", "test", "test12", "qwerty", "ivan.petrov", "a.b-c"])
    | ATOM,
    domain=st.sampled_from(
        [
            *("mail.ru", "MAIL.RY", "gmial.com", "gmail.com", "ya.ru", "yandex.ru"),
            *("example.com", "romashka-opt.ru", "a--b.ru", "x.test", "bk.ry", "почта.рф"),
        ]
    ),
    pad=st.sampled_from(["", " ", "\t", "."]),
)
def test_vectorised_fast_path_agrees_with_per_value(local, domain, pad):
    raw = f"{pad}{local}@{domain}{pad}"
    cell = parse_email_cell(raw)
    row = normalize_emails(pl.Series([raw])).row(0)
    assert row == (list(cell.emails), list(cell.keys), list(cell.flags)), raw
