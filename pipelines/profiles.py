"""Build the published customer tables from staged records and their customer IDs.

First version of survivorship: the most complete Cyrillic name, and the most frequent value of
each other attribute (ties broken by value, so results are deterministic).
"""

from __future__ import annotations

import polars as pl

from pipelines.schema import EVENT_SCHEMA

IDENTIFIER_SOURCES: dict[str, str] = {"phone": "phones", "email": "emails", "inn": "inn"}


def record_links(staged: pl.DataFrame, links: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """One row per staged record: its customer and how it was linked."""
    return (
        staged.select(
            "record_key",
            "source",
            "source_record_id",
            "source_file",
            "source_sheet",
            "source_row",
            "batch_id",
            "entity_kind",
        )
        .join(links, on="record_key")
        .join(rules.select("record_key", "match_rule"), on="record_key", how="left")
        .select(
            "record_key",
            "customer_id",
            "entity_kind",
            "match_rule",
            "source",
            "source_record_id",
            "source_file",
            "source_sheet",
            "source_row",
            "batch_id",
        )
        .sort("record_key")
    )


def _ranked_values(frame: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    """customer_id → list of values of ``column`` (a list column), most frequent first."""
    return (
        frame.select("customer_id", pl.col(column).alias("value"))
        .explode("value")
        .drop_nulls("value")
        .group_by("customer_id", "value")
        .agg(n=pl.len())
        .sort(["customer_id", "n", "value"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("value").alias(alias))
    )


def build_profiles(staged: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """One row per customer with golden values and counts."""
    frame = staged.join(links, on="record_key")
    name_rank = (
        pl.col("last_name").is_not_null().cast(pl.Int8)
        + pl.col("first_name").is_not_null().cast(pl.Int8)
        + pl.col("middle_name").is_not_null().cast(pl.Int8)
        + pl.col("first_name").str.contains(r"^[А-Яа-яЁё]").fill_null(False).cast(pl.Int8)
    )
    best_name = (
        frame.with_columns(_rank=name_rank)
        .sort(["customer_id", "_rank", "record_key"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("last_name", "first_name", "middle_name").first())
        .with_columns(
            full_name=pl.concat_str(
                ["last_name", "first_name", "middle_name"], separator=" ", ignore_nulls=True
            ).replace("", None)
        )
    )
    scalars = frame.group_by("customer_id").agg(
        entity_kind=pl.col("entity_kind").mode().sort().first(),
        gender=pl.col("gender").drop_nulls().mode().sort().first(),
        birth_date=pl.col("birth_date").drop_nulls().mode().sort().first(),
        city=pl.col("city").drop_nulls().mode().sort().first(),
        region=pl.col("region").drop_nulls().mode().sort().first(),
        company_name=pl.col("company_name").drop_nulls().mode().sort().first(),
        inn=pl.col("inn").drop_nulls().mode().sort().first(),
        record_count=pl.len(),
        sources=pl.col("source").unique().sort(),
        first_seen=pl.col("ingested_at").min(),
        last_seen=pl.col("ingested_at").max(),
    )
    phones = _ranked_values(frame, "phones", "phones")
    emails = _ranked_values(frame, "emails", "emails")
    return (
        scalars.join(best_name, on="customer_id", how="left")
        .join(phones, on="customer_id", how="left")
        .join(emails, on="customer_id", how="left")
        .with_columns(
            phone=pl.col("phones").list.first(),
            email=pl.col("emails").list.first(),
            source_count=pl.col("sources").list.len(),
        )
        .select(
            "customer_id",
            "entity_kind",
            "full_name",
            "last_name",
            "first_name",
            "middle_name",
            "gender",
            "birth_date",
            "phone",
            "email",
            "phones",
            "emails",
            "city",
            "region",
            "company_name",
            "inn",
            "record_count",
            "source_count",
            "sources",
            "first_seen",
            "last_seen",
        )
        .sort("customer_id")
    )


def build_identifiers(staged: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """One row per (customer, identifier type, value) with where and when it was seen."""
    frame = staged.join(links, on="record_key")
    parts = []
    for kind, column in IDENTIFIER_SOURCES.items():
        part = frame.select("customer_id", "source", "ingested_at", pl.col(column).alias("value"))
        if part.schema["value"] != pl.String():
            part = part.explode("value")
        parts.append(part.drop_nulls("value").with_columns(type=pl.lit(kind)))
    return (
        pl.concat(parts)
        .group_by("customer_id", "type", "value")
        .agg(
            sources=pl.col("source").unique().sort(),
            record_count=pl.len(),
            first_seen=pl.col("ingested_at").min(),
            last_seen=pl.col("ingested_at").max(),
        )
        .with_columns(valid=pl.lit(True))
        .select(
            "customer_id",
            "type",
            "value",
            "valid",
            "sources",
            "record_count",
            "first_seen",
            "last_seen",
        )
        .sort("customer_id", "type", "value")
    )


def build_events(events: pl.DataFrame | None, links: pl.DataFrame) -> pl.DataFrame:
    """One row per event with the customer of the record it belongs to (null when unknown)."""
    frame = events if events is not None else pl.DataFrame(schema=EVENT_SCHEMA)
    return (
        frame.select(list(EVENT_SCHEMA))
        .join(links, on="record_key", how="left")
        .select("event_id", "customer_id", *[c for c in EVENT_SCHEMA if c != "event_id"])
        .sort("event_id")
    )
