"""Ingest benchmark: connector throughput and peak memory per input format.

    python -m benchmarks.ingest            # 1M rows as CSV and as XLSX, a 200 MB CommerceML file
    python -m benchmarks.ingest --small    # CI: 20k rows, a 5 MB CommerceML file
    python -m benchmarks.ingest --formats cml,cml-one-pass   # CommerceML only, both readers

Inputs are written once by the sample generator (``pipelines.sample.write_benchmark_*``) and
cached under ``benchmarks/out/ingest-inputs/``. Each format is read in a fresh process, so the
peak RSS reported is that format's own: the connector ``read`` plus the Parquet write that ingest
does. Targets (2-core machine): CSV ≥ 150k rows/s, XLSX ≥ 30k rows/s, CommerceML ≥ 20 MB/s,
peak RSS ≤ 1 GB (of the largest process: a CommerceML file ≥ 64 MiB is read in two).

The CommerceML file has far repeats: 30% of its orders are placed by a counterparty from anywhere
earlier in the file, as regular customers do in a real 1C export, so an Ид often appears in both
halves the two-process reader cuts the file into. ``cml-one-pass`` reads the same file in one
process (the reader used below 64 MiB), for comparison. ``read_cpu_seconds`` is the CPU time of
the reading process and of its child (the second half's reader): on a shared machine the wall
time hides whether the second core helped, the larger of the two shows it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, Timer, run_measured, save

INPUTS = OUT / "ingest-inputs"
TARGETS = {
    "csv": ("rows_per_s", 150_000),
    "xlsx": ("rows_per_s", 30_000),
    "cml": ("mb_per_s", 20),
    "cml-one-pass": ("mb_per_s", 20),
}
RSS_TARGET_MB = 1024
KINDS = {"csv": "spreadsheet", "xlsx": "spreadsheet", "cml": "commerceml"}
KINDS["cml-one-pass"] = "commerceml"
#: Share of CommerceML orders placed by a counterparty met anywhere earlier in the file.
FAR_REPEATS = 0.3


def _input(fmt: str, size: int) -> Path:
    """The cached input of a format (written now if missing): ``size`` rows, or bytes for cml."""
    from pipelines.sample import (
        write_benchmark_commerceml,
        write_benchmark_csv,
        write_benchmark_xlsx,
    )

    if fmt.startswith("cml"):
        fmt, path = "cml", INPUTS / f"bench-far{FAR_REPEATS * 100:.0f}-{size}.xml"
    else:
        path = INPUTS / f"bench-{size}.{fmt}"
    done = path.with_name(path.name + ".done")
    if not done.is_file():
        INPUTS.mkdir(parents=True, exist_ok=True)
        with Timer() as gen:
            if fmt == "csv":
                write_benchmark_csv(path, size)
            elif fmt == "xlsx":
                write_benchmark_xlsx(path, size)
            else:
                write_benchmark_commerceml(path, size, far_repeats=FAR_REPEATS)
        done.write_text(f"{gen.seconds:.1f}", encoding="utf-8")
        print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {gen.seconds:.0f} s")
    return path


def measure(fmt: str, path: Path) -> dict[str, Any]:
    """Read one file as ingest does (connector + Parquet write); run in its own process."""
    from pipelines.sources import _cml_parallel, read_file
    from pipelines.sources.base import SourceFile

    if fmt == "cml-one-pass":
        _cml_parallel.THRESHOLD_BYTES = 1 << 62

    file = SourceFile(
        path=path,
        relpath=path.name,
        source="bench",
        kind=KINDS[fmt],
        sha256="-",
        batch_id="bench",
        ingested_at=datetime.now(UTC),
    )
    started, cpu = time.perf_counter(), _cpu()
    result, events = read_file(file)
    read_seconds = time.perf_counter() - started
    read_cpu = [after - before for after, before in zip(_cpu(), cpu, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result.records.write_parquet(Path(tmp) / "records.parquet")
        result.quarantine.write_parquet(Path(tmp) / "quarantine.parquet")
        if events is not None:
            events.write_parquet(Path(tmp) / "events.parquet")
        write_seconds = time.perf_counter() - started
    return {
        "records": result.records.height,
        "quarantined": result.quarantine.height,
        "events": 0 if events is None else events.height,
        "read_seconds": read_seconds,
        "read_cpu_seconds": read_cpu,
        "write_seconds": write_seconds,
    }


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _run(fmt: str, path: Path) -> dict[str, Any]:
    report = OUT / f"ingest-{fmt}.tmp.json"
    cmd = [sys.executable, "-m", "benchmarks.ingest", "--measure", fmt, str(path), str(report)]
    wall, rss = run_measured(cmd, cwd=Path(__file__).resolve().parent.parent)
    figures = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    rows = figures["records"] + figures["quarantined"]
    size_mb = path.stat().st_size / 1e6
    seconds = figures["read_seconds"] + figures["write_seconds"]
    out = {
        "file_mb": round(size_mb, 1),
        "rows_in": rows,
        **{k: figures[k] for k in ("records", "quarantined", "events")},
        "read_seconds": round(figures["read_seconds"], 2),
        # on a busy machine wall time hides a second core; CPU time of each process does not
        "read_cpu_seconds": [round(s, 2) for s in figures["read_cpu_seconds"]],
        "parquet_write_seconds": round(figures["write_seconds"], 2),
        "process_wall_seconds": round(wall, 2),
        "rows_per_s": round(rows / seconds),
        "mb_per_s": round(size_mb / seconds, 1),
        "peak_rss_mb": round(rss),
    }
    metric, target = TARGETS[fmt]
    out["target"] = f"{metric} >= {target:,}, peak_rss_mb <= {RSS_TARGET_MB}"
    out["meets_target"] = out[metric] >= target and rss <= RSS_TARGET_MB
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="20k rows / 5 MB (CI mode)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="CSV and XLSX data rows")
    parser.add_argument("--cml-mb", type=int, default=200, help="CommerceML file size in MB")
    parser.add_argument(
        "--formats",
        default="csv,xlsx,cml",
        help="comma-separated, from csv, xlsx, cml, cml-one-pass (default: %(default)s)",
    )
    parser.add_argument("--measure", nargs=3, metavar=("FORMAT", "PATH", "REPORT"))
    args = parser.parse_args()
    if args.measure:
        fmt, path, report = args.measure
        Path(report).write_text(json.dumps(measure(fmt, Path(path))), encoding="utf-8")
        return
    rows = 20_000 if args.small else args.rows
    cml_bytes = (5 if args.small else args.cml_mb) * 1_000_000
    results: dict[str, Any] = {}
    for fmt in args.formats.split(","):
        if fmt not in TARGETS:
            parser.error(f"unknown format {fmt!r} in --formats; use some of {', '.join(TARGETS)}")
        path = _input(fmt, cml_bytes if fmt.startswith("cml") else rows)
        results[fmt] = _run(fmt, path)
        print(fmt, json.dumps(results[fmt], ensure_ascii=False), flush=True)
    name = "ingest-small" if args.small else "ingest"
    saved = OUT / f"{name}.json"  # formats not run this time keep their last figures
    earlier = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else {}
    kept = {k: v for k, v in earlier.items() if k in TARGETS and k not in results}
    save(name, {**kept, **results})


if __name__ == "__main__":
    main()
