"""Run every benchmark: `python benchmarks/run_all.py [--small]` (CI uses --small)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "pipeline.py",
    "ingest.py",
    "lookup.py",
    "identity.py",
    "incremental.py",
    "normalize.py",
]


def main() -> None:
    small = "--small" in sys.argv[1:]
    for script in BENCHMARKS:
        print(f"== {script}{' (small)' if small else ''}", flush=True)
        cmd = [sys.executable, "-m", f"benchmarks.{Path(script).stem}"]
        subprocess.run(cmd + (["--small"] if small else []), check=True, cwd=HERE.parent)


if __name__ == "__main__":
    main()
