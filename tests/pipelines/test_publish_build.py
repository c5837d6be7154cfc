"""Building the profile tables in a child process publishes what building in process does."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import publishbuild
from pipelines.stages import publish_stage
from pipelines.workspace import Workspace

#: Tables built by ``publishbuild`` (the rest are loaded from the identity files as they are).
BUILT = ("record_links", "profiles", "golden_values", "identifiers", "companies", "consents")
RUN_SPECIFIC = {"run_id", "valid_from", "valid_to", "recorded_at"}


def _publish(root: Path) -> dict[str, pl.DataFrame]:
    ws = Workspace.open(root)
    run_id = sorted(p.name for p in ws.runs_dir.iterdir())[0]
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        summary = publish_stage(ws, con, run_id)
        tables = {name: con.sql(f"SELECT * FROM {name}").pl() for name in BUILT}
    assert summary["customers"] == tables["profiles"].height
    return tables


def test_the_child_process_build_publishes_the_same_tables(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process = _publish(published)
    monkeypatch.setattr(publishbuild, "CHILD_FROM_ROWS", 0)  # force the child process
    in_child = _publish(published)
    for name in BUILT:
        a, b = in_process[name], in_child[name]
        assert a.height > 0, name
        drop = [c for c in a.columns if c in RUN_SPECIFIC]
        assert_frame_equal(a.drop(drop), b.drop(drop), check_row_order=False)


def test_a_failure_in_the_child_is_raised_and_publishes_nothing(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _publish(published)["profiles"].height
    monkeypatch.setattr(publishbuild, "CHILD_FROM_ROWS", 0)
    (published / "lake" / "identity" / "links.parquet").write_bytes(b"not parquet")
    ws = Workspace.open(published)
    run_id = sorted(p.name for p in ws.runs_dir.iterdir())[0]
    with duckdb.connect(str(published / "warehouse.duckdb")) as con:
        with pytest.raises(Exception, match=r"(?i)parquet"):
            publish_stage(ws, con, run_id)
        assert con.sql("SELECT count(*) FROM profiles").fetchall()[0][0] == before
