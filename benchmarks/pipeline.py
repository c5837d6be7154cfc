"""End-to-end benchmark: `svod run` on a workspace, per stage seconds and peak RSS, and scores.

    python -m benchmarks.pipeline --people 20000      # generate a sample workspace and run it
    python -m benchmarks.pipeline --small             # CI: a few hundred people
    python -m benchmarks.pipeline --inbox-from benchmarks/out/identity-gen1m --skip-rerun
                                                      # ~1M records: an existing inbox, copied

Reports generation time, pipeline wall time and peak RSS (``pipeline_peak_rss_mb``: the largest
single process, the `svod run` process or one of its workers; ``pipeline_total_peak_rss_mb``:
the most they held at once, together), the seconds and peak RSS of every stage (from the run's
``stage finished`` log lines), records, customers, and pairwise / B-cubed scores of the
published record_links against the truth file when the workspace has one. Unless
``--skip-rerun``: the seconds of a second run with nothing changed, and of a third after one
small new file (``rerun_new_file_*``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import OUT, Timer, save
from benchmarks.scoring import score, workspace_labels
from pipelines.sample import write_sample_inbox
from pipelines.workspace import write_sample_config

#: Runs a command and prints [exit code, seconds, peak RSS MB of the largest descendant].
_PROBE = (
    "import resource,subprocess,sys,time,json;"
    "t=time.perf_counter();r=subprocess.run(sys.argv[1:]);"
    "print(json.dumps([r.returncode,time.perf_counter()-t,"
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024]))"
)


def run_logged(cmd: list[str], log: Path) -> tuple[float, float, dict[str, dict[str, float]]]:
    """Run ``cmd`` (a `svod run --log-json`); return seconds, peak RSS MB and per-stage figures."""
    with log.open("w", encoding="utf-8") as err:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *cmd],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            check=False,
        )
    code, seconds, rss = json.loads(done.stdout.strip().splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"{cmd} failed ({code}); see {log}")
    stages: dict[str, dict[str, float]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        entry: dict[str, Any] = json.loads(line)
        if entry.get("message") == "stage finished":
            stages[entry["stage"]] = {
                "seconds": entry["seconds"],
                "peak_rss_mb": entry["peak_rss_mb"],
            }
            if entry.get("workers_peak_rss_mb"):
                stages[entry["stage"]]["workers_peak_rss_mb"] = entry["workers_peak_rss_mb"]
            if entry.get("total_peak_rss_mb"):  # the run's process and its workers together
                stages[entry["stage"]]["total_peak_rss_mb"] = entry["total_peak_rss_mb"]
    return float(seconds), float(rss), stages


def prepare(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """A fresh workspace at ``root``: generated, or a copy of another workspace's inbox."""
    shutil.rmtree(root, ignore_errors=True)
    if args.inbox_from is not None:
        source: Path = args.inbox_from
        root.mkdir(parents=True)
        shutil.copy2(source / "svod.toml", root / "svod.toml")
        shutil.copytree(source / "inbox", root / "inbox")
        if (source / "truth").is_dir():
            shutil.copytree(source / "truth", root / "truth")
        return {"inbox_from": str(source)}
    write_sample_config(root)
    people = 300 if args.small else args.people
    with Timer() as gen:
        summary = write_sample_inbox(root, people=people, seed=42)
    return {
        "people": summary.people,
        "records_written": summary.records,
        "generate_seconds": round(gen.seconds, 2),
    }


def write_small_file(root: Path, rows: int = 50) -> int:
    """A small new sales CSV (``rows`` made-up people), as if a manager dropped one more file."""
    folder = root / "inbox" / "sales"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ФИО;Телефон;E-mail"]
    for i in range(rows):
        lines.append(f"Новиков{i} Пётр Ильич;+7 916 {i:03d}-00-{i % 100:02d};late{i}@example.ru")
    (folder / "late_leads.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--small", action="store_true", help="300 people (CI mode)")
    parser.add_argument("--workspace", type=Path, default=OUT / "pipeline-ws")
    parser.add_argument(
        "--inbox-from", type=Path, help="copy svod.toml, inbox/ (and truth/) of this workspace"
    )
    parser.add_argument(
        "--skip-rerun", action="store_true", help="no unchanged re-run nor one-new-file re-run"
    )
    parser.add_argument("--name", help="result file name (default: pipeline[-small|-inbox])")
    args = parser.parse_args()
    root: Path = args.workspace
    result = prepare(args, root)
    svod = str(Path(sys.executable).with_name("svod"))
    cmd = [svod, "run", "--workspace", str(root), "--log-json"]
    seconds, rss, stages = run_logged(cmd, root / "run.log")
    result |= {"pipeline_seconds": round(seconds, 2), "pipeline_peak_rss_mb": round(rss, 1)}
    # the most memory the run held at once, its worker processes included (sampled per stage)
    totals = [stage.get("total_peak_rss_mb", 0.0) for stage in stages.values()]
    result["pipeline_total_peak_rss_mb"] = round(max([rss, *totals]), 1)
    result["stages"] = stages
    if not args.skip_rerun:
        rerun_seconds, _, rerun_stages = run_logged(cmd, root / "rerun.log")
        result["rerun_unchanged_seconds"] = round(rerun_seconds, 2)
        result["rerun_unchanged_stages"] = rerun_stages
    if (root / "truth").is_dir():
        scores = score(workspace_labels(root))
        result |= {
            "scored_records": scores.records,
            "pairwise_precision": round(scores.pairwise_precision, 4),
            "pairwise_recall": round(scores.pairwise_recall, 4),
            "pairwise_f1": round(scores.pairwise_f1, 4),
            "bcubed_f1": round(scores.bcubed_f1, 4),
        }
    if not args.skip_rerun:  # after scoring: the new file has no truth
        rows = write_small_file(root)
        rerun_seconds, _, rerun_stages = run_logged(cmd, root / "rerun-new-file.log")
        result["rerun_new_file_rows"] = rows
        result["rerun_new_file_seconds"] = round(rerun_seconds, 2)
        result["rerun_new_file_stages"] = rerun_stages
    default = "pipeline-small" if args.small else "pipeline"
    save(args.name or (default + ("-inbox" if args.inbox_from else "")), result)


if __name__ == "__main__":
    main()
