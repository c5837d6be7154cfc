"""Ingest: read the inbox files of every source into raw batches in the lake.

A batch is one file as read at one moment: ``lake/raw/<source>/<batch_id>/`` holds its records,
its quarantined rows and a ``batch.json`` written last (a batch without it is incomplete and is
read again). The batch id is derived from the source, the file path, its SHA-256 and the source
settings, so a file already ingested is skipped and a changed file (or changed mapping) is a new
batch that supersedes the old one. Reading the lake back is ``pipelines.rawlake``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.config import SourceConfig
from pipelines.errors import SourceFileError
from pipelines.filehash import file_sha256, known_hashes, known_so_far
from pipelines.parallel import helper_shares, run_split
from pipelines.prestage import start_prestage
from pipelines.rawlake import BATCH_MARKER, ROLLED_BACK_MARKER
from pipelines.schema import QUARANTINE_SCHEMA, RAW_SCHEMA
from pipelines.sources import read_file
from pipelines.sources._common import paused_gc
from pipelines.sources.base import SourceFile
from pipelines.workspace import Workspace

log = logging.getLogger(__name__)

#: zstd level of the batch files: level 1 writes the 1M inbox's batches with a sixth less CPU
#: than the default (3) at the same size (74.5 vs 75.5 MB); the values read back are the same.
_ZSTD_LEVEL = 1


@dataclass
class FileReport:
    """What happened to one inbox file in this run."""

    source: str
    relpath: str
    status: str  # "ingested" | "skipped" | "failed"
    batch_id: str | None = None
    sha256: str | None = None
    records: int = 0
    quarantined: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return self.records + self.quarantined


@dataclass
class IngestReport:
    """Per-file outcome of an ingest run."""

    files: list[FileReport]

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.files]


def batch_id_for(source: SourceConfig, relpath: str, sha256: str) -> str:
    """Deterministic batch id: same file + same settings → same batch."""
    settings = json.dumps(
        {"kind": source.kind, "options": source.options, "mapping": source.mapping},
        sort_keys=True,
        ensure_ascii=False,
    )
    key = "\0".join((source.name, relpath, sha256, settings))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def discover_files(ws: Workspace) -> list[tuple[SourceConfig, Path]]:
    """Inbox files per source, in a stable order; a file two sources claim goes to the first."""
    claimed: set[Path] = set()
    found: list[tuple[SourceConfig, Path]] = []
    for source in ws.config.sources:
        for path in sorted(ws.inbox.glob(source.path)):
            if path.is_file() and not path.name.startswith((".", "~$")) and path not in claimed:
                claimed.add(path)
                found.append((source, path))
    return found


def _ingest_file(ws: Workspace, source: SourceConfig, path: Path, now: datetime) -> FileReport:
    relpath = path.relative_to(ws.inbox).as_posix()
    sha = file_sha256(path)
    batch_id = batch_id_for(source, relpath, sha)
    report = FileReport(
        source=source.name, relpath=relpath, status="ingested", batch_id=batch_id, sha256=sha
    )
    batch_dir = ws.raw_dir / source.name / batch_id
    if (batch_dir / ROLLED_BACK_MARKER).is_file():
        report.status = "skipped"
        report.notes.append(
            "rolled back by 'svod rollback'; change or rename the file to ingest it again"
        )
        return report
    if (batch_dir / BATCH_MARKER).is_file():
        report.status = "skipped"
        report.notes.append("already ingested (same content and settings)")
        return report
    file = SourceFile(
        path=path,
        relpath=relpath,
        source=source.name,
        kind=source.kind,
        sha256=sha,
        batch_id=batch_id,
        ingested_at=now,
        options=source.options,
        mapping=source.mapping,
        helper_share=(_HELPER_SHARES.get() or {}).get(relpath),
    )
    try:
        with paused_gc():
            result, events = read_file(file)
    except SourceFileError as exc:
        report.status, report.error = "failed", str(exc)
        log.warning(
            "file failed", extra={"file": relpath, "source": source.name, "error": str(exc)}
        )
        return report
    tmp = batch_dir.with_name(batch_id + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write = partial(pl.DataFrame.write_parquet, compression_level=_ZSTD_LEVEL)
    write(result.records.select(list(RAW_SCHEMA)), tmp / "records.parquet")
    write(result.quarantine.select(list(QUARANTINE_SCHEMA)), tmp / "quarantine.parquet")
    if events is not None:
        write(events.with_columns(batch_id=pl.lit(batch_id)), tmp / "events.parquet")
    report.records, report.quarantined, report.notes = (
        result.records.height,
        result.quarantine.height,
        result.notes,
    )
    meta = {
        "source": source.name,
        "relpath": relpath,
        "sha256": sha,
        "batch_id": batch_id,
        "ingested_at": now.isoformat(),
        "records": report.records,
        "quarantined": report.quarantined,
    }
    (tmp / BATCH_MARKER).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    shutil.rmtree(batch_dir, ignore_errors=True)
    tmp.rename(batch_dir)
    log.info(
        "file ingested",
        extra={
            "file": relpath,
            "source": source.name,
            "records": report.records,
            "quarantined": report.quarantined,
        },
    )
    return report


#: Relative path → ``SourceFile.helper_share`` for the files the current worker reads.
_HELPER_SHARES: ContextVar[Mapping[str, float | None] | None] = ContextVar(
    "helper_shares", default=None
)


def _ingest_paths(
    root: Path, relpaths: list[str], now: datetime, shares: Mapping[str, float | None]
) -> list[FileReport]:
    """Worker: ingest these inbox files (by relative path) of the workspace at ``root``."""
    ws = Workspace.open(root)
    wanted = set(relpaths)
    token = _HELPER_SHARES.set(shares)
    try:
        return [
            _ingest_file(ws, source, path, now)
            for source, path in discover_files(ws)
            if path.relative_to(ws.inbox).as_posix() in wanted
        ]
    finally:
        _HELPER_SHARES.reset(token)


def _ingest_keys(
    root: Path,
    keys: list[str],
    now: datetime,
    shares: Mapping[str, float | None],
    known: Mapping[str, str] | None = None,
) -> list[FileReport]:
    """Worker: ingest the batches ``keys`` names (see ``pipelines.batches``); ``known``: inbox
    files' hashes taken already (see ``known_hashes``)."""
    from pipelines.batches import ingest_batches  # batches imports this module

    ws = Workspace.open(root)
    token = _HELPER_SHARES.set(shares)
    try:
        with known_hashes(ws.inbox, dict(known or {})):
            return ingest_batches(ws, keys, now=now).files
    finally:
        _HELPER_SHARES.reset(token)


