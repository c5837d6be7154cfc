"""Assemble the published profile tables from staged records, their links and events.

Inputs are exactly what ``publish_stage`` has: staged records, ``links`` (record_key →
customer_id) and the connectors' events; nothing here depends on how customers were resolved.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.config import ProfileConfig
from pipelines.profile.activity import (
    ACTIVITY_SCHEMA,
    aggregate_activity,
    build_events,
    lead_sources,
    rfm_scores,
)
from pipelines.profile.common import with_customer
from pipelines.profile.companies import build_companies
from pipelines.profile.consent import CHANNELS, consent_statements, resolve_consent
from pipelines.profile.golden import golden_columns, golden_values
from pipelines.profile.identifiers import build_identifiers, ranked_lists
from pipelines.profile.segments import segment_columns

PROFILE_COLUMNS: tuple[str, ...] = (
    "customer_id", "entity_kind", "customer_type",
    "full_name", "last_name", "first_name", "middle_name", "gender", "birth_date", "age",
    "age_band", "phone", "phone_valid", "email", "phones", "emails", "city", "region",
    "business_unit", "address", "company_name", "inn", "position", "company_ids",
    "record_count", "source_count", "sources", "first_source", "first_seen", "last_seen",
    "lead_sources", "first_lead_source",
    *[c for c in ACTIVITY_SCHEMA if c != "customer_id"],
    "recency_days", "rfm_r", "rfm_f", "rfm_m", "rfm",
    *[f"consent_{ch}{s}" for ch in CHANNELS for s in ("", "_source", "_record", "_at")],
)  # fmt: skip

_COUNTS = [c for c, t in ACTIVITY_SCHEMA.items() if t == pl.UInt32()]

#: Staged columns no profile table reads (match keys, flags, raw copies of cleaned fields):
#: publish leaves them on disk, which halves the memory and the cost of every join. A column
#: not listed here (a new field) reaches the profile builders.
PROFILE_UNUSED: frozenset[str] = frozenset({
    "source_kind", "file_sha256", "first_initial", "middle_initial", "first_name_canonical",
    "first_name_alternatives", "last_name_key", "first_name_key", "latin_last_key",
    "latin_first_key", "name_kind", "phone_exts", "email_keys", "quality_flags",
    "raw_entity_kind", "raw_full_name", "raw_last_name", "raw_first_name", "raw_middle_name",
    "raw_birth_date", "raw_city", "raw_company", "raw_position", "raw_kpp", "raw_ogrn",
    "raw_comment", "raw_owner", "raw_observed_at",
})  # fmt: skip


def _record_summary(frame: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Per customer: kind, record/source counts, first source, first and last seen."""
    seen = pl.concat(
        [
            frame.select("customer_id", "source", at="record_at"),
            events.drop_nulls("customer_id").select("customer_id", "source", at="occurred_ts"),
        ]
    ).sort("customer_id", "at", "source", nulls_last=True)
    first = seen.group_by("customer_id", maintain_order=True).agg(
        first_source=pl.col("source").first(),
        first_seen=pl.col("at").min(),
        last_seen=pl.col("at").max(),
    )
    return (
        frame.group_by("customer_id")
        .agg(
            entity_kind=pl.col("entity_kind").mode().sort().first(),
            record_count=pl.len(),
            sources=pl.col("source").unique().sort(),
        )
        .with_columns(source_count=pl.col("sources").list.len())
        .join(first, on="customer_id", how="left")
    )


def build_profiles(
    frame: pl.DataFrame,
    golden: pl.DataFrame,
    identifiers: pl.DataFrame,
    events: pl.DataFrame,
    consents: pl.DataFrame,
    customer_companies: pl.DataFrame,
    config: ProfileConfig,
    today: date,
) -> pl.DataFrame:
    """One row per customer: golden values, activity, consent and segment attributes."""
    activity = aggregate_activity(events)
    company_ids = customer_companies.group_by("customer_id").agg(
        company_ids=pl.col("company_id").sort()
    )
    profiles = (
        _record_summary(frame, events)
        .join(golden_columns(golden, frame), on="customer_id", how="left")
        .join(ranked_lists(identifiers), on="customer_id", how="left")
        .join(company_ids, on="customer_id", how="left")
        .join(lead_sources(events, frame), on="customer_id", how="left")
        .join(activity, on="customer_id", how="left")
        .join(rfm_scores(activity), on="customer_id", how="left")
        .join(resolve_consent(consents), on="customer_id", how="left")
        .with_columns(pl.col(_COUNTS).fill_null(0))
    )
    linked = customer_companies.get_column("customer_id").unique()
    profiles = segment_columns(profiles, linked, config, today)
    return profiles.select(PROFILE_COLUMNS).sort("customer_id")


def record_links(staged: pl.DataFrame, links: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """One row per staged record: its customer and how it was linked."""
    lineage = ["source", "source_record_id", "source_file", "source_sheet", "source_row"]
    return (
        staged.select("record_key", *lineage, "batch_id", "entity_kind")
        .join(links.select("record_key", "customer_id"), on="record_key")
        .join(rules.select("record_key", "match_rule"), on="record_key", how="left")
        .select("record_key", "customer_id", "entity_kind", "match_rule", *lineage, "batch_id")
        .sort("record_key")
    )


def build_profile_tables(
    staged: pl.DataFrame,
    links: pl.DataFrame,
    raw_events: pl.DataFrame | None,
    config: ProfileConfig,
    today: date,
) -> dict[str, pl.DataFrame]:
    """Every profile-side published table, keyed by table name."""
    frame = with_customer(staged, links)
    events = build_events(raw_events, links)
    golden = golden_values(frame, config)
    identifiers = build_identifiers(frame, golden)
    companies, customer_companies = build_companies(frame)
    consents = consent_statements(frame)
    profiles = build_profiles(
        frame, golden, identifiers, events, consents, customer_companies, config, today
    )
    return {
        "profiles": profiles,
        "golden_values": golden,
        "identifiers": identifiers,
        "events": events,
        "companies": companies,
        "customer_companies": customer_companies,
        "consents": consents,
    }
