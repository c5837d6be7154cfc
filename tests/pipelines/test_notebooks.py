"""The analyst notebooks run as plain scripts on the sample workspace (as in CI)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from dagster_project.runner import run_pipeline

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.py"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_sample(
    notebook: Path, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = run_pipeline(workspace)
    assert outcome.success, outcome.failure
    out = tmp_path / "plots"
    monkeypatch.setenv("SVOD_WORKSPACE", str(workspace))
    monkeypatch.setenv("SVOD_NOTEBOOK_OUT", str(out))
    runpy.run_path(str(notebook), run_name="__main__")
    plots = sorted(p.name for p in out.glob("*.png"))
    assert plots, "the notebook wrote no plot"
    assert all((out / p).stat().st_size > 1000 for p in plots)


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS
