"""Blocking: candidate pairs from a union of rules, as SQL run in DuckDB.

Each rule turns a record into zero or more keys; records sharing a key (within one entity kind)
become a candidate pair. A key held by more records than the rule's block cap is too common to
say anything on its own (an office switchboard, «Иванов Иван») and is skipped and reported. A
rule whose pairs would exceed ``max_pairs_per_rule`` is refused with :class:`BlockingError`.
Pair counts are reported per rule so a person can see what each rule contributes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity.errors import BlockingError
from identity.settings import EngineSettings
from identity.sqlexec import arrays, execute, query, static_sql
from identity.storedkeys import write_keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A blocking rule: ``key`` is a SQL expression over ``features``; ``unnest`` for lists."""

    name: str
    key: str
    needs: str  # identifier kind in ``link_on`` the rule depends on, or "" for names
    cap: int | None = None  # block cap; None = settings.max_block_size


_DOB = "strftime(dob, '%Y%m%d')"
_DAY = "strftime(dob, '%m%d')"
_DOMAIN = "lambda x: split_part(x, '@', 2)"
_EMAIL_START = (
    "unnest(list_transform(emails, lambda x: left(x, 4) || '|' || left(split_part(x, '@', 2), 3)))"
)
_CONS = "nullif(translate({}, 'aeiouy', ''), '')"  # vowels deleted (no regex: 1M × 2 values)
RULES: tuple[Rule, ...] = (
    Rule("mobile", "unnest(mobiles)", "phone"),
    Rule("landline", "unnest(lands)", "phone"),
    Rule("email", "unnest(emails)", "email"),
    Rule("inn", "inn", "inn"),
    Rule("company", "CASE WHEN kind = 'company' THEN company END", ""),  # colleagues: no
    Rule("first_name_dob", f"lfn || '|' || {_DOB}", ""),
    Rule("last_name_dob", f"lln || '|' || {_DOB}", ""),
    Rule("name_patronymic", "lln || '|' || lfn || '|' || mn", ""),
    # either order: first name and surname typed into each other's column
    Rule("name", "least(lln, lfn) || '|' || greatest(lln, lfn)", "", cap=40),
    Rule("last_name", "lln", "", cap=40),
    Rule("name_city", "unnest([lfn, lln]) || '|' || city", "", cap=20),
    Rule("birth_date", _DOB, "", cap=8),
    # typed-by-hand data: names with typos, birth dates off by a digit
    Rule("name_year", "unnest([lfn, lln]) || '|' || year(dob)", "", cap=20),
    Rule("name_prefix", "left(lln, 3) || '|' || left(lfn, 3)", "", cap=40),
    # a year typed wrong, a mistyped e-mail domain, vowel typos in both names
    Rule("last_name_day", f"lln || '|' || {_DAY}", "", cap=20),
    Rule("first_name_day", f"lfn || '|' || {_DAY}", "", cap=20),
    Rule("email_local", "unnest(list_filter(elocals, lambda x: length(x) >= 4))", "email", cap=10),
    # a personal or small-office domain; free mail and big offices go over the cap
    # typed by hand: the start of the mailbox and of its domain survive a typo further on
    Rule("email_start", _EMAIL_START, "email", cap=20),
    Rule("email_domain", f"unnest(list_transform(emails, {_DOMAIN}))", "email", cap=20),
    Rule("name_consonants", f"{_CONS.format('lln')} || '|' || {_CONS.format('lfn')}", "", cap=40),
    Rule("snils", "snils", ""),
    Rule("passport", "passport", ""),
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
#: the feature columns rule keys are made of
KEY_INPUTS: tuple[str, ...] = (
    "rid", "kind", "lfn", "lln", "mn", "dob", "mobiles", "lands", "emails", "elocals", "inn",
    "company", "city", "snils", "passport",
)  # fmt: skip


def active_rules(settings: EngineSettings) -> list[tuple[int, Rule]]:
    """(bit, rule) for the rules whose identifier is linked on."""
    return [(i, r) for i, r in enumerate(RULES) if not r.needs or r.needs in settings.link_on]


def rules_of(bits: int) -> list[str]:
    """Rule names encoded in a pair's ``rules`` bit set."""
    return [rule.name for i, rule in enumerate(RULES) if bits >> i & 1]


def rule_caps(settings: EngineSettings) -> np.ndarray:
    """The block cap of each rule (int32, indexed by its bit)."""
    return np.array([rule.cap or settings.max_block_size for rule in RULES], dtype=np.int32)


def block_keys_sql(rules: list[tuple[int, Rule]], settings: EngineSettings) -> str:
    """One row per (record, rule, key); keys are prefixed with the entity kind."""
    parts = []
    caps = rule_caps(settings)
    for bit, rule in rules:
        cap = int(caps[bit])
        # rule keys are expressions written in this module, never user values
        select = f"SELECT rid, {bit}::UTINYINT AS rule, {cap}::INTEGER AS cap"
        inner = f"SELECT rid, kind, {rule.key} AS k FROM features"  # noqa: S608
        parts.append(f"{select}, kind || ':' || k AS key FROM ({inner}) WHERE k IS NOT NULL")
    body = "\nUNION ALL\n".join(parts)
    return f"CREATE OR REPLACE TEMP TABLE block_keys AS\n{body}"


def key_ids_path(keys: str | Path) -> Path:
    """Where the key numbers of the block keys written at ``keys`` go: beside them."""
    path = Path(keys)
    return path.with_name(path.stem + ".ids.parquet")


def key_sizes_path(keys: str | Path) -> Path:
    """Where the number of holders of each key (index = key number) goes: beside ``keys``."""
    path = Path(keys)
    return path.with_name(path.stem + ".sizes.npy")


def copy_sql(select: str, path: str | Path) -> str:
    """COPY a query to a Parquet file (a path cannot be a bound parameter)."""
    quoted = str(path).replace("'", "''")
    # the query is one of ours and the path is quoted: no user value reaches the SQL unescaped
    return f"COPY ({select}) TO '{quoted}' (FORMAT parquet)"


def write_numbered_keys(
    con: duckdb.DuckDBPyConnection,
    keys: str | Path,
    table: str = "keyed",
    ids: str = "key_ids",
) -> None:
    """Write the numbered block keys of ``table`` (``rid, rule, kid``) as arrays at ``keys``
    (:func:`identity.storedkeys.write_keys`) and the key numbers of ``ids`` (``rule, key, kid``)
    beside them as Parquet (:func:`key_ids_path`)."""
    # table names are ours (this module and identity.incremental), never user values
    select = f"SELECT rid, rule, kid FROM {table}"  # noqa: S608
    write_keys(arrays(con, "keys_out", select), Path(keys))
    numbers = f"SELECT rule, key, kid FROM {ids}"  # noqa: S608
    execute(con, "key_ids_out", copy_sql(numbers, key_ids_path(keys)))


def _write_sizes(con: duckdb.DuckDBPyConnection, keys: str | Path) -> None:
    """The holders of each key (``key_ids``' ``n``) as an array indexed by key number."""
    got = arrays(con, "key_sizes", "SELECT kid, n::UINTEGER AS n FROM key_ids")
    sizes = np.zeros(len(got["kid"]), dtype=np.uint32)
    sizes[got["kid"]] = got["n"]  # rows come in no set order
    np.save(key_sizes_path(keys), sizes, allow_pickle=False)


_DROP_KEYS = (
    "DROP TABLE IF EXISTS block_keys; DROP TABLE IF EXISTS block_sizes;"
    " DROP TABLE IF EXISTS keyed; DROP TABLE IF EXISTS key_ids"
)


def rule_stats_sql() -> str:
    return static_sql("rule_stats")


def pairs_sql() -> str:
    return static_sql("pairs")


@dataclass(frozen=True)
class Blocking:
    """Candidate pairs (rid_l < rid_r, rules bit set), per-rule counts, skipped keys."""

    pairs: pl.DataFrame
    stats: pl.DataFrame
    skipped: pl.DataFrame


def block(
    con: duckdb.DuckDBPyConnection,
    features: pl.DataFrame,
    settings: EngineSettings,
    *,
    keys_out: str | None = None,
) -> Blocking:
    """Generate candidate pairs; refuse any rule producing more than the configured bound.
    With ``keys_out`` the numbered block keys, their numbers and sizes are written there (see
    :func:`write_numbered_keys`) for an incremental run."""
    rules = active_rules(settings)
    # only the columns the rules read reach DuckDB
    con.register("features", features.select(KEY_INPUTS).to_arrow())
    try:
        execute(con, "block_keys", block_keys_sql(rules, settings))
        execute(con, "block_sizes", static_sql("block_sizes"))
        stats = query(con, "rule_stats", rule_stats_sql())
        names = {bit: rule.name for bit, rule in rules}
        stats = stats.with_columns(
            rule=pl.col("rule").replace_strict(names, return_dtype=pl.String())
        )
        for row in stats.iter_rows(named=True):
            log.info(
                "blocking rule",
                extra={k: row[k] for k in ("rule", "keys", "pairs", "skipped_keys")},
            )
            if row["pairs"] > settings.max_pairs_per_rule:
                raise BlockingError(
                    row["rule"], row["pairs"], settings.max_pairs_per_rule, row["biggest_block"]
                )
        skipped = query(con, "skipped_keys", static_sql("skipped_keys")).with_columns(
            rule=pl.col("rule").replace_strict(names, return_dtype=pl.String())
        )
        if keys_out is None:
            execute(con, "pair_keys", static_sql("pair_keys"))
        else:  # numbered keys, kept for the next incremental run (identity/store.py)
            execute(con, "key_ids", static_sql("key_ids"))
            write_numbered_keys(con, keys_out)
            _write_sizes(con, keys_out)
            execute(con, "pair_keys", static_sql("pair_keys_keyed"))
        # DuckDB's memory goes to the self-join, not to key strings no longer read
        execute(con, "drop_keys", _DROP_KEYS)
        pairs = split_pairs(query(con, "pairs", pairs_sql()))
    finally:
        execute(con, "cleanup", _DROP_KEYS + "; DROP TABLE IF EXISTS pair_keys")
        con.unregister("features")
    counts = pairs.select(
        [
            (pl.col("rules").cast(pl.Int64) & (1 << bit) != 0).sum().alias(rule.name)
            for bit, rule in rules
        ]
    )
    per_rule = dict(zip(counts.columns, counts.row(0), strict=True)) if pairs.height else {}
    stats = stats.with_columns(
        distinct_pairs=pl.col("rule").replace_strict(per_rule, default=0, return_dtype=pl.Int64)
    )
    return Blocking(pairs=pairs, stats=stats, skipped=skipped)


def split_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """(pair, rules) with pair = rid_l << 32 | rid_r → rid_l, rid_r, rules, sorted by the pair."""
    return pairs.sort("pair").select(
        rid_l=(pl.col("pair") // (1 << 32)).cast(pl.UInt32),
        rid_r=(pl.col("pair") % (1 << 32)).cast(pl.UInt32),
        rules=pl.col("rules"),
    )
