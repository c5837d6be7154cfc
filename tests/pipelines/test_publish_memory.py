"""The lower-memory publish: late columns and events, sliced hashes, two-thread loads."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import publication, snapshotload
from pipelines.config import ProfileConfig
from pipelines.profile import history
from pipelines.profile.build import LATE, build_profile_tables
from pipelines.publishbuild import spill
from pipelines.warehouse import RUNS_COLUMNS
from tests.pipelines.profile_helpers import (
    SAMPLE_EVENTS,
    SAMPLE_ROWS,
    TODAY,
    build,
    events,
    links,
    staged,
)

ROWS = [
    *SAMPLE_ROWS,
    {"key": "4", "customer": "C3", "full_name": "Сидоров Пётр", "birth_date": "1980-05-04",
     "do_not_call": "да", "position": "директор", "company": "ООО Ромашка"},
    {"key": "5", "customer": "C1", "full_name": "Петрова Анна Сергеевна", "city": "Тверь",
     "extra": '{"utm_source": "google"}'},
]  # fmt: skip
EVENTS = [
    *SAMPLE_EVENTS,
    {"event_id": "e2", "record_key": "sales|4", "event_type": "ticket", "status": "open",
     "occurred_at": "02.12.2025", "source": "sales"},
]  # fmt: skip


def _consents_sorted(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    # the order of two statements of one record is not defined
    return {**tables, "consents": tables["consents"].sort(pl.all())}


def test_events_are_read_only_after_the_record_builders_and_tables_are_unchanged() -> None:
    order: list[str] = []
    sunk: dict[str, pl.DataFrame] = {}

    def sink(name: str, table: pl.DataFrame) -> None:
        order.append(name)
        sunk[name] = table

    def load() -> pl.DataFrame:
        order.append("<events read>")
        return events(EVENTS)

    build_profile_tables(staged(ROWS), links(ROWS), load, ProfileConfig(), TODAY, sink=sink)
    assert order.count("<events read>") == 1
    assert order.index("<events read>") > order.index("consents")
    assert order.index("<events read>") < order.index("events")
    expected = _consents_sorted(build(ROWS, EVENTS))
    assert sunk.keys() == expected.keys()
    for name, table in _consents_sorted(sunk).items():
        assert table.equals(expected[name]), name


def test_late_columns_follow_their_records_whatever_the_row_order() -> None:
    records = staged(ROWS)
    assert set(LATE) <= set(records.columns)  # the list names real staged columns
    expected = _consents_sorted(build(ROWS, EVENTS))
    shuffled = records.reverse().lazy()  # rows no longer in the order links joins them
    tables = build_profile_tables(
        shuffled, links(ROWS)[::-1], events(EVENTS), ProfileConfig(), TODAY
    )
    for name, table in _consents_sorted(tables).items():
        assert table.equals(expected[name]), name
    consents = tables["consents"]
    sms = consents.filter(pl.col("channel") == "sms")
    assert sms.select("customer_id", "status", "record_key").rows() == [
        ("C1", "opt_out", "sales|2"),
        ("C2", "opt_out", "sales|3"),
    ]
    profiles = tables["profiles"].sort("customer_id")
    assert profiles.get_column("lead_sources").to_list() == [["google"], ["yandex"], None]


def test_golden_values_are_in_customer_then_attribute_order() -> None:
    golden = build(ROWS)["golden_values"]
    assert golden.height > 5
    assert golden.equals(golden.sort("customer_id", "attribute"))
    assert golden.filter(pl.col("customer_id") == "C1").get_column("attribute").to_list() == [
        "city", "email", "gender", "name",
    ]  # fmt: skip


def test_content_hashes_in_several_slices_are_the_md5_of_each_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history, "_CHUNKS", 5)
    monkeypatch.setattr(history, "_AT_ONCE", 2)
    profiles = pl.DataFrame(
        {"customer_id": [f"C{i:02d}" for i in range(23)], "n": [i * 7 for i in range(23)]}
    ).with_columns(name=pl.format("Ёлкин {}", "n"))
    rows = profiles.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_list()
    expected = [hashlib.md5(r.encode("utf-8")).hexdigest() for r in rows]
    assert history.content_hashes(profiles).to_list() == expected
    assert history.history_snapshot(profiles).get_column("content_hash").to_list() == expected


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [f"C{i:07d}" for i in range(rows)]}).with_columns(
        n=pl.int_range(rows), note=pl.format("запись {}", pl.int_range(rows))
    )


def test_spilled_files_load_on_two_threads_into_the_row_groups_one_writes(
    tmp_path: Path,
) -> None:
    rows = 2 * snapshotload.DUCKDB_ROW_GROUP + 4_321
    frame = _frame(rows)
    spilled = spill(tmp_path, "profiles", frame)
    odd = tmp_path / "odd.parquet"
    frame.write_parquet(odd, row_group_size=100_000)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET threads = 2")
    sizes = con.execute(
        "SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(?) ORDER BY 1",
        [str(spilled)],
    ).fetchall()
    assert [n for _, n in sizes] == [snapshotload.DUCKDB_ROW_GROUP] * 2 + [4_321]
    assert snapshotload.aligned(con, spilled)
    assert not snapshotload.aligned(con, odd) and not snapshotload.aligned(con, frame)
    run = {**dict.fromkeys(RUNS_COLUMNS), "run_id": "r1", "status": "success"}
    run["started_at"] = datetime(2026, 1, 1, tzinfo=UTC)
    before = con.execute("SELECT current_setting('write_buffer_row_group_count')").fetchall()
    hashed = frame.with_columns(content_hash=pl.col("note"))
    versions = spill(tmp_path, "profiles_history", hashed.select("customer_id", "content_hash"))
    tables = {"profiles": spilled, "events": odd, "profiles_history": versions}
    publication.publish(con, tables, run, tmp_path / "mirror")
    kept = con.sql("SELECT customer_id, n, note, content_hash FROM profiles_history").pl()
    assert kept.equals(hashed)  # new versions in the order of the file
    for name in ("profiles", "events"):
        stored = con.sql(f"SELECT * FROM {name}").pl()  # storage order: no ORDER BY
        assert stored.equals(frame), name
        table = f"snapshot_store.s000001_{name}"
        groups = con.execute(
            f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')"
        ).fetchall()
        assert groups == [(3,)], name  # full row groups, none part-filled
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(2,)]
    assert (
        con.execute("SELECT current_setting('write_buffer_row_group_count')").fetchall() == before
    )
