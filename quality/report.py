"""The quality report of a run: metrics as ``quality_results`` rows, rendered to one HTML page.

Metrics are computed per source: completeness and validity of every field, quarantine reasons
with counts, the duplicate rate, and the largest clusters. Expectation results (from
``quality.expectations``) share the same table, so the page is rendered from one frame.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import polars as pl

from pipelines.schema import RAW_FIELDS

from .expectations import QUALITY_RESULTS_SCHEMA

#: How a field's clean value shows it was valid (fields without one get no validity).
VALID_WHEN: dict[str, pl.Expr] = {
    "full_name": pl.col("last_name").is_not_null() | pl.col("first_name").is_not_null(),
    "phone": pl.col("phones").list.len() > 0,
    "email": pl.col("emails").list.len() > 0,
    "birth_date": pl.col("birth_date").is_not_null(),
    "city": pl.col("city").is_not_null(),
    "company": pl.col("company_name").is_not_null(),
    "inn": pl.col("inn").is_not_null(),
    "kpp": pl.col("kpp").is_not_null(),
    "ogrn": pl.col("ogrn").is_not_null(),
}

_SEP = "\t"  # between field and metric in the wide frame's column names
REPORT_FIELDS: tuple[str, ...] = tuple(f for f in RAW_FIELDS if f not in ("extra", "entity_kind"))


def _metric_rows(run_id: str, layer: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Turn (name, source, field, value, detail?) rows into ``quality_results`` rows."""
    if "detail" not in frame.columns:
        frame = frame.with_columns(detail=pl.lit(None, dtype=pl.String))
    return frame.select(
        run_id=pl.lit(run_id),
        layer=pl.lit(layer),
        kind=pl.lit("metric"),
        name=pl.col("name").cast(pl.String),
        source=pl.col("source").cast(pl.String),
        field=pl.col("field").cast(pl.String),
        value=pl.col("value").cast(pl.Float64),
        threshold=pl.lit(None, dtype=pl.Float64),
        passed=pl.lit(None, dtype=pl.Boolean),
        blocking=pl.lit(None, dtype=pl.Boolean),
        detail=pl.col("detail").cast(pl.String),
        expectation=pl.lit(None, dtype=pl.String),
    )


def given(column: str) -> pl.Expr:
    """The source gave a value: not null and not blank.

    ``contains(r"\\S")`` is ``strip_chars() != ""`` (both know whitespace as Unicode
    White_Space) without building a stripped copy of every string.
    """
    value = pl.col(column)
    return value.is_not_null() & value.str.contains(r"\S")


def field_flags(columns: Iterable[str]) -> list[pl.Expr]:
    """Per record, for every report field whose ``raw_`` column is among ``columns``: given, and
    given and valid (fields with a validity rule). ``summarise_fields`` turns them into metrics."""
    present = set(columns)
    flags = []
    for name in REPORT_FIELDS:
        if f"raw_{name}" not in present:
            continue
        was_given = given(f"raw_{name}")
        flags.append(was_given.alias(f"given{_SEP}{name}"))
        if name in VALID_WHEN:
            flags.append((was_given & VALID_WHEN[name]).alias(f"valid{_SEP}{name}"))
    return flags


def summarise_fields(flags: pl.DataFrame) -> pl.DataFrame:
    """Completeness (given / records) and validity (valid / given) per source, from a frame
    with ``source`` and the ``field_flags`` columns (other columns are ignored).

    The flags are summed per source and divided after: a boolean ``mean`` per group costs more.
    """
    names = [c.partition(_SEP)[2] for c in flags.columns if c.startswith(f"given{_SEP}")]
    empty = pl.DataFrame(schema={"name": pl.String, "source": pl.String, "field": pl.String})
    if not names:
        return empty
    valid = [n for n in names if f"valid{_SEP}{n}" in flags.columns]
    sums = flags.group_by("source").agg(
        pl.len().alias("records"),
        *(pl.col(f"given{_SEP}{n}").sum() for n in names),
        *(pl.col(f"valid{_SEP}{n}").sum() for n in valid),
    )
    if sums.is_empty():
        return empty
    ratios = []
    for n in names:
        was_given = pl.col(f"given{_SEP}{n}")
        ratios.append((was_given / pl.col("records")).alias(f"{n}{_SEP}completeness"))
        if n in valid:
            share = pl.col(f"valid{_SEP}{n}") / was_given
            ratios.append(pl.when(was_given > 0).then(share).alias(f"{n}{_SEP}validity"))
    parts = pl.col("key").str.split_exact(_SEP, 1).struct
    return (
        sums.select("source", *ratios)
        .unpivot(index="source", variable_name="key")
        .drop_nulls("value")
        .select("source", field=parts.field("field_0"), name=parts.field("field_1"), value="value")
    )


