"""Placeholder resolution: records sharing a valid phone, e-mail key or ИНН are one customer.

The probabilistic engine replaces this; until then it gives a real, explainable clustering.
An identifier held by more records than ``max_records_per_identifier`` (an office landline, a
reused test number) is not used for linking, and that decision is logged in ``guards``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

IDENTIFIER_COLUMNS: dict[str, str] = {"phone": "phones", "email": "email_keys", "inn": "inn"}


@dataclass(frozen=True)
class Clusters:
    """``assignments``: record_key, cluster_key, match_rule; ``guards``: identifiers not used."""

    assignments: pl.DataFrame
    guards: pl.DataFrame


def identifiers_long(staged: pl.DataFrame, link_on: Sequence[str]) -> pl.DataFrame:
    """One row per (record_key, identifier type, value), de-duplicated."""
    parts = []
    for kind in link_on:
        column = IDENTIFIER_COLUMNS[kind]
        frame = staged.select("record_key", pl.col(column).alias("value"))
        if frame.schema["value"] != pl.String():
            frame = frame.explode("value")
        parts.append(frame.drop_nulls("value").with_columns(type=pl.lit(kind)))
    if not parts:
        return pl.DataFrame(
            schema={"record_key": pl.String(), "value": pl.String(), "type": pl.String()}
        )
    return pl.concat(parts).unique().select("record_key", "type", "value")


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def cluster_exact(
    staged: pl.DataFrame, *, link_on: Sequence[str], max_records_per_identifier: int
) -> Clusters:
    """Connected components over shared identifiers, with the over-sharing guard applied."""
    keys = staged.select("record_key").unique().sort("record_key")
    index = keys.with_row_index("idx")
    ids = identifiers_long(staged, link_on)
    counts = ids.group_by("type", "value").agg(records=pl.len())
    guards = (
        counts.filter(pl.col("records") > max_records_per_identifier)
        .with_columns(
            reason=pl.format(
                "shared by {} records (limit {}); not used for linking",
                pl.col("records"),
                pl.lit(max_records_per_identifier),
            )
        )
        .sort("type", "value")
    )
    usable = counts.filter(
        (pl.col("records") > 1) & (pl.col("records") <= max_records_per_identifier)
    ).select("type", "value")
    edges = ids.join(usable, on=["type", "value"]).join(index, on="record_key")
    parent = list(range(index.height))
    first: dict[tuple[str, str], int] = {}
    for kind, value, idx in edges.select("type", "value", "idx").iter_rows():
        root = first.setdefault((kind, value), idx)
        a, b = _find(parent, root), _find(parent, idx)
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = [_find(parent, i) for i in range(index.height)]
    rules = edges.group_by("record_key").agg(
        match_rule=pl.col("type").unique().sort().str.join("+")
    )
    assignments = (
        index.with_columns(root=pl.Series(roots, dtype=pl.UInt32()))
        .join(index.rename({"record_key": "cluster_key", "idx": "root"}), on="root")
        .join(rules, on="record_key", how="left")
        .select(
            "record_key",
            "cluster_key",
            pl.when(pl.col("match_rule").is_null())
            .then(pl.lit("singleton"))
            .otherwise(pl.lit("shared_") + pl.col("match_rule"))
            .alias("match_rule"),
        )
        .sort("record_key")
    )
    return Clusters(assignments=assignments, guards=guards)
