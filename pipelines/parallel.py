"""Run ingest work in two worker processes when the inbox is large enough to pay for them.

Reading a file is CPU-bound Python (XML, JSON, spreadsheets), so threads do not help; each
worker process reads whole files and writes their raw batches itself, and only the small
per-file reports come back. Files are dealt largest first to the least-loaded worker, so a
big CommerceML export runs beside all the small files; the reports of the worker done first
can be handed over at once (``early``) so that its core is put to use. Small inboxes (tests,
the sample) stay in this process: starting a worker costs about a second.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pipelines.logs import JsonFormatter, configure

log = logging.getLogger(__name__)

#: Below this many bytes in total the work runs in this process.
PARALLEL_FROM_BYTES = 64 << 20
MAX_WORKERS = 2

T = TypeVar("T")
R = TypeVar("R")


def deal(sizes: Sequence[int], workers: int) -> list[list[int]]:
    """Indexes of ``sizes`` split into ``workers`` groups of similar total (largest first)."""
    groups: list[list[int]] = [[] for _ in range(max(1, workers))]
    totals = [0] * len(groups)
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        least = totals.index(min(totals))
        groups[least].append(i)
        totals[least] += sizes[i]
    return [sorted(g) for g in groups if g]


def worker_count(sizes: Sequence[int]) -> int:
    """How many processes to use: 1 for small inboxes, else up to two (one per core)."""
    if len(sizes) < 2 or sum(sizes) < PARALLEL_FROM_BYTES:
        return 1
    return max(1, min(MAX_WORKERS, len(sizes), os.cpu_count() or 1))


#: A file's helper process takes no more than this part of it, and nothing below the minimum
#: (starting it and joining its part cost more than that part saves).
MAX_HELPER_SHARE = 0.45
MIN_HELPER_SHARE = 0.1
#: Beside two workers a helper is a third process on two cores: it starts Python, logs every Ид
#: check for the join, and all three slow each other down. At the 1M inbox a helper taking 93 MB
#: of the CommerceML cost 4.5 CPU-s (ingest 28.5-29.0 → 23.4-24.9 CPU-s without it) and could
#: save about nothing in wall time (the balanced three-process run takes as long as the file's
#: worker alone). It is used only when the file's excess over the other worker is this large,
#: so that the wall time it saves is worth the CPU it costs.
MIN_HELPER_BYTES = 192 << 20


def helper_shares(sizes: Sequence[int]) -> list[float | None]:
    """The part of each file a connector may give to a helper process (by file size).

    With worker processes, a file alone in its group that is larger than what each other
    worker reads would hold up the run: a helper takes its excess, ``1 - others / size``, and the
    three processes share the two cores so that all end about together, if that excess is at
    least :data:`MIN_HELPER_BYTES`. Any other file gets 0 (its core is busy anyway). Without
    workers there is no advice (None): one core is free.
    """
    workers = worker_count(sizes)
    if workers < 2:
        return [None] * len(sizes)
    shares: list[float | None] = [0.0] * len(sizes)
    for group in deal(sizes, workers):
        if len(group) == 1 and (size := sizes[group[0]]) > 0:
            others = (sum(sizes) - size) / (workers - 1)
            share = min(1 - others / size, MAX_HELPER_SHARE)
            worth = share >= MIN_HELPER_SHARE and size - others >= MIN_HELPER_BYTES
            shares[group[0]] = share if worth else 0.0
    return shares


def _init_worker(level: int, json_lines: bool) -> None:
    configure(level, json_lines=json_lines)


def _log_setup() -> tuple[int, bool]:
    """The parent's log level and format, so workers' log lines look the same."""
    logger = logging.getLogger("pipelines")
    json_lines = any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers)
    return logger.getEffectiveLevel(), json_lines


#: Called with the reports of the first worker to finish while another still reads; returns
#: what to call once every worker has ended (``True``: the ingest failed or was interrupted).
Early = Callable[[list[R]], Callable[[bool], None]]


def run_split(
    work: Callable[[Path, list[T], datetime], list[R]],
    root: Path,
    items: Sequence[T],
    sizes: Sequence[int],
    now: datetime,
    *,
    early: Early[R] | None = None,
) -> list[R]:
    """``work(root, group, now)`` over groups of ``items``, in worker processes when worth it.

    ``work`` must be a module-level function (it is pickled by name). Results come back in
    group order; the caller restores its own order. Each worker has a pool of its own, so a
    worker that is done exits (its memory goes back) while the others still read, and
    ``early`` may use its core.
    """
    workers = worker_count(sizes)
    if workers == 1:
        return work(root, list(items), now)
    groups = deal(sizes, workers)
    log.info("reading files in parallel", extra={"workers": len(groups), "files": len(items)})
    context = multiprocessing.get_context("spawn")  # fork is unsafe with polars' threads
    finish: Callable[[bool], None] | None = None
    failed = True
    with ExitStack() as stack:
        pools = [
            stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=_log_setup(),
                )
            )
            for _ in groups
        ]
        futures = [
            pool.submit(work, root, [items[i] for i in group], now)
            for pool, group in zip(pools, groups, strict=True)
        ]
        try:
            pending: set[Future[list[R]]] = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pools[futures.index(future)].shutdown()  # its process ends
                ok = all(f.exception() is None for f in done)
                if early is not None and finish is None and pending and ok:
                    finish = early([result for f in done for result in f.result()])
            results = [result for future in futures for result in future.result()]
            failed = False
        finally:
            if finish is not None:
                finish(failed)
    return results


def run_in_child(work: Callable[..., R], *args: Any) -> R:
    """``work(*args)`` in one fresh (spawned) process; its memory goes back when it ends.

    ``work`` must be a module-level function; an exception in it is raised here.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_init_worker, initargs=_log_setup()
    ) as pool:
        return pool.submit(work, *args).result()
