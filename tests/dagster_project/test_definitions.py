"""The Dagster code location loads, wires the four stages with their checks, and materialises
in process; batches are partitions found by the sensor and the schedule."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.definitions import defs
from dagster_project.defs.automation import RANGE_END, RANGE_START, daily_schedule, inbox_sensor
from dagster_project.defs.pipeline import ASSETS, BATCHES, BATCHES_NAME
from dagster_project.resources import SvodWorkspace, build_resources
from pipelines.batches import inbox_batches
from pipelines.workspace import Workspace


def test_definitions_load_with_the_whole_graph() -> None:
    definitions = defs()
    keys = {k.to_user_string() for k in definitions.resolve_all_asset_keys()}
    assert keys == {"raw_batches", "staged_records", "customer_ids", "published_tables"}
    graph = definitions.resolve_asset_graph()
    assert graph.get(dg.AssetKey("published_tables")).parent_keys == {dg.AssetKey("customer_ids")}
    assert definitions.resolve_job_def("svod_pipeline") is not None
    assert set(definitions.resources or {}) >= {"workspace", "duckdb"}
    raw = definitions.resolve_assets_def("raw_batches")
    assert raw.partitions_def == BATCHES
    staged = definitions.resolve_assets_def("staged_records")
    blocking = {s.name for s in staged.check_specs if s.blocking}
    assert {"rows_reconcile", "phone_validity", "email_validity"} <= blocking
    assert "dagster/column_schema" in staged.specs_by_key[dg.AssetKey("staged_records")].metadata
    assert definitions.resolve_sensor_def("inbox_sensor").default_status == (
        dg.DefaultSensorStatus.STOPPED
    )
    assert definitions.resolve_schedule_def("daily_schedule").cron_schedule == "0 3 * * *"


def test_materialize_everything_in_process(workspace: Path) -> None:
    keys = [b.key for b in inbox_batches(Workspace.open(workspace))]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BATCHES_NAME, keys)
        result = dg.materialize(
            ASSETS,
            resources=build_resources(workspace),
            instance=instance,
            tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
        )
    assert result.success
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c.passed
        for c in result.get_asset_check_evaluations()
    }
    assert checks[("staged_records", "rows_reconcile")] is True
    assert checks[("staged_records", "phone_validity")] is True
    assert checks[("customer_ids", "one_customer_per_record")] is True
    assert checks[("published_tables", "tables_not_empty")] is True
    published = result.asset_materializations_for_node("published_tables")[0]
    customers = published.metadata["customers"].value
    assert isinstance(customers, int) and customers > 50
    assert "dagster/column_schema" in published.metadata
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("SELECT status, customers FROM runs").fetchone()
    assert row == ("success", customers)


def test_blocking_check_stops_identity_and_names_the_source(workspace: Path) -> None:
    config = workspace / "svod.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[quality]\nphone_valid_min = 0.99\n",
        encoding="utf-8",
    )
    from dagster_project.runner import run_pipeline

    outcome = run_pipeline(workspace)
    assert not outcome.success
    assert outcome.failure is not None
    assert "phone_validity failed on staged_records" in outcome.failure
    assert "phone_validity [sales]" in outcome.failure  # the source below the floor
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        run = con.execute("SELECT status, failed_stage, error FROM runs").fetchone()
    assert "profiles" not in tables and "record_links" not in tables  # nothing published
    assert run is not None and run[:2] == ("failed", "stage") and "phone_validity" in run[2]
    assert not (workspace / "lake" / "identity" / "links.parquet").exists()  # identity not run


def test_sensor_registers_new_files_as_one_run_and_then_skips(workspace: Path) -> None:
    resource = SvodWorkspace(path=str(workspace))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"workspace": resource})
        result = inbox_sensor(context)
        assert isinstance(result, dg.SensorResult)
        assert result.dynamic_partitions_requests is not None
        added = result.dynamic_partitions_requests[0]
        assert isinstance(added, dg.AddDynamicPartitionsRequest)
        assert len(added.partition_keys) == 6
        (request,) = result.run_requests or []
        assert request.tags[RANGE_START] == added.partition_keys[0]
        assert request.tags["svod/batch"].startswith("6 batches")
        instance.add_dynamic_partitions(BATCHES_NAME, list(added.partition_keys))
        again = dg.build_sensor_context(
            instance=instance, resources={"workspace": resource}, cursor=result.cursor
        )
        assert isinstance(inbox_sensor(again), dg.SkipReason)
        (workspace / "inbox" / "sales" / "late.csv").write_text("ФИО\nА Б\n", encoding="utf-8")
        third = inbox_sensor(
            dg.build_sensor_context(instance=instance, resources={"workspace": resource})
        )
        assert isinstance(third, dg.SensorResult)
        (single,) = third.run_requests or []
        assert single.partition_key is not None and single.partition_key.startswith(
            "sales:sales/late.csv@"
        )
        assert single.tags["svod/file"] == "sales/late.csv"


def test_daily_schedule_requests_a_run_over_the_inbox(workspace: Path) -> None:
    # the context is closed inside the instance's block: an unclosed one is closed when it
    # is garbage-collected, and then resets Dagster's current-instance context variable to an
    # instance long gone, which breaks the next Dagster run in this process
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(
            instance=instance, resources={"workspace": SvodWorkspace(path=str(workspace))}
        ) as context,
    ):
        request = daily_schedule(context)
        assert isinstance(request, dg.RunRequest)
        keys = instance.get_dynamic_partitions(BATCHES_NAME)
        assert len(keys) == 6 and request.tags[RANGE_END] == keys[-1]
