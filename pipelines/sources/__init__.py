"""Source connectors: one module per kind, each ``read(file: SourceFile) -> ReadResult``."""

from __future__ import annotations

import importlib

from pipelines.sources.base import Connector

#: Connector module of each source kind named in ``svod.toml``.
CONNECTOR_MODULES: dict[str, str] = {
    "spreadsheet": "pipelines.sources.spreadsheets",
    "commerceml": "pipelines.sources.commerceml",
    "webform": "pipelines.sources.webforms",
    "tickets": "pipelines.sources.tickets",
}


def connector_for(kind: str) -> Connector:
    """The ``read`` function of a source kind (imported on first use)."""
    module = importlib.import_module(CONNECTOR_MODULES[kind])
    reader: Connector = module.read
    return reader
