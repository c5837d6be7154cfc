"""The ``SourceFile`` the connector tests read their files as (one builder for every connector)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pipelines.sources.base import SourceFile

INGESTED_AT = datetime(2026, 11, 25, tzinfo=UTC)


def source_file(
    path: Path,
    *,
    source: str = "shop",
    kind: str = "commerceml",
    folder: str = "inbox",
    mapping: Mapping[str, str] | None = None,
    options: Mapping[str, object] | None = None,
    ingested_at: datetime = INGESTED_AT,
) -> SourceFile:
    """``path`` as the inbox file ``folder/<name>`` of source ``source`` (batch ``b1``)."""
    return SourceFile(
        path=path,
        relpath=f"{folder}/{path.name}",
        source=source,
        kind=kind,
        sha256="0" * 64,
        batch_id="b1",
        ingested_at=ingested_at,
        mapping=dict(mapping or {}),
        options=dict(options or {}),
    )
