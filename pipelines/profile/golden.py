"""Survivorship: for each customer and attribute, the best value by configurable rules.

Every record of a customer offers *candidates* (one per value it holds). Candidates are ranked
by the rules of ``[profile] rules`` in order — validity (a valid mobile beats an invalid cell),
quality (a full Cyrillic name beats initials or a transliteration; a mobile beats a landline; a
personal mailbox beats ``info@``), source priority, frequency, recency — and ties end on the
value itself, so the result never depends on row order. The winner keeps its lineage: source,
record and date; ``decided_by`` names the first rule that put it ahead of the runner-up.
"""

from __future__ import annotations

import polars as pl

from pipelines.config import ProfileConfig
from pipelines.profile.common import customer_codes
from quality.suites import strictly_increasing

ATTRIBUTES: tuple[str, ...] = (
    "name",
    "gender",
    "birth_date",
    "phone",
    "email",
    "city",
    "address",
    "company_name",
    "inn",
    "position",
)

CANDIDATE_COLUMNS = (
    "customer_id",
    "record_key",
    "source",
    "record_at",
    "value",
    "valid",
    "quality",
)

GOLDEN_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "attribute": pl.String(),
    "value": pl.String(),
    "valid": pl.Boolean(),
    "source": pl.String(),
    "record_key": pl.String(),
    "record_at": pl.Datetime("us", "UTC"),
    "candidates": pl.UInt32(),
    "decided_by": pl.String(),
}

_CYRILLIC_ONLY = r"^[А-Яа-яЁё\s\-]+$"


def _word(col: str) -> pl.Expr:
    """1 when a name part is a whole word (not missing, not an initial)."""
    return (pl.col(col).str.len_chars().fill_null(0) > 1).cast(pl.Int32)


def _candidates(frame: pl.LazyFrame, attribute: str) -> pl.LazyFrame:
    """Candidate values of one attribute: value, valid, quality (higher is better)."""
    c = pl.col
    if attribute == "name":
        named = frame.filter((c("entity_kind") == "person") & c("full_name").is_not_null())
        parts = _word("last_name") + _word("first_name") + _word("middle_name")
        cyrillic = c("full_name").str.contains(_CYRILLIC_ONLY).cast(pl.Int32)
        return named.with_columns(
            value=c("full_name"),
            valid=(_word("last_name") + _word("first_name")) > 0,
            quality=cyrillic * 10 + parts,
        )
    if attribute == "phone":
        valid = (
            frame.select(
                "customer_id", "record_key", "source", "record_at", "phones", "phone_types"
            )
            .explode("phones", "phone_types")
            .drop_nulls("phones")
            .with_columns(
                value=c("phones"),
                valid=pl.lit(True),
                quality=c("phone_types").replace_strict(
                    {"mobile": 2, "fixed": 1}, default=0, return_dtype=pl.Int32
                ),
            )
        )
        return pl.concat([valid.select(CANDIDATE_COLUMNS), _invalid(frame, "raw_phone", "phones")])
    if attribute == "email":
        valid = (
            frame.select("customer_id", "record_key", "source", "record_at", "emails")
            .explode("emails")
            .drop_nulls("emails")
            .with_columns(
                value=c("emails"),
                valid=pl.lit(True),
                quality=(~c("emails").str.contains(_ROLE_MAILBOX)).cast(pl.Int32),
            )
        )
        return pl.concat([valid.select(CANDIDATE_COLUMNS), _invalid(frame, "raw_email", "emails")])
    if attribute in ("inn", "company_inn"):
        # a 10-digit ИНН on a person's record is their company's: listed, never their own
        employer = (c("entity_kind") == "person") & (c("inn").str.len_chars() == 10)
        wanted = employer if attribute == "company_inn" else ~employer
        valid = frame.filter(c("inn").is_not_null() & wanted).with_columns(
            value=c("inn"), valid=pl.lit(True), quality=pl.lit(0, pl.Int32)
        )
        if attribute == "company_inn":
            return valid
        return pl.concat([valid.select(CANDIDATE_COLUMNS), _invalid(frame, "raw_inn", "inn")])
    column, quality = {
        "gender": ("gender", c("raw_gender").is_not_null().cast(pl.Int32)),
        "birth_date": ("birth_date", pl.lit(0, pl.Int32)),
        "city": ("city", pl.lit(0, pl.Int32)),
        "address": ("raw_address", c("raw_address").str.contains(r"\d").cast(pl.Int32)),
        "company_name": ("company_name", c("legal_form").is_not_null().cast(pl.Int32)),
        "position": ("position", pl.lit(0, pl.Int32)),
    }[attribute]
    return frame.filter(c(column).is_not_null()).with_columns(
        value=c(column).cast(pl.String).str.strip_chars(), valid=pl.lit(True), quality=quality
    )


