"""The tables that explain a run to a person: ``link_evidence`` and the skipped blocking keys.

``link_evidence`` holds one row per scored pair worth showing — every candidate link, every
near miss, every steward's must-link — with its blocking rules, levels, per-field weights and
the decision with its reason. Only those pairs keep their levels past scoring
(:func:`evidence_rows`): at a million records most pairs are not worth showing.
"""

from __future__ import annotations

import polars as pl

from identity.blocking import RULE_NAMES
from identity.comparison import COMPARISONS
from identity.guards import GUARDS_SCHEMA
from identity.model import Model, score
from identity.scoring import DETERMINISTIC
from identity.settings import EngineSettings


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


def rules_text(bits: pl.Expr) -> pl.Expr:
    """The blocking rules of a pair's bit mask as names joined by ``+``."""
    parts = [
        pl.when(bits.cast(pl.Int64) & (1 << i) != 0).then(pl.lit(name))
        for i, name in enumerate(RULE_NAMES)
    ]
    return pl.concat_str(parts, separator="+", ignore_nulls=True)


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


def link_evidence(
    shown: pl.DataFrame,
    decisions: pl.DataFrame,
    keys: pl.Series,
    settings: EngineSettings,
    model: Model | None,
) -> pl.DataFrame:
    """Scored pairs worth showing a person: every candidate link and every near miss.
    ``shown`` is :func:`evidence_rows`; ``decisions`` the clustering's links and refusals."""
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
    out = near.select(
        keys.gather(near["rid_l"]).alias("left_key"),
        keys.gather(near["rid_r"]).alias("right_key"),
        rules_text(pl.col("rules")).alias("rules"),
        pl.col("match_weight").round(3),
        pl.col("probability").round(5),
        pl.col("decision").fill_null("below_threshold"),
        pl.when(pl.col("forced") & (pl.col("decision") == "linked"))
        .then(pl.lit(DETERMINISTIC))
        .otherwise(pl.col("reason"))
        .alias("reason"),
        *[c.name for c in COMPARISONS],
        *[pl.col(f"{c.name}_weight").round(3) for c in COMPARISONS],
    )
    return out if sorted_by_keys(out) else out.sort("left_key", "right_key")


def sorted_by_keys(frame: pl.DataFrame) -> bool:
    """Whether rows are in (left_key, right_key) order already: pairs in rid order over
    records sorted by key are, and a million string pairs need not be sorted again."""
    left, right = pl.col("left_key"), pl.col("right_key")
    before = (left.shift(1) < left) | ((left.shift(1) == left) & (right.shift(1) <= right))
    return bool(frame.select(before.fill_null(True).all()).item())


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
