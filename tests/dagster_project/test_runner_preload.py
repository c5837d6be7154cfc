"""``svod run`` starts importing Great Expectations ahead only when the run will check
something: some inbox file is new, or the run is forced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dagster_project import runner
from pipelines.batches import inbox_batches
from pipelines.workspace import Workspace


def test_files_not_ingested_yet_are_new(workspace: Path) -> None:
    fresh = Workspace.open(workspace)
    assert runner._new_files(fresh, inbox_batches(fresh))


def test_no_file_is_new_once_every_inbox_file_is_ingested(published: Path) -> None:
    done = Workspace.open(published)
    batches = inbox_batches(done)
    assert batches and not runner._new_files(done, batches)


def test_an_unchanged_run_does_not_preload_and_a_forced_one_does(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runner, "preload", lambda: calls.append("preload"))
    assert runner.run_pipeline(published).success
    assert calls == []
    assert runner.run_pipeline(published, force=True).success
    assert calls == ["preload"]


def test_the_ingest_reuses_the_hashes_the_runner_took_for_the_partition_keys(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import ingest as ingest_module

    given: list[dict[str, str] | None] = []
    real = ingest_module._ingest_keys

    def spy(
        root: Path, keys: list[str], now: Any, shares: Any, known: dict[str, str] | None = None
    ) -> Any:
        given.append(known)
        return real(root, keys, now, shares, known)

    monkeypatch.setattr(ingest_module, "_ingest_keys", spy)
    assert runner.run_pipeline(workspace).success
    files = inbox_batches(Workspace.open(workspace))
    assert len(given) == 1 and given[0] is not None
    assert sorted(token.split("|")[0] for token in given[0]) == sorted(b.relpath for b in files)
