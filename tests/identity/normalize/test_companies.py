"""Counterparty names and identifiers from 1C «Контрагенты», amoCRM and Bitrix24."""

from __future__ import annotations

import polars as pl
import pytest

from identity.normalize.companies import looks_like_company, normalize_companies, parse_company

INN10 = "7797228188"
INN12 = "504104575082"
OGRN = "1267791566855"
OGRNIP = "321509660888445"

# raw name, (name, legal form, key)
NAMES: list[tuple[str | None, tuple[str | None, str | None, str | None]]] = [
    (None, (None, None, None)),
    ("", (None, None, None)),
    ("   ", (None, None, None)),
    ('ООО "Ромашка"', ("Ромашка", "ООО", "ромашка")),
    ("ООО «Ромашка»", ("Ромашка", "ООО", "ромашка")),
    ("ООО Ромашка", ("Ромашка", "ООО", "ромашка")),
    ('ООО"Ромашка"', ("Ромашка", "ООО", "ромашка")),
    ("Ромашка ООО", ("Ромашка", "ООО", "ромашка")),
    ('"Ромашка", ооо', ("Ромашка", "ООО", "ромашка")),
    ("Ромашка (ООО)", ("Ромашка", "ООО", "ромашка")),
    ("ООО «РОМАШКА»", ("РОМАШКА", "ООО", "ромашка")),
    ('Общество с ограниченной ответственностью "Ромашка"', ("Ромашка", "ООО", "ромашка")),
    ("ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ «РОМАШКА»", ("РОМАШКА", "ООО", "ромашка")),
    ("OOO Romashka", ("Romashka", "ООО", "romashka")),  # Latin OOO
    ("ООО «Ромашка-Мёд»", ("Ромашка-Мёд", "ООО", "ромашка мед")),
    ('ООО ТД "Ромашка"', ("ТД Ромашка", "ООО", "тд ромашка")),
    ("ЗАО «Фирма «Мир»»", ("Фирма Мир", "ЗАО", "фирма мир")),
    ('Закрытое акционерное общество "Ромашка"', ("Ромашка", "ЗАО", "ромашка")),
    ('ОАО "Ромашка"', ("Ромашка", "ОАО", "ромашка")),
    ("ПАО Ромашка", ("Ромашка", "ПАО", "ромашка")),
    ('Публичное акционерное общество "Ромашка"', ("Ромашка", "ПАО", "ромашка")),
    ('АО "Ромашка"', ("Ромашка", "АО", "ромашка")),
    ('Акционерное общество "Ромашка"', ("Ромашка", "АО", "ромашка")),
    ('НАО "Ромашка"', ("Ромашка", "НАО", "ромашка")),
    ("ФГБУ «Наука»", ("Наука", "ФГБУ", "наука")),
    (
        "Государственное бюджетное учреждение «Поликлиника № 5»",
        ("Поликлиника No 5", "ГБУ", "поликлиника no 5"),  # NFKC: № → No
    ),
    ('СНТ "Берёзка"', ("Берёзка", "СНТ", "березка")),
    ("КФХ Сидоров", ("Сидоров", "КФХ", "сидоров")),
    ("ИП Сидоров Пётр Алексеевич", ("Сидоров Пётр Алексеевич", "ИП", "сидоров петр алексеевич")),
    ("Индивидуальный предприниматель Сидоров П.А.", ("Сидоров П.А.", "ИП", "сидоров п а")),
    ("Сидоров П.А. ИП", ("Сидоров П.А.", "ИП", "сидоров п а")),
    ('АНО "Развитие"', ("Развитие", "АНО", "развитие")),
    ('Автономная некоммерческая организация "Развитие"', ("Развитие", "АНО", "развитие")),
    ("НКО Фонд Добра", ("Фонд Добра", "НКО", "фонд добра")),
    ('МУП "Водоканал"', ("Водоканал", "МУП", "водоканал")),
    ('ГУП "Водоканал"', ("Водоканал", "ГУП", "водоканал")),
    ('ФГУП "Почта"', ("Почта", "ФГУП", "почта")),
    ('ТОО "Астана Трейд"', ("Астана Трейд", "ТОО", "астана трейд")),
    ("Romashka LLC", ("Romashka", "LLC", "romashka")),
    ("Romashka Ltd.", ("Romashka", "Ltd", "romashka")),
    ("Romashka Limited", ("Romashka", "Ltd", "romashka")),
    ("Рога и копыта", ("Рога и копыта", None, "рога и копыта")),
    ("Аорта", ("Аорта", None, "аорта")),  # "АО" inside a word is not a form
    ("Иванов Иван Иванович", ("Иванов Иван Иванович", None, "иванов иван иванович")),
    # Known-bad, kept: a second legal form stays in the name.
    ("ООО «Ромашка» (бывш. ЗАО)", ("Ромашка (бывш. ЗАО)", "ООО", "ромашка бывш зао")),
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_names(raw, expected):
    cell = parse_company(raw, None, None, None)
    assert (cell.name, cell.legal_form, cell.name_key) == expected
    assert cell.flags == ()


# name, inn, kpp, ogrn → inn, kpp, ogrn, flags
IDS: list[tuple[tuple[str | None, ...], tuple[str | None, ...], list[str]]] = [
    (("ООО Р", INN10, "770101001", OGRN), (INN10, "770101001", OGRN), []),
    (("ООО Р", f"{INN10}.0", "770101001.0", f"{OGRN}.0"), (INN10, "770101001", OGRN), []),
    (("ООО Р", f" {INN10} ", " 7701 01 001 ", None), (INN10, "770101001", None), []),
    (("ООО Р", "7797228189", None, None), (None, None, None), ["inn_invalid"]),
    (("ООО Р", None, "77010100", None), (None, "077010100", None), []),  # lost zero
    (("ООО Р", None, "7701-01", None), (None, None, None), ["kpp_invalid"]),
    (("ООО Р", None, "7701AB001", None), (None, "7701AB001", None), []),
    (("ООО Р", None, None, "1267791566856"), (None, None, None), ["ogrn_invalid"]),
    (("ИП Сидоров", INN12, None, OGRNIP), (INN12, None, OGRNIP), []),
    (("ИП Сидоров", INN10, None, None), (INN10, None, None), ["inn_legal_form_mismatch"]),
    (("ООО Р", INN12, None, None), (INN12, None, None), ["inn_legal_form_mismatch"]),
    (("ООО Р", "", "", ""), (None, None, None), []),
    (("ООО Р", "нет", None, "abc"), (None, None, None), ["inn_invalid", "ogrn_invalid"]),
]


@pytest.mark.parametrize(("args", "expected", "flags"), IDS)
def test_identifiers(args, expected, flags):
    cell = parse_company(*args)
    assert ((cell.inn, cell.kpp, cell.ogrn), list(cell.flags)) == (expected, flags)


def test_vectorised_agrees_with_per_value():
    rows = [(n, None, None, None) for n, _ in NAMES] + [a for a, _, _ in IDS]
    cols = list(zip(*rows, strict=True))
    out = normalize_companies(*(pl.Series(c, dtype=pl.String) for c in cols))
    assert out.columns == [
        "company_name", "legal_form", "company_key", "inn", "kpp", "ogrn", "company_flags"
    ]  # fmt: skip
    for got, args in zip(out.iter_rows(), rows, strict=True):
        c = parse_company(*args)
        assert got == (c.name, c.legal_form, c.name_key, c.inn, c.kpp, c.ogrn, list(c.flags))


def test_vectorised_keeps_order_length_and_nulls():
    names = pl.Series([None, "ООО Ромашка", None, "ООО Ромашка"])
    inns = pl.Series([None, INN10, None, "bad"])
    none = pl.Series([None] * 4, dtype=pl.String)
    out = normalize_companies(names, inns, none, none)
    assert out["company_key"].to_list() == [None, "ромашка", None, "ромашка"]
    assert out["company_flags"].to_list() == [[], [], [], ["inn_invalid"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ООО Ромашка", True),
        ("ИП Иванов И.И.", True),
        ("индивидуальный предприниматель Иванов", True),
        ("Romashka LLC", True),
        ("Иванов Иван", False),
        ("Аорта", False),
        ("Липа", False),
        ("", False),
    ],
)
def test_looks_like_company(text, expected):
    assert looks_like_company(text) is expected
