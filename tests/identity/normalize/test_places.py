"""City cells as people type them."""

from __future__ import annotations

import polars as pl
import pytest

from identity.normalize.places import normalize_cities, normalize_city, place_key

MSK = ("Москва", "Москва")
SPB = ("Санкт-Петербург", "Санкт-Петербург")
EKB = ("Екатеринбург", "Свердловская область")
NSK = ("Новосибирск", "Новосибирская область")
NN = ("Нижний Новгород", "Нижегородская область")

# raw, (city, region), flags
CASES: list[tuple[str | None, tuple[str | None, str | None], list[str]]] = [
    (None, (None, None), []),
    ("", (None, None), []),
    ("  ", (None, None), []),
    ("-", (None, None), []),
    ("СПб", SPB, []),
    ("Спб", SPB, []),
    ("спб.", SPB, []),
    ("Питер", SPB, []),
    ("С.-Петербург", SPB, []),
    ("Санкт Петербург", SPB, []),
    ("санкт-петербург", SPB, []),
    ("St. Petersburg", SPB, []),
    ("Saint-Petersburg", SPB, []),
    ("Мск", MSK, []),
    ("г. Москва", MSK, []),
    ("г.Москва", MSK, []),
    ("Москва г", MSK, []),
    ("Moscow", MSK, []),
    ("москва", MSK, []),
    ("МОСКВА", MSK, []),
    ("117997, г. Москва, ул. Вавилова, д. 19, кв. 5", MSK, []),
    ("Екб", EKB, []),
    ("Екатеринбург", EKB, []),
    ("г. Екатеринбург, Свердловская обл.", EKB, []),
    ("Нск", NSK, []),
    ("Новосиб", NSK, []),
    ("Новосибирск", NSK, []),
    ("Н.Новгород", NN, []),
    ("Н. Новгород", NN, []),
    ("Нижний", NN, []),
    ("Химки, Московская обл.", ("Химки", "Московская область"), []),
    ("город Ростов-на-Дону", ("Ростов-на-Дону", "Ростовская область"), []),
    ("Орёл", ("Орёл", "Орловская область"), []),
    ("г Орел", ("Орёл", "Орловская область"), []),  # ё folded in the key, kept in output
    ("Королев", ("Королёв", "Московская область"), []),
    ("Казань, Республика Татарстан", ("Казань", "Республика Татарстан"), []),
    ("Набережные Челны", ("Набережные Челны", "Республика Татарстан"), []),
    ("Киров, Калужская обл.", ("Киров", "Калужская область"), ["city_region_mismatch"]),
    ("Татарстан", (None, "Республика Татарстан"), []),
    ("Московская обл.", (None, "Московская область"), []),
    ("пос. Коммунарка", ("Коммунарка", None), ["city_unknown"]),
    ("нарофоминск", ("Нарофоминск", None), ["city_unknown"]),
    ("Naro-fominsk", ("Naro-Fominsk", None), ["city_unknown"]),
    ("Звенигород, Московская обл.", ("Звенигород", "Московская область"), ["city_unknown"]),
    # Known-bad, kept: "д." is read as "дом" (a street part), so the village is lost.
    ("д. Гадюкино", (None, None), ["city_unknown"]),
    # Known-bad, kept: Ростов Великий (Ярославская обл.) is read as Ростов-на-Дону.
    ("Ростов", ("Ростов-на-Дону", "Ростовская область"), []),
]


@pytest.mark.parametrize(("raw", "expected", "flags"), CASES)
def test_normalize_city(raw, expected, flags):
    cell = normalize_city(raw)
    assert ((cell.city, cell.region), list(cell.flags)) == (expected, flags)


def test_vectorised_agrees_with_per_value():
    out = normalize_cities(pl.Series([c[0] for c in CASES], dtype=pl.String))
    assert out.schema == {"city": pl.String, "region": pl.String, "city_flags": pl.List(pl.String)}
    for (city, region, flags), (raw, expected, want) in zip(out.iter_rows(), CASES, strict=True):
        assert ((city, region), flags) == (expected, want), raw


def test_vectorised_keeps_order_length_and_nulls():
    out = normalize_cities(pl.Series([None, "Мск", None, "Питер"]))
    assert out["city"].to_list() == [None, "Москва", None, "Санкт-Петербург"]
    assert out["city_flags"].to_list() == [[], [], [], []]


def test_place_key():
    assert place_key("Орёл") == place_key("ОРЕЛ") == "орел"
    assert place_key("Ростов-на-Дону") == "ростов на дону"
