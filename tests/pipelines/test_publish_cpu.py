"""The cheaper publish build: the same tables whichever shortcut a build can take or not."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import ProfileConfig
from pipelines.profile.build import build_profile_tables, record_links
from pipelines.profile.common import SourceSets, customer_codes, json_field, with_customer
from pipelines.profile.golden import golden_values
from quality.suites import keys_aligned
from tests.pipelines.profile_helpers import TODAY, events, links, staged

MINTED = ["C0A1B2C3D4E5F607", "C00000000000000A", "C0B00000000000FF"]  # as the registry mints
ROWS = [
    {"key": "1", "customer": MINTED[0], "full_name": "Иванов Иван", "phone": "+7 916 372-81-95",
     "company": "ООО Ромашка", "inn": "7707083893", "consent_email": "да"},
    {"key": "2", "customer": MINTED[1], "full_name": "Петрова Анна", "email": "anna@mail.ru",
     "extra": '{"utm_source": "Yandex", "company_inn": "7707083893"}', "source": "forms"},
    {"key": "3", "customer": MINTED[0], "full_name": "Иванов И.", "email": "info@romashka.ru",
     "extra": '{"utm\\u005fsource": "google", "consent_sms": "нет"}', "source": "forms"},
    {"key": "4", "customer": MINTED[2], "full_name": "Сидоров Пётр", "birth_date": "1980-05-04",
     "city": "Москва", "do_not_call": "да", "position": "директор", "company": "ООО Ромашка"},
    {"key": "5", "customer": MINTED[1], "full_name": "Петрова Анна Сергеевна", "city": "Тверь",
     "phone": "8 916 12", "source": "shop"},
]  # fmt: skip
EVENTS = [
    {"event_id": "e1", "record_key": "forms|2", "event_type": "order", "amount": "100,50",
     "occurred_at": "2025-12-01T10:00:00+03:00", "source": "forms",
     "detail": '{"utm_source": "vk"}'},
    {"event_id": "e2", "record_key": "sales|4", "event_type": "ticket", "status": "open",
     "occurred_at": "02.12.2025", "source": "sales"},
    {"event_id": "e3", "record_key": "nowhere|9", "event_type": "order", "amount": "5",
     "occurred_at": "2025-12-03", "source": "shop"},
]  # fmt: skip


def _tables(rows: list[dict[str, Any]], link: pl.DataFrame) -> dict[str, pl.DataFrame]:
    frame = staged(rows)
    return build_profile_tables(frame, link, events(EVENTS), ProfileConfig(), TODAY)


def test_aligned_needs_the_same_keys_in_strictly_increasing_order() -> None:
    keys = pl.Series(["a|1", "a|2", "b|1"])
    assert keys_aligned(keys, keys.clone())
    assert not keys_aligned(keys, keys.reverse())
    assert not keys_aligned(keys, keys.head(2))
    assert not keys_aligned(pl.Series(["a", "a"]), pl.Series(["a", "a"]))  # duplicates: join them
    with_null = pl.Series(["a", None, "b"])
    assert not keys_aligned(with_null, with_null.clone())  # a null key is never lined up


def test_minted_ids_coded_as_hex_numbers_give_the_order_of_the_text() -> None:
    ids = pl.Series("customer_id", [MINTED[2], MINTED[0], MINTED[2], MINTED[1]])
    code, distinct = customer_codes(ids)
    assert distinct.to_list() == sorted(MINTED)
    assert code.to_list() == [2, 1, 2, 0]
    assert distinct.gather(code).equals(ids)
    odd = pl.Series("customer_id", ["c2", "C10", "c2"])  # not minted: ranked as text
    code, distinct = customer_codes(odd)
    assert distinct.to_list() == ["C10", "c2"] and code.to_list() == [1, 0, 1]


def test_json_field_reads_what_json_path_match_reads() -> None:
    texts = pl.Series(
        "extra",
        ['{"utm_source": "a"}', '{"utm\\u005fsource": "b"}', '{"x": {"utm_source": "c"}}',
         '{"utm_source": 5}', "utm_source, not JSON", None, '{"other": "utm_source"}', "[1]"],
    )  # fmt: skip
    expected = texts.str.json_path_match("$.utm_source")
    assert json_field(texts, "utm_source").to_list() == expected.to_list() == [
        "a", "b", None, "5", None, None, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize("names", [["b", "a", "c"], [f"s{i:02d}" for i in range(70)]])
def test_source_sets_are_the_sorted_unique_sources_of_each_group(names: list[str]) -> None:
    rows = pl.DataFrame({"g": [i % 7 for i in range(len(names) * 3)]}).with_columns(
        source=pl.Series([names[(i * 5) % len(names)] for i in range(len(names) * 3)])
    )
    sets = SourceSets(rows.get_column("source"))
    got = sets.lists(rows.group_by("g").agg(sets.agg())).sort("g")
    want = rows.group_by("g").agg(sources=pl.col("source").unique().sort()).sort("g")
    assert_frame_equal(got, want)


def test_links_in_record_order_are_stacked_and_equal_a_join() -> None:
    frame, link = staged(ROWS), links(ROWS)
    order = frame.sort("record_key")
    in_order = link.sort("record_key")
    assert keys_aligned(order.get_column("record_key"), in_order.get_column("record_key"))
    rules = in_order.select("record_key", match_rule=pl.lit("phone"))
    shuffled = in_order.reverse()
    stacked = record_links(order, in_order, rules)
    assert_frame_equal(stacked, record_links(order, shuffled, rules.reverse()))
    assert stacked.get_column("record_key").is_sorted()
    key = ["record_key"]
    assert_frame_equal(
        with_customer(order, in_order).sort(key), with_customer(order, shuffled).sort(key)
    )


def test_minted_codes_and_row_order_shortcuts_build_the_tables_of_the_plain_path() -> None:
    """Minted IDs (hex codes) and records in key order (row-number ties) against lower-case IDs
    (ranked as text, same order) and shuffled records (key-text ties): equal tables."""
    rows = sorted(ROWS, key=lambda r: f"{r.get('source', 'sales')}|{r['key']}")
    fast = _tables(rows, links(rows))
    lower = [{**r, "customer": str(r["customer"]).lower()} for r in reversed(rows)]
    plain = _tables(lower, links(lower))
    for name, table in fast.items():
        other = plain[name]
        if "customer_id" in other.columns:
            other = other.with_columns(pl.col("customer_id").str.to_uppercase())
        assert_frame_equal(table, other, check_row_order=name == "golden_values"), name
    assert fast["golden_values"].get_column("customer_id").n_unique() == 3
    assert fast["events"].filter(pl.col("event_id") == "e3")["customer_id"].to_list() == [None]


def test_golden_values_of_coded_customers_keep_the_codes() -> None:
    frame = with_customer(staged(ROWS), links(ROWS))
    code, ids = customer_codes(frame.get_column("customer_id"))
    coded = golden_values(frame.with_columns(code), ProfileConfig())
    plain = golden_values(frame, ProfileConfig())
    assert coded.schema["customer_id"] == pl.UInt32()
    decoded = coded.with_columns(customer_id=ids.gather(coded.get_column("customer_id")))
    assert_frame_equal(decoded, plain)


def test_a_customers_only_candidate_wins_with_its_lineage() -> None:
    rows = [
        {"key": "1", "customer": "A", "city": "Москва", "source": "shop"},
        {"key": "2", "customer": "B", "city": "Тверь"},
        {"key": "3", "customer": "B", "city": "Тверь", "source": "forms"},
        {"key": "4", "customer": "C", "city": "Тверь"},
        {"key": "5", "customer": "C", "city": "Казань"},
    ]
    golden = golden_values(with_customer(staged(rows), links(rows)), ProfileConfig())
    city = golden.filter(pl.col("attribute") == "city").sort("customer_id")
    got = city.select("customer_id", "value", "source", "record_key", "candidates", "decided_by")
    assert got.rows()[0] == ("A", "Москва", "shop", "shop|1", 1, "only value")
    assert got.rows()[1][4:] == (1, "only value")  # two statements of one value
    assert got.rows()[2][4] == 2 and got.rows()[2][5] != "only value"
    assert golden.equals(golden.sort("customer_id", "attribute"))
