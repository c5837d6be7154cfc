"""Stage the batches of the ingest worker that finished first while the other one still reads.

At the 1M inbox one worker reads the big CommerceML file for ~5 s after the other has read
every other file, and that core would sit idle. A fresh child interpreter (not the finished
worker: its memory is already given back) stages those batches into the per-batch stage cache
(``pipelines.stagecache``), smallest first, one whole batch at a time, so that the stage finds
them cached. When the ingest ends the child starts no other batch (its stdin is closed) and
finishes the one it is on beside the ingest checks; the stage waits for it first (it holds
``lake/staged/prestage.lock`` until it exits), so the two never write one entry.

A cache entry is keyed by the normalise settings, Svod's version, the batch id (source, file,
content, settings) and the size and mtime of the batch's records file, and written under a
temporary name, so an entry made here is exactly what the stage would make, and one for a
batch the run never uses (ingest checks failed, batch superseded or rolled back later) is
never looked up and is pruned by the next stage. Pre-staging is an optimisation only: if it
fails, the stage stages those batches itself (and reports a damaged batch then).
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipelines.rawlake import current_batches
from pipelines.workspace import Workspace

if TYPE_CHECKING:
    from pipelines.ingest import FileReport

log = logging.getLogger(__name__)

#: Below this many freshly ingested records no process is started: it costs about 0.3 CPU-s.
PRESTAGE_FROM_ROWS = 100_000
LOCK_FILE = "prestage.lock"
#: Children started by this process and not yet waited for, with their stderr files.
_RUNNING: list[tuple[subprocess.Popen[bytes], IO[str]]] = []


def start_prestage(root: Path, reports: Sequence[FileReport]) -> Callable[[bool], None]:
    """Start staging the batches these reports ingested; returns what to call when the ingest
    ends (``abort``: it failed: the child is killed and waited for; else it is told to stop
    after its current batch, and ``wait_for_prestage`` waits for it)."""
    ids = [r.batch_id for r in reports if r.status == "ingested" and r.batch_id]
    if sum(r.records for r in reports if r.status == "ingested") < PRESTAGE_FROM_ROWS:
        return _nothing
    from pipelines.stagecache import cache_dir  # stagecache imports this module

    ws = Workspace.open(root)
    staged_dir = ws.staged_dir
    # this process's key: its stage (if here) then uses the same one, as its staging workers do
    cache = cache_dir(ws)
    lock = staged_dir / LOCK_FILE
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the child inherits it: held till it ends
    except BlockingIOError:  # a child of an earlier ingest is still writing: leave it be
        os.close(fd)
        return _nothing
    errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by wait_for_prestage)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__, str(root), str(cache), *ids],
            stdin=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "POLARS_MAX_THREADS": "1"},  # the other core reads CommerceML
            pass_fds=(fd,),
        )
    finally:
        os.close(fd)
    _RUNNING.append((proc, errors))
    # started, not done: the stage finds what it staged by then (it may be stopped sooner)
    log.info("pre-staging started", extra={"batches": len(ids)})

    def finish(abort: bool) -> None:
        if abort:
            proc.kill()
        if proc.stdin is not None:
            proc.stdin.close()  # no further batch
        if abort:
            wait_for_prestage(staged_dir)

    return finish


def _nothing(abort: bool) -> None:
    return None


def wait_for_prestage(staged_dir: Path) -> None:
    """Until no pre-staging child writes into the stage cache under ``staged_dir`` (the
    workspace's ``lake/staged``); any failure of this process's children is logged."""
    lock = staged_dir / LOCK_FILE
    if lock.is_file():
        with lock.open("a") as handle:  # a child of another process holds it too
            fcntl.flock(handle, fcntl.LOCK_EX)
            fcntl.flock(handle, fcntl.LOCK_UN)
    while _RUNNING:
        proc, errors = _RUNNING.pop()
        code = proc.wait()
        if code not in (0, -signal.SIGKILL):  # killed: the ingest failed
            errors.seek(0)
            lines = [line for line in errors.read().splitlines() if line.strip()]
            log.warning(
                "pre-staging failed; the stage stages those batches itself",
                extra={"error": lines[-1] if lines else f"exit code {code}"},
            )
        errors.close()


def prestage(root: Path, cache: Path, batch_ids: Sequence[str], stopped: Callable[[], bool]) -> int:
    """Cache the staging of these batches in ``cache`` (``stagecache.cache_dir``) if in force and
    not cached, smallest first, until ``stopped()``. Returns how many were staged."""
    # here, not at the top: stagecache imports this module (the stage waits for pre-staging)
    from pipelines.stagecache import stage_into_cache, uncached
    from pipelines.stagework import CHUNK_ROWS, Chunk, stage_chunk

    ws = Workspace.open(root)
    region = ws.config.normalize.default_region
    in_force = {b["batch_id"]: b for b in current_batches(ws)}
    todo = uncached(cache, [in_force[i] for i in batch_ids if i in in_force])

    def here(chunks: list[Chunk], region: str) -> None:
        for chunk in chunks:
            stage_chunk(chunk, region, threads=False)

    staged = 0
    for batch in sorted(todo, key=lambda b: (b["records"] + b["quarantined"], b["batch_id"])):
        if stopped():
            break
        stage_into_cache([batch], cache, region, CHUNK_ROWS, run=here)
        staged += 1
    return staged


def _stdin_closed() -> bool:
    """Whether the parent closed our stdin (the ingest ended) or is gone."""
    return bool(select.select([sys.stdin], [], [], 0)[0])


def _main(argv: list[str]) -> None:
    """Child entry: ``python -m pipelines.prestage ROOT CACHE_DIR BATCH_ID...``; stops at EOF on
    stdin."""
    root, cache, *ids = argv
    logging.basicConfig(level=logging.WARNING)
    try:
        prestage(Path(root), Path(cache), ids, _stdin_closed)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    _main(sys.argv[1:])
