"""The resolution engine: staged records → clusters, with the evidence of every link.

features → guards → blocking (DuckDB SQL) → comparisons → Fellegi–Sunter model (EM, TF) →
clustering with guards → evidence. Deterministic rules sit beside the model: a company's ИНН
links on its own, and a steward's must-link / cannot-link always wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from identity.blocking import RULE_NAMES, block
from identity.clustering import FORCED, Attributes, ClusterState, cluster_records
from identity.comparison import COMPARISONS, compare
from identity.features import record_features
from identity.fragments import merge_fragments
from identity.guards import CONFLICT_REASONS, GUARDS_SCHEMA, identifier_guards
from identity.model import Model, estimate, level_distribution, score, tf_tables
from identity.overrides import Overrides
from identity.settings import EngineSettings

log = logging.getLogger(__name__)
#: DuckDB's memory for blocking; beyond it DuckDB spills to disk rather than grow
DUCKDB_MEMORY = "1GB"

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
    evidence: pl.DataFrame  # link_evidence: scored pairs with levels, weights, decision
    blocking: pl.DataFrame  # per-rule pair counts
    model: Model | None
    tf: dict[str, pl.DataFrame]  # term frequencies the scores used
    #: what an incremental run starts from: record features (rid = row) and candidate links
    features: pl.DataFrame | None = None
    edges: pl.DataFrame | None = None  # rid_l, rid_r of every link decided (linked/rejected)


@dataclass(frozen=True)
class Frozen:
    """Parameters kept from an earlier run: an incremental batch is scored with them, so it
    gives exactly what a full run with the same parameters gives."""

    model: Model
    tf: dict[str, pl.DataFrame]


def random_pairs(features: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    """Uniform random pairs of distinct records of the same entity kind, for ``u``."""
    rng = np.random.default_rng(seed)
    kinds = features.get_column("kind").to_numpy()
    n = features.height
    if n < 2:
        return pl.DataFrame(schema={"rid_l": pl.UInt32(), "rid_r": pl.UInt32()})
    if n * (n - 1) // 2 <= count:  # a small input: every pair, each once
        a, b = np.triu_indices(n, k=1)
    else:
        a, b = rng.integers(0, n, count), rng.integers(0, n, count)
    keep = (a != b) & (kinds[a] == kinds[b])
    return pl.DataFrame({"rid_l": np.minimum(a, b)[keep], "rid_r": np.maximum(a, b)[keep]}).cast(
        pl.UInt32
    )


def dob_reliable(model: Model | None, settings: EngineSettings) -> bool:
    """Whether differing birth dates may forbid a merge: only when the data show that records
    of one customer rarely disagree on it (EM's m of the two disagreeing levels is small).
    Where birth dates are noisy (typed by hand, perturbed) a difference is evidence, not proof."""
    if model is None:
        return True
    m = model.m["birth_date"]
    return m[0] + m[1] <= settings.reliable_disagreement


def _attributes(
    features: pl.DataFrame, settings: EngineSettings, *, dob_guard: bool = True
) -> Attributes:
    gender = features.select(
        pl.when(pl.col("full_first") & (pl.col("kind") == "person")).then(pl.col("gender"))
    ).to_series()
    inn = features.select(pl.when(pl.col("kind") == "company").then(pl.col("inn"))).to_series()
    snils = features.get_column("snils")
    dob = features.get_column("dob").to_list() if dob_guard else [None] * features.height
    return Attributes(
        dob=dob,
        gender=gender.to_list(),
        inn=inn.to_list(),
        dob_conflict_years=settings.dob_conflict_years,
        snils=snils.to_list() if snils.null_count() < snils.len() else None,
    )


DETERMINISTIC = (
    "deterministic rule: same company ИНН, same СНИЛС or passport, or a shared personal "
    "identifier and first name"
)


def deterministic_rule() -> pl.Expr:
    """Links that need no score: a company's ИНН, a person's СНИЛС (or passport, unless their
    СНИЛС differ), or a personal identifier (an unguarded mobile
    or e-mail) together with the same first name and no other surname. Families share phones
    and mailboxes under *different* first names; namesakes share no identifier."""
    shared_id = (pl.col("phone") == 2) | (pl.col("email") == 4)
    same_first = pl.col("first_name") >= 4
    return (
        pl.col("same_inn")
        | pl.col("same_national_id")
        | (shared_id & same_first & (pl.col("last_name") != 0))
    )


def _conflict_reason(dob_guard: bool) -> pl.Expr:
    expr = pl.lit(None, pl.String())
    flags = ("dob_conflict", "gender_conflict", "inn_conflict", "snils_conflict")
    for flag in reversed(flags if dob_guard else flags[1:]):
        expr = pl.when(pl.col(flag)).then(pl.lit(CONFLICT_REASONS[flag])).otherwise(expr)
    return expr


def _rules_text(bits: pl.Expr) -> pl.Expr:
    parts = [
        pl.when(bits.cast(pl.Int64) & (1 << i) != 0).then(pl.lit(name))
        for i, name in enumerate(RULE_NAMES)
    ]
    return pl.concat_str(parts, separator="+", ignore_nulls=True)


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
    blocking keys are written there (Parquet) for the next incremental run. A LazyFrame (a
    Parquet scan) is read here and dropped once features are made: at a million records that
    is half a gigabyte less at the peak."""
    return _resolve(
        staged, settings or EngineSettings(), overrides or Overrides(), con, frozen, keys_out
    )


def duckdb_connect() -> duckdb.DuckDBPyConnection:
    """A connection for one step: bounded memory, closed after it so its memory is returned."""
    return duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "preserve_insertion_order": False})


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
    levels = compare(features, pairs, dob_conflict_years=settings.dob_conflict_years, tf=tf)
    model: Model | None = frozen.model if frozen else None
    if pairs.height and model is None:
        sample = random_pairs(features, settings.random_pairs, settings.seed)
        n = features.height
        if n * (n - 1) // 2 <= settings.random_pairs:
            # a small input, every pair sampled: its true matches would pass for chance
            # agreement, so u is taken from the pairs that blocking did not bring together
            sample = sample.join(pairs.select("rid_l", "rid_r"), on=["rid_l", "rid_r"], how="anti")
        u_random = level_distribution(compare(features, sample))
        kinds = features.get_column("kind").value_counts().get_column("count").to_numpy()
        total_pairs = float((kinds.astype(float) * (kinds - 1) / 2).sum())
        model = estimate(levels, u_random, settings.em_iterations, total_pairs)
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


