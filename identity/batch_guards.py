"""The guards after an incremental batch, without recomputing them for the whole store.

Identifier guards are recomputed only for the identifiers the batch brought (over every record
holding one), and the records whose identifier changed guard are reported: their pairs must be
rebuilt. Skipped blocking keys are kept from the last run except for the keys the batch
touched. The tables equal what a full run over the same records writes.
"""

from __future__ import annotations

import polars as pl

from identity.arrays import gather_rows, unique_ints
from identity.blocking import RULE_NAMES
from identity.evidence import with_skipped_keys
from identity.guards import WEAK_PHONE, identifier_guards
from identity.settings import EngineSettings
from identity.store import State

_IDS = ("mobiles", "lands", "emails")


def _values(features: pl.DataFrame, among: pl.Series | None = None) -> pl.DataFrame:
    """(rid, v): every identifier value of ``features`` (only those in ``among`` if given)."""
    parts = []
    for column in _IDS:
        long = features.lazy().select("rid", v=pl.col(column)).explode("v")
        parts.append(long if among is None else long.filter(pl.col("v").is_in(among.implode())))
    return pl.concat(parts).collect()


def batch_identifier_guards(
    feats: pl.DataFrame, new: pl.DataFrame, state: State, settings: EngineSettings
) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """(identifier guards now, weak values, rids holding an identifier whose guard changed)."""
    touched = _values(new)["v"].drop_nulls().unique()
    # each list exploded on its own: concatenating the three lists first costs ten times more
    holders = _values(feats, touched)
    # rid = row of feats: the holders' rows gathered, not a mask over the million
    _, table = identifier_guards(
        gather_rows(feats, unique_ints(holders["rid"].to_numpy())), settings
    )
    fresh = table.filter(pl.col("value").is_in(touched.implode()))
    ids = state.guards.filter(pl.col("type").is_in(["phone", "email"]))
    before = ids.filter(pl.col("value").is_in(touched.implode())).select("value", "reason")
    after = fresh.select("value", "reason")
    changed = pl.concat(
        [
            before.join(after, on=["value", "reason"], how="anti"),
            after.join(before, on=["value", "reason"], how="anti"),
        ]
    )["value"]
    table = pl.concat([ids.filter(~pl.col("value").is_in(touched.implode())), fresh])
    weak = table.filter(pl.col("reason") != WEAK_PHONE)["value"].unique()
    moved = holders.filter(pl.col("v").is_in(changed.implode()))["rid"].unique()
    return table.sort("type", "value", "reason"), weak, moved


def batch_skipped_keys(state: State, fresh: pl.DataFrame, new_keys: pl.DataFrame) -> pl.DataFrame:
    """The blocking rows of the guards table: old ones for keys the batch did not touch."""
    names = dict(enumerate(RULE_NAMES))
    touched = new_keys.select(
        type=pl.lit("blocking:") + pl.col("rule").replace_strict(names), value="key"
    ).unique()
    old = state.guards.filter(pl.col("type").str.starts_with("blocking:")).join(
        touched, on=["type", "value"], how="anti"
    )
    rows = with_skipped_keys(
        old.clear(), fresh.with_columns(rule=pl.col("rule").replace_strict(names))
    )
    order = {f"blocking:{n}": i for i, n in names.items()}
    return (
        pl.concat([old, rows])
        .with_columns(bit=pl.col("type").replace_strict(order, return_dtype=pl.Int64))
        .sort(["bit", "records", "value"], descending=[False, True, False])
        .drop("bit")
    )
