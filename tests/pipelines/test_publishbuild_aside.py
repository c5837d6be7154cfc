"""Work the profile build hands to a second thread: same tables, and its failures fail the build."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import publishbuild
from pipelines.config import ProfileConfig
from pipelines.profile import build as profile_build
from pipelines.profile.build import PROFILE_TABLES, build_profile_tables
from pipelines.workspace import Workspace
from tests.pipelines.profile_helpers import (
    SAMPLE_EVENTS,
    SAMPLE_ROWS,
    TODAY,
    events,
    links,
    staged,
)

ROWS, EVENTS = SAMPLE_ROWS, SAMPLE_EVENTS


def _build(sink: profile_build.Sink | None = None) -> dict[str, pl.DataFrame]:
    return build_profile_tables(
        staged(ROWS), links(ROWS), events(EVENTS), ProfileConfig(), TODAY, sink=sink
    )


def test_the_sink_gets_every_table_in_build_order_as_returned_without_it() -> None:
    kept = _build()
    sunk: list[tuple[str, pl.DataFrame]] = []
    assert _build(sink=lambda name, frame: sunk.append((name, frame))) == {}
    order = [name for name, _ in sunk]
    assert order == [
        "golden_values", "identifiers", "companies", "consents", "customer_companies",
        "events", "profiles",
    ]  # fmt: skip
    assert sorted(order) == sorted(PROFILE_TABLES)
    for name, frame in sunk:
        assert_frame_equal(frame, kept[name])
    assert kept["consents"].height > 0 and kept["companies"].height > 0


def test_a_failure_in_the_side_thread_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(frame: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("consent field 'raw_consent_email' unreadable in record sales|1")

    monkeypatch.setattr(profile_build, "consent_statements", broken)
    with pytest.raises(ValueError, match=r"sales\|1"):
        _build()


def test_a_failed_write_aside_fails_the_build_after_the_others_finish(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = publishbuild.spill

    def spill(folder: Path, name: str, frame: pl.DataFrame, *, compress: bool = True) -> Path:
        if name == "profiles":  # written by the second thread
            raise OSError(f"disk full writing {folder / name}.parquet")
        return real(folder, name, frame, compress=compress)

    monkeypatch.setattr(publishbuild, "spill", spill)
    assert "profiles" in publishbuild.WRITTEN_ASIDE
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(OSError, match="disk full"):
        publishbuild.build_tables(Workspace.open(published), scratch, datetime.now(UTC))
    assert (scratch / "profiles_history.parquet").is_file()  # raised once the build was done
    assert not (scratch / "profiles.parquet").exists()


def test_every_file_listed_is_written_and_history_follows_profiles(
    published: Path, tmp_path: Path
) -> None:
    built = publishbuild.build_tables(Workspace.open(published), tmp_path, datetime.now(UTC))
    names = [name for name, _ in built.files]
    assert names[0] == "record_links"
    assert names[-2:] == ["profiles", "profiles_history"]
    for name, path in built.files:
        assert path == tmp_path / f"{name}.parquet" and path.is_file(), name
    profiles = pl.read_parquet(tmp_path / "profiles.parquet")
    assert built.customers == profiles.height > 0
    history = pl.read_parquet(tmp_path / "profiles_history.parquet")
    assert history.get_column("customer_id").equals(profiles.get_column("customer_id"))
