"""Expectation suites on small labelled frames, run through Great Expectations without Dagster."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from quality.expectations import validate
from quality.report import field_metrics, identity_metrics, metrics_frame, render_html
from quality.suites import Floors, identity_suite, published_suite, raw_suite, staged_suite


def staged_frame() -> pl.DataFrame:
    """Source 'good': 4 valid phones of 4; source 'bad': 1 valid phone of 4 given."""
    return pl.DataFrame(
        {
            "record_key": [f"good|{i}" for i in range(4)] + [f"bad|{i}" for i in range(5)],
            "source": ["good"] * 4 + ["bad"] * 5,
            "batch_id": ["b1"] * 9,
            "raw_phone": ["89161234567"] * 4 + ["123", "x", "+7 916 1", "89161234567", None],
            "phones": [["+79161234567"]] * 4 + [[], [], [], ["+79161234567"], []],
            "raw_email": ["a@b.ru"] * 9,
            "emails": [["a@b.ru"]] * 9,
            "last_name": ["Иванов"] * 9,
            "first_name": [None] * 9,
            "birth_date": [None] * 9,
            "inn": [None] * 9,
        },
        schema_overrides={"first_name": pl.String, "birth_date": pl.Date, "inn": pl.String},
    )


QUARANTINE = pl.DataFrame(
    {"source": ["bad"], "reason": ["empty_row"], "record_key": ["bad|9"]},
)


def test_phone_floor_fails_on_the_bad_source_only() -> None:
    datasets, specs = staged_suite(
        staged_frame(),
        QUARANTINE,
        {"good": 4, "bad": 6},
        Floors(phone_valid_min=0.5),
        ["good", "bad"],
    )
    run = validate("staged", datasets, specs)
    failed = {(r.name, r.source) for r in run.failed_blocking}
    assert failed == {("phone_validity", "bad")}
    bad = next(r for r in run.results if r.name == "phone_validity" and r.source == "bad")
    assert bad.observed == 0.25 and bad.threshold == 0.5
    reconcile = [r for r in run.results if r.name == "rows_reconcile"]
    assert {r.source for r in reconcile} == {"good", "bad"} and all(r.passed for r in reconcile)


def test_rows_that_vanish_fail_reconciliation_for_their_source() -> None:
    datasets, specs = staged_suite(
        staged_frame(),
        QUARANTINE,
        {"good": 5, "bad": 6},
        Floors(phone_valid_min=0.0),
        ["good", "bad"],
    )
    failed = {(r.name, r.source) for r in validate("staged", datasets, specs).failed_blocking}
    assert failed == {("rows_reconcile", "good")}


def test_raw_suite_catches_duplicate_keys_and_missing_lineage() -> None:
    raw = pl.DataFrame(
        {
            "record_key": ["s|1", "s|1", "s|2"],
            "source": ["s", "s", "s"],
            "source_record_id": ["1", "1", "2"],
            "source_file": ["f.csv", "f.csv", None],
            "batch_id": ["b", "b", "b"],
            "ingested_at": ["2026-01-01"] * 3,
        }
    )
    run = validate("raw", *raw_suite(raw))
    assert sorted(r.label for r in run.failed_blocking) == ["lineage_present", "record_keys_unique"]
    assert "source_file" in next(
        r.detail for r in run.failed_blocking if r.name == "lineage_present"
    )


def test_identity_suite_needs_exactly_one_customer_per_record() -> None:
    staged = staged_frame().with_columns(
        birth_date=pl.Series([None] * 7 + ["1980-01-01", "1990-02-02"]).str.to_date()
    )
    links = pl.DataFrame(
        {
            "record_key": [*staged["record_key"].to_list()[:-2], "bad|3", "bad|4", "bad|4"],
            "customer_id": ["C1"] * 7 + ["C2", "C2", "C3"],
        }
    )
    run = validate("identity", *identity_suite(staged, links))
    assert {r.name for r in run.failed_blocking} == {"one_customer_per_record"}
    warn = [r for r in run.results if r.name == "hard_attributes_agree" and not r.passed]
    assert len(warn) == 1 and not warn[0].blocking  # C2 has two birth dates


def test_published_suite_flags_an_empty_table() -> None:
    links = pl.DataFrame({"record_key": ["a", "b"], "customer_id": ["C1", "C1"]})
    run = validate("published", *published_suite({"profiles": 0, "record_links": 2}, links))
    assert [(r.name, r.source) for r in run.failed_blocking] == [("tables_not_empty", "profiles")]


def test_report_renders_checks_fields_and_clusters(tmp_path: Path) -> None:
    staged = staged_frame()
    datasets, specs = staged_suite(
        staged, QUARANTINE, {"good": 4, "bad": 6}, Floors(), ["good", "bad"]
    )
    run = validate("staged", datasets, specs, docs_dir=tmp_path / "gx")
    assert run.docs is not None and run.docs.is_file()
    fields = field_metrics(staged)
    phone = fields.filter(
        (pl.col("source") == "bad") & (pl.col("field") == "phone") & (pl.col("name") == "validity")
    )
    assert phone["value"].to_list() == [0.25]
    links = staged.select("record_key", "source", customer_id=pl.lit("C1"))
    metrics = metrics_frame("r1", "identity", [fields, identity_metrics(links)])
    from quality.expectations import results_frame

    page = render_html(
        "r1", pl.concat([results_frame("r1", run.results), metrics]), "gx/index.html"
    )
    assert "phone_validity" in page and "FAIL" in page and "Largest clusters" in page
    assert "C1" in page and "gx/index.html" in page
