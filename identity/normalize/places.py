"""City cells: clean → look up → one canonical spelling plus its region.

Customers write `СПб`, `Питер`, `г. Москва`, `Moscow`, `Химки, Московская обл.` or a whole
address. We drop postcodes, settlement-type words and street parts, find the city in a table of
the largest Russian cities (data/cities.csv, ё folded in keys) and take the region from the
table, or from the cell when it names one. Unknown cities are kept, title-cased, and flagged.

>>> normalize_city("С.-Петербург")
PlaceCell(city='Санкт-Петербург', region='Санкт-Петербург', flags=())
>>> normalize_city("Химки, Московская обл.")
PlaceCell(city='Химки', region='Московская область', flags=())
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import polars as pl

FLAG_ORDER = ("city_unknown", "city_region_mismatch")
_SEP = "\x1f"

_POSTCODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
# Settlement-type words before or after the name: "г.", "город", "пос.", "пгт", "с.", …
_SETTLEMENT = re.compile(
    r"(?<![\w])(?:г|гор|город|пос|поселок|п|пгт|рп|с|село|д|дер|деревня|ст|станица|ст-ца|"
    r"мкр|city|g)(?:\.|(?![\w-]))",
)
_REGION_WORDS = re.compile(
    r"(?<![\w])(?:обл|область|край|респ|республика|ао|округ|автономный|автономная|region)"
    r"(?![\w])"
)
_STREET_WORDS = re.compile(
    r"(?<![\w])(?:ул|улица|пр|пр-т|просп|проспект|пер|переулок|наб|ш|шоссе|б-р|бульвар|"
    r"пл|площадь|д|дом|корп|к|стр|кв|оф|офис|р-н|район)(?:\.|(?![\w-]))"
)
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class PlaceCell:
    """Canonical city, its region, and flags (None city for empty input)."""

    city: str | None = None
    region: str | None = None
    flags: tuple[str, ...] = ()


_EMPTY = PlaceCell()


def place_key(text: str) -> str:
    """Lower-case, ё→е, punctuation and hyphens to single spaces."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    return " ".join(_NON_WORD.sub(" ", folded).split())


def _region_key(text: str) -> str:
    key = place_key(text)
    key = re.sub(r"\bобл\b", "область", key)
    key = re.sub(r"\bресп\b", "республика", key)
    return re.sub(r"\bао\b", "автономный округ", key)


@cache
def _tables() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """City key → (city, region) and region key → canonical region, from data/cities.csv."""
    cities: dict[str, tuple[str, str]] = {}
    regions: dict[str, str] = {}
    source = resources.files("identity.normalize").joinpath("data/cities.csv")
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entry = (row["city"], row["region"])
            for alias in [row["city"], *filter(None, row["aliases"].split("|"))]:
                cities.setdefault(place_key(alias), entry)
            region = row["region"]
            words = _region_key(region).split()
            regions[" ".join(words)] = region
            regions[" ".join(reversed(words))] = region  # "татарстан республика"
            if words[0] == "республика":
                regions[" ".join(words[1:])] = region  # "татарстан"
    return cities, regions


def _strip_settlement(part: str) -> str:
    return " ".join(_SETTLEMENT.sub(" ", part.lower().replace("ё", "е")).split())


def normalize_city(raw: str | None) -> PlaceCell:
    """Canonical city and region for one raw city (or address) cell."""
    if raw is None:
        return _EMPTY
    cities, regions = _tables()
    text = _POSTCODE.sub(" ", unicodedata.normalize("NFKC", raw))
    parts = [p.strip(" .") for p in re.split(r"[,;]", text) if p.strip(" .")]
    city: tuple[str, str] | None = None
    unknown: str | None = None
    region: str | None = None
    for part in parts:
        key = place_key(part)
        if key in cities or place_key(_strip_settlement(part)) in cities:
            city = city or cities.get(key) or cities[place_key(_strip_settlement(part))]
        elif _REGION_WORDS.search(part.lower()) or _region_key(part) in regions:
            region = region or regions.get(_region_key(part), _title(_region_key(part)))
        elif unknown is None and not _STREET_WORDS.search(part.lower()):
            name = _strip_settlement(part)
            unknown = _title(name) if any(ch.isalpha() for ch in name) else None
    if city is not None:
        flags = ("city_region_mismatch",) if region and region != city[1] else ()
        return PlaceCell(city[0], region or city[1], flags)
    if unknown is None and region is None:
        return _EMPTY if not text.strip(" .,;-") else PlaceCell(None, None, ("city_unknown",))
    return PlaceCell(unknown, region, ("city_unknown",) if unknown or not region else ())


def _title(text: str) -> str:
    """`нижний тагил` → `Нижний Тагил`, `naro-fominsk` → `Naro-Fominsk`."""
    return "-".join(w.title() for w in text.split("-"))


def normalize_cities(values: pl.Series) -> pl.DataFrame:
    """Vectorised `normalize_city`: one row per input row, same order, each distinct value
    looked up once."""
    raw = values.cast(pl.String).rename("raw")
    uniques = raw.drop_nulls().unique().to_list()
    cells = [normalize_city(r) for r in uniques]
    lookup = pl.DataFrame(
        {
            "raw": uniques,
            "city": [c.city for c in cells],
            "region": [c.region for c in cells],
            "city_flags": [_SEP.join(c.flags) or None for c in cells],
        },
        schema=dict.fromkeys(["raw", "city", "region", "city_flags"], pl.String),
    )
    joined = raw.to_frame().join(lookup, on="raw", how="left", maintain_order="left")
    return joined.select("city", "region", pl.col("city_flags").str.split(_SEP).fill_null([]))
