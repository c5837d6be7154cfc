"""Shared fixtures: a small sample workspace written by the real generator."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.sample import write_sample_inbox
from pipelines.workspace import write_sample_config

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

SAMPLE_PEOPLE = 150


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample workspace written once per session; copy it before writing into it."""
    root = tmp_path_factory.mktemp("sample-template")
    write_sample_config(root)
    write_sample_inbox(root, people=SAMPLE_PEOPLE, seed=42)
    return root


@pytest.fixture(scope="session")
def published_template(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workspace after one successful run; copy it before writing into it."""
    from dagster_project.runner import run_pipeline  # Dagster only for tests that need it

    root = tmp_path_factory.mktemp("published") / "ws"
    shutil.copytree(sample_template, root)
    assert run_pipeline(root).success
    return root


@pytest.fixture
def published(published_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the published sample workspace for one test."""
    root = tmp_path / "ws"
    shutil.copytree(published_template, root)
    return root


@pytest.fixture
def workspace(sample_template: Path, tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of the sample workspace for one test."""
    root = tmp_path / "ws"
    shutil.copytree(sample_template, root)
    yield root
