"""Consent per channel (e-mail, SMS, calls): what each record says, and what a customer's is.

A record states consent through the raw fields ``consent_email/sms/calls`` (yes = opt-in, no =
opt-out), ``unsubscribed`` (yes = opt-out of e-mail and SMS) and ``do_not_call`` (yes = opt-out
of calls), or through the same names (and their header synonyms) inside its ``extra`` JSON, as
JSON sources carry them. A "no" on an opt-out flag grants nothing. On merge the most restrictive
statement wins: one opt-out anywhere makes the channel opt-out; the deciding record is the latest
statement of the winning status.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from pipelines.profile.common import TIME, parse_yes_no
from pipelines.schema import HEADER_SYNONYMS, fold_header

CHANNELS: tuple[str, ...] = ("email", "sms", "calls")

#: raw field → ((channel, status when yes), …), ((channel, status when no), …)
FIELD_EFFECTS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "consent_email": ((("email", "opt_in"),), (("email", "opt_out"),)),
    "consent_sms": ((("sms", "opt_in"),), (("sms", "opt_out"),)),
    "consent_calls": ((("calls", "opt_in"),), (("calls", "opt_out"),)),
    "unsubscribed": ((("email", "opt_out"), ("sms", "opt_out")), ()),
    "do_not_call": ((("calls", "opt_out"),), ()),
}

STATEMENT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "channel": pl.String(),
    "status": pl.String(),
    "source": pl.String(),
    "record_key": pl.String(),
    "record_at": TIME,
    "field": pl.String(),
    "raw_value": pl.String(),
}

_KEYS: dict[str, str] = {
    fold_header(name): field
    for field in FIELD_EFFECTS
    for name in (field, *HEADER_SYNONYMS.get(field, ()))
}
_HINT = "|".join(sorted({k.split()[0] for k in _KEYS}))


def _from_extra(text: str | None) -> list[dict[str, str]]:
    """(field, raw value) pairs of consent keys in an ``extra`` object, one level deep."""
    if not text:
        return []
    try:
        obj: Any = json.loads(text)
    except ValueError:
        return []
    found: list[dict[str, str]] = []
    stack = [obj] if isinstance(obj, dict) else []
    nested = [v for v in obj.values() if isinstance(v, dict)] if isinstance(obj, dict) else []
    for item in stack + nested:
        for key, value in item.items():
            field = _KEYS.get(fold_header(str(key)))
            if field and value is not None and not isinstance(value, dict | list):
                raw = str(value).lower() if isinstance(value, bool) else str(value)
                found.append({"field": field, "raw_value": raw})
    return found


def consent_statements(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (record, channel) statement; ``frame`` is staged records with customer_id."""
    base = ["customer_id", "record_key", "source", "record_at"]
    parts = [  # only the records that fill the field (a few %): not every record five times
        frame.filter(pl.col(f"raw_{f}").is_not_null()).select(
            *base, field=pl.lit(f), raw_value=pl.col(f"raw_{f}")
        )
        for f in FIELD_EFFECTS
        if f"raw_{f}" in frame.columns
    ]
    hinted = frame.filter(pl.col("extra").str.contains(f"(?i){_HINT}").fill_null(False))
    if hinted.height:
        pairs = hinted.select(
            *base,
            found=pl.col("extra").map_elements(
                _from_extra,
                return_dtype=pl.List(pl.Struct({"field": pl.String, "raw_value": pl.String})),
            ),
        )
        parts.append(pairs.explode("found").drop_nulls("found").unnest("found"))
    if not parts:
        return pl.DataFrame(schema=STATEMENT_SCHEMA)
    said = (
        pl.concat(parts, how="vertical_relaxed")
        .drop_nulls("raw_value")
        .with_columns(answer=parse_yes_no(pl.col("raw_value")))
        .drop_nulls("answer")
    )
    effects = pl.DataFrame(
        [
            {"field": f, "answer": answer, "channel": ch, "status": st}
            for f, (yes, no) in FIELD_EFFECTS.items()
            for answer, pairs_ in ((True, yes), (False, no))
            for ch, st in pairs_
        ]
    )
    return (
        said.join(effects, on=["field", "answer"], maintain_order="left")
        .select(list(STATEMENT_SCHEMA))
        # a field stated twice (a raw column and the extra JSON): the first one, every run
        .unique(["record_key", "channel", "status", "field"], keep="first", maintain_order=True)
        # every key of a row: one record's statements on a channel come in one order each run
        .sort("customer_id", "channel", "record_at", "record_key", "status", "field")
    )


def resolve_consent(statements: pl.DataFrame) -> pl.DataFrame:
    """One row per customer: per channel status, and source / record / date that decided it."""
    best = (
        statements.with_columns(_out=pl.col("status") == "opt_out")
        .sort(
            ["customer_id", "channel", "_out", "record_at", "record_key"],
            descending=[False, False, True, True, False],
            nulls_last=True,
        )
        .group_by("customer_id", "channel", maintain_order=True)
        .first()
    )
    wide = best.pivot(
        on="channel",
        index="customer_id",
        values=["status", "source", "record_key", "record_at"],
        on_columns=list(CHANNELS),
        column_naming="combine",
    )
    renames = {
        f"{v}_{ch}": f"consent_{ch}" + ("" if v == "status" else f"_{v}")
        for ch in CHANNELS
        for v in ("status", "source", "record_key", "record_at")
    }
    return wide.rename(renames).rename(
        {f"consent_{ch}_record_key": f"consent_{ch}_record" for ch in CHANNELS}
        | {f"consent_{ch}_record_at": f"consent_{ch}_at" for ch in CHANNELS}
    )
