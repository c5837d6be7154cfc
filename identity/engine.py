"""The resolution engine: staged records → clusters, with the evidence of every link.

features → guards → blocking (DuckDB SQL) → comparisons → Fellegi–Sunter model (EM, TF) →
clustering with guards → evidence. Deterministic rules sit beside the model: a company's ИНН
links on its own, and a steward's must-link / cannot-link always wins.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity.blocking import block
from identity.clustering import FORCED, cluster_records
from identity.comparison import compare, prepare_records
from identity.evidence import evidence_rows, link_evidence, with_skipped_keys
from identity.features import record_features
from identity.fragments import join_fragments
from identity.guards import identifier_guards
from identity.model import Model, tf_tables
from identity.overrides import Overrides
from identity.prepared import Prepared
from identity.scoring import conflict_attributes, dob_reliable, estimate_model, score_pairs
from identity.settings import EngineSettings

log = logging.getLogger(__name__)
#: DuckDB's memory for blocking; beyond it DuckDB spills to disk rather than grow
DUCKDB_MEMORY = "1GB"

#: a record's match rule: the kinds of link that joined it, by bit set (see ``_assignments``)
MATCH_RULES = {
    bits: "+".join(k for bit, k in ((1, "model"), (2, "must_link"), (4, "rule")) if bits & bit)
    or "singleton"
    for bits in range(8)
}

ASSIGNMENTS_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "cluster_key": pl.String(),
    "match_rule": pl.String(),
}


@dataclass(frozen=True)
class Resolution:
    """What one run of the engine produced."""

    assignments: pl.DataFrame  # record_key, cluster_key, match_rule
    guards: pl.DataFrame  # identity_guards: identifiers and blocking keys not used on their own
    #: link_evidence (scored pairs with levels, weights, decision), or the plan that reads it:
    #: an incremental batch's is its stored log, read only by whoever asks for ``evidence``
    evidence_plan: pl.DataFrame | pl.LazyFrame
    blocking: pl.DataFrame  # per-rule pair counts
    model: Model | None
    tf: dict[str, pl.DataFrame]  # term frequencies the scores used
    #: what an incremental run starts from: record features (rid = row) and candidate links
    features: pl.DataFrame | None = None
    edges: pl.DataFrame | None = None  # rid_l, rid_r of every link decided (linked/rejected)
    #: per rid, the smallest rid connected to it by ``edges`` (made from them when not given)
    components: np.ndarray | None = None

    @cached_property
    def evidence(self) -> pl.DataFrame:
        """link_evidence, read once from its plan when that is not a frame already."""
        plan = self.evidence_plan
        return plan if isinstance(plan, pl.DataFrame) else plan.collect()


@dataclass(frozen=True)
class Frozen:
    """Parameters kept from an earlier run: an incremental batch is scored with them, so it
    gives exactly what a full run with the same parameters gives."""

    model: Model
    tf: dict[str, pl.DataFrame]


def resolve(
    staged: pl.DataFrame | pl.LazyFrame,
    settings: EngineSettings | None = None,
    *,
    overrides: Overrides | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    frozen: Frozen | None = None,
    keys_out: str | None = None,
) -> Resolution:
    """Cluster ``staged`` records; every record gets exactly one cluster. With ``frozen`` the
    model and term frequencies are not estimated but taken as given; with ``keys_out`` the
    numbered blocking keys are written there (a path without a suffix: files are named after
    it, see ``identity.blocking.write_numbered_keys``) for the next incremental run. A LazyFrame (a
    Parquet scan) is read here and dropped once features are made: at a million records that
    is half a gigabyte less at the peak."""
    return _resolve(
        staged, settings or EngineSettings(), overrides or Overrides(), con, frozen, keys_out
    )


def duckdb_connect() -> duckdb.DuckDBPyConnection:
    """A connection for one step: bounded memory, closed after it so its memory is returned.

    It spills beyond its limit into a folder of this process under the system temp directory
    (an in-memory DuckDB would spill into ``.tmp`` of whatever the current directory is).
    """
    spill = Path(tempfile.gettempdir()) / f"svod-duckdb-{os.getpid()}"
    con = duckdb.connect(
        config={
            "memory_limit": DUCKDB_MEMORY,
            "preserve_insertion_order": False,
            "temp_directory": str(spill),
        }
    )
    con.execute("SET enable_progress_bar = false")  # no progress bars in logs
    return con


def _resolve(
    staged: pl.DataFrame | pl.LazyFrame,
    settings: EngineSettings,
    overrides: Overrides,
    con: duckdb.DuckDBPyConnection | None,
    frozen: Frozen | None,
    keys_out: str | None,
) -> Resolution:
    if isinstance(staged, pl.LazyFrame):
        staged = staged.collect()
    features = record_features(staged)
    del staged
    features, guards = identifier_guards(features, settings)
    if con is None:
        with duckdb_connect() as own:
            blocking = block(own, features, settings, keys_out=keys_out)
    else:
        blocking = block(con, features, settings, keys_out=keys_out)
    pairs = blocking.pairs
    tf = frozen.tf if frozen else tf_tables(features)
    prepared = prepare_records(features, tf)  # once for every comparison of this run
    levels = compare(
        features, pairs, dob_conflict_years=settings.dob_conflict_years, prepared=prepared
    )
    model: Model | None = frozen.model if frozen else None
    if pairs.height and model is None:
        model = estimate_model(features, pairs, levels, settings, prepared=prepared)
    del prepared  # a third of a gigabyte at 1M; later comparisons prepare their few records
    dob_guard = dob_reliable(model, settings)
    if not dob_guard:
        log.info("birth-date conflicts not enforced: this data's birth dates are noisy")
    scored = score_pairs(pairs, levels, model, dob_guard=dob_guard)
    del pairs
    must, _ = override_pairs(overrides, features.get_column("record_key"))
    shown = evidence_rows(scored, levels, settings, must)
    del levels  # only the rows worth showing are kept: at 1M records most pairs are not
    evidence, assignments, edges = cluster_and_explain(
        features, scored, shown, model, settings, overrides, dob_guard=dob_guard, tf=tf
    )
    del shown
    guards = with_skipped_keys(guards, blocking.skipped)
    log.info(
        "resolved",
        extra={
            "records": features.height,
            "pairs": scored.height,
            "clusters": int(assignments.get_column("cluster_key").n_unique()),
            "rejected": int((evidence.get_column("decision") == "rejected").sum()),
        },
    )
    return Resolution(
        assignments, guards, evidence, blocking.stats, model, tf, features=features, edges=edges
    )


def override_pairs(
    overrides: Overrides, keys: pl.Series
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The steward's must / cannot pairs as rids over ``keys`` (none: no index is built)."""
    if not overrides.must and not overrides.cannot:
        return set(), set()
    return overrides.rid_pairs(keys)


