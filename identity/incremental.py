"""Incremental resolution: a new batch against the stored graph, rebuilding only what it can
change.

With the model and term frequencies of the last full run frozen, a pair's score depends only on
its two records and the identifier guards. So the records whose clustering can change are: the
new ones and the holders of an identifier whose guard changed (together: *dirty*, their pairs
compared again), the holders of a blocking key the batch pushed over its cap (they lose the
pairs through it; no score of theirs changes, nothing is compared for them), and every record
in the same previous component (connected by candidate links) as any of those or as a record a
dirty record links to. Those components are rebuilt exactly as a full run would; all others
keep their clusters and evidence.

Only the new records get features; blocking numbers their keys against the stored key strings
in DuckDB and picks the stored key rows it pairs through from memory-mapped arrays
(:mod:`identity.storedkeys`), so the work grows with the batch and what it touches, not with the
store. The result equals a full run with the same frozen parameters
(``tests/identity/test_incremental.py``), row for row; only the evidence's row order differs:
the batch's rows follow the kept ones instead of being merged into the full run's key order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from identity.arrays import difference_ints, gather_rows, union_ints, unique_ints
from identity.batch_guards import batch_identifier_guards, batch_skipped_keys
from identity.blocking import active_rules, block_keys_sql, write_numbered_keys
from identity.comparison import compare, prepare_records
from identity.engine import Resolution, cluster_and_explain, duckdb_connect, override_pairs
from identity.evidence import evidence_rows, link_evidence
from identity.features import record_features
from identity.guards import strong_identifiers
from identity.overrides import Overrides
from identity.prepared import Prepared
from identity.scoring import dob_reliable, score_pairs
from identity.settings import EngineSettings
from identity.sqlexec import execute, query, static_sql
from identity.store import State, component_labels, drop_evidence, pending_keys
from identity.storedkeys import StoredKeys

log = logging.getLogger(__name__)


#: the key numbers a batch adds to the state
_ADDED = "(SELECT rule, key, kid FROM batch_ids WHERE added)"


class StateMismatchError(ValueError):
    """The stored state cannot be continued with this batch (the caller runs a full run)."""


@dataclass(frozen=True)
class Batch:
    """An incremental run: the whole resolution, the new records' features, the work done."""

    result: Resolution
    new_features: pl.DataFrame
    rebuilt: int  # records re-clustered
    compared: int  # pairs compared
    #: what the batch changed in the evidence: its rows, and the records whose rows it dropped
    #: (``record_key``, ``moved``; :func:`identity.store.drop_evidence`)
    evidence_added: pl.DataFrame
    evidence_dropped: pl.DataFrame
    key_sizes: np.ndarray  # the state's key sizes with the batch's holders counted


