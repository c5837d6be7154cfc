"""Expectations and their results, and the one place that runs them through Great Expectations.

A suite is a list of ``Expectation`` specs over named polars datasets (built by ``quality.suites``
from only the columns they need). ``validate`` hands them to GX 1.x in an ephemeral context and
turns every GX result into a ``CheckResult`` that names the layer, the check and the source.
GX is imported lazily (``quality.gxcontext``), only when a suite runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .gxcontext import build_docs, context_for, gx_modules
from .gxframe import Converter, Decoder, compact, uses

#: One row per (run, layer, check or metric, source, field): the ``quality_results`` table.
QUALITY_RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "layer": pl.String(),  # raw | staged | identity | published
    "kind": pl.String(),  # expectation | metric
    "name": pl.String(),  # check name, or completeness | validity | quarantine_reason | …
    "source": pl.String(),
    "field": pl.String(),  # field, reason code or customer_id a metric is about
    "value": pl.Float64(),  # observed share or count
    "threshold": pl.Float64(),  # configured floor/ceiling (expectations)
    "passed": pl.Boolean(),
    "blocking": pl.Boolean(),
    "detail": pl.String(),
    "expectation": pl.String(),  # GX expectation type
}

#: Layers a check belongs to, in pipeline order.
LAYERS: tuple[str, ...] = ("raw", "staged", "identity", "published")


@dataclass(frozen=True)
class Expectation:
    """One expectation: a GX expectation class over a dataset, optionally for one source."""

    name: str  # the check it belongs to, e.g. "phone_validity"
    dataset: str
    gx_type: str  # class name in great_expectations.expectations
    kwargs: Mapping[str, Any]
    source: str | None = None  # restrict to rows of this source (column ``source``)
    blocking: bool = True
    threshold: float | None = None  # the configured floor/ceiling, for the report
    describe: str = ""  # what it means, for a person
    observe: str | None = None  # report this column's value (of the source's row) as observed


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation (or a table-level check computed without GX)."""

    layer: str
    name: str
    passed: bool
    blocking: bool
    source: str | None = None
    observed: float | None = None
    threshold: float | None = None
    detail: str = ""
    expectation: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} [{self.source}]" if self.source else self.name


@dataclass
class SuiteRun:
    """Results of one layer's suite; ``docs`` is the data-docs index when it was written."""

    layer: str
    results: list[CheckResult] = field(default_factory=list)
    docs: Path | None = None

    @property
    def failed_blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking and not r.passed]


def _observed(result: Mapping[str, Any]) -> float | None:
    if "observed_value" in result and isinstance(result["observed_value"], int | float):
        return float(result["observed_value"])
    if result.get("unexpected_percent") is not None:
        return round(1.0 - float(result["unexpected_percent"]) / 100.0, 4)
    return None


def _value_of(frame: pl.DataFrame, column: str, source: str | None) -> float | None:
    rows = frame if source is None else frame.filter(pl.col("source") == source)
    value = rows.get_column(column).max() if rows.height else None
    return float(value) if isinstance(value, int | float) else None


def _detail(spec: Expectation, result: Mapping[str, Any], passed: bool) -> str:
    if result.get("exception_message"):
        return f"could not evaluate: {result['exception_message']}"
    parts = [spec.describe] if spec.describe else []
    unexpected = result.get("unexpected_count")
    if unexpected:
        total = result.get("element_count")
        parts.append(f"{unexpected} of {total} rows unexpected")
        sample = result.get("partial_unexpected_list") or []
        if sample and not passed:
            parts.append("e.g. " + ", ".join(str(v) for v in sample[:5]))
    return "; ".join(parts)


def _decode_results(
    outcome: Any, ctx: Any, decoder: Decoder, specs: Sequence[Expectation]
) -> list[Any]:
    """GX results with original values in their examples (stored back for the data docs)."""
    found = []
    for key, validation in outcome.run_results.items():
        for res in validation.results:
            spec = specs[int(res.expectation_config.meta["svod_index"])]
            if res.result:
                decoder.decode(spec.kwargs.get("column"), res.result)
            found.append(res)
        ctx.validation_results_store.set(key, validation)
    return found


