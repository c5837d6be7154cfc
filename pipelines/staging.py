"""Stage: normalise raw records into one canonical table, and quarantine rows nobody can use.

Raw values stay beside clean ones (``raw_*`` columns); every problem found becomes a quality flag
on the row. A row ends in quarantine only when it carries nothing that identifies anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from identity.normalize.companies import normalize_companies
from identity.normalize.dates import normalize_birth_dates
from identity.normalize.emails import normalize_emails
from identity.normalize.names import normalize_names
from identity.normalize.national_ids import normalize_national_ids
from identity.normalize.phones import normalize_phones
from identity.normalize.places import normalize_cities
from pipelines.schema import ENTITY_COMPANY, ENTITY_PERSON, LINEAGE, RAW_FIELDS
from quality.rules import split_unusable

log = logging.getLogger(__name__)
_PARALLEL_FROM_ROWS = 5_000  # below this, threads cost more than they save
_ROW = "_flag_row"

NAME_COLUMNS = (
    "last_name",
    "first_name",
    "middle_name",
    "first_initial",
    "middle_initial",
    "first_name_canonical",
    "first_name_alternatives",
    "gender",
    "last_name_key",
    "first_name_key",
    "latin_last_key",
    "latin_first_key",
    "name_kind",
)


def _normalize_fields(
    raw: pl.DataFrame, default_region: str, threads: bool
) -> dict[str, pl.DataFrame]:
    """Every normaliser's output frame, computed side by side in threads (if ``threads``).

    The fast paths are polars expressions, which run without the GIL, so the phone and
    e-mail bulk work overlaps the Python-bound name parsing on a second core. A worker
    process that shares the cores with another one gains nothing from that but GIL hand-offs.
    """
    jobs: dict[str, Callable[[], pl.DataFrame]] = {
        "names": lambda: normalize_names(
            raw["full_name"], raw["last_name"], raw["first_name"], raw["middle_name"]
        ),
        "phones": lambda: normalize_phones(raw["phone"], default_region=default_region),
        "emails": lambda: normalize_emails(raw["email"]),
        "companies": lambda: normalize_companies(
            raw["company"], raw["inn"], raw["kpp"], raw["ogrn"]
        ),
        "dates": lambda: normalize_birth_dates(raw["birth_date"]),
        "places": lambda: normalize_cities(raw["city"]),
        "national_ids": lambda: normalize_national_ids(raw["snils"], raw["passport"]),
    }
    if not threads or raw.height < _PARALLEL_FROM_ROWS:
        return {name: job() for name, job in jobs.items()}
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="normalize") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def quality_flags(flag_columns: list[pl.Series], rows: int) -> pl.DataFrame:
    """Every row's flags, field after field, each once (``quality_flags``).

    Built from the few flags there are (about one row in five has any) rather than row by
    row with ``concat_list``, which costs ten times more at a million rows.
    """
    found = (
        pl.concat(
            [pl.DataFrame({"flag": c}).with_row_index(_ROW) for c in flag_columns],
            how="vertical_relaxed",
        )
        .explode("flag")
        .drop_nulls("flag")
        .sort(_ROW, maintain_order=True)  # stable: field order, then the field's own order
        .unique([_ROW, "flag"], keep="first", maintain_order=True)
        .group_by(_ROW, maintain_order=True)
        .agg(quality_flags="flag")
    )
    every_row = pl.int_range(rows, dtype=pl.UInt32, eager=True).alias(_ROW).to_frame()
    return every_row.join(found, on=_ROW, how="left", maintain_order="left").select(
        pl.col("quality_flags").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )


def normalize_records(
    raw: pl.DataFrame, *, default_region: str = "RU", threads: bool = True
) -> pl.DataFrame:
    """All normalisers applied to raw records; one output row per input row, same order."""
    out = _normalize_fields(raw, default_region, threads)
    names, phones, emails = out["names"], out["phones"], out["emails"]
    dates, places, companies = out["dates"], out["places"], out["companies"]
    flag_columns = [
        names["name_flags"],
        phones["phone_flags"],
        emails["email_flags"],
        dates["birth_date_flags"],
        places["city_flags"],
        companies["company_flags"],
        out["national_ids"]["national_id_flags"],
    ]
    flags = quality_flags(flag_columns, raw.height)
    lineage = raw.select(list(LINEAGE))
    raw_values = raw.select(
        [pl.col(f).alias(f"raw_{f}") for f in RAW_FIELDS if f != "extra"] + ["extra"]
    )
    frame = pl.concat(
        [
            lineage,
            names.select(NAME_COLUMNS),
            phones.select("phones", "phone_types", "phone_exts"),
            emails.select("emails", "email_keys"),
            dates.select("birth_date"),
            places.select("city", "region"),
            companies.select("company_name", "legal_form", "company_key", "inn", "kpp", "ogrn"),
            out["national_ids"].select("snils", "passport"),
            flags,
            raw_values,
        ],
        how="horizontal",
    )
    raw_gender = pl.col("raw_gender").str.to_lowercase().str.slice(0, 1)
    return frame.with_columns(
        entity_kind=pl.coalesce(
            pl.col("raw_entity_kind"),
            pl.when(
                (pl.col("name_kind") == "company")
                | (
                    pl.col("last_name").is_null()
                    & pl.col("first_name").is_null()
                    & pl.col("company_name").is_not_null()
                )
            )
            .then(pl.lit(ENTITY_COMPANY))
            .otherwise(pl.lit(ENTITY_PERSON)),
        ),
        gender=pl.coalesce(
            pl.col("gender"),
            pl.when(raw_gender.is_in(["м", "m"]))
            .then(pl.lit("m"))
            .when(raw_gender.is_in(["ж", "f", "w"]))
            .then(pl.lit("f")),
        ),
        full_name=pl.concat_str(
            [pl.col("last_name"), pl.col("first_name"), pl.col("middle_name")],
            separator=" ",
            ignore_nulls=True,
        ).replace("", None),
        position=pl.col("raw_position"),
        observed_at=pl.col("raw_observed_at"),
    )


def stage(raw: pl.DataFrame, *, default_region: str = "RU") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalise raw records; return (staged, quarantined) — every input row is in one of them."""
    normalized = normalize_records(raw, default_region=default_region)
    staged, quarantined = split_unusable(normalized)
    log.info("staged", extra={"records": staged.height, "quarantined": quarantined.height})
    return staged.sort("record_key"), quarantined
