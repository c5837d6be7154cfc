"""Metadata helpers: column schemas from polars/DuckDB, check results from quality suites."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from quality.expectations import CheckResult


def table_schema(schema: Mapping[str, pl.DataType] | pl.Schema) -> dg.TableSchema:
    """A Dagster ``TableSchema`` (shown in the UI) from a polars schema."""
    return dg.TableSchema(
        columns=[dg.TableColumn(name=name, type=str(dtype)) for name, dtype in schema.items()]
    )


def parquet_schema(path: Path) -> dg.TableSchema:
    return table_schema(pl.read_parquet_schema(path))


def duckdb_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name=n, type=t) for n, t in rows])


def check_results(
    names: Iterable[str], results: Iterable[CheckResult], asset: str
) -> list[dg.AssetCheckResult]:
    """One ``AssetCheckResult`` per check name, gathering every source's expectation under it.

    ERROR severity when a blocking expectation failed, WARN otherwise; the metadata says which
    expectation failed on which source.
    """
    by_name: dict[str, list[CheckResult]] = {n: [] for n in names}
    for result in results:
        by_name.setdefault(result.name, []).append(result)
    out = []
    for name, found in by_name.items():
        failed = [r for r in found if not r.passed]
        blocking = any(r.blocking for r in failed)
        metadata: dict[str, dg.RawMetadataValue] = {
            "expectations": len(found),
            "failed": len(failed),
            "failures": "; ".join(
                f"{r.label}: {r.detail}"
                + (
                    f" (observed {r.observed:.3g}, limit {r.threshold})"
                    if r.observed is not None
                    else ""
                )
                for r in failed
            )
            or "none",
            "per_source": dg.MetadataValue.json(
                {r.label: {"passed": r.passed, "observed": r.observed} for r in found}
            ),
        }
        if found:
            metadata["expectation_types"] = ", ".join(sorted({r.expectation for r in found}))
        out.append(
            dg.AssetCheckResult(
                check_name=name,
                asset_key=asset,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
                metadata=metadata,
            )
        )
    return out


def check_specs(
    asset: str, checks: Mapping[str, str], blocking: Iterable[str]
) -> list[dg.AssetCheckSpec]:
    """Check specs of an asset from {name: description}; ``blocking`` ones stop downstream."""
    stop = set(blocking)
    return [
        dg.AssetCheckSpec(name, asset=asset, blocking=name in stop, description=text)
        for name, text in checks.items()
    ]
