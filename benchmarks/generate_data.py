"""Generate benchmark inputs with the sample generator and report time and peak memory.

Examples:
    python benchmarks/generate_data.py --kind csv --records 1000000 --out /tmp/bench/leads.csv
    python benchmarks/generate_data.py --kind xlsx --records 200000 --out /tmp/bench/clients.xlsx
    python benchmarks/generate_data.py --kind commerceml --records 200000000 --out /tmp/bench/1c.xml
    python benchmarks/generate_data.py --kind workspace --records 3000 --out /tmp/bench/ws

For ``commerceml`` ``--records`` is the target file size in bytes; for ``workspace`` it is the
number of people. Truth goes beside data files as ``<file>.truth.csv``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.sample import (  # importable when run as a script (path set above)
    write_benchmark_commerceml,
    write_benchmark_csv,
    write_benchmark_xlsx,
    write_sample_inbox,
)


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("csv", "xlsx", "commerceml", "workspace"), required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--encoding", default="utf-8", help="csv only: utf-8 or cp1251")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.kind == "csv":
        written = write_benchmark_csv(args.out, args.records, args.seed, encoding=args.encoding)
        what = f"{written} rows"
    elif args.kind == "xlsx":
        what = f"{write_benchmark_xlsx(args.out, args.records, args.seed)} rows"
    elif args.kind == "commerceml":
        what = f"{write_benchmark_commerceml(args.out, args.records, args.seed)} contact records"
    else:
        summary = write_sample_inbox(args.out, people=args.records, seed=args.seed)
        what = f"{summary.people} people, {summary.companies} companies, {summary.records} records"
    elapsed = time.perf_counter() - started
    size = args.out.stat().st_size if args.out.is_file() else 0
    print(f"{args.kind}: {what} -> {args.out}" + (f" ({size / 1e6:.1f} MB)" if size else ""))
    print(f"time {elapsed:.1f} s, peak RSS {_peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