def validate(
    layer: str,
    datasets: Mapping[str, pl.DataFrame],
    expectations: Sequence[Expectation],
    *,
    run_name: str = "svod",
    docs_dir: Path | None = None,
    convert: Converter = compact,
) -> SuiteRun:
    """Run ``expectations`` over ``datasets`` with GX; write data docs into ``docs_dir``.

    ``convert`` turns a dataset into GX's pandas input (``gxframe.plain`` for the columns as
    they are; the default ``compact`` gives the same results, cheaper).
    """
    run = SuiteRun(layer=layer)
    if not expectations:
        return run
    gx, gxe, column = gx_modules()
    ctx = context_for(docs_dir)
    by_dataset: dict[str, list[Expectation]] = {}
    for spec in expectations:
        by_dataset.setdefault(spec.dataset, []).append(spec)
    outcomes = []
    for dataset, specs in by_dataset.items():
        name = f"{run_name}.{layer}.{dataset}"
        for store in (ctx.checkpoints, ctx.validation_definitions, ctx.suites):
            if name in {item.name for item in store.all()}:
                store.delete(name)
        if name in ctx.data_sources.all():
            ctx.data_sources.delete(name)
        batch = (
            ctx.data_sources.add_pandas(name=name)
            .add_dataframe_asset(name=dataset)
            .add_batch_definition_whole_dataframe("whole")
        )
        suite = ctx.suites.add(gx.ExpectationSuite(name=name))
        for i, spec in enumerate(specs):
            kwargs = dict(spec.kwargs)
            if spec.source is not None:
                kwargs["row_condition"] = column("source") == spec.source
            meta = {"svod_index": i, "svod_check": spec.name, "svod_source": spec.source}
            suite.add_expectation(getattr(gxe, spec.gx_type)(**kwargs, meta=meta))
        definition = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(name=name, validation_definitions=[definition], actions=[])
        )
        columns = uses((s.gx_type, s.kwargs, s.source is not None) for s in specs)
        frame, decoder = convert(datasets[dataset], columns)
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        del frame
        outcomes.append(outcome)
        for res in _decode_results(outcome, ctx, decoder, specs):
            spec = specs[int(res.expectation_config.meta["svod_index"])]
            result = dict(res.result or {})
            if res.exception_info and res.exception_info.get("raised_exception"):
                result["exception_message"] = res.exception_info.get("exception_message")
            passed = bool(res.success)
            observed = _observed(result)
            if spec.observe is not None:
                observed = _value_of(datasets[dataset], spec.observe, spec.source)
            run.results.append(
                CheckResult(
                    layer=layer,
                    name=spec.name,
                    source=spec.source,
                    passed=passed,
                    blocking=spec.blocking,
                    observed=observed,
                    threshold=spec.threshold,
                    detail=_detail(spec, result, passed),
                    expectation=res.expectation_config.type,
                )
            )
    if docs_dir is not None:
        build_docs(ctx, outcomes)
    if docs_dir is not None and (docs_dir / "index.html").is_file():
        run.docs = docs_dir / "index.html"
    return run


def results_frame(run_id: str, results: Sequence[CheckResult]) -> pl.DataFrame:
    """Check results as ``quality_results`` rows (kind ``expectation``)."""
    rows = [
        {
            "run_id": run_id,
            "layer": r.layer,
            "kind": "expectation",
            "name": r.name,
            "source": r.source,
            "field": None,
            "value": r.observed,
            "threshold": r.threshold,
            "passed": r.passed,
            "blocking": r.blocking,
            "detail": r.detail or None,
            "expectation": r.expectation or None,
        }
        for r in results
    ]
    return pl.DataFrame(rows, schema=QUALITY_RESULTS_SCHEMA)
