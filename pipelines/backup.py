"""Backups of a whole workspace state: the warehouse file, the lake and ``svod.toml``.

Both directions hold the workspace lock, so no run writes meanwhile (a running one makes them
refuse with the lock's message); DuckDB is checkpointed and closed before its file is copied.
The inbox is the users' own files and is not copied; scratch dry runs are not either.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.config import CONFIG_FILE, load_config
from pipelines.errors import WorkspaceError
from pipelines.workspace import Workspace

MANIFEST = "svod-backup.json"
SKIP_IN_LAKE = {".lock", "dryrun"}


@dataclass(frozen=True)
class BackupInfo:
    folder: Path
    files: int
    bytes: int


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the warehouse file so the file alone is complete."""
    if path.exists():
        with duckdb.connect(str(path)) as con:
            con.execute("CHECKPOINT")


def _copy_lake(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()) if src.is_dir() else []:
        if item.name in SKIP_IN_LAKE or item.name.endswith((".incoming", ".previous")):
            continue
        if item.is_dir():
            shutil.copytree(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)


def _size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def backup(root: Path, target: Path) -> BackupInfo:
    """Copy the workspace state into ``target`` (which must not exist or be empty)."""
    ws = Workspace.open(root)
    if target.exists() and any(target.iterdir()):
        raise WorkspaceError(f"backup folder {target} is not empty; give a new or empty folder")
    with ws.lock():
        _checkpoint(ws.warehouse)
        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        shutil.copy2(ws.root / CONFIG_FILE, tmp / CONFIG_FILE)
        if ws.warehouse.exists():
            shutil.copy2(ws.warehouse, tmp / "warehouse.duckdb")
        _copy_lake(ws.lake, tmp / "lake")
        manifest = {
            "workspace": str(ws.root),
            "created_at": datetime.now(UTC).isoformat(),
            "warehouse": ws.warehouse.exists(),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if target.exists():
            target.rmdir()
        tmp.rename(target)
    files, size = _size(target)
    return BackupInfo(target, files, size)


def restore(root: Path, source: Path) -> BackupInfo:
    """Replace the workspace state (svod.toml, warehouse, lake) with the backup in ``source``."""
    if not (source / MANIFEST).is_file():
        raise WorkspaceError(
            f"{source} is not a Svod backup (no {MANIFEST}); give a folder made by 'svod backup'"
        )
    load_config(source / CONFIG_FILE)  # refuse a backup whose configuration is invalid
    root.mkdir(parents=True, exist_ok=True)
    if not (root / CONFIG_FILE).exists():
        shutil.copy2(source / CONFIG_FILE, root / CONFIG_FILE)
    ws = Workspace.open(root)
    with ws.lock():
        staging = ws.root / ".svod-restore"
        shutil.rmtree(staging, ignore_errors=True)
        _copy_lake(source / "lake", staging / "lake")
        for item in list(ws.lake.iterdir()):
            if item.name == ".lock":
                continue
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()
        for item in (staging / "lake").iterdir():
            item.rename(ws.lake / item.name)
        for suffix in ("", ".wal"):
            Path(f"{ws.warehouse}{suffix}").unlink(missing_ok=True)
        if (source / "warehouse.duckdb").is_file():
            shutil.copy2(source / "warehouse.duckdb", ws.warehouse)
        shutil.copy2(source / CONFIG_FILE, ws.root / CONFIG_FILE)
        shutil.rmtree(staging, ignore_errors=True)
    files, size = _size(source)
    return BackupInfo(source, files, size)
