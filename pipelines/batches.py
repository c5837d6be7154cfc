"""Batches as Dagster partitions: one partition per inbox file version.

A partition key names the file and ends with its batch id (``sales:sales/leads.csv@<id>``); the
batch id is the one ingest gives the file (source, path, SHA-256, settings), so a changed file
is a new partition and an unchanged one maps to the batch already in the lake.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.config import SourceConfig
from pipelines.filehash import file_sha256, known_hashes
from pipelines.ingest import (
    FileReport,
    IngestReport,
    _ingest_file,  # one file at a time; ingest() itself reads every file
    batch_id_for,
    discover_files,
)
from pipelines.rawlake import BATCH_MARKER
from pipelines.workspace import Workspace

_BAD = {"...": "…", "\n": " ", "\r": " ", "\t": " ", "\0": "", "\a": "", "\b": "", "\f": ""}


@dataclass(frozen=True)
class Batch:
    """One inbox file as it is now: its source, path, batch id and partition key."""

    source: SourceConfig
    path: Path
    relpath: str
    batch_id: str

    @property
    def key(self) -> str:
        return batch_key(self.source.name, self.relpath, self.batch_id)


def ingested(ws: Workspace, batch: Batch) -> bool:
    """Whether ``batch`` (this version of an inbox file) is in the raw lake already."""
    return (ws.raw_dir / batch.source.name / batch.batch_id / BATCH_MARKER).is_file()


def batch_key(source: str, relpath: str, batch_id: str) -> str:
    """A readable partition key; characters Dagster refuses in keys are replaced."""
    text = f"{source}:{relpath}"
    for bad, good in _BAD.items():
        text = text.replace(bad, good)
    return f"{text}@{batch_id}"


def batch_id_of(key: str) -> str:
    """The batch id at the end of a partition key."""
    return key.rsplit("@", 1)[-1]


def inbox_batches(ws: Workspace, known: dict[str, str] | None = None) -> list[Batch]:
    """Every inbox file with its current batch id.

    ``known`` maps ``relpath|mtime|size`` to a SHA-256 already computed (a sensor's cursor), so
    unchanged files are not hashed again; it is updated in place.
    """
    found = []
    with known_hashes(ws.inbox, known) if known is not None else nullcontext():
        for source, path in discover_files(ws):
            relpath = path.relative_to(ws.inbox).as_posix()
            sha = file_sha256(path)
            found.append(Batch(source, path, relpath, batch_id_for(source, relpath, sha)))
    return found


def ingest_batches(
    ws: Workspace, keys: Collection[str], *, now: datetime | None = None
) -> IngestReport:
    """Ingest only the files whose current batch is one of ``keys``.

    A key whose file has changed or gone since it was registered is reported, not an error: the
    file's new version is its own partition.
    """
    ws.ensure_dirs()
    now = now or datetime.now(UTC)
    wanted = {batch_id_of(k): k for k in keys}
    reports: list[FileReport] = []
    for batch in inbox_batches(ws):
        if batch.batch_id in wanted:
            reports.append(_ingest_file(ws, batch.source, batch.path, now))
            del wanted[batch.batch_id]
    for batch_id, key in sorted(wanted.items()):
        source, _, rest = key.partition(":")
        report = FileReport(source=source, relpath=rest.rsplit("@", 1)[0], status="skipped")
        report.batch_id = batch_id
        report.notes.append("superseded: the file changed or was removed after it was detected")
        reports.append(report)
    return IngestReport(files=reports)
