"""Assemble the published profile tables from staged records, their links and events.

Inputs are exactly what ``publish_stage`` has: staged records, ``links`` (record_key →
customer_id) and the connectors' events; nothing here depends on how customers were resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from pipelines.profile.common import SourceSets, customer_codes, with_customer
from pipelines.profile.companies import build_companies
from pipelines.profile.consent import CHANNELS, consent_statements, resolve_consent
from pipelines.profile.golden import RECORD_ROW, golden_columns, golden_values
from pipelines.profile.identifiers import IDENTIFIER_TYPES, build_identifiers, ranked_lists
from pipelines.profile.segments import segment_columns
from quality.suites import keys_aligned

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
    "raw_comment", "raw_owner", "raw_observed_at", "snils", "passport", "raw_snils",
    "raw_passport",
})  # fmt: skip

#: Staged columns only ``record_links`` reads (lineage): publish builds it from its own scan.
LINEAGE: tuple[str, ...] = (
    "source_record_id",
    "source_file",
    "source_sheet",
    "source_row",
    "batch_id",
)

#: Staged columns only companies, consent and lead sources read: survivorship and identifiers
#: (the memory peak of a build) run without them, and they are read in afterwards.
LATE: tuple[str, ...] = (
    "extra", "company_key", "ogrn", "kpp", "raw_consent_email", "raw_consent_sms",
    "raw_consent_calls", "raw_unsubscribed", "raw_do_not_call",
)  # fmt: skip

#: Staged columns only survivorship and identifiers read: let go once those are built.
GOLDEN_ONLY: tuple[str, ...] = (
    "full_name", "last_name", "first_name", "middle_name", "gender", "raw_gender", "birth_date",
    "phones", "phone_types", "raw_phone", "emails", "raw_email", "raw_inn", "raw_address",
)  # fmt: skip

#: What the profile assembly still reads of the records (``_record_summary``, lead sources).
SUMMARY: tuple[str, ...] = ("customer_id", "source", "record_at", "entity_kind", "extra")

#: Receives each finished table (name, frame) so the caller can write it out and let it go.
Sink = Callable[[str, pl.DataFrame], None]

#: The connectors' events, or a function that reads them: then they are read only when the
#: other builders are done with the records (they are not in memory beside survivorship).
Events = pl.DataFrame | None | Callable[[], pl.DataFrame | None]

_ROW = "_staged_row"

#: The tables ``build_profile_tables`` makes, in the order it returns them.
PROFILE_TABLES: tuple[str, ...] = (
    "profiles", "golden_values", "identifiers", "events", "companies", "customer_companies",
    "consents",
)  # fmt: skip


def _record_summary(frame: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Per customer: kind, record/source counts, first source, first and last seen.

    ``first_source`` is the source of the earliest sighting (ties: the smallest source; no
    date at all: the smallest source); ``entity_kind`` the most frequent kind (ties: the
    smallest, null first). Both by aggregates over small groups, not a sort of every sighting;
    rows in no particular order (the profile is sorted at the end).
    """
    c = pl.col
    seen = pl.concat(
        [
            frame.lazy().select("customer_id", "source", at="record_at"),
            events.lazy()
            .drop_nulls("customer_id")
            .select("customer_id", "source", at="occurred_ts"),
        ]
    )
    span = seen.group_by("customer_id").agg(first_seen=c("at").min(), last_seen=c("at").max())
    # the sightings at first_seen (all of them when none has a date), found by a join: a
    # filter inside the aggregation runs group by group (~0.5 CPU-s more at 1M records)
    first = (
        seen.join(span.select("customer_id", "first_seen"), on="customer_id")
        .filter(c("at").eq_missing(c("first_seen")))
        .group_by("customer_id")
        .agg(first_source=c("source").min())
    )
    kinds = (
        frame.lazy()
        .group_by("customer_id", "entity_kind")
        .len()
        .group_by("customer_id")
        .agg(
            entity_kind=c("entity_kind")
            .sort_by(["len", "entity_kind"], descending=[True, False], nulls_last=False)
            .first()
        )
    )
    sources = SourceSets(frame.get_column("source"))
    counts = frame.group_by("customer_id").agg(record_count=pl.len(), sources=sources.agg())
    return (
        sources.lists(counts)
        .lazy()
        .join(kinds, on="customer_id", how="left")
        .with_columns(source_count=c("sources").list.len())
        .join(span, on="customer_id", how="left")
        .join(first, on="customer_id", how="left")
        .select(
            "customer_id", "entity_kind", "record_count", "sources", "source_count",
            "first_source", "first_seen", "last_seen",
        )
        .collect()
    )  # fmt: skip


def _assemble(
    frame: pl.DataFrame,
    golden_wide: pl.DataFrame,
    lists: pl.DataFrame,
    events: pl.DataFrame,
    consent: pl.DataFrame,
    customer_companies: pl.DataFrame,
    config: ProfileConfig,
    today: date,
) -> pl.DataFrame:
    """One row per customer from the per-customer parts: golden values, activity, consent and
    segment attributes (the big tables need not be kept)."""
    activity = aggregate_activity(events)
    company_ids = customer_companies.group_by("customer_id").agg(
        company_ids=pl.col("company_id").sort()
    )
    # the summary sorted (8 columns), and every part joined in its order: the profile is then
    # in customer order already (no gather of its 65 columns) and the joins are cheaper too
    profiles = _record_summary(frame, events).sort("customer_id")
    for part in (
        golden_wide, lists, company_ids, lead_sources(events, frame), activity,
        rfm_scores(activity), consent,
    ):  # fmt: skip
        profiles = profiles.join(part, on="customer_id", how="left", maintain_order="left")
    profiles = profiles.with_columns(pl.col(_COUNTS).fill_null(0))
    linked = customer_companies.get_column("customer_id").unique()
    profiles = segment_columns(profiles, linked, config, today)
    return profiles.select(PROFILE_COLUMNS).sort("customer_id")  # in order: nothing to move


