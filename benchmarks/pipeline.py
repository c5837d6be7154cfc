"""End-to-end benchmark: generate a sample workspace, run `svod run` on it, score the result.

    python benchmarks/pipeline.py --people 20000      # by hand
    python benchmarks/pipeline.py --small             # CI: a few hundred people

Reports generation time, pipeline wall time and peak RSS (of the `svod run` process), records,
customers, and pairwise / B-cubed scores of the published record_links against the truth file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks.common import OUT, Timer, run_measured, save
from benchmarks.scoring import score, workspace_labels
from pipelines.sample import write_sample_inbox
from pipelines.workspace import write_sample_config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--small", action="store_true", help="300 people (CI mode)")
    parser.add_argument("--workspace", type=Path, default=OUT / "pipeline-ws")
    args = parser.parse_args()
    people = 300 if args.small else args.people
    root: Path = args.workspace
    shutil.rmtree(root, ignore_errors=True)
    write_sample_config(root)
    with Timer() as gen:
        summary = write_sample_inbox(root, people=people, seed=42)
    svod = str(Path(sys.executable).with_name("svod"))
    seconds, rss = run_measured([svod, "run", "--workspace", str(root)])
    rerun_seconds, _ = run_measured([svod, "run", "--workspace", str(root)])
    scores = score(workspace_labels(root))
    save(
        "pipeline-small" if args.small else "pipeline",
        {
            "people": summary.people,
            "records_written": summary.records,
            "generate_seconds": round(gen.seconds, 2),
            "pipeline_seconds": round(seconds, 2),
            "pipeline_peak_rss_mb": round(rss, 1),
            "rerun_unchanged_seconds": round(rerun_seconds, 2),
            "scored_records": scores.records,
            "pairwise_precision": round(scores.pairwise_precision, 4),
            "pairwise_recall": round(scores.pairwise_recall, 4),
            "pairwise_f1": round(scores.pairwise_f1, 4),
            "bcubed_f1": round(scores.bcubed_f1, 4),
        },
    )


if __name__ == "__main__":
    main()