def ingest_keys(ws: Workspace, keys: Sequence[str], now: datetime) -> IngestReport:
    """``ingest_batches`` over the batch ``keys``, split across worker processes when large.

    The reports come back in the order of ``keys``, as if one process had read them.
    """
    from pipelines.batches import batch_key  # batches imports this module

    ws.ensure_dirs()
    paths = {
        batch_key(source.name, path.relative_to(ws.inbox).as_posix(), ""): path
        for source, path in discover_files(ws)
    }
    found = [paths.get(key.rsplit("@", 1)[0] + "@") for key in keys]
    sizes = [path.stat().st_size if path else 0 for path in found]
    shares = {
        path.relative_to(ws.inbox).as_posix(): share
        for path, share in zip(found, helper_shares(sizes), strict=True)
        if path is not None
    }
    known = known_so_far()
    work = partial(_ingest_keys, shares=shares, known=known)
    early = partial(start_prestage, ws.root)
    reports = run_split(work, ws.root, list(keys), sizes, now, early=early)
    order = {key.rsplit("@", 1)[-1]: i for i, key in enumerate(keys)}
    return IngestReport(
        files=sorted(reports, key=lambda r: order.get(r.batch_id or "", len(order)))
    )


def ingest(ws: Workspace, *, now: datetime | None = None) -> IngestReport:
    """Read every new or changed inbox file into a raw batch; report each file's outcome.

    Large inboxes are read by two worker processes side by side (see ``pipelines.parallel``);
    the batches of the one done first are staged ahead while the other reads
    (``pipelines.prestage``).
    """
    ws.ensure_dirs()
    now = now or datetime.now(UTC)
    files = discover_files(ws)
    relpaths = [path.relative_to(ws.inbox).as_posix() for _, path in files]
    sizes = [path.stat().st_size for _, path in files]
    shares = dict(zip(relpaths, helper_shares(sizes), strict=True))
    work = partial(_ingest_paths, shares=shares)
    reports = run_split(work, ws.root, relpaths, sizes, now, early=partial(start_prestage, ws.root))
    order = {relpath: i for i, relpath in enumerate(relpaths)}
    return IngestReport(files=sorted(reports, key=lambda r: order.get(r.relpath, len(order))))


def failed_file_quarantine(report: IngestReport) -> pl.DataFrame:
    """One quarantine row per file that could not be read, so the failure is visible in tables."""
    rows = [
        {
            "record_key": f"{f.source}|{f.relpath}",
            "source": f.source,
            "source_file": f.relpath,
            "source_sheet": None,
            "source_row": None,
            "batch_id": f.batch_id,
            "stage": "ingest",
            "reason": "file_unreadable",
            "field": None,
            "detail": f.error,
            "raw": None,
        }
        for f in report.files
        if f.status == "failed"
    ]
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)
