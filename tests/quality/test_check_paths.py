"""The cheaper ways the layer checks compute things agree with the plain ones, and still fail
on bad data: identity when links line up with staged records, blank values, the docs site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quality import gxcontext
from quality.expectations import validate
from quality.report import given, identity_metrics
from quality.suites import (
    aligned,
    customer_stats,
    identity_suite,
    linked_records,
    published_suite,
    raw_suite,
)


def _staged() -> pl.DataFrame:
    """Five records sorted by key; customer C1 carries two birth dates, C2 two ИНН."""
    return pl.DataFrame(
        {
            "record_key": ["a|1", "a|2", "b|1", "b|2", "c|1"],
            "source": ["a", "a", "b", "b", "c"],
            "birth_date": [dt.date(1990, 1, 1), dt.date(1991, 1, 1), None, None, None],
            "inn": [None, None, "7707083893", "500100732259", None],
        }
    )


LINKS = pl.DataFrame(
    {
        "record_key": ["a|1", "a|2", "b|1", "b|2", "c|1"],
        "customer_id": ["C1", "C1", "C2", "C2", None],
    }
)


def _identity(staged: pl.DataFrame, links: pl.DataFrame) -> dict[str, pl.DataFrame]:
    linked = linked_records(staged, links)
    stats = customer_stats(linked)
    datasets, _ = identity_suite(staged, links, linked, stats)
    return {
        "linked": linked,
        **datasets,
        "metrics": identity_metrics(linked, top=2, sizes=stats),
        "metrics_alone": identity_metrics(linked, top=2),
    }


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_links_in_staged_order_give_what_the_joins_give() -> None:
    staged = _staged()
    assert aligned(staged, LINKS) and not aligned(staged, LINKS.reverse())
    fast, joined = _identity(staged, LINKS), _identity(staged, LINKS.reverse())
    for name, frame in fast.items():
        assert_frame_equal(_sorted(frame), _sorted(joined[name]), check_exact=True)
    run = validate("identity", *identity_suite(staged, LINKS))
    assert not run.failed_blocking
    assert sorted(r.detail.split("; e.g. ")[1] for r in run.results if not r.passed) == ["2", "2"]
    clusters = fast["metrics"].filter(pl.col("name") == "largest_cluster")
    assert clusters.select("field", "detail").rows() == [("C1", "a"), ("C2", "b")]


@pytest.mark.parametrize(
    ("staged_keys", "link_keys"),
    [
        (["a|1", "a|1", "b|1"], ["a|1", "a|1", "b|1"]),  # same order, but a key twice
        (["a|1", "a|2", "b|1"], ["a|1", "a|1", "b|1"]),  # as many links, one record twice
        (["b|1", "a|1", "c|1"], ["b|1", "a|1", "c|1"]),  # same order, not sorted
    ],
)
def test_one_customer_per_record_still_fails_when_keys_only_look_aligned(
    staged_keys: list[str], link_keys: list[str]
) -> None:
    staged = pl.DataFrame(
        {"record_key": staged_keys, "source": ["s"] * 3, "birth_date": [None] * 3, "inn": None},
        schema_overrides={"birth_date": pl.Date, "inn": pl.String},
    )
    links = pl.DataFrame({"record_key": link_keys, "customer_id": ["C1", "C2", "C3"]})
    unsorted = staged_keys[0] > staged_keys[1]
    assert not aligned(staged, links)
    run = validate("identity", *identity_suite(staged, links))
    failed = {r.name for r in run.failed_blocking}
    assert failed == (set() if unsorted else {"one_customer_per_record"})


def test_a_blank_value_is_not_given_whatever_the_whitespace() -> None:
    values = ["x", " x ", "", " ", "\t\n", "\u00a0", "\u3000\u2003", "\u200b", None]
    frame = pl.DataFrame({"v": values})
    stripped = frame.select(pl.col("v").is_not_null() & (pl.col("v").str.strip_chars() != ""))
    assert frame.select(given("v")).to_series().to_list() == stripped.to_series().to_list()
    assert frame.select(given("v")).to_series().to_list() == [True, True] + [False] * 5 + [
        True,  # a zero-width space is not whitespace
        False,
    ]


def test_layers_share_one_docs_site_built_by_one_builder(tmp_path: Path) -> None:
    raw = pl.DataFrame({c: ["v"] for c in ("record_key", "source", "source_record_id")})
    raw = raw.with_columns(source_file=pl.lit("f"), batch_id=pl.lit("b"), ingested_at=pl.lit("t"))
    links = pl.DataFrame({"record_key": ["k"], "customer_id": ["C1"]})
    docs = tmp_path / "gx"
    validate("raw", *raw_suite(raw), run_name="r1", docs_dir=docs)
    ctx = gxcontext.context_for(docs)
    builder = gxcontext._site_builder(ctx)
    run = validate(
        "published", *published_suite({"profiles": 1}, links), run_name="r1", docs_dir=docs
    )
    assert builder is not None and gxcontext._site_builder(ctx) is builder
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert run.docs == docs / "index.html"
    assert "r1.raw.raw" in index and "r1.published.record_links" in index
    pages = {p.name for p in (docs / "validations").rglob("*.html")}
    assert {"r1.raw.raw-raw.html", "r1.published.tables-tables.html"} <= pages
