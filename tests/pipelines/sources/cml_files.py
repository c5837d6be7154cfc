"""The ``SourceFile`` the CommerceML tests read their files as."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipelines.sources.base import SourceFile


def source_file(path: Path) -> SourceFile:
    return SourceFile(
        path=path,
        relpath=f"inbox/{path.name}",
        source="shop",
        kind="commerceml",
        sha256="0" * 64,
        batch_id="b1",
        ingested_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