_ROLE_MAILBOX = (
    r"^(?:info|sales|office|zakaz|mail|support|admin|hr|buh|buhgalter|secretary|reception"
    r"|order|orders|manager|contact|hello|noreply|no-reply)@"
)


def _invalid(frame: pl.LazyFrame, raw: str, clean: str) -> pl.LazyFrame:
    """A raw cell that yielded no valid value, as an invalid candidate (kept for the record)."""
    empty = (
        pl.col(clean).list.len() == 0
        if isinstance(frame.collect_schema()[clean], pl.List)
        else pl.col(clean).is_null()
    )
    text = pl.col(raw).str.strip_chars()
    return (
        frame.filter(empty & (text.str.len_chars() > 0))
        .with_columns(value=text, valid=pl.lit(False), quality=pl.lit(0, pl.Int32))
        .select(CANDIDATE_COLUMNS)
    )


def candidates(frame: pl.DataFrame | pl.LazyFrame, attribute: str) -> pl.LazyFrame:
    """The candidate table (one row per record × value) of one attribute, as a query.

    Lazy, so only the columns it needs are read from ``frame``.
    """
    return (
        _candidates(frame.lazy(), attribute)
        .select(CANDIDATE_COLUMNS)
        .with_columns(pl.col("quality").cast(pl.Int32))
    )


def _rule_keys(config: ProfileConfig, attribute: str) -> list[tuple[str, pl.Expr, bool]]:
    """(rule, sort expression, descending) in the configured order."""
    priority = config.attribute_priority.get(attribute, config.source_priority)  # type: ignore[call-overload]
    rank = pl.col("source").replace_strict(
        {s: i for i, s in enumerate(priority)}, default=len(priority), return_dtype=pl.Int32
    )
    exprs: dict[str, tuple[pl.Expr, bool]] = {
        "validity": (pl.col("valid"), True),
        "quality": (pl.col("quality"), True),
        "source_priority": (rank, False),
        "frequency": (pl.len().over("customer_id", "value"), True),
        "recency": (pl.col("record_at"), True),
    }
    return [(rule, *exprs[rule]) for rule in config.rules]


def choose(cands: pl.LazyFrame, config: ProfileConfig, attribute: str) -> pl.LazyFrame:
    """The winning candidate per customer, with its lineage and the rule that decided it.

    A query, so every attribute's winner is computed in one parallel ``collect_all``.
    """
    keys = _rule_keys(config, attribute)
    alone = pl.len().over("customer_id") == 1  # a customer's only candidate wins: no sorting
    cands = cands.with_columns(_alone=alone)
    only = cands.filter(pl.col("_alone")).select(
        "customer_id", "value", "valid", "source", "record_key", "record_at",
        candidates=pl.lit(1, pl.UInt32), attribute=pl.lit(attribute),
        decided_by=pl.lit("only value"),
    )  # fmt: skip
    ranked = cands.filter(~pl.col("_alone")).drop("_alone")
    ranked = ranked.with_columns([e.alias(f"_k_{r}") for r, e, _ in keys]).sort(
        ["customer_id", *[f"_k_{r}" for r, _, _ in keys], "value", "record_key"],
        descending=[False, *[d for _, _, d in keys], False, False],
        nulls_last=True,
    )
    # ranked is sorted by customer: a customer's first row is its winner, and its runner-up is
    # the first row whose value differs from the winner's (no per-group filters: they are slow)
    lead = pl.col("customer_id").ne_missing(pl.col("customer_id").shift(1))
    ranked = ranked.with_columns(_winner=pl.when(lead).then(pl.col("value")).forward_fill())
    best = ranked.filter(lead).select(
        "customer_id", "value", "valid", "source", "record_key", "record_at",
        *[pl.col(f"_k_{r}").alias(f"_w_{r}") for r, _, _ in keys],
    )  # fmt: skip
    runner = (
        ranked.filter(pl.col("value") != pl.col("_winner"))
        .filter(lead)
        .select("customer_id", *[pl.col(f"_k_{r}").alias(f"_r_{r}") for r, _, _ in keys])
    )
    counts = ranked.group_by("customer_id").agg(candidates=pl.col("value").n_unique())
    best = best.join(runner, on="customer_id", how="left", maintain_order="left").join(
        counts, on="customer_id", how="left", maintain_order="left"
    )
    decided: pl.Expr = pl.lit("value order", pl.String)
    for rule, _, _ in reversed(keys):
        differs = pl.col(f"_w_{rule}").ne_missing(pl.col(f"_r_{rule}"))
        decided = pl.when(differs).then(pl.lit(rule)).otherwise(decided)
    decided = pl.when(pl.col("candidates") == 1).then(pl.lit("only value")).otherwise(decided)
    chosen = best.with_columns(attribute=pl.lit(attribute), decided_by=decided)
    return pl.concat([chosen.select(list(GOLDEN_SCHEMA)), only.select(list(GOLDEN_SCHEMA))])


