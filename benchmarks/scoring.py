"""Score a clustering against the generator's truth: pairwise precision/recall/F1 and B-cubed F1.

Pair counts come from the contingency table, so a million records score in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl


@dataclass(frozen=True)
class Scores:
    records: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_f1: float


def _pairs(counts: pl.Series) -> int:
    return int((counts * (counts - 1) // 2).sum())


def score(labels: pl.DataFrame) -> Scores:
    """``labels`` has one row per record with ``predicted`` and ``truth`` cluster labels."""
    both = labels.group_by("predicted", "truth").agg(n=pl.len())
    tp = _pairs(both["n"])
    pred = _pairs(labels.group_by("predicted").agg(n=pl.len())["n"])
    true = _pairs(labels.group_by("truth").agg(n=pl.len())["n"])
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    sizes = (
        labels.join(both, on=["predicted", "truth"])
        .join(labels.group_by("predicted").agg(p=pl.len()), on="predicted")
        .join(labels.group_by("truth").agg(t=pl.len()), on="truth")
    )
    shares = sizes.select(
        bp=(pl.col("n") / pl.col("p")).mean(), br=(pl.col("n") / pl.col("t")).mean()
    )
    bp, br = (float(shares.item(0, c) or 0.0) for c in ("bp", "br"))
    bf = 2 * bp * br / (bp + br) if bp + br else 0.0
    return Scores(labels.height, precision, recall, f1, bf)


def workspace_labels(root: Path) -> pl.DataFrame:
    """Published record links of a sample workspace joined to its truth file."""
    truth = pl.read_csv(root / "truth" / "records.csv", infer_schema=False).filter(
        pl.col("entity_id").is_not_null()
    )
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        links: pl.DataFrame = con.sql(
            "SELECT customer_id, source_file, coalesce(source_sheet, '') AS sheet, "
            "CAST(source_row AS VARCHAR) AS row, source_record_id FROM record_links"
        ).pl()
    by_row = links.join(
        truth.with_columns(sheet=pl.col("sheet").fill_null("")).filter(pl.col("row").is_not_null()),
        left_on=["source_file", "sheet", "row"],
        right_on=["file", "sheet", "row"],
    )
    by_id = links.join(
        truth.filter(pl.col("native_id").is_not_null()),
        left_on=["source_file", "source_record_id"],
        right_on=["file", "native_id"],
    )
    return pl.concat(
        [by_row.select("customer_id", "entity_id"), by_id.select("customer_id", "entity_id")]
    ).rename({"customer_id": "predicted", "entity_id": "truth"})
