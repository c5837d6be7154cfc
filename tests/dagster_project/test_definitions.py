"""The Dagster code location loads, wires the four stages, and materialises in process."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.definitions import defs
from dagster_project.defs.pipeline import ASSETS
from dagster_project.resources import build_resources


def test_definitions_load_with_the_whole_graph() -> None:
    definitions = defs()
    keys = {k.to_user_string() for k in definitions.resolve_all_asset_keys()}
    assert keys == {"raw_batches", "staged_records", "customer_ids", "published_tables"}
    graph = definitions.resolve_asset_graph()
    assert graph.get(dg.AssetKey("published_tables")).parent_keys == {dg.AssetKey("customer_ids")}
    assert definitions.resolve_job_def("svod_pipeline") is not None
    assert set(definitions.resources or {}) >= {"workspace", "duckdb"}


def test_materialize_everything_in_process(workspace: Path) -> None:
    result = dg.materialize(ASSETS, resources=build_resources(workspace))
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("rows_reconcile", True)]
    published = result.asset_materializations_for_node("published_tables")[0]
    customers = published.metadata["customers"].value
    assert isinstance(customers, int) and customers > 50
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("SELECT status, customers FROM runs").fetchone()
    assert row == ("success", customers)