#: With ``golden_values(..., rows=True)``: each winner's row in the record frame (when the
#: records are in strictly increasing key order), so ``golden_columns`` gathers by it.
RECORD_ROW = "_record_row"


def golden_values(
    frame: pl.DataFrame, config: ProfileConfig, *, rows: bool = False
) -> pl.DataFrame:
    """One row per (customer, attribute) that has any value: the survivor and its lineage.

    The ten rankings sort and group by customer: they do it on the customer's position in the
    sorted list of IDs (``customer_codes``: same order, less CPU than the strings), and break
    ties on the record's row number when the records are in key order; both are mapped back
    at the end.
    A customer has one row per attribute, so the parts, concatenated in attribute order, need
    only a stable sort by that number to be in (customer, attribute) order.
    ``rows`` keeps each winner's row number as ``RECORD_ROW`` when the record keys are unique
    and in order (a row is then one key), for ``golden_columns``; drop it before publishing.
    """
    ids, coded = None, frame
    if frame.schema["customer_id"] == pl.String():  # else coded already (build_profile_tables)
        code, ids = customer_codes(frame.get_column("customer_id"))
        coded = frame.with_columns(code)
    keys = frame.get_column("record_key")
    schema = {**GOLDEN_SCHEMA, "customer_id": coded.schema["customer_id"]}
    by_row = keys.null_count() == 0 and keys.is_sorted()
    if by_row:  # records in key order: a record's row number sorts like its key, and cheaper
        coded = coded.with_columns(record_key=pl.int_range(pl.len(), dtype=pl.UInt32))
        schema["record_key"] = pl.UInt32()
    names = sorted(ATTRIBUTES)
    parts = [choose(candidates(coded, a), config, a) for a in names]
    del coded
    golden = pl.concat(
        [p.cast(schema) for p in pl.collect_all(parts)]  # type: ignore[arg-type]
    ).sort("customer_id", maintain_order=True)
    if ids is not None:
        golden = golden.with_columns(customer_id=ids.gather(golden.get_column("customer_id")))
    if by_row:
        row = golden.get_column("record_key")
        golden = golden.with_columns(record_key=keys.gather(row))
        if rows and strictly_increasing(keys):
            golden = golden.with_columns(row.alias(RECORD_ROW))
    return golden


def golden_columns(golden: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """One row per customer with the golden values as typed columns (name parts, region too)."""
    wide = golden.pivot(
        on="attribute", index="customer_id", values="value", on_columns=list(ATTRIBUTES)
    )
    phone_valid = golden.filter(pl.col("attribute") == "phone").select(
        "customer_id", phone_valid=pl.col("valid")
    )
    parts = ["last_name", "first_name", "middle_name"]
    if RECORD_ROW in golden.columns:  # the winners' rows: gathered, no join on key text
        at = golden.pivot(
            on="attribute", index="customer_id", values=RECORD_ROW, on_columns=["name", "city"]
        )
        found = [
            frame.select(parts).select(pl.all().gather(at.get_column("name"))),
            frame.select(pl.col("region").gather(at.get_column("city"))),
        ]
        if at.get_column("customer_id").equals(wide.get_column("customer_id")):
            joined = pl.concat([wide, *found], how="horizontal")  # the pivots' rows line up
        else:
            by_id = pl.concat([at.select("customer_id"), *found], how="horizontal")
            joined = wide.join(by_id, on="customer_id", how="left")
    else:
        rec = golden.pivot(
            on="attribute", index="customer_id", values="record_key", on_columns=["name", "city"]
        ).rename({"name": "_name_record", "city": "_city_record"})
        by_key = frame.select("record_key", *parts, "region").unique("record_key")
        names = by_key.select(pl.col("record_key").alias("_name_record"), *parts)
        regions = by_key.select(_city_record="record_key", region="region")
        joined = (
            wide.join(rec, on="customer_id", how="left")
            .join(names, on="_name_record", how="left")
            .join(regions, on="_city_record", how="left")
        )
    return (
        joined.join(phone_valid, on="customer_id", how="left")
        .rename({"name": "full_name"})
        .with_columns(pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False))
        .drop("_name_record", "_city_record", strict=False)
    )
