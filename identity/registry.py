"""Persistent customer IDs: give this run's clusters the IDs their records had before.

Rules (the contract other parts rely on):
- a cluster whose records had one ID keeps it; unchanged input gives identical IDs;
- a cluster joining records of several IDs keeps the oldest; the others are retired as
  ``merged`` and point to it;
- an ID whose records now fall in several clusters stays with the cluster holding most of them
  (a split); the other parts keep their own older IDs or get new ones;
- a new ID is derived from the cluster's smallest record key, so a fresh workspace fed the same
  input mints the same IDs.
Every creation, merge, split and retirement is returned as a change row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

REGISTRY_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "status": pl.String(),  # active | merged | retired
    "merged_into": pl.String(),
    "created_seq": pl.Int64(),
    "created_run": pl.String(),
    "updated_run": pl.String(),
    "records": pl.Int64(),
}

CHANGES_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "change": pl.String(),  # created | merged | split | retired
    "customer_id": pl.String(),
    "other_customer_id": pl.String(),
    "records": pl.Int64(),
    "detail": pl.String(),
}

LINKS_SCHEMA: dict[str, pl.DataType] = {"record_key": pl.String(), "customer_id": pl.String()}


@dataclass(frozen=True)
class Assignment:
    """This run's record → customer links, the updated registry, and what changed."""

    links: pl.DataFrame
    registry: pl.DataFrame
    changes: pl.DataFrame


def mint_customer_id(cluster_key: str, taken: set[str]) -> str:
    """A new ID derived from the cluster's smallest record key (salted on collision)."""
    salt = 0
    while True:
        text = cluster_key if salt == 0 else f"{cluster_key}#{salt}"
        candidate = "C" + hashlib.sha256(text.encode()).hexdigest()[:15].upper()
        if candidate not in taken:
            return candidate
        salt += 1


def _starts(column: str) -> pl.Expr:
    """Over rows sorted by ``column``: whether a row is its value's first (a shift, not a
    window over groups: a third of a second less per million rows)."""
    return pl.col(column).ne_missing(pl.col(column).shift(1))


def mint_customer_ids(cluster_keys: pl.Series, taken: pl.Series) -> pl.Series:
    """:func:`mint_customer_id` of each key in order, each new ID taken before the next: all
    hashed at once, one by one only when an ID collides (with ``taken`` or another new one)."""
    keys = cluster_keys.to_list()
    ids = pl.Series(
        ["C" + hashlib.sha256(key.encode()).hexdigest()[:15].upper() for key in keys],
        dtype=pl.String(),
    )
    if ids.is_duplicated().any() or ids.is_in(taken.implode()).any():
        seen = set(taken.to_list())
        one_by_one = []
        for key in keys:
            one_by_one.append(mint_customer_id(key, seen))
            seen.add(one_by_one[-1])
        ids = pl.Series(one_by_one, dtype=pl.String())
    return ids