def cluster_and_explain(
    records: pl.DataFrame,
    scored: pl.DataFrame,
    shown: pl.DataFrame,
    model: Model | None,
    settings: EngineSettings,
    overrides: Overrides,
    *,
    dob_guard: bool,
    tf: dict[str, pl.DataFrame] | None = None,
    prepared: Prepared | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Cluster the scored pairs of ``records`` (steward overrides win); return the evidence of
    every decision, the record → cluster assignments and the candidate links (rid pairs,
    linked or rejected). Shared by full and incremental runs; ``shown`` is
    :func:`identity.evidence.evidence_rows` of ``scored``; ``prepared``: ``records`` prepared
    for comparison, when the caller has them (fragment merges compare more pairs)."""
    keys = records.get_column("record_key")
    must, cannot = override_pairs(overrides, keys)
    attrs = conflict_attributes(records, settings, dob_guard=dob_guard)
    label, decisions = cluster_records(
        records.height,
        scored.select("rid_l", "rid_r", "probability", "conflict", "forced"),
        attrs,
        link_threshold=settings.link_threshold,
        cluster_threshold=settings.cluster_threshold,
        must=must,
        cannot=cannot,
    )
    if model is not None and scored.height:
        label, decisions = join_fragments(
            records,
            label,
            decisions,
            scored,
            model,
            tf,
            settings,
            attrs,
            cannot,
            dob_guard,
            prepared,
        )
    evidence = link_evidence(shown, decisions, keys, settings, model)
    # what an incremental run must rebuild together: decided links, and the pairs that may
    # seed a fragment merge
    seeds = scored.filter(pl.col("probability") >= settings.fragment_threshold)
    edges = pl.concat([decisions.select("rid_l", "rid_r"), seeds.select("rid_l", "rid_r")])
    edges = edges.unique(maintain_order=True)
    return evidence, _assignments(records, label, decisions), edges


def _assignments(
    features: pl.DataFrame, label: np.ndarray, decisions: pl.DataFrame
) -> pl.DataFrame:
    keys = features.get_column("record_key")
    linked = decisions.filter(pl.col("decision") == "linked")
    n = len(label)
    forced = linked.get_column("forced").fill_null(False).to_numpy()
    must = linked.get_column("probability").fill_null(0.0).to_numpy() >= FORCED
    # a record's rules: the kinds of its linked pairs, as a bit set (1 model, 2 must_link,
    # 4 rule), counted per record with numpy rather than grouped as lists of strings
    code = np.zeros(n, dtype=np.int64)
    ends = [linked.get_column(end).to_numpy() for end in ("rid_l", "rid_r")]
    for bit, kind in ((1, ~must & ~forced), (2, must), (4, ~must & forced)):
        for rids in ends:
            code[rids[kind]] |= bit
    out = pl.DataFrame(
        {
            "record_key": keys,
            "cluster_key": keys.gather(pl.Series(label)),
            "match_rule": pl.Series(code).replace_strict(MATCH_RULES, return_dtype=pl.String()),
        }
    )
    return out if keys.is_sorted() else out.sort("record_key")
