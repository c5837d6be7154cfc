"""Layer checks on a real sample workspace: the raw result is reused for unchanged batches,
and the streamed staged metrics equal the ones computed on the loaded table."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import quality_checks as qc
from pipelines.ingest import ingest
from pipelines.workspace import Workspace
from quality import expectations
from quality.expectations import SuiteRun
from quality.report import REPORT_FIELDS, VALID_WHEN, field_metrics, identity_metrics


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = expectations.validate  # what pipelines.quality_checks imported

    def counted(layer: str, *args: Any, **kwargs: Any) -> SuiteRun:
        calls.append(layer)
        return real(layer, *args, **kwargs)

    monkeypatch.setattr(qc, "validate", counted)
    return calls


@pytest.fixture
def checked(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Workspace, list[str], SuiteRun]:
    """The sample ingested and its raw layer checked once: (workspace, validations, result)."""
    ws = Workspace.open(workspace)
    ingest(ws)
    calls = _counting(monkeypatch)
    return ws, calls, qc.check_raw(ws, "run-1")


def test_raw_checks_reuse_the_result_for_the_same_batches(
    checked: tuple[Workspace, list[str], SuiteRun],
) -> None:
    ws, calls, first = checked
    assert calls == ["raw"] and first.results and all(r.passed for r in first.results)
    again = qc.check_raw(ws, "run-2")
    assert calls == ["raw"]  # nothing validated: same batches, same suite
    assert again.results == first.results
    onec = ws.inbox / "1c"
    shutil.copy(onec / "orders_commerceml.xml", onec / "orders_copy.xml")
    ingest(ws)
    third = qc.check_raw(ws, "run-3")
    assert calls == ["raw", "raw"]  # a new batch: checked again, and it repeats record keys
    assert "record_keys_unique" in {r.name for r in third.failed_blocking}
    qc.check_raw(ws, "run-4")
    assert calls == ["raw", "raw", "raw"]  # a failing result is not kept: checked again


def test_a_damaged_raw_cache_is_checked_again(
    checked: tuple[Workspace, list[str], SuiteRun],
) -> None:
    ws, calls, first = checked
    (ws.lake / "reports" / qc.RAW_CACHE_FILE).write_text("{not json", encoding="utf-8")
    assert qc.check_raw(ws, "run-2").results == first.results and calls == ["raw", "raw"]


def _field_metrics_loaded(staged: pl.DataFrame) -> pl.DataFrame:
    """The former computation: one group_by per field over the loaded table."""
    frames = []
    for name in REPORT_FIELDS:
        raw = pl.col(f"raw_{name}")
        given = raw.is_not_null() & (raw.str.strip_chars() != "")
        aggs = [pl.lit(name).alias("field"), given.mean().alias("completeness")]
        valid = (given & VALID_WHEN[name]).sum() / given.sum() if name in VALID_WHEN else None
        aggs.append(
            pl.when(given.sum() > 0).then(valid).alias("validity")
            if valid is not None
            else pl.lit(None, dtype=pl.Float64).alias("validity")
        )
        frames.append(staged.group_by("source").agg(aggs))
    return (
        pl.concat(frames)
        .unpivot(index=["source", "field"], on=["completeness", "validity"], variable_name="name")
        .drop_nulls("value")
    )


def test_streamed_field_metrics_equal_the_loaded_ones(published: Path) -> None:
    ws = Workspace.open(published)
    path = ws.staged_dir / "staged.parquet"
    streamed = field_metrics(pl.scan_parquet(path))
    loaded = _field_metrics_loaded(pl.read_parquet(path))
    order = ["source", "field", "name"]
    assert streamed.height > 20
    expected = loaded.sort(order).select(*order, "value")
    assert_frame_equal(streamed.select(*order, "value").sort(order), expected, check_exact=True)
    run, metrics = qc.check_staged(ws, "run-1")  # the suite's flags and these in one pass
    fields = metrics.filter(pl.col("name").is_in(["completeness", "validity"]))
    assert run.results and not run.failed_blocking
    assert_frame_equal(fields.select(*order, "value").sort(order), expected, check_exact=True)


def test_largest_clusters_name_the_sources_of_the_largest_only() -> None:
    links = pl.DataFrame(
        {
            "record_key": [f"r{i}" for i in range(9)],
            "customer_id": ["C1", "C1", "C1", "C2", "C2", "C3", None, None, "C4"],
            "source": ["s", "t", "s", "t", "t", None, "s", "u", "u"],
        }
    )
    clusters = identity_metrics(links, top=3).filter(pl.col("name") == "largest_cluster")
    assert clusters.select("field", "value", "detail").rows() == [
        ("C1", 3.0, "s, t"),
        (None, 2.0, "s, u"),
        ("C2", 2.0, "t"),
    ]
