"""Placeholder resolution: records sharing a mobile phone, a personal e-mail or a company ИНН
are one customer.

The probabilistic engine replaces this; until then it gives a real, explainable clustering.
Weak identifiers never link on their own: landlines (an office switchboard), role mailboxes
(info@, zakaz@), and any identifier held by more records than ``max_records_per_identifier``
(a reused test number). Each one left out is logged in ``guards`` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from identity.normalize.emails import is_role

IDENTIFIER_COLUMNS: dict[str, str] = {"phone": "phones", "email": "email_keys", "inn": "inn"}
WEAK_PHONE = "landline or service number: weak evidence, not used for linking on its own"
WEAK_EMAIL = "role mailbox: shared by colleagues, not used for linking on its own"


@dataclass(frozen=True)
class Clusters:
    """``assignments``: record_key, cluster_key, match_rule; ``guards``: identifiers not used."""

    assignments: pl.DataFrame
    guards: pl.DataFrame


IDS_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "type": pl.String(),
    "value": pl.String(),
    "weak": pl.String(),
}


def _role_mailbox(value: pl.Expr) -> pl.Expr:
    return (
        value.str.split("@")
        .list.first()
        .map_elements(is_role, return_dtype=pl.Boolean(), skip_nulls=True)
    )


def identifiers_long(staged: pl.DataFrame, link_on: Sequence[str]) -> pl.DataFrame:
    """One row per (record_key, identifier type, value), de-duplicated; ``weak`` says why an
    identifier must not link on its own (null when it may)."""
    parts = []
    for kind in link_on:
        column = IDENTIFIER_COLUMNS[kind]
        rows = staged
        if kind == "inn" and "entity_kind" in staged.columns:
            # an ИНН identifies the company, not the people who work there
            rows = staged.filter(pl.col("entity_kind") == "company")
        if kind == "phone" and "phone_types" in rows.columns:
            frame = rows.select("record_key", value=pl.col("phones"), kind=pl.col("phone_types"))
            frame = frame.explode("value", "kind").with_columns(
                weak=pl.when(pl.col("kind") != "mobile").then(pl.lit(WEAK_PHONE))
            )
        else:
            frame = rows.select("record_key", pl.col(column).alias("value"))
            if frame.schema["value"] != pl.String():
                frame = frame.explode("value")
            weak = pl.lit(None, dtype=pl.String())
            if kind == "email":
                weak = pl.when(_role_mailbox(pl.col("value"))).then(pl.lit(WEAK_EMAIL))
            frame = frame.with_columns(weak=weak)
        frame = frame.drop_nulls("value").with_columns(type=pl.lit(kind))
        parts.append(frame.select(list(IDS_SCHEMA)))
    if not parts:
        return pl.DataFrame(schema=IDS_SCHEMA)
    return pl.concat(parts).unique().sort("record_key", "type", "value")


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
    counts = ids.group_by("type", "value").agg(records=pl.len(), weak=pl.col("weak").max())
    too_many = pl.col("records") > max_records_per_identifier
    guards = (
        counts.filter((pl.col("records") > 1) & (too_many | pl.col("weak").is_not_null()))
        .with_columns(
            reason=pl.when(too_many)
            .then(
                pl.format(
                    "shared by {} records (limit {}); not used for linking",
                    pl.col("records"),
                    pl.lit(max_records_per_identifier),
                )
            )
            .otherwise(pl.col("weak"))
        )
        .select("type", "value", "records", "reason")
        .sort("type", "value")
    )
    usable = counts.filter((pl.col("records") > 1) & ~too_many & pl.col("weak").is_null()).select(
        "type", "value"
    )
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