def evidence_rows(
    scored: pl.DataFrame,
    levels: pl.DataFrame,
    settings: EngineSettings,
    must: set[tuple[int, int]],
) -> pl.DataFrame:
    """The scored pairs that may end up in ``link_evidence`` (probable, forced or a steward's
    must-link), with their levels: every other pair's levels can be freed before clustering."""
    floor = min(settings.evidence_min_probability, settings.link_threshold)
    mask = scored.select(
        (pl.col("probability") >= floor).fill_null(False) | pl.col("forced")
    ).to_series()
    if must:
        wanted = pl.DataFrame(
            [(min(p), max(p)) for p in must], schema=["rid_l", "rid_r"], orient="row"
        ).cast(pl.UInt32)
        hit = (
            scored.select("rid_l", "rid_r").with_row_index("i").join(wanted, on=["rid_l", "rid_r"])
        )
        mask = mask.scatter(hit.get_column("i"), True)
    return pl.concat([scored.filter(mask), levels.filter(mask)], how="horizontal")


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
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Cluster the scored pairs of ``records`` (steward overrides win); return the evidence of
    every decision, the record → cluster assignments and the candidate links (rid pairs,
    linked or rejected). Shared by full and incremental runs; ``shown`` is
    :func:`evidence_rows` of ``scored``."""
    keys = records.get_column("record_key")
    must, cannot = override_pairs(overrides, keys)
    attrs = _attributes(records, settings, dob_guard=dob_guard)
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
        label, decisions = _join_fragments(
            records, label, decisions, scored, model, tf, settings, attrs, cannot, dob_guard
        )
    evidence = _evidence(shown, decisions, keys, settings, model)
    # what an incremental run must rebuild together: decided links, and the pairs that may
    # seed a fragment merge
    seeds = scored.filter(pl.col("probability") >= settings.fragment_threshold)
    edges = pl.concat([decisions.select("rid_l", "rid_r"), seeds.select("rid_l", "rid_r")])
    edges = edges.unique(maintain_order=True)
    return evidence, _assignments(records, label, decisions), edges


def _join_fragments(
    records: pl.DataFrame,
    label: np.ndarray,
    decisions: pl.DataFrame,
    scored: pl.DataFrame,
    model: Model,
    tf: dict[str, pl.DataFrame] | None,
    settings: EngineSettings,
    attrs: Attributes,
    cannot: set[tuple[int, int]],
    dob_guard: bool,
) -> tuple[np.ndarray, pl.DataFrame]:
    """Clusters merged on the evidence of all their cross pairs (see identity.fragments); each
    merge is recorded as a link of its best cross pair, with the mean and the pair count."""
    forbid: dict[int, set[int]] = {}
    for x, y in cannot:
        forbid.setdefault(x, set()).add(y)
        forbid.setdefault(y, set()).add(x)
    label, merges = merge_fragments(
        records,
        label,
        scored,
        model,
        tf,
        ClusterState(attrs, forbid),
        threshold=settings.fragment_threshold,
        dob_conflict_years=settings.dob_conflict_years,
        conflict=_conflict_reason(dob_guard),
    )
    if not merges:
        return label, decisions
    joined = pl.DataFrame(
        merges, schema=["rid_l", "rid_r", "probability", "pairs"], orient="row"
    ).select(
        pl.col("rid_l").cast(pl.UInt32),
        pl.col("rid_r").cast(pl.UInt32),
        decision=pl.lit("linked"),
        reason=pl.format(
            "fragments joined: their {} cross pairs average probability {}",
            "pairs",
            pl.col("probability").round(2),
        ),
        probability=pl.col("probability"),
        forced=pl.lit(False),
    )
    kept = decisions.join(joined.select("rid_l", "rid_r"), on=["rid_l", "rid_r"], how="anti")
    out = pl.concat([kept, joined.select(kept.columns).cast(kept.schema)])
    return label, out.sort("rid_l", "rid_r")


def with_skipped_keys(guards: pl.DataFrame, skipped: pl.DataFrame) -> pl.DataFrame:
    """The identifier guards plus the blocking keys skipped as too common."""
    rows = skipped.select(
        type=pl.lit("blocking:") + pl.col("rule"),
        value=pl.col("key"),
        records=pl.col("records").cast(pl.Int64),
        reason=pl.format(
            "blocking key held by {} records (cap {}): too common to block on alone",
            pl.col("records"),
            pl.col("cap"),
        ),
    )
    return pl.concat([guards, rows.cast(GUARDS_SCHEMA)])  # type: ignore[arg-type]


def score_pairs(
    pairs: pl.DataFrame, levels: pl.DataFrame, model: Model | None, *, dob_guard: bool
) -> pl.DataFrame:
    """``pairs`` with match_weight, probability, conflict and forced. Scored in chunks: the
    per-field weights of millions of pairs are never all held (see :func:`_evidence`)."""
    if not pairs.height or model is None:
        return pairs.with_columns(
            match_weight=pl.lit(None, pl.Float64()),
            probability=pl.lit(None, pl.Float64()),
            conflict=pl.lit(None, pl.String()),
            forced=pl.lit(False, pl.Boolean()),
        )
    step = 1_000_000
    total = np.concatenate(
        [score(levels.slice(i, step), model)[1] for i in range(0, levels.height, step)]
    )
    prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    return pairs.with_columns(
        match_weight=pl.Series(total, dtype=pl.Float64),
        probability=pl.Series(prob, dtype=pl.Float64),
        conflict=levels.select(_conflict_reason(dob_guard)).to_series(),
        forced=levels.select(deterministic_rule()).to_series(),
    )


def _assignments(
    features: pl.DataFrame, label: np.ndarray, decisions: pl.DataFrame
) -> pl.DataFrame:
    keys = features.get_column("record_key")
    linked = decisions.filter(pl.col("decision") == "linked")
    kind = (
        pl.when(pl.col("probability") >= FORCED)
        .then(pl.lit("must_link"))
        .when(pl.col("forced"))
        .then(pl.lit("rule"))
        .otherwise(pl.lit("model"))
    )
    ends = pl.concat(
        [
            linked.select(rid="rid_l", rule=kind),
            linked.select(rid="rid_r", rule=kind),
        ]
    )
    rules = ends.group_by("rid").agg(match_rule=pl.col("rule").unique().sort().str.join("+"))
    return (
        pl.DataFrame(
            {"rid": np.arange(len(label), dtype=np.uint32), "root": label.astype(np.uint32)}
        )
        .join(rules.cast({"rid": pl.UInt32}), on="rid", how="left")
        .select(
            record_key=keys,
            cluster_key=keys.gather(pl.Series(label)),
            match_rule=pl.col("match_rule").fill_null("singleton"),
        )
        .sort("record_key")
    )


def _evidence(
    shown: pl.DataFrame,
    decisions: pl.DataFrame,
    keys: pl.Series,
    settings: EngineSettings,
    model: Model | None,
) -> pl.DataFrame:
    """Scored pairs worth showing a person: every candidate link and every near miss."""
    if not shown.height:
        return pl.DataFrame(schema=evidence_schema())
    labels = [
        pl.col(c.name)
        .replace_strict(dict(enumerate(c.levels)) | {-1: None}, return_dtype=pl.String())
        .alias(c.name)
        for c in COMPARISONS
    ]
    decided = shown.select("rid_l", "rid_r").join(
        decisions.select("rid_l", "rid_r", "decision", "reason"),
        on=["rid_l", "rid_r"],
        how="left",
        maintain_order="left",
    )
    keep = (shown.get_column("probability") >= settings.evidence_min_probability).fill_null(
        False
    ) | decided.get_column("decision").is_not_null()
    shown, decided = shown.filter(keep), decided.filter(keep)
    if model is None:
        weights = pl.DataFrame({c.name: [None] * shown.height for c in COMPARISONS})
    else:
        weights = score(shown, model)[0]
    near = pl.concat(
        [
            shown.select("rules", "match_weight", "probability", "forced"),
            decided,
            shown.select(labels),
            weights.cast(pl.Float32).rename(lambda c: f"{c}_weight"),
        ],
        how="horizontal",
    )
    return near.select(
        keys.gather(near["rid_l"]).alias("left_key"),
        keys.gather(near["rid_r"]).alias("right_key"),
        _rules_text(pl.col("rules")).alias("rules"),
        pl.col("match_weight").round(3),
        pl.col("probability").round(5),
        pl.col("decision").fill_null("below_threshold"),
        pl.when(pl.col("forced") & (pl.col("decision") == "linked"))
        .then(pl.lit(DETERMINISTIC))
        .otherwise(pl.col("reason"))
        .alias("reason"),
        *[c.name for c in COMPARISONS],
        *[pl.col(f"{c.name}_weight").round(3) for c in COMPARISONS],
    ).sort("left_key", "right_key")


def evidence_schema() -> dict[str, pl.DataType]:
    """Columns of ``link_evidence``."""
    schema: dict[str, pl.DataType] = {
        "left_key": pl.String(),
        "right_key": pl.String(),
        "rules": pl.String(),
        "match_weight": pl.Float64(),
        "probability": pl.Float64(),
        "decision": pl.String(),
        "reason": pl.String(),
    }
    schema |= {c.name: pl.String() for c in COMPARISONS}
    schema |= {f"{c.name}_weight": pl.Float32() for c in COMPARISONS}
    return schema
