"""Per-stage wall time and peak memory, logged as one structured INFO line per stage.

Benchmarks and operators read these lines (``svod run --log-json``) to see where a run spends
its time and memory; they carry names and numbers only, never personal data.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_STATUS = Path("/proc/self/status")
_RSS = re.compile(r"VmRSS:\s+(\d+)\s+kB")
SAMPLE_SECONDS = 0.05


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux), else the peak so far, in MB."""
    try:
        found = _RSS.search(_STATUS.read_text())
    except OSError:
        found = None
    if found is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(found.group(1)) / 1024


def _rss_of(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 when it is gone or not readable)."""
    try:
        found = _RSS.search(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0
    return int(found.group(1)) / 1024 if found else 0.0


def _descendants(pid: int) -> list[int]:
    """Live child processes of ``pid``, their children and so on (Linux ``/proc``)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        try:
            tasks = list(Path(f"/proc/{todo.pop()}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _workers_rss_mb() -> float:
    """Resident memory of this process's live descendants together, in MB."""
    return sum(_rss_of(pid) for pid in _descendants(os.getpid()))


def tree_rss_mb() -> float:
    """Resident memory of this process and every live descendant together, in MB: what the
    machine holds for a run while worker processes overlap the run's own process."""
    return current_rss_mb() + _workers_rss_mb()


def _children_peak_mb() -> float:
    """Peak RSS of the largest finished child process so far (ingest workers), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@dataclass
class StageMeasure:
    """What one measured block took: seconds and the highest resident memory seen (MB)."""

    stage: str
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    workers_peak_rss_mb: float = 0.0  # the largest worker process that ended in the block
    total_peak_rss_mb: float = 0.0  # this process and its live workers together, at most


class _Sampler(threading.Thread):
    """Samples resident memory until stopped; the peak of a stage is not visible afterwards."""

    def __init__(self) -> None:
        super().__init__(name="svod-rss-sampler", daemon=True)
        self.peak = current_rss_mb()
        self.total = tree_rss_mb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            own = current_rss_mb()
            self.peak = max(self.peak, own)
            self.total = max(self.total, own + _workers_rss_mb())


@contextmanager
def measured(stage: str) -> Iterator[StageMeasure]:
    """Time a stage and sample its peak RSS; log ``stage finished`` (or ``stage failed``)."""
    result = StageMeasure(stage)
    sampler = _Sampler()
    sampler.start()
    children = _children_peak_mb()
    started = time.perf_counter()
    status = "failed"
    try:
        yield result
        status = "finished"
    finally:
        sampler.done.set()
        sampler.join()
        result.seconds = round(time.perf_counter() - started, 2)
        result.peak_rss_mb = round(max(sampler.peak, current_rss_mb()), 1)
        result.total_peak_rss_mb = round(max(sampler.total, result.peak_rss_mb), 1)
        if _children_peak_mb() > children:
            result.workers_peak_rss_mb = round(_children_peak_mb(), 1)
        log.info(
            f"stage {status}",
            extra={
                "stage": stage,
                "seconds": result.seconds,
                "peak_rss_mb": result.peak_rss_mb,
                "rss_mb": round(current_rss_mb(), 1),
                "workers_peak_rss_mb": result.workers_peak_rss_mb,
                "total_peak_rss_mb": result.total_peak_rss_mb,
            },
        )
