"""Compare the published tables of two workspaces, row for row (a before/after check).

    python -m benchmarks.compare_published run WS            # the four stages, fixed ingest time
    python -m benchmarks.compare_published BEFORE_WS AFTER_WS

Profiles fall back to the ingestion time when a record has no date of its own, so two ``svod
run``s of the same inbox differ in ``first_seen``/``record_at``; ``run`` runs the stages with one
fixed ingestion time instead (run it once with the old code, once with the new, on copies of one
``svod sample`` workspace). Each table of ``lake/published`` is read, run-specific columns (run
ids, run timestamps) dropped, rows sorted and compared; one line per table, exit 1 on any
difference. Use it to show that a performance change left the published contents as they were.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

#: Columns that differ between two runs of the same input by design.
RUN_SPECIFIC = {
    "run_id",
    "started_at",
    "finished_at",
    "recorded_at",
    "valid_from",
    "valid_to",
    "ingested_at",
    "created_at",
    "first_run_id",
    "last_run_id",
    "created_run",
    "updated_run",
}
#: Tables whose rows are per run, not per content.
SKIP = {"runs", "quality_results"}


def _canonical(path: Path) -> pl.DataFrame:
    return _canonical_frame(pl.read_parquet(path))


def _canonical_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.drop([c for c in frame.columns if c in RUN_SPECIFIC])
    encoded = frame.select(pl.struct(pl.all()).struct.json_encode().alias("row"))
    return encoded.sort("row")


def compare(before: Path, after: Path) -> list[str]:
    """One difference message per table that differs; empty when all match."""
    problems = []
    left = {p.stem: p for p in (before / "lake" / "published").glob("*.parquet")}
    right = {p.stem: p for p in (after / "lake" / "published").glob("*.parquet")}
    for name in sorted(set(left) | set(right)):
        if name in SKIP:
            continue
        if name not in left or name not in right:
            problems.append(f"{name}: only in {'before' if name in left else 'after'}")
            continue
        a, b = pl.read_parquet_schema(left[name]), pl.read_parquet_schema(right[name])
        if a != b:
            problems.append(f"{name}: schemas differ: {a} vs {b}")
            continue
        x, y = _canonical(left[name]), _canonical(right[name])
        if not x.equals(y):
            only_x = x.join(y, on="row", how="anti").height
            only_y = y.join(x, on="row", how="anti").height
            problems.append(f"{name}: {x.height} vs {y.height} rows; {only_x}/{only_y} differ")
        else:
            print(f"{name}: {x.height} rows identical")
    return problems


def compare_warehouses(before: Path, after: Path) -> list[str]:
    """The same check on the warehouse tables (column types too) and its index names."""
    import duckdb

    from pipelines.warehouse import PUBLISHED_TABLES, quote_ident

    problems = []
    with (
        duckdb.connect(str(before / "warehouse.duckdb"), read_only=True) as a,
        duckdb.connect(str(after / "warehouse.duckdb"), read_only=True) as b,
    ):
        for name in PUBLISHED_TABLES:
            query = f"SELECT * FROM {quote_ident(name)}"  # noqa: S608 (names from the tuple)
            left, right = a.sql(query).pl(), b.sql(query).pl()
            types = [r[:2] for r in a.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]
            if types != [r[:2] for r in b.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]:
                problems.append(f"warehouse {name}: column types differ")
                continue
            x, y = (_canonical_frame(f) for f in (left, right))
            if not x.equals(y):
                problems.append(f"warehouse {name}: rows differ")
        query = "SELECT index_name FROM duckdb_indexes() ORDER BY 1"
        if a.execute(query).fetchall() != b.execute(query).fetchall():
            problems.append("warehouse indexes differ")
    return problems


def run_fixed(root: Path) -> None:
    """ingest → stage → resolve → publish with a fixed ingestion time and run id."""
    import duckdb

    from pipelines.stages import ingest_stage, publish_stage, resolve_stage, stage_stage
    from pipelines.workspace import Workspace

    ws = Workspace.open(root)
    ingest_stage(ws, "fixed-run", now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    stage_stage(ws, "fixed-run")
    with duckdb.connect(str(ws.warehouse)) as con:
        resolve_stage(ws, con, "fixed-run")
        publish_stage(ws, con, "fixed-run")


def main() -> None:
    if sys.argv[1] == "run":
        run_fixed(Path(sys.argv[2]))
        return
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    problems = compare(before, after) + compare_warehouses(before, after)
    for p in problems:
        print("DIFF", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
