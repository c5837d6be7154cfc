"""A workspace: one folder holding ``svod.toml``, ``inbox/``, ``lake/`` and ``warehouse.duckdb``.

This module is the one place that turns the configuration into paths, so every stage, the CLI
and Dagster agree on where things live.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import CONFIG_FILE, SvodConfig, load_config
from pipelines.errors import WorkspaceError

DEFAULT_WORKSPACE = Path("data")
WORKSPACE_ENV = "SVOD_WORKSPACE"
_HELD: dict[Path, int] = {}

SAMPLE_CONFIG = """\
# Svod workspace configuration. Paths are relative to this folder.
# Each [[sources]] entry: a name, a connector kind (spreadsheet, commerceml, webform, tickets)
# and a glob of files under inbox/. Optional [sources.options] and [sources.mapping]
# ("Source header" = "svod_field") override what Svod detects.

[paths]
inbox = "inbox"
lake = "lake"
warehouse = "warehouse.duckdb"

[normalize]
default_region = "RU"

[matching]
link_on = ["phone", "email", "inn"]
max_records_per_identifier = 25

[[sources]]
name = "sales"
kind = "spreadsheet"
path = "sales/*"

[[sources]]
name = "onec"
kind = "commerceml"
path = "1c/*.xml"

[[sources]]
name = "forms"
kind = "webform"
path = "forms/*"

[[sources]]
name = "helpdesk"
kind = "tickets"
path = "tickets/*"
"""


def default_workspace_path() -> Path:
    """The workspace used when none is given: ``$SVOD_WORKSPACE`` or ``data/``."""
    return Path(os.environ.get(WORKSPACE_ENV, str(DEFAULT_WORKSPACE)))


@dataclass(frozen=True)
class Workspace:
    """Resolved paths of a workspace plus its validated configuration."""

    root: Path
    config: SvodConfig

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        """Load and validate the workspace at ``root`` (default: ``default_workspace_path()``)."""
        path = (root or default_workspace_path()).resolve()
        if not path.is_dir():
            raise WorkspaceError(
                f"workspace folder {path} does not exist; "
                f"create one with 'svod sample --workspace {path}'"
            )
        return cls(root=path, config=load_config(path / CONFIG_FILE))

    @property
    def inbox(self) -> Path:
        return self.root / self.config.paths.inbox

    @property
    def lake(self) -> Path:
        return self.root / self.config.paths.lake

    @property
    def warehouse(self) -> Path:
        return self.root / self.config.paths.warehouse

    @property
    def raw_dir(self) -> Path:
        return self.lake / "raw"

    @property
    def staged_dir(self) -> Path:
        return self.lake / "staged"

    @property
    def identity_dir(self) -> Path:
        return self.lake / "identity"

    @property
    def published_dir(self) -> Path:
        return self.lake / "published"

    @property
    def runs_dir(self) -> Path:
        return self.lake / "runs"

    def ensure_dirs(self) -> None:
        """Create the workspace folders a run writes to."""
        for folder in (self.inbox, self.raw_dir, self.staged_dir, self.identity_dir, self.runs_dir):
            folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace's write lock; a second run is refused with a clear message.

        Re-entrant within one process, so a CLI run that holds it can run stages that take it.
        """
        self.lake.mkdir(parents=True, exist_ok=True)
        path = self.lake / ".lock"
        if _HELD.get(path, 0):
            _HELD[path] += 1
            try:
                yield
            finally:
                _HELD[path] -= 1
            return
        with path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceError(
                    f"another Svod run is writing to {self.root} (lock {path}); "
                    "wait for it to finish, then run again"
                ) from None
            _HELD[path] = 1
            try:
                yield
            finally:
                _HELD[path] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


def write_sample_config(root: Path) -> Path:
    """Write the sample ``svod.toml`` into ``root`` and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG_FILE
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    return path
