"""Dagster resources: the Svod workspace and the DuckDB warehouse built from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.config import CONFIG_FILE, PathsConfig, load_config
from pipelines.errors import ConfigError
from pipelines.workspace import Workspace, default_workspace_path


class SvodWorkspace(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The workspace folder a run reads and writes (default: ``$SVOD_WORKSPACE`` or ``data/``)."""

    path: str | None = None

    def root(self) -> Path:
        return Path(self.path) if self.path else default_workspace_path()

    def open(self) -> Workspace:
        return Workspace.open(self.root())


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connection is closed even when the block using it raises.

    dagster-duckdb 0.29's ``get_connection`` closes only on success; a leaked connection keeps
    the file open and blocks the next connection with another configuration.
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        config = {"custom_user_agent": "svod", **self.connection_config}
        conn = duckdb.connect(self.database, read_only=False, config=config)
        try:
            yield conn
        finally:
            conn.close()


def warehouse_path(root: Path) -> Path:
    """The warehouse file of a workspace (falls back to the default name before it exists)."""
    try:
        paths = load_config(root / CONFIG_FILE).paths
    except ConfigError:
        paths = PathsConfig()
    return root / paths.warehouse


def build_resources(root: Path) -> dict[str, object]:
    """Resources for one workspace: what the definitions and the CLI both use."""
    return {
        "workspace": SvodWorkspace(path=str(root)),
        "duckdb": WarehouseResource(database=str(warehouse_path(root))),
    }
