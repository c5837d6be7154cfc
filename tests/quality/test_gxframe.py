"""GX on compact stand-in columns reports exactly what it reports on the columns as they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from quality.expectations import CheckResult, Expectation, validate
from quality.gxframe import NOT_NULL, ROW_CONDITION, UNIQUE, compact, plain, uses
from quality.suites import identity_suite, published_suite, raw_suite

UTC = dt.UTC


def both(
    layer: str, datasets: dict[str, pl.DataFrame], specs: list[Expectation]
) -> list[CheckResult]:
    compacted = validate(layer, datasets, specs).results
    assert compacted == validate(layer, datasets, specs, convert=plain).results
    return compacted


def test_failing_raw_suite_reads_the_same_with_nulls_of_every_type() -> None:
    raw = pl.DataFrame(
        {
            "record_key": ["s|1", "s|1", "s|2", None, "s|3", "s|3", "s|3"],
            "source": ["s"] * 6 + [None],
            "source_record_id": ["1", "1", "2", None, "3", "3", "3"],
            "source_file": ["f.csv", "f.csv", None, "f.csv", None, "f.csv", "f.csv"],
            "batch_id": ["b"] * 7,
            "ingested_at": [dt.datetime(2026, 1, 1, tzinfo=UTC)] * 5 + [None, None],
        }
    )
    results = both("raw", *raw_suite(raw))
    unique = next(r for r in results if r.name == "record_keys_unique")
    assert not unique.passed and "e.g. s|1, s|1, s|3, s|3, s|3" in unique.detail
    failed = {r.detail.split(";")[0] for r in results if not r.passed}
    assert "every raw record has ingested_at" in failed
    assert "every raw record has source_file" in failed


def test_identity_counts_and_published_tables_read_the_same() -> None:
    staged = pl.DataFrame(
        {
            "record_key": ["a", "b", "c", "d"],
            "source": ["s"] * 4,
            "birth_date": [dt.date(1990, 1, 1), dt.date(1991, 1, 1), None, None],
            "inn": [None, None, "7707083893", None],
        }
    )
    links = pl.DataFrame(
        {"record_key": ["a", "b", "b", "x"], "customer_id": ["C1", "C1", "C2", None]}
    )
    results = both("identity", *identity_suite(staged, links))
    assert {r.name for r in results if not r.passed} == {
        "one_customer_per_record",
        "hard_attributes_agree",
    }
    tables = {"profiles": 0, "identifiers": 3, "record_links": 4}
    published = both("published", *published_suite(tables, links))
    assert sorted(r.label for r in published if not r.passed) == [
        "record_links_consistent",
        "record_links_consistent",
        "tables_not_empty [profiles]",
    ]


def test_stand_in_columns_are_small_and_keep_repeats_and_nulls() -> None:
    frame = pl.DataFrame(
        {
            "key": ["x", "y", "x", None, "z"],
            "present": ["a", None, "b", "c", None],
            "source": ["s", "t", "s", "s", "t"],
            "n": pl.Series([1, 2, 1, 1, 0], dtype=pl.UInt32),
        }
    )
    spec: list[tuple[str, Mapping[str, Any], bool]] = [
        (UNIQUE, {"column": "key"}, True),
        (NOT_NULL, {"column": "present"}, False),
        ("ExpectColumnValuesToBeBetween", {"column": "n", "min_value": 1}, False),
    ]
    columns = uses(spec)
    assert columns["source"] == {ROW_CONDITION}
    stand_in, decoder = compact(frame, columns)
    keys = stand_in["key"].tolist()
    assert keys[0] == keys[2] and len({keys[0], keys[1], keys[4]}) == 3 and keys[3] != keys[3]
    assert decoder.value("key", keys[0]) == "x"
    assert stand_in["present"].isna().tolist() == [False, True, False, False, True]
    assert str(stand_in["source"].dtype) == "category" and str(stand_in["n"].dtype) == "int64"


def test_data_docs_show_the_original_values(tmp_path: Path) -> None:
    raw = pl.DataFrame({c: ["v"] * 2 for c in ("source", "source_record_id", "source_file")})
    raw = raw.with_columns(
        record_key=pl.lit("dup|key"), batch_id=pl.lit("b"), ingested_at=pl.lit("t")
    )
    run = validate("raw", *raw_suite(raw), docs_dir=tmp_path / "gx")
    assert run.docs is not None
    pages = list((tmp_path / "gx" / "validations").rglob("*.html"))
    assert pages and "dup|key" in pages[0].read_text(encoding="utf-8")


def test_staged_suite_with_failures_reads_the_same() -> None:
    from quality.suites import Floors, staged_suite
    from tests.quality.test_suites import QUARANTINE, staged_frame

    datasets, specs = staged_suite(
        staged_frame(),
        QUARANTINE,
        {"good": 5, "bad": 6},
        Floors(phone_valid_min=0.5),
        ["good", "bad"],
    )
    results = both("staged", datasets, specs)
    assert {(r.name, r.source) for r in results if not r.passed} == {
        ("phone_validity", "bad"),
        ("rows_reconcile", "good"),
    }
