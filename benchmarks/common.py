"""Helpers shared by the benchmark scripts: timing, peak memory, result files."""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory so far of this process (or of its finished children), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def run_measured(cmd: list[str], **kwargs: Any) -> tuple[float, float]:
    """Run a command in a child process; return (seconds, its peak RSS in MB)."""
    # RUSAGE_CHILDREN reports the largest child so far, so measure in a fresh helper process
    probe = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();r=subprocess.run(sys.argv[1:]);"
        "print(json.dumps([r.returncode,time.perf_counter()-t,"
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=False, **kwargs
    )
    code, seconds, rss = json.loads(done.stdout.strip().splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"{cmd} failed ({code}):\n{done.stderr[-3000:]}")
    return float(seconds), float(rss)


def save(name: str, result: dict[str, Any]) -> Path:
    """Write a benchmark's figures to benchmarks/out/<name>.json and print them."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"machine": f"{platform.machine()} {platform.python_version()}", **result}
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return path


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
