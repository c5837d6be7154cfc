"""What decides a run's result, as a fingerprint: a run whose inputs match the last publish skips.

The fingerprint is cheap by design — batch ids (already content hashes), the bytes of the
settings and the overrides file, and Svod's version — so deciding "nothing changed" costs
milliseconds and never re-reads an inbox file. Svod's version includes a digest of its own
source files, so an edited checkout is not mistaken for the release it was installed as.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from pipelines.rawlake import current_batches
from pipelines.warehouse import table_exists
from pipelines.workspace import Workspace

log = logging.getLogger(__name__)

#: Note on a run that found nothing to do (``runs.note``); the prefix identifies such runs.
UNCHANGED_NOTE = "nothing changed since run {run}; published tables left as they are"
_UNCHANGED_PREFIX = UNCHANGED_NOTE.split("{", 1)[0]
_PACKAGES = ("pipelines", "identity", "quality")
_CODE_SUFFIXES = {".py", ".sql", ".csv", ".json", ".txt"}


def _digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:16]


@cache
def svod_version() -> str:
    """The installed version plus a digest of the package sources (computed once a process)."""
    try:
        release = version("svod")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        release = "unknown"
    code = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts:
                code.update(path.relative_to(root).as_posix().encode())
                code.update(path.read_bytes())
    return f"{release}+{code.hexdigest()[:12]}"


def normalize_fingerprint(ws: Workspace) -> str:
    """Key of the staging cache: the normalise settings and Svod's version."""
    settings = ws.config.normalize.model_dump(mode="json")
    return _digest(json.dumps([settings, svod_version()], sort_keys=True))


def run_fingerprint(ws: Workspace, files: list[dict[str, Any]]) -> dict[str, str]:
    """Each input that decides the published result, hashed; ``files`` is the ingest report.

    Parts: the batches in force, the files that could not be read (they become quarantine
    rows), svod.toml without ``[paths]``, the overrides file and Svod's version.
    """
    batches = sorted(b["batch_id"] for b in current_batches(ws))
    failed = sorted(
        f"{f['source']}|{f['relpath']}|{f.get('sha256')}" for f in files if f["status"] == "failed"
    )
    config = ws.config.model_dump(mode="json", exclude={"paths"})
    steward = ws.root / ws.config.matching.overrides
    return {
        "batches": _digest("\n".join(batches)),
        "failed_files": _digest("\n".join(failed)),
        "config": _digest(json.dumps(config, sort_keys=True, ensure_ascii=False)),
        "overrides": _digest(steward.read_bytes()) if steward.is_file() else "none",
        "version": svod_version(),
    }


def save_fingerprint(ws: Workspace, run_id: str, parts: dict[str, str]) -> None:
    """Keep the fingerprint beside the run's ingest report, for publish to record it."""
    folder = ws.runs_dir / run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fingerprint.json").write_text(json.dumps(parts, indent=2), encoding="utf-8")


def load_fingerprint(ws: Workspace, run_id: str) -> dict[str, str] | None:
    path = ws.runs_dir / run_id / "fingerprint.json"
    if not path.is_file():
        return None
    parts: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return parts


def unchanged_since(con: duckdb.DuckDBPyConnection, parts: dict[str, str]) -> str | None:
    """The run whose publish is current and had these inputs, or None if work is due.

    Current means: the latest run that did any work succeeded (no failure logged after it,
    its published checks included), its publish is the latest snapshot (no rollback since),
    and its fingerprint equals ``parts``.
    """
    if not (table_exists(con, "runs") and table_exists(con, "snapshots")):
        return None
    found = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'runs' AND column_name = 'fingerprint'"
    ).fetchone()
    if not found or not found[0]:  # a warehouse from before fingerprints: do the work
        return None
    last = con.execute(
        "SELECT run_id, status, fingerprint FROM runs "
        "WHERE note IS NULL OR NOT starts_with(note, ?) "
        "ORDER BY finished_at DESC NULLS LAST LIMIT 1",
        [_UNCHANGED_PREFIX],
    ).fetchone()
    snapshot = con.execute(
        "SELECT run_id, kind FROM snapshots ORDER BY snapshot DESC LIMIT 1"
    ).fetchone()
    if last is None or snapshot is None:
        return None
    run_id, status, stored = last
    if status != "success" or snapshot != (run_id, "publish") or stored is None:
        return None
    previous: dict[str, str] = json.loads(stored)
    changed = sorted(k for k in parts.keys() | previous.keys() if parts.get(k) != previous.get(k))
    if changed:
        log.info("inputs changed since the last publish", extra={"changed": changed})
        return None
    return str(run_id)
