"""Identity resolution: Svod vs Splink side by side, on the same records, scored on the truth.

    python -m benchmarks.identity                # ~50k and ~1M generated records + fake_20000
    python -m benchmarks.identity --small        # CI: ~2k generated records + fake_1000
    python -m benchmarks.identity --datasets gen50k,fake20k --no-splink

Each dataset is turned into staged records by the real pipeline (`svod run` on a workspace:
its wall time and peak RSS are the whole-pipeline figures). Then, each in its own subprocess,
Svod's engine resolves the staged records and Splink 5 (DuckDB backend, own venv, see
``splink_run.py``) resolves a flat table of the same records (first_name, surname, dob, city,
email, phone — our cleaned values, not our match keys). Both are scored by pairwise
precision/recall/F1 and B-cubed F1 (``benchmarks/scoring.py``) on the records with a truth.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.common import OUT, run_measured, save
from benchmarks.scoring import score

#: The public Splink demo files live in ../shared/benchmarks beside the repository (CI has it
#: there); SVOD_SHARED_BENCHMARKS points elsewhere.
SHARED = Path(
    os.environ.get(
        "SVOD_SHARED_BENCHMARKS", Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
    )
)
FAKE_FILES = {
    "fake1k": "fake_1000_from_splink_demos.csv",
    "fake20k": "fake_20000_from_splink_demos.csv",
}
SPLINK_VENV = OUT / "splink-venv"
SPLINK_PINS = ("splink==5.0.0", "duckdb==1.5.6")
SVOD = str(Path(sys.executable).with_name("svod"))
FAKE_TOML = """[[sources]]
name = "people"
kind = "spreadsheet"
path = "people/*"
"""


def ensure_splink(allow_install: bool) -> Path | None:
    """The Splink venv's python, created (pip, pinned) when missing and allowed."""
    python = SPLINK_VENV / "bin" / "python"
    if python.is_file():
        return python
    if not allow_install:
        return None
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(SPLINK_VENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *SPLINK_PINS], check=False)
    if done.returncode != 0:
        shutil.rmtree(SPLINK_VENV, ignore_errors=True)
        print("Splink could not be installed; Splink is left out of this run", flush=True)
        return None
    print(f"Splink venv created in {time.perf_counter() - started:.0f} s", flush=True)
    return python


def generated(root: Path, people: int) -> pl.DataFrame:
    """A sample workspace of ``people``; returns (record_key, truth) after `svod run`."""
    from pipelines.sample import write_sample_inbox
    from pipelines.workspace import write_sample_config

    shutil.rmtree(root, ignore_errors=True)
    write_sample_config(root)
    write_sample_inbox(root, people=people, seed=42)
    truth = pl.read_csv(root / "truth" / "records.csv", infer_schema=False)
    return truth.filter(pl.col("entity_id").is_not_null()).with_columns(
        sheet=pl.col("sheet").fill_null("")
    )