def assign_customer_ids(
    clusters: pl.DataFrame,
    previous_links: pl.DataFrame,
    registry: pl.DataFrame,
    *,
    run_id: str,
) -> Assignment:
    """Map ``clusters`` (record_key, cluster_key) to persistent customer IDs.

    Vectorised over polars frames (a million records re-assigned in about a second); only
    clusters that need a new ID go through Python, in cluster-key order."""
    seq = registry.select("customer_id", seq="created_seq")
    overlap = (
        clusters.join(previous_links, on="record_key")
        .group_by("customer_id", "cluster_key")
        .agg(n=pl.len())
        .sort("customer_id", "n", "cluster_key", descending=[False, True, False])
        .with_columns(keeps=_starts("customer_id"))  # the cluster holding most of its records
    )
    splits = overlap.filter(~pl.col("keeps")).select(
        change=pl.lit("split"),
        customer_id="customer_id",
        records=pl.col("n").cast(pl.Int64),
        detail=pl.format("{} record(s) left for the cluster of {}", "n", "cluster_key"),
    )
    sizes = clusters.group_by("cluster_key").agg(n=pl.len()).sort("cluster_key")
    owners = (
        overlap.filter("keeps")
        .select("cluster_key", "customer_id")
        .join(seq, on="customer_id", how="left")
        .with_columns(pl.col("seq").fill_null(0))
        .sort("cluster_key", "seq", "customer_id")
        # rank: the row, in a cluster's order (oldest first); only its order is read
        .with_columns(survives=_starts("cluster_key"), rank=pl.int_range(pl.len()))
    )
    survivors = owners.filter("survives").select("cluster_key", survivor="customer_id")
    merged = (
        owners.filter(~pl.col("survives"))
        .join(survivors, on="cluster_key")
        .join(sizes, on="cluster_key")
    )
    next_seq = int(registry.select(pl.col("created_seq").max().fill_null(0)).item()) + 1
    fresh = sizes.join(survivors, on="cluster_key", how="anti")
    minted = mint_customer_ids(fresh.get_column("cluster_key"), registry.get_column("customer_id"))
    created = fresh.with_columns(
        survivor=minted,
        seq=pl.int_range(next_seq, next_seq + fresh.height, dtype=pl.Int64),
    )
    # merges and creations in cluster-key order, as a person reads them
    per_cluster = pl.concat(
        [
            merged.select(
                "cluster_key",
                "rank",
                change=pl.lit("merged"),
                customer_id="customer_id",
                other_customer_id="survivor",
                records=pl.col("n").cast(pl.Int64),
                detail=pl.lit("merged into the older customer"),
            ),
            created.select(
                "cluster_key",
                rank=pl.lit(0, pl.Int64),
                change=pl.lit("created"),
                customer_id="survivor",
                other_customer_id=pl.lit(None, pl.String()),
                records=pl.col("n").cast(pl.Int64),
                detail=pl.lit(None, pl.String()),
            ),
        ],
        how="vertical_relaxed",
    ).sort("cluster_key", "rank")
    mapping = pl.concat([survivors, created.select("cluster_key", "survivor")])
    links = (
        clusters.join(mapping, on="cluster_key", how="left")
        .select("record_key", customer_id="survivor")
        .sort("record_key")
    )
    counts = links.group_by("customer_id").agg(n=pl.len())
    into = merged.select("customer_id", into="survivor")
    old = registry.join(counts, on="customer_id", how="left", maintain_order="left").join(
        into, on="customer_id", how="left", maintain_order="left"
    )
    kept, gone, active = pl.col("n").is_not_null(), pl.col("into").is_not_null(), pl.col("status")
    retired = ~kept & ~gone & (active == "active")
    updated = old.select(
        "customer_id",
        status=pl.when(kept)
        .then(pl.lit("active"))
        .when(gone)
        .then(pl.lit("merged"))
        .when(retired)
        .then(pl.lit("retired"))
        .otherwise(active),
        merged_into=pl.when(kept).then(None).when(gone).then("into").otherwise("merged_into"),
        created_seq="created_seq",
        created_run="created_run",
        updated_run=pl.when((kept & (active == "active")) | (~kept & ~gone & ~retired))
        .then("updated_run")
        .otherwise(pl.lit(run_id)),
        records=pl.col("n").fill_null(0).cast(pl.Int64),
    )
    new_rows = created.select(
        customer_id="survivor",
        status=pl.lit("active"),
        merged_into=pl.lit(None, pl.String()),
        created_seq="seq",
        created_run=pl.lit(run_id),
        updated_run=pl.lit(run_id),
        records=pl.col("n").cast(pl.Int64),
    )
    schema = REGISTRY_SCHEMA
    new_registry = pl.concat(
        [updated.cast(schema), new_rows.cast(schema)]  # type: ignore[arg-type]
    ).sort("created_seq", "customer_id")
    retirements = old.filter(retired).select(
        change=pl.lit("retired"),
        customer_id="customer_id",
        records=pl.lit(0, pl.Int64),
        detail=pl.lit("none of its records remain"),
    )
    columns = ["change", "customer_id", "other_customer_id", "records", "detail"]
    no_other = pl.lit(None, pl.String()).alias("other_customer_id")
    change_frame = pl.concat(
        [
            splits.with_columns(no_other).select(columns),
            per_cluster.select(columns),
            retirements.with_columns(no_other).select(columns),
        ],
        how="vertical_relaxed",
    ).select(pl.lit(run_id).alias("run_id"), *columns)
    return Assignment(
        links=links.cast(LINKS_SCHEMA),  # type: ignore[arg-type]
        registry=new_registry,
        changes=change_frame.cast(CHANGES_SCHEMA),  # type: ignore[arg-type]
    )
