"""Incremental resolution: a new batch against the existing graph, rebuilding only what it can
change.

With the model and term frequencies of the previous run frozen, a pair's score depends only on
its two records, the identifier guards and the blocking caps. So the records whose clustering can
change are: the new ones, the holders of an identifier whose guard changed, the holders of a
blocking key the batch pushed over its cap, and every record in the same previous component
(connected by candidate links) as a record any of those links to. Those components are rebuilt
exactly as a full run would; all others keep their clusters and evidence. The result equals a
full run with the same frozen parameters (``tests/identity/test_incremental.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from identity.blocking import block
from identity.comparison import compare
from identity.engine import (
    Frozen,
    Resolution,
    _evidence,
    cluster_and_explain,
    dob_reliable,
    score_pairs,
    with_skipped_keys,
)
from identity.features import record_features
from identity.guards import identifier_guards
from identity.overrides import Overrides
from identity.settings import EngineSettings


@dataclass(frozen=True)
class Previous:
    """What the last run left: its assignments, evidence, guards and parameters."""

    assignments: pl.DataFrame  # record_key, cluster_key, match_rule
    evidence: pl.DataFrame  # link_evidence
    guards: pl.DataFrame  # identity_guards
    frozen: Frozen


def _holders(features: pl.DataFrame, values: pl.Series) -> pl.Series:
    """rids of records holding any of ``values`` as a phone or e-mail."""
    frame = features.select(
        "rid", v=pl.concat_list(pl.col("mobiles"), pl.col("lands"), pl.col("emails"))
    ).explode("v")
    return frame.filter(pl.col("v").is_in(values.implode())).get_column("rid").unique()


def _old_components(previous: Previous, keys: pl.Series) -> np.ndarray:
    """Component of each current record in the previous run's candidate graph (-1 if new)."""
    index = pl.DataFrame({"key": keys, "rid": np.arange(len(keys))})
    edges = (
        previous.evidence.filter(pl.col("decision") != "below_threshold")
        .select(a="left_key", b="right_key")
        .vstack(previous.assignments.select(a="record_key", b="cluster_key"))
        .join(index.rename({"key": "a", "rid": "ra"}), on="a")
        .join(index.rename({"key": "b", "rid": "rb"}), on="b")
    )
    n = len(keys)
    graph = coo_matrix(
        (np.ones(edges.height), (edges["ra"].to_numpy(), edges["rb"].to_numpy())), shape=(n, n)
    )
    _, comp = connected_components(graph, directed=False)
    known = keys.is_in(previous.assignments["record_key"].implode()).to_numpy()
    return np.where(known, comp, -1)


