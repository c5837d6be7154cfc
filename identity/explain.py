"""Explanations: why records are one customer, and why a near candidate was not joined.

Pure functions over the published tables (``record_links``, ``link_evidence``,
``identity_guards``, ``identifiers``), so the CLI, a notebook or a service can all show the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from identity.comparison import NAMES

CUSTOMER_ID = re.compile(r"^C[0-9A-F]{15}$")


@dataclass(frozen=True)
class Explanation:
    """One customer: its records, the links that hold it together, the near misses."""

    customer_id: str
    records: pl.DataFrame  # record_key, source, match_rule, …
    links: pl.DataFrame  # evidence rows between two of its records that were linked
    near_misses: pl.DataFrame  # best-scoring pairs to records of other customers, not joined
    guards: pl.DataFrame  # its identifiers that are not used for linking on their own


def query_kind(text: str) -> str:
    """``customer``, ``email``, ``phone`` or ``record`` — what the user typed looks like."""
    if CUSTOMER_ID.match(text.strip()):
        return "customer"
    if "@" in text and "|" not in text:
        return "email"
    if "|" not in text and re.fullmatch(r"[\d\s()+\-.]{7,}", text.strip()):
        return "phone"
    return "record"


def fields_text(row: dict[str, object]) -> str:
    """'first_name=exact (+5.7), phone=shared_mobile (+13.8), …' for comparable fields."""
    parts = []
    for name in NAMES:
        level = row.get(name)
        if level is None:
            continue
        weight = row.get(f"{name}_weight")
        parts.append(f"{name}={level} ({float(weight or 0):+.1f})")  # type: ignore[arg-type]
    return ", ".join(parts)


def explain(
    customer_id: str,
    links: pl.DataFrame,
    evidence: pl.DataFrame,
    guards: pl.DataFrame,
    identifiers: pl.DataFrame,
    *,
    near: int = 5,
) -> Explanation:
    """Everything that explains ``customer_id`` (from the published tables)."""
    records = links.filter(pl.col("customer_id") == customer_id).sort("record_key")
    keys = records.get_column("record_key").implode()
    left_in, right_in = pl.col("left_key").is_in(keys), pl.col("right_key").is_in(keys)
    inside = evidence.filter(left_in & right_in & (pl.col("decision") == "linked")).sort(
        "probability", descending=True
    )
    owner = links.select("record_key", "customer_id")
    crossing = (
        evidence.filter(left_in ^ right_in)
        .with_columns(
            other_key=pl.when(left_in).then(pl.col("right_key")).otherwise(pl.col("left_key"))
        )
        .join(
            owner.rename({"record_key": "other_key", "customer_id": "other_customer"}),
            on="other_key",
            how="left",
        )
        .sort("probability", descending=True)
        .head(near)
    )
    held = identifiers.filter(pl.col("customer_id") == customer_id).select("type", "value")
    own_guards = guards.join(held, on=["type", "value"], how="inner")
    return Explanation(customer_id, records, inside, crossing, own_guards)
