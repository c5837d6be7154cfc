"""Quality checks of each layer of a workspace, and the per-run quality report.

The Dagster asset checks call these; so can a test or a notebook (no Dagster here). Each
``check_*`` loads only what its suite needs from the lake or the warehouse and runs the suite
from ``quality.suites`` through Great Expectations; ``save_quality`` appends the results to the
``quality_results`` table and re-renders ``lake/reports/<run_id>/quality.html``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.errors import WorkspaceError
from pipelines.rawlake import current_batches
from pipelines.warehouse import quote_ident, record_quality, table_exists
from pipelines.workspace import Workspace
from quality.expectations import CheckResult, SuiteRun, results_frame, validate
from quality.report import (
    field_flags,
    identity_metrics,
    metrics_frame,
    quarantine_metrics,
    summarise_fields,
)
from quality.report import render_html as render_quality_html
from quality.suites import (
    NON_EMPTY_TABLES,
    REQUIRED_LINEAGE,
    VALIDITY_COLUMNS,
    Floors,
    customer_stats,
    identity_suite,
    linked_records,
    published_suite,
    raw_suite,
    staged_suite,
    validity_exprs,
)

REPORT_FILE = "quality.html"
RAW_CACHE_FILE = "raw_checks.json"
#: Bump when the raw checks change in a way the suite's repr does not show.
RAW_CACHE_VERSION = 1


def floors(ws: Workspace) -> Floors:
    q = ws.config.quality
    return Floors(q.phone_valid_min, q.email_valid_min, q.quarantined_max)


def report_dir(ws: Workspace, run_id: str) -> Path:
    return ws.lake / "reports" / run_id


def _docs(ws: Workspace, run_id: str) -> Path | None:
    return report_dir(ws, run_id) / "gx" if ws.config.quality.data_docs else None


def raw_cache_key(batches: Sequence[dict[str, Any]]) -> str:
    """What decides the raw checks: the suite, GX's version, every batch in force with its file."""
    files = []
    for b in batches:
        path = Path(b["dir"]) / "records.parquet"
        stat = path.stat() if path.is_file() else None
        files.append([b["dir"], b["batch_id"], stat and [stat.st_size, stat.st_mtime_ns]])
    _, specs = raw_suite(pl.DataFrame(schema=dict.fromkeys(REQUIRED_LINEAGE, pl.String)))
    gx = importlib.metadata.version("great_expectations")  # its results can change with it
    text = json.dumps([RAW_CACHE_VERSION, gx, repr(specs), files], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cached_raw(path: Path, key: str) -> list[CheckResult] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        if found.get("key") != key:
            return None
        return [CheckResult(**r) for r in found["results"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no cache, or one this version cannot read: check again


def check_raw(ws: Workspace, run_id: str) -> SuiteRun:
    """Lineage present and record keys unique over the raw batches in force.

    Raw batches never change once written, so a passing result is kept per set of batches in
    ``lake/reports/raw_checks.json``; a run over the same batches reuses it (no GX, no read).
    """
    batches = current_batches(ws)
    key = raw_cache_key(batches)
    cache = ws.lake / "reports" / RAW_CACHE_FILE
    cached = _cached_raw(cache, key)
    if cached is not None:
        return SuiteRun(layer="raw", results=cached)
    frames = [
        pl.read_parquet(Path(b["dir"]) / "records.parquet", columns=list(REQUIRED_LINEAGE))
        for b in batches
    ]
    raw = pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys(REQUIRED_LINEAGE))
    datasets, specs = raw_suite(raw)
    del frames, raw
    run = validate("raw", datasets, specs, run_name=run_id, docs_dir=_docs(ws, run_id))
    if not all(r.passed for r in run.results):
        return run  # a failure (or a GX error reported as one) is checked again next run
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    body = {"key": key, "results": [dataclasses.asdict(r) for r in run.results]}
    tmp.write_text(json.dumps(body), encoding="utf-8")
    tmp.replace(cache)
    return run


def rows_in_by_source(ws: Workspace) -> dict[str, int]:
    """Rows the connectors read per source (records + quarantined), from the batch markers."""
    counts: dict[str, int] = {}
    for batch in current_batches(ws):
        counts[batch["source"]] = (
            counts.get(batch["source"], 0) + batch["records"] + batch["quarantined"]
        )
    return counts


def check_staged(ws: Workspace, run_id: str) -> tuple[SuiteRun, pl.DataFrame]:
    """Reconciliation, unique keys, validity floors, quarantine share; field metrics.

    The staged file is scanned once, not loaded: one streaming pass keeps what the suite needs
    (seven of its columns become five) and a few boolean flags per record for the field metrics.
    """
    staged = pl.scan_parquet(ws.staged_dir / "staged.parquet")
    fields = field_flags(staged.collect_schema().names())
    flags = staged.select(*validity_exprs(), *fields).collect(engine="streaming")
    quarantine = pl.read_parquet(ws.staged_dir / "quarantine.parquet")
    sources = [s.name for s in ws.config.sources]
    datasets, specs = staged_suite(
        staged,
        quarantine,
        rows_in_by_source(ws),
        floors(ws),
        sources,
        flags=flags.select(VALIDITY_COLUMNS),
    )
    run = validate("staged", datasets, specs, run_name=run_id, docs_dir=_docs(ws, run_id))
    del datasets
    metrics = metrics_frame(
        run_id, "staged", [summarise_fields(flags), quarantine_metrics(quarantine)]
    )
    return run, metrics


def check_identity(ws: Workspace, run_id: str) -> tuple[SuiteRun, pl.DataFrame]:
    """One customer per record, hard attributes agree; duplicate rate, largest clusters."""
    staged = pl.read_parquet(
        ws.staged_dir / "staged.parquet", columns=["record_key", "source", "birth_date", "inn"]
    )
    links = pl.read_parquet(ws.identity_dir / "links.parquet")
    linked = linked_records(staged, links)
    stats = customer_stats(linked)
    datasets, specs = identity_suite(staged, links, linked, stats)
    del staged, links
    run = validate("identity", datasets, specs, run_name=run_id, docs_dir=_docs(ws, run_id))
    del datasets
    metrics = identity_metrics(linked, sizes=stats)
    return run, metrics_frame(run_id, "identity", [metrics])


def check_published(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> SuiteRun:
    """Published tables non-empty; record_links consistent."""
    rows: dict[str, int] = {}
    for name in NON_EMPTY_TABLES:
        found = (
            con.execute(f"SELECT count(*) FROM main.{quote_ident(name)}").fetchone()  # noqa: S608
            if table_exists(con, name)
            else None
        )
        rows[name] = int(found[0]) if found else 0
    links = (
        con.sql("SELECT record_key, customer_id FROM record_links").pl()
        if table_exists(con, "record_links")
        else pl.DataFrame(schema={"record_key": pl.String, "customer_id": pl.String})
    )
    datasets, specs = published_suite(rows, links)
    return validate("published", datasets, specs, run_name=run_id, docs_dir=_docs(ws, run_id))


def save_quality(
    ws: Workspace,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    run: SuiteRun,
    metrics: pl.DataFrame | None = None,
) -> Path:
    """Append results and metrics to ``quality_results``; re-render the run's HTML report."""
    rows = results_frame(run_id, run.results)
    if metrics is not None and not metrics.is_empty():
        rows = pl.concat([rows, metrics])
    record_quality(con, rows, ws.published_dir)
    return write_report(ws, con, run_id)


def write_report(ws: Workspace, con: duckdb.DuckDBPyConnection, run_id: str) -> Path:
    """Render ``lake/reports/<run_id>/quality.html`` from the run's ``quality_results`` rows."""
    rows = con.sql(
        "SELECT * EXCLUDE (recorded_at) FROM quality_results WHERE run_id = $1", params=[run_id]
    ).pl()
    out = report_dir(ws, run_id)
    out.mkdir(parents=True, exist_ok=True)
    docs = "gx/index.html" if (out / "gx" / "index.html").is_file() else None
    path = out / REPORT_FILE
    path.write_text(render_quality_html(run_id, rows, docs), encoding="utf-8")
    return path


def describe_failures(results: Sequence[CheckResult]) -> str:
    """Failed checks in words: which expectation, on which source, observed against the floor."""
    parts = []
    for r in results:
        if r.passed:
            continue
        where = f" on source {r.source}" if r.source else ""
        seen = f": observed {r.observed:.1%}" if r.observed is not None else ""
        limit = (
            f" (limit {r.threshold:.0%}, svod.toml [quality])" if r.threshold is not None else ""
        )
        detail = f" — {r.detail}" if r.detail else ""
        parts.append(f"{r.layer} check {r.name}{where} failed{seen}{limit}{detail}")
    return "; ".join(parts)


def latest_quality_run(ws: Workspace, run_id: str | None = None) -> tuple[str, Path]:
    """The run to report on (default: the latest with results) and its HTML report."""
    if not ws.warehouse.exists():
        raise WorkspaceError(f"no quality results in {ws.root} yet; run 'svod run' first")
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        if not table_exists(con, "quality_results"):
            raise WorkspaceError(f"no quality results in {ws.root} yet; run 'svod run' first")
        if run_id is None:
            found = con.execute(
                "SELECT run_id FROM quality_results ORDER BY recorded_at DESC LIMIT 1"
            ).fetchone()
            if found is None:
                raise WorkspaceError(f"no quality results in {ws.root} yet; run 'svod run' first")
            run_id = str(found[0])
        elif con.execute(
            "SELECT count(*) FROM quality_results WHERE run_id = ?", [run_id]
        ).fetchone() == (0,):
            raise WorkspaceError(f"run {run_id} has no quality results; see the runs table")
    path = report_dir(ws, run_id) / REPORT_FILE
    if not path.is_file():
        with duckdb.connect(str(ws.warehouse), read_only=True) as con:
            path = write_report(ws, con, run_id)
    return run_id, path


def summary_rows(ws: Workspace, run_id: str) -> list[tuple[str, str, str, str, str, str]]:
    """Checks of a run for the terminal: failures first."""
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        frame = con.sql(
            "SELECT layer, name, source, bool_and(passed) AS passed, bool_or(blocking) AS blocking,"
            " min(value) AS value, max(threshold) AS threshold FROM quality_results"
            " WHERE run_id = $1 AND kind = 'expectation' GROUP BY ALL"
            " ORDER BY passed, layer, name, source",
            params=[run_id],
        ).pl()
    rows = []
    for r in frame.iter_rows(named=True):
        result = "pass" if r["passed"] else ("FAIL" if r["blocking"] else "warn")
        value = "" if r["value"] is None else f"{r['value']:.3g}"
        limit = "" if r["threshold"] is None else f"{r['threshold']:.3g}"
        rows.append((r["layer"], r["name"], r["source"] or "", result, value, limit))
    return rows