def field_metrics(staged: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Completeness (given / records) and validity (valid / given) of every field per source.

    Given a ``scan_parquet`` it streams, reading only the columns it needs; what it keeps is a
    few boolean flags per record.
    """
    lazy = staged.lazy()
    flags = field_flags(lazy.collect_schema().names())
    return summarise_fields(lazy.select("source", *flags).collect(engine="streaming"))


def quarantine_metrics(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows per source and reason code."""
    return (
        quarantine.group_by("source", "reason")
        .len()
        .select("source", field="reason", value="len", name=pl.lit("quarantine_reason"))
    )


def identity_metrics(
    links: pl.DataFrame, top: int = 10, sizes: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Duplicate rate per source (1 − customers / records) and the largest clusters.

    ``links`` needs record_key, customer_id and source; ``sizes`` (customer_id, records: its
    links) saves grouping them again when the caller has it (``suites.customer_stats``).
    """
    per_source = links.group_by("source").agg(
        records=pl.len(), customers=pl.col("customer_id").n_unique()
    )
    dup = per_source.select(
        "source",
        name=pl.lit("duplicate_rate"),
        field=pl.lit(None, dtype=pl.String),
        value=1 - pl.col("customers") / pl.col("records"),
        detail=pl.format("{} records, {} customers", "records", "customers"),
    )
    if sizes is None:
        sizes = links.group_by("customer_id").agg(records=pl.len())
    sizes = sizes.select("customer_id", "records")
    if 0 < top < sizes.height:  # sort only the clusters as large as the top-th largest
        sizes = sizes.filter(pl.col("records") >= sizes["records"].top_k(top).min())
    largest = sizes.sort(["records", "customer_id"], descending=[True, False]).head(top)
    # the sources of the largest clusters only (not of every customer)
    sources = (
        links.join(largest.select("customer_id"), on="customer_id", how="semi", nulls_equal=True)
        .group_by("customer_id")
        .agg(sources=pl.col("source").unique().sort().str.join(", "))
    )
    clusters = largest.join(
        sources, on="customer_id", how="left", maintain_order="left", nulls_equal=True
    ).select(
        source=pl.lit(None, dtype=pl.String),
        name=pl.lit("largest_cluster"),
        field="customer_id",
        value=pl.col("records").cast(pl.Float64),
        detail="sources",
    )
    return pl.concat([dup, clusters])


def metrics_frame(run_id: str, layer: str, frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Metric frames of one layer as ``quality_results`` rows."""
    rows = [_metric_rows(run_id, layer, f) for f in frames if not f.is_empty()]
    return pl.concat(rows) if rows else pl.DataFrame(schema=QUALITY_RESULTS_SCHEMA)


def _table(headers: list[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.0f}"
    return str(value)


STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eee}"
)


def render_html(run_id: str, results: pl.DataFrame, docs_href: str | None = None) -> str:
    """One HTML page: failed checks first, then every check, field matrix, quarantine, clusters."""
    checks = results.filter(pl.col("kind") == "expectation").sort(
        "passed", "layer", "name", "source", nulls_last=True
    )
    metric = results.filter(pl.col("kind") == "metric")
    failed = checks.filter(~pl.col("passed"))
    parts = [
        f"<html><head><meta charset='utf-8'><title>Svod quality {html.escape(run_id)}</title>",
        f"<style>{STYLE}</style></head><body><h1>Svod quality report</h1>",
        f"<p>Run {html.escape(run_id)}: {checks.height} checks, {failed.height} failed.</p>",
    ]
    if docs_href:
        parts.append(f"<p><a href='{html.escape(docs_href)}'>Great Expectations data docs</a></p>")
    cols = ["layer", "name", "source", "passed", "blocking", "value", "threshold", "detail"]
    parts += ["<h2>Checks</h2>", _table(cols, checks.select(cols).iter_rows())]
    fields = metric.filter(pl.col("name").is_in(["completeness", "validity"]))
    if not fields.is_empty():
        names = set(fields["name"])
        wide = (
            fields.pivot(on="name", index=["source", "field"], values="value")
            .sort("source", "field")
            .select("source", "field", *[c for c in ("completeness", "validity") if c in names])
        )
        parts += ["<h2>Fields per source</h2>", _table(wide.columns, wide.iter_rows())]
    for title, name, cols in (
        ("Quarantine reasons", "quarantine_reason", ["source", "field", "value"]),
        ("Duplicate rate per source", "duplicate_rate", ["source", "value", "detail"]),
        ("Largest clusters", "largest_cluster", ["field", "value", "detail"]),
    ):
        part = metric.filter(pl.col("name") == name).select(cols)
        if name == "largest_cluster":
            part = part.sort("value", descending=True)
            labels = ["customer_id", "records", "sources"]
        elif name == "quarantine_reason":
            labels = ["source", "reason", "rows"]
            part = part.with_columns(pl.col("value").cast(pl.Int64)).sort("source", "field")
        else:
            labels = cols
            part = part.sort("source", nulls_last=True)
        parts += [f"<h2>{title}</h2>", _table(labels, part.iter_rows())]
    parts.append("</body></html>")
    return "\n".join(parts)