def resolve_incremental(
    staged: pl.DataFrame,
    new_keys: set[str],
    previous: Previous,
    settings: EngineSettings | None = None,
    *,
    overrides: Overrides | None = None,
) -> tuple[Resolution, int]:
    """Resolve all ``staged`` records (old and new) rebuilding only the affected components;
    returns the resolution and how many records were re-clustered."""
    settings = settings or EngineSettings()
    overrides = overrides or Overrides()
    model, tf = previous.frozen.model, previous.frozen.tf
    features, guards = identifier_guards(record_features(staged), settings)
    keys = features.get_column("record_key")
    new = features.filter(pl.col("record_key").is_in(sorted(new_keys))).get_column("rid")
    ids = ("phone", "email")
    before = previous.guards.filter(pl.col("type").is_in(ids)).select("value", "reason")
    after = guards.filter(pl.col("type").is_in(ids)).select("value", "reason")
    changed = pl.concat(
        [
            before.join(after, on=["value", "reason"], how="anti"),
            after.join(before, on=["value", "reason"], how="anti"),
        ]
    )
    dirty = pl.concat([new, _holders(features, changed.get_column("value"))]).unique()
    dob_guard = dob_reliable(model, settings)
    with duckdb.connect() as con:
        touching = block(con, features, settings, focus=dirty)
        grown = pl.concat([dirty, touching.crossed]).unique()
        if grown.len() > dirty.len():  # holders of keys pushed over their cap lost pairs
            dirty = grown
            touching = block(con, features, settings, focus=dirty)
        levels = compare(
            features, touching.pairs, dob_conflict_years=settings.dob_conflict_years, tf=tf
        )
        weights, scored = score_pairs(touching.pairs, levels, model, dob_guard=dob_guard)
        linked = scored.filter(
            (pl.col("probability") >= settings.link_threshold) | pl.col("forced")
        )
        must, _ = overrides.rid_pairs(keys)
        ends = set(linked["rid_l"].to_list()) | set(linked["rid_r"].to_list())
        ends |= {r for pair in must for r in pair} | set(dirty.to_list())
        comp = _old_components(previous, keys)
        hit = {int(comp[r]) for r in ends if comp[r] >= 0}
        area = np.union1d(
            np.flatnonzero(np.isin(comp, list(hit))), np.array(sorted(ends), dtype=np.int64)
        )
        focus = pl.Series("rid", area, dtype=pl.UInt32)
        within = block(con, features, settings, focus=focus, within=True)
    guards = with_skipped_keys(guards, within.skipped)
    result = _rebuild(features, guards, focus, dirty, within.pairs, previous, settings, overrides)
    # near misses from the batch to records left untouched are evidence too
    outside = ~(pl.col("rid_l").is_in(focus.implode()) & pl.col("rid_r").is_in(focus.implode()))
    mask = scored.select(outside).to_series()
    none = pl.DataFrame(
        schema={"rid_l": pl.UInt32, "rid_r": pl.UInt32, "decision": pl.String, "reason": pl.String}
    )
    near = _evidence(
        scored.filter(mask), levels.filter(mask), weights.filter(mask), none, keys, settings
    )
    evidence = pl.concat([result.evidence, near.select(result.evidence.columns)])
    result = replace(result, evidence=evidence.sort("left_key", "right_key"))
    return result, len(area)


def _rebuild(
    features: pl.DataFrame,
    guards: pl.DataFrame,
    focus: pl.Series,
    dirty: pl.Series,
    pairs: pl.DataFrame,
    previous: Previous,
    settings: EngineSettings,
    overrides: Overrides,
) -> Resolution:
    """Cluster the records in ``focus`` and splice them into the previous result; evidence of
    pairs touching ``dirty`` records is dropped (it is recomputed by the caller)."""
    model, tf = previous.frozen.model, previous.frozen.tf
    dob_guard = dob_reliable(model, settings)
    levels = compare(features, pairs, dob_conflict_years=settings.dob_conflict_years, tf=tf)
    weights, scored = score_pairs(pairs, levels, model, dob_guard=dob_guard)
    local = np.full(features.height, -1, dtype=np.int64)
    local[focus.to_numpy()] = np.arange(len(focus))
    remap = pl.Series(local)
    scored = scored.with_columns(
        rid_l=remap.gather(scored["rid_l"]).cast(pl.UInt32),
        rid_r=remap.gather(scored["rid_r"]).cast(pl.UInt32),
    )
    part = features.select(pl.all().gather(focus)).with_columns(
        rid=pl.int_range(0, len(focus), dtype=pl.UInt32)
    )
    keys = part.get_column("record_key")
    evidence, rebuilt = cluster_and_explain(
        part, scored, levels, weights, settings, overrides, dob_guard=dob_guard
    )
    inside = keys.implode()
    kept = previous.assignments.filter(~pl.col("record_key").is_in(inside))
    moved = features.get_column("record_key").gather(dirty).implode()
    kept_evidence = previous.evidence.filter(
        ~(pl.col("left_key").is_in(inside) & pl.col("right_key").is_in(inside))
        & ~pl.col("left_key").is_in(moved)
        & ~pl.col("right_key").is_in(moved)
    )
    return Resolution(
        assignments=pl.concat([kept, rebuilt.cast(kept.schema)]).sort("record_key"),
        guards=guards,
        evidence=pl.concat([kept_evidence, evidence.select(kept_evidence.columns)]).sort(
            "left_key", "right_key"
        ),
        blocking=pl.DataFrame(),
        model=model,
        tf=tf,
    )