def _local(
    feats: pl.DataFrame, rids: pl.Series, pairs: pl.DataFrame, weak: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records ``rids`` in record-key order (rid = position, ``gid`` = stored rid) and
    ``pairs`` in those positions, smaller key left: the order a full run sees them in.
    (Pairs with an end outside ``rids`` are left out.)"""
    taken = gather_rows(feats, unique_ints(rids.to_numpy()))  # rid = row of feats
    part = taken.select(pl.all().gather(taken.get_column("record_key").arg_sort())).with_columns(
        gid=pl.col("rid"), rid=pl.int_range(pl.len(), dtype=pl.UInt32)
    )
    outside = np.iinfo(np.uint32).max
    position = np.full(feats.height, outside, dtype=np.uint32)  # stored rid → position
    position[part.get_column("gid").to_numpy()] = np.arange(part.height, dtype=np.uint32)
    a = position[pairs.get_column("rid_l").to_numpy()]
    b = position[pairs.get_column("rid_r").to_numpy()]
    local = (
        pl.DataFrame(
            {"rid_l": np.minimum(a, b), "rid_r": np.maximum(a, b), "rules": pairs["rules"]}
        )
        .filter(pl.col("rid_r") != outside)
        .sort("rid_l", "rid_r")
    )
    return strong_identifiers(part, weak), local


def _pairs(
    con: duckdb.DuckDBPyConnection, stored: StoredKeys, focus: np.ndarray, *, within: bool
) -> pl.DataFrame:
    """The pairs of the ``focus`` records with every holder of their keys (``within``: only
    with each other), through the keys small enough to pair on."""
    con.register("focus", pl.DataFrame({"rid": focus.astype(np.uint32)}).to_arrow())
    con.register("old_fkeys", stored.of_records(focus).to_arrow())
    try:
        execute(con, "batch_sizes", static_sql("batch_sizes"))
        if within:
            execute(con, "batch_within", static_sql("batch_within"))
        else:
            kids = query(con, "small_kids", static_sql("small_kids"))["kid"].to_numpy()
            con.register("old_holders", stored.holding(kids).to_arrow())
            execute(con, "batch_others", static_sql("batch_others"))
            con.unregister("old_holders")
        return query(con, "batch_pairs", static_sql("batch_pairs"), [within])
    finally:
        con.unregister("focus")
        con.unregister("old_fkeys")


def _within_levels(
    part: pl.DataFrame,
    pairs: pl.DataFrame,
    known: pl.DataFrame,
    dirty: np.ndarray,
    settings: EngineSettings,
    tf: dict[str, pl.DataFrame],
    prepared: Prepared,
) -> pl.DataFrame:
    """Levels of the pairs inside the rebuilt area: those touching a dirty record were compared
    already (``known``, by stored rids), only the others are compared here (``prepared`` is
    ``part`` made ready for comparison)."""
    gid, mask = part["gid"], pl.Series(dirty)
    rows = pairs.with_row_index("i").with_columns(
        gl=gid.gather(pairs["rid_l"]), gr=gid.gather(pairs["rid_r"])
    )
    touch = (mask.gather(rows["gl"]) | mask.gather(rows["gr"])).fill_null(False)
    todo = rows.filter(~touch)
    years = settings.dob_conflict_years
    if not todo.height or not known.height:
        return compare(part, pairs, dob_conflict_years=years, tf=tf, prepared=prepared)
    fresh = compare(
        part, todo.select(pairs.columns), dob_conflict_years=years, tf=tf, prepared=prepared
    )
    reused = (
        rows.filter(touch)
        .select("i", "gl", "gr")
        .join(known, on=["gl", "gr"], how="left", maintain_order="left")
    )
    parts = [pl.concat([todo.select("i"), fresh], how="horizontal"), reused.drop("gl", "gr")]
    return pl.concat(parts).sort("i").drop("i")


def _replaced(stored: pl.DataFrame, rebuilt: pl.DataFrame) -> pl.DataFrame:
    """``stored`` rows (sorted by ``record_key``, one per key) with those of the ``rebuilt``
    keys replaced and new keys added, in key order: a binary search finds where each rebuilt
    key is (or goes), and one gather of the two frames puts every row in its place, rather than
    re-sorting or merging a million keys by string comparison."""
    keys = stored.get_column("record_key")
    if not rebuilt.get_column("record_key").is_sorted():
        rebuilt = rebuilt.sort("record_key")
    if not keys.is_sorted():  # a state written before this was a contract
        gone = keys.is_in(rebuilt.get_column("record_key").implode())
        return pl.concat([stored.filter(~gone), rebuilt]).sort("record_key")
    both = pl.concat([stored, rebuilt], rechunk=True)  # string views: no bytes copied
    n = stored.height
    wanted = rebuilt.get_column("record_key")
    at = keys.search_sorted(wanted).to_numpy().astype(np.int64)
    there = at < n
    there[there] = (keys.gather(at[there]) == wanted.filter(pl.Series(there))).to_numpy()
    order = np.arange(n, dtype=np.int64)
    order[at[there]] = n + np.flatnonzero(there)  # a stored key rebuilt: its new row
    added = np.flatnonzero(~there)
    order = np.insert(order, at[added], n + added)  # a new key: before the first larger one
    return both.select(pl.all().gather(pl.Series(order)))


def _grown(sizes: np.ndarray, grown: pl.DataFrame) -> np.ndarray:
    """The key sizes with the batch's keys (``kid``, ``n``: all their holders now) set; new key
    numbers follow the stored ones."""
    kid = grown["kid"].to_numpy()
    out = np.zeros(max(len(sizes), int(kid.max()) + 1 if len(kid) else 0), dtype=sizes.dtype)
    out[: len(sizes)] = sizes
    out[kid] = grown["n"].to_numpy()
    return out


def resolve_batch(
    new_staged: pl.DataFrame,
    state: State,
    settings: EngineSettings | None = None,
    *,
    overrides: Overrides | None = None,
) -> Batch:
    """Resolve the stored records plus ``new_staged`` (records not seen before), rebuilding
    only the affected components. Writes the new records' block keys into the state."""
    settings = settings or EngineSettings()
    overrides = overrides or Overrides()
    model, tf = state.frozen.model, state.frozen.tf
    n_old = state.features.height
    new = record_features(new_staged).with_columns(pl.col("rid") + n_old)
    if set(new.columns) != set(state.features.columns):
        raise StateMismatchError("the stored features were made by another version of the engine")
    # the set is built of the batch's keys, the store's keys probe it
    if state.features.get_column("record_key").is_in(new["record_key"].implode()).any():
        raise StateMismatchError("the batch repeats records already resolved")
    # left in chunks (one per row group and the batch): rows are gathered chunk by chunk
    feats = pl.concat([state.features, new.select(state.features.columns)])
    ids, weak, moved = batch_identifier_guards(feats, new, state, settings)
    dob_guard = dob_reliable(model, settings)
    with duckdb_connect() as con:
        con.register("features", new.to_arrow())
        execute(con, "new_keys", block_keys_sql(active_rules(settings), settings))
        con.read_parquet(state.ids_glob).create_view("old_ids")
        kids = np.arange(len(state.key_sizes), dtype=np.uint32)
        con.register("old_sizes", pl.DataFrame({"kid": kids, "n": state.key_sizes}).to_arrow())
        execute(con, "batch_ids", static_sql("batch_ids"))
        execute(con, "batch_touched", static_sql("batch_touched"))
        stored = state.keys
        small = query(con, "touched_small", "SELECT kid FROM touched WHERE old_n <= cap")
        con.register("old_touch", stored.holding(small["kid"].to_numpy()).to_arrow())
        grown = query(con, "batch_grown", "SELECT kid, old_n + added AS n FROM touched")
        sizes = _grown(state.key_sizes, grown)
        crossed = query(con, "batch_crossed", static_sql("batch_crossed"))["rid"]
        dirty = union_ints(new["rid"].to_numpy(), moved.to_numpy())
        # the holders of a key pushed over its cap lose the pairs through it, and nothing else:
        # no score changes. Their components are rebuilt (all holders are in them, so every
        # pair that lost the key is too); their pairs to records outside are not compared.
        crossed_only = difference_ints(crossed.to_numpy(), dirty)
        touching = _pairs(con, stored, dirty, within=False)
        fresh = query(con, "batch_skipped", static_sql("batch_skipped"))
        ends_of = pl.concat([touching["rid_l"], touching["rid_r"]]).unique()
        part, local = _local(feats, ends_of, touching, weak)
        levels = compare(part, local, dob_conflict_years=settings.dob_conflict_years, tf=tf)
        scored = score_pairs(local, levels, model, dob_guard=dob_guard)
        # a link, or a pair that may seed a fragment merge, ties its ends' components together
        reach = min(settings.link_threshold, settings.fragment_threshold)
        linked = scored.filter((pl.col("probability") >= reach) | pl.col("forced"))
        gid = part["gid"]
        must, _ = override_pairs(overrides, feats["record_key"])
        ends = np.concatenate(
            [
                gid.gather(linked["rid_l"]).to_numpy(),
                gid.gather(linked["rid_r"]).to_numpy(),
                np.array([r for p in must for r in p], dtype=np.int64),
                dirty,
                crossed_only,
            ]
        ).astype(np.int64)
        # a new record is its own component until the batch links it
        comp = np.concatenate([state.components, np.arange(n_old, feats.height, dtype=np.uint32)])
        hit = np.zeros(feats.height, dtype=bool)
        hit[comp[ends]] = True  # the components to rebuild (ends are in theirs)
        in_area_all = hit[comp]
        area = np.flatnonzero(in_area_all)
        within = _pairs(con, stored, area, within=True)
        write_numbered_keys(con, pending_keys(state.root), "new_keys", _ADDED)
        new_keys = query(con, "new_key_list", "SELECT DISTINCT rule, key FROM new_keys")
    rebuilt_part, rebuilt_pairs = _local(feats, pl.Series(area, dtype=pl.UInt32), within, weak)
    known = pl.concat(
        [local.select(gl=gid.gather(local["rid_l"]), gr=gid.gather(local["rid_r"])), levels],
        how="horizontal",
    )
    dirty_mask = np.zeros(feats.height, dtype=bool)
    dirty_mask[dirty] = True
    # the area's records are prepared once, for its pairs and for the fragment merges
    prepared = prepare_records(rebuilt_part, tf)
    rlevels = _within_levels(rebuilt_part, rebuilt_pairs, known, dirty_mask, settings, tf, prepared)
    rscored = score_pairs(rebuilt_pairs, rlevels, model, dob_guard=dob_guard)
    rshown = evidence_rows(
        rscored, rlevels, settings, override_pairs(overrides, rebuilt_part["record_key"])[0]
    )
    evidence, rebuilt, redges = cluster_and_explain(
        rebuilt_part,
        rscored,
        rshown,
        model,
        settings,
        overrides,
        dob_guard=dob_guard,
        tf=tf,
        prepared=prepared,
    )
    # near misses from dirty records to records left untouched are evidence too
    in_area = pl.Series(in_area_all[gid.to_numpy()])
    outside = ~(in_area.gather(scored["rid_l"]) & in_area.gather(scored["rid_r"]))
    none = pl.DataFrame(
        schema={"rid_l": pl.UInt32, "rid_r": pl.UInt32, "decision": pl.String, "reason": pl.String}
    )
    shown = evidence_rows(scored.filter(outside), levels.filter(outside), settings, set())
    near = link_evidence(shown, none, part["record_key"], settings, model)
    rgid = rebuilt_part["gid"]
    dropped = pl.DataFrame(  # dirty records are in the area (their components are rebuilt)
        {"record_key": rebuilt_part["record_key"], "moved": dirty_mask[rgid.to_numpy()]}
    )
    edges = pl.concat(
        [
            state.edges.filter(~pl.Series(in_area_all).gather(state.edges["rid_l"])),
            redges.select(rid_l=rgid.gather(redges["rid_l"]), rid_r=rgid.gather(redges["rid_r"])),
        ]
    )
    comp[area] = component_labels(redges, rgid.to_numpy())[
        np.argsort(rgid.to_numpy())
    ]  # rebuilt_part is in key order, ``area`` in rid order
    guards = pl.concat([ids, batch_skipped_keys(state, fresh, new_keys)])
    columns = state.evidence.collect_schema().names()
    added = pl.concat([evidence.select(columns), near.select(columns)]).sort(
        "left_key", "right_key"
    )
    result = Resolution(
        assignments=_replaced(state.assignments, rebuilt.cast(state.assignments.schema)),
        guards=guards,
        # the batch's rows follow the kept ones, sorted among themselves: merging them into a
        # million sorted rows cost more than the rest of the batch (a full run sorts all). Read
        # only when asked for: the state keeps the evidence as a log (identity.store)
        evidence_plan=pl.concat([drop_evidence(state.evidence, dropped), added.lazy()]),
        blocking=state.blocking,
        model=model,
        tf=tf,
        features=feats,
        edges=edges,
        components=comp,
    )
    log.info(
        "resolved a batch incrementally",
        extra={
            "new_records": new.height,
            "dirty": len(dirty),
            "rebuilt": len(area),
            "pairs": touching.height + within.height,
        },
    )
    return Batch(result, new, len(area), touching.height + within.height, added, dropped, sizes)
