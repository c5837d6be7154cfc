"""Reliability: a run killed at any stage leaves the published tables and the ID registry as
they were; re-running the same batch changes nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.runner import run_pipeline
from pipelines.warehouse import PUBLISHED_TABLES


def state(root: Path) -> dict[str, pl.DataFrame]:
    """Every published table (registry included), ordered, plus the snapshot log."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        names = {  # the published names are views over the latest snapshot's tables
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        out = {
            name: con.sql(f'SELECT * FROM "{name}"').pl()
            for name in sorted(set(PUBLISHED_TABLES) & names)
        }
        out["snapshots"] = con.sql("SELECT snapshot, kind FROM snapshots ORDER BY 1").pl()
    return {k: _sorted(v) for k, v in out.items()}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in a stable order (list columns cannot be sort keys)."""
    keys = [c for c, t in frame.schema.items() if not isinstance(t, pl.List | pl.Struct | pl.Array)]
    return frame.sort(keys, nulls_last=True) if frame.height and keys else frame


def mirror_bytes(root: Path) -> dict[str, bytes]:
    folder = root / "lake" / "published"
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.glob("*.parquet"))
        if p.name != "runs.parquet" and p.name != "quality_results.parquet"
    }


def add_new_customer(root: Path) -> None:
    (root / "inbox" / "sales" / "late.csv").write_text(
        "ФИО;Телефон;E-mail\nНовикова Вера Павловна;+7 916 555-44-33;vera.n@example.ru\n",
        encoding="utf-8",
    )


def explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("killed (injected)")


@pytest.mark.parametrize(
    ("target", "stage"),
    [
        ("dagster_project.defs.pipeline.ingest_stage", "ingest"),
        ("dagster_project.defs.pipeline.stage_stage", "stage"),
        ("dagster_project.defs.pipeline.resolve_stage", "resolve"),
        ("dagster_project.defs.pipeline.publish_stage", "publish"),
        pytest.param(  # inside publish, while the tables are built
            "pipelines.publishbuild.record_links", "publish", marks=pytest.mark.slow
        ),
        ("pipelines.publication.take_snapshot", "publish"),  # inside the publish transaction
    ],
)
def test_a_run_killed_at_any_stage_changes_nothing_published(
    published: Path, monkeypatch: pytest.MonkeyPatch, target: str, stage: str
) -> None:
    before, mirror = state(published), mirror_bytes(published)
    add_new_customer(published)
    monkeypatch.setattr(target, explode)
    outcome = run_pipeline(published)
    assert not outcome.success
    assert "killed (injected)" in (outcome.failure or "")
    after = state(published)
    assert after.keys() == before.keys()
    for name, frame in before.items():
        assert after[name].equals(frame), name
    assert mirror_bytes(published) == mirror
    with duckdb.connect(str(published / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT status, failed_stage FROM runs WHERE run_id = ?", [outcome.run_id]
        ).fetchone()
    assert row == ("failed", stage)


def test_rerunning_the_same_batch_changes_nothing(published: Path) -> None:
    before = state(published)
    outcome = run_pipeline(published, force=True)  # unforced, nothing would run at all
    assert outcome.success and outcome.run is not None
    assert outcome.run["files_ingested"] == 0 and outcome.run["customers_created"] == 0
    after = state(published)
    for name, frame in before.items():
        if name in ("snapshots", "identity_changes", "profiles_history"):
            continue  # a new snapshot per publish; the run's (empty) change log
        assert (
            after[name]
            .drop("updated_run", strict=False)
            .equals(frame.drop("updated_run", strict=False))
        ), name
    assert after["snapshots"].height == before["snapshots"].height + 1