def record_links(
    staged: pl.DataFrame | pl.LazyFrame, links: pl.DataFrame, rules: pl.DataFrame
) -> pl.DataFrame:
    """One row per staged record: its customer and how it was linked.

    ``staged`` may be a scan of the staged file (only the columns used are read). Links and
    rules in the records' key order (as resolution writes them) are stacked, not joined.
    """
    lineage = ["source", "source_record_id", "source_file", "source_sheet", "source_row"]
    records = staged.lazy().select("record_key", *lineage, "batch_id", "entity_kind").collect()
    order = ["record_key", "customer_id", "entity_kind", "match_rule", *lineage, "batch_id"]
    keys = records.get_column("record_key")
    if keys_aligned(keys, links.get_column("record_key")) and keys.equals(
        rules.get_column("record_key")
    ):
        found = [links.get_column("customer_id"), rules.get_column("match_rule")]
        return records.with_columns(found).select(order)
    return (
        records.lazy()
        .join(links.lazy().select("record_key", "customer_id"), on="record_key")
        .join(rules.lazy().select("record_key", "match_rule"), on="record_key", how="left")
        .select(order)
        .sort("record_key")
        .collect()
    )


def _with_late_columns(frame: pl.DataFrame, staged: pl.LazyFrame, late: list[str]) -> pl.DataFrame:
    """``frame`` without the survivorship-only columns, with the ``LATE`` ones read in.

    ``staged`` carries the row number ``_ROW``; the late columns are read in file order and
    taken by it (a gather, not a join on record keys).
    """
    kept = frame.drop(_ROW, *[c for c in GOLDEN_ONLY if c in frame.columns])
    if not late:
        return kept
    rows = frame.get_column(_ROW)
    added = staged.select(late).collect().select(pl.all().gather(rows))
    return pl.concat([kept, added], how="horizontal")


def build_profile_tables(
    staged: pl.DataFrame | pl.LazyFrame,
    links: pl.DataFrame,
    raw_events: Events,
    config: ProfileConfig,
    today: date,
    sink: Sink | None = None,
) -> dict[str, pl.DataFrame]:
    """Every profile-side published table, keyed by table name.

    With ``sink``, each table goes to it as soon as it is final and is not kept (nor returned):
    only the record frame and the per-customer parts of the profile stay in memory. The
    record frame narrows as the builders finish with its columns (``LATE``, ``GOLDEN_ONLY``,
    ``SUMMARY``), and the events are built last, so no two big parts peak together.

    The builders see each customer as a number (``customer_codes``: the order of the IDs),
    which groups, joins and sorts at about half the cost of the ID text; a table gets its IDs
    back when it is done.
    """
    kept: dict[str, pl.DataFrame] = {}
    code, ids = customer_codes(links.get_column("customer_id"))
    links = links.select("record_key", code)

    def done(name: str, table: pl.DataFrame) -> None:
        if table.schema["customer_id"].is_integer():
            table = table.with_columns(customer_id=ids.gather(table.get_column("customer_id")))
        if sink is None:
            kept[name] = table
        else:
            sink(name, table)

    lazy = staged.lazy().with_row_index(_ROW)
    late = [c for c in LATE if c in lazy.collect_schema()]
    frame = with_customer(lazy.drop(late), links).drop("observed_at", "ingested_at", strict=False)
    golden = golden_values(frame, config, rows=True)
    golden_wide = golden_columns(golden, frame)
    golden = golden.drop(RECORD_ROW, strict=False)
    chosen = golden.filter(pl.col("attribute").is_in(IDENTIFIER_TYPES))
    done("golden_values", golden)
    del golden
    identifiers = build_identifiers(frame, chosen)
    lists = ranked_lists(identifiers)
    done("identifiers", identifiers)
    del identifiers, chosen
    frame = _with_late_columns(frame, lazy, late)
    with ThreadPoolExecutor(1, thread_name_prefix="svod-consent") as aside:
        # beside the companies (Python UDFs and single-threaded string work leave a core
        # idle): ~0.3 s less at 1M records, no extra peak (both read the same frame)
        statements = aside.submit(consent_statements, frame)
        companies, customer_companies = build_companies(frame)
        consents = statements.result()
        del statements
    done("companies", companies)
    del companies
    consent = resolve_consent(consents)
    done("consents", consents)
    del consents
    frame = frame.select([c for c in SUMMARY if c in frame.columns])
    events = build_events(raw_events() if callable(raw_events) else raw_events, links)
    del raw_events
    profiles = _assemble(
        frame, golden_wide, lists, events, consent, customer_companies, config, today
    )
    del frame, golden_wide, lists, consent
    done("customer_companies", customer_companies)
    done("events", events)
    del customer_companies, events
    done("profiles", profiles)
    return {name: kept[name] for name in PROFILE_TABLES if name in kept}