def truth_of_generated(staged: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    rows = staged.select(
        "record_key",
        "source_file",
        sheet=pl.col("source_sheet").fill_null(""),
        row=pl.col("source_row").cast(pl.String),
        native=pl.col("source_record_id"),
    )
    by_row = rows.join(
        truth.filter(pl.col("row").is_not_null()),
        left_on=["source_file", "sheet", "row"],
        right_on=["file", "sheet", "row"],
    )
    by_id = rows.join(
        truth.filter(pl.col("native_id").is_not_null()),
        left_on=["source_file", "native"],
        right_on=["file", "native_id"],
    )
    return pl.concat(
        [
            by_row.select("record_key", truth="entity_id"),
            by_id.select("record_key", truth="entity_id"),
        ]
    ).unique("record_key")


def fake(root: Path, csv: Path) -> pl.DataFrame:
    """A workspace holding one of Splink's fake_* CSVs; returns (source_row, truth)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "inbox" / "people").mkdir(parents=True)
    shutil.copy(csv, root / "inbox" / "people" / csv.name)
    (root / "svod.toml").write_text(FAKE_TOML, encoding="utf-8")
    data = pl.read_csv(csv, infer_schema=False)
    return data.select(row=pl.col("unique_id").cast(pl.Int64) + 2, truth=pl.col("cluster"))


def flat_table(staged: pl.DataFrame, with_phone: bool) -> pl.DataFrame:
    """What Splink gets: one row per staged record with plain, cleaned columns."""
    cols = [
        pl.col("record_key").alias("unique_id"),
        pl.col("first_name"),
        pl.col("last_name").alias("surname"),
        pl.col("birth_date").cast(pl.String).alias("dob"),
        pl.col("city"),
        pl.col("emails").list.first().alias("email"),
    ]
    if with_phone:
        cols.append(pl.col("phones").list.first().alias("phone"))
    return staged.select(cols)


def svod_worker(staged_path: str, out_path: str) -> None:
    """Subprocess body: resolve staged records with Svod's engine."""
    from identity.engine import resolve
    from identity.features import STAGED_INPUTS

    # what the pipeline's resolve stage reads, too: only the columns the engine uses
    present = pl.read_parquet_schema(staged_path)
    # a scan: the engine reads the columns it uses and drops them once it has features
    staged = pl.scan_parquet(staged_path).select([c for c in STAGED_INPUTS if c in present])
    result = resolve(staged)
    result.assignments.select("record_key", "cluster_key").write_parquet(out_path)


def scores_of(labels: pl.DataFrame) -> dict[str, float]:
    s = score(labels.select("predicted", "truth"))
    return {
        "pairwise_precision": round(s.pairwise_precision, 4),
        "pairwise_recall": round(s.pairwise_recall, 4),
        "pairwise_f1": round(s.pairwise_f1, 4),
        "bcubed_f1": round(s.bcubed_f1, 4),
    }


def run_dataset(
    name: str, root: Path, splink: Path | None, people: int | None
) -> dict[str, object]:
    """Stage one dataset with the pipeline, then resolve it with Svod and Splink."""
    if people is not None:
        truth = generated(root, people)
    else:
        csv = SHARED / (
            "fake_1000_from_splink_demos.csv"
            if name == "fake1k"
            else "fake_20000_from_splink_demos.csv"
        )
        truth = fake(root, csv)
    seconds, rss = run_measured([SVOD, "run", "--workspace", str(root)])
    staged_path = root / "lake" / "staged" / "staged.parquet"
    staged = pl.read_parquet(staged_path)
    if people is not None:
        labels = truth_of_generated(staged, truth)
    else:
        labels = staged.select("record_key", row=pl.col("source_row").cast(pl.Int64)).join(
            truth, on="row"
        )
    result: dict[str, object] = {
        "records": staged.height,
        "records_with_truth": labels.height,
        "pipeline_seconds": round(seconds, 2),
        "pipeline_peak_rss_mb": round(rss, 1),
    }
    svod_out = root / "svod_clusters.parquet"
    seconds, rss = run_measured(
        [sys.executable, "-m", "benchmarks.identity", "--worker", str(staged_path), str(svod_out)],
        cwd=Path(__file__).resolve().parent.parent,
    )
    ours = pl.read_parquet(svod_out).join(labels, on="record_key")
    result["svod"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1)}
    result["svod"].update(scores_of(ours.rename({"cluster_key": "predicted"})))  # type: ignore[attr-defined]
    if splink is not None:
        flat = root / "splink_input.parquet"
        flat_table(staged, with_phone=people is not None).write_parquet(flat)
        splink_out = root / "splink_clusters.parquet"
        try:
            # bounded: a run that does not finish in SPLINK_TIMEOUT seconds is reported so
            limit = os.environ.get("SPLINK_TIMEOUT", "1200")
            script = str(Path(__file__).with_name("splink_run.py"))
            with tempfile.TemporaryDirectory(prefix="splink-") as spill:  # gone even on timeout
                seconds, rss = run_measured(
                    ["timeout", limit, str(splink), script, str(flat), str(splink_out), spill]
                )
            theirs = pl.read_parquet(splink_out).join(
                labels, left_on="unique_id", right_on="record_key"
            )
            result["splink"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1)}
            result["splink"].update(scores_of(theirs.rename({"cluster_id": "predicted"})))  # type: ignore[attr-defined]
        except RuntimeError as exc:
            result["splink"] = {"error": str(exc)[-500:]}
    print(name, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI mode: ~2k generated + fake_1000")
    parser.add_argument(
        "--datasets", default="", help="comma list of gen50k, gen1m, fake20k, gen2k, fake1k"
    )
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("STAGED", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        svod_worker(*args.worker)
        return
    people = {"gen2k": 900, "gen50k": 22_000, "gen1m": 440_000, "fake1k": None, "fake20k": None}
    default = "gen2k,fake1k" if args.small else "gen50k,fake20k,gen1m"
    names = [n for n in (args.datasets or default).split(",") if n]
    for name in [n for n in names if n in FAKE_FILES and not (SHARED / FAKE_FILES[n]).is_file()]:
        print(
            f"skipping {name}: {SHARED / FAKE_FILES[name]} not found (set SVOD_SHARED_BENCHMARKS)"
        )
        names.remove(name)
    # the Splink venv installs in ~10 s from the pip cache here, so small mode may create it too
    splink = None if args.no_splink else ensure_splink(allow_install=True)
    results = {
        name: run_dataset(name, OUT / f"identity-{name}", splink, people[name]) for name in names
    }
    save(
        "identity-small" if args.small else "identity",
        {"splink": bool(splink), "datasets": results},
    )


if __name__ == "__main__":
    main()
