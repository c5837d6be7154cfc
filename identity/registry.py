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
from collections import defaultdict
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


def assign_customer_ids(
    clusters: pl.DataFrame,
    previous_links: pl.DataFrame,
    registry: pl.DataFrame,
    *,
    run_id: str,
) -> Assignment:
    """Map ``clusters`` (record_key, cluster_key) to persistent customer IDs."""
    seq = dict(registry.select("customer_id", "created_seq").iter_rows())
    overlap = (
        clusters.join(previous_links, on="record_key")
        .group_by("customer_id", "cluster_key")
        .agg(n=pl.len())
        .sort("customer_id", "n", "cluster_key", descending=[False, True, False])
    )
    spans: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for customer_id, cluster_key, n in overlap.iter_rows():
        spans[customer_id].append((cluster_key, n))
    claims: dict[str, list[str]] = defaultdict(list)
    changes: list[dict[str, object]] = []
    for customer_id, parts in spans.items():
        claims[parts[0][0]].append(customer_id)
        for cluster_key, n in parts[1:]:
            changes.append(
                {
                    "change": "split",
                    "customer_id": customer_id,
                    "records": n,
                    "detail": f"{n} record(s) left for the cluster of {cluster_key}",
                }
            )
    taken = set(registry.get_column("customer_id").to_list())
    next_seq = max(seq.values(), default=0) + 1
    cluster_id: dict[str, str] = {}
    merged: dict[str, str] = {}
    created: dict[str, int] = {}
    sizes = dict(clusters.group_by("cluster_key").agg(n=pl.len()).iter_rows())
    for cluster_key in sorted(sizes):
        owners = sorted(claims.get(cluster_key, []), key=lambda c: (seq.get(c, 0), c))
        if owners:
            survivor = owners[0]
            for other in owners[1:]:
                merged[other] = survivor
                changes.append(
                    {
                        "change": "merged",
                        "customer_id": other,
                        "other_customer_id": survivor,
                        "records": sizes[cluster_key],
                        "detail": "merged into the older customer",
                    }
                )
        else:
            survivor = mint_customer_id(cluster_key, taken)
            taken.add(survivor)
            created[survivor] = next_seq
            next_seq += 1
            changes.append(
                {"change": "created", "customer_id": survivor, "records": sizes[cluster_key]}
            )
        cluster_id[cluster_key] = survivor
    links = clusters.select(
        "record_key",
        pl.col("cluster_key")
        .replace_strict(cluster_id, return_dtype=pl.String())
        .alias("customer_id"),
    ).sort("record_key")
    counts = dict(links.group_by("customer_id").agg(n=pl.len()).iter_rows())
    rows: list[tuple[object, ...]] = []
    for cid, status, into, cseq, crun, urun, _ in registry.iter_rows():
        if cid in counts:
            rows.append(
                (
                    cid,
                    "active",
                    None,
                    cseq,
                    crun,
                    urun if status == "active" else run_id,
                    counts[cid],
                )
            )
        elif cid in merged:
            rows.append((cid, "merged", merged[cid], cseq, crun, run_id, 0))
        elif status == "active":
            rows.append((cid, "retired", None, cseq, crun, run_id, 0))
            changes.append(
                {
                    "change": "retired",
                    "customer_id": cid,
                    "records": 0,
                    "detail": "none of its records remain",
                }
            )
        else:
            rows.append((cid, status, into, cseq, crun, urun, 0))
    rows += [(cid, "active", None, s, run_id, run_id, counts[cid]) for cid, s in created.items()]
    new_registry = pl.DataFrame(rows, schema=REGISTRY_SCHEMA, orient="row").sort(
        "created_seq", "customer_id"
    )
    change_frame = pl.DataFrame(
        [{"run_id": run_id, "other_customer_id": None, "detail": None, **c} for c in changes],
        schema=CHANGES_SCHEMA,
    )
    return Assignment(links=links, registry=new_registry, changes=change_frame)
