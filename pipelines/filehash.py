"""SHA-256 of inbox files, each read once per run.

The runner hashes the inbox for its partition keys; each ingest worker would hash every file
again to find its batches, and its own files once more to ingest them. Within
``known_hashes`` a file's hash is taken from (and recorded in) the run's table instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

#: (inbox, ``relpath|mtime_ns|size`` → SHA-256) of the inbox files hashed so far in this run
_KNOWN_SHA256: ContextVar[tuple[Path, dict[str, str]] | None] = ContextVar(
    "known_sha256", default=None
)


@contextmanager
def known_hashes(inbox: Path, known: dict[str, str]) -> Iterator[dict[str, str]]:
    """Within: ``file_sha256`` of an inbox file reuses (and records in ``known``) its hash,
    keyed ``relpath|mtime_ns|size`` (also the inbox sensor's cursor, which is such a table)."""
    token = _KNOWN_SHA256.set((inbox, known))
    try:
        yield known
    finally:
        _KNOWN_SHA256.reset(token)


def known_so_far() -> dict[str, str] | None:
    """The hashes of the enclosing ``known_hashes``, if any (to hand to worker processes)."""
    known = _KNOWN_SHA256.get()
    return known[1] if known is not None else None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks so large files stay out of memory."""
    known = _KNOWN_SHA256.get()
    memo = None
    if known is not None and path.is_relative_to(known[0]):
        stat = path.stat()
        memo = f"{path.relative_to(known[0]).as_posix()}|{stat.st_mtime_ns}|{stat.st_size}"
        if (sha := known[1].get(memo)) is not None:
            return sha
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if known is not None and memo is not None:
        known[1][memo] = digest.hexdigest()
    return digest.hexdigest()
