"""Source connectors: one module per kind, each ``read(file: SourceFile) -> ReadResult``."""

from __future__ import annotations

import importlib

import polars as pl

from pipelines.sources.base import Connector, ReadResult, SourceFile

#: Connector module of each source kind named in ``svod.toml``.
CONNECTOR_MODULES: dict[str, str] = {
    "spreadsheet": "pipelines.sources.spreadsheets",
    "commerceml": "pipelines.sources.commerceml",
    "webform": "pipelines.sources.webforms",
    "tickets": "pipelines.sources.tickets",
    "auto": "pipelines.sources.detect",  # detects one of the above from the file
}


def connector_for(kind: str) -> Connector:
    """The ``read`` function of a source kind (imported on first use)."""
    module = importlib.import_module(CONNECTOR_MODULES[kind])
    reader: Connector = module.read
    return reader


def read_file(file: SourceFile) -> tuple[ReadResult, pl.DataFrame | None]:
    """Read a file in one pass: its records and, for kinds that carry them, its events."""
    module = importlib.import_module(CONNECTOR_MODULES[file.kind])
    if hasattr(module, "read_with_events"):
        result, events = module.read_with_events(file)
        return result, events
    reader: Connector = module.read
    return reader(file), None
