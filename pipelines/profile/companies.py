"""B2B: companies resolved by ИНН/ОГРН first, then normalised name, and who works where.

A *mention* is any record that names a company: the company's own record (1C Контрагент, a
company row of a spreadsheet) or a person's record with a company column, or a 1C Представитель
carrying ``company_id`` / ``company_inn`` in ``extra``. Mentions with a valid ИНН group by it;
ОГРН joins its ИНН when some mention carries both; a name-only mention joins the one
ИНН-identified company with the same normalised name, else forms a company of its own.
``company_id`` is derived from that key, so it is the same on every run.
"""

from __future__ import annotations

import hashlib

import polars as pl

from identity.normalize.identifiers import repair_inn
from pipelines.profile.common import TIME, json_field, typed

COMPANY_SCHEMA: dict[str, pl.DataType] = {
    "company_id": pl.String(),
    "match_key": pl.String(),
    "inn": pl.String(),
    "kpp": pl.String(),
    "ogrn": pl.String(),
    "name": pl.String(),
    "legal_form": pl.String(),
    "official_name": pl.String(),
    "customer_id": pl.String(),
    "city": pl.String(),
    "region": pl.String(),
    "contacts_count": pl.UInt32(),
    "record_count": pl.UInt32(),
    "sources": pl.List(pl.String()),
    "first_seen": TIME,
    "last_seen": TIME,
}

LINK_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "company_id": pl.String(),
    "position": pl.String(),
    "sources": pl.List(pl.String()),
    "record_count": pl.UInt32(),
    "first_seen": TIME,
    "last_seen": TIME,
}


def _inn(expr: pl.Expr) -> pl.Expr:
    return expr.map_elements(repair_inn, return_dtype=pl.String, skip_nulls=True)


def company_mentions(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per record that names a company; ``frame`` is staged records with customer_id."""
    c = pl.col
    own = c("entity_kind") == "company"
    extra = frame.get_column("extra")
    said = frame.with_columns(
        _extra_inn=json_field(extra, "company_inn"), _extra_id=json_field(extra, "company_id")
    )
    said = said.with_columns(_extra_inn=_inn(c("_extra_inn")))
    extra_inn, extra_id = c("_extra_inn"), c("_extra_id")
    mentions = said.filter(
        own | c("company_key").is_not_null() | extra_inn.is_not_null() | extra_id.is_not_null()
    ).with_columns(
        is_self=own,
        m_inn=pl.when(own)
        .then(c("inn"))
        .otherwise(pl.coalesce(extra_inn, pl.when(c("inn").str.len_chars() == 10).then(c("inn")))),
        m_ogrn=pl.when(own | c("company_key").is_not_null()).then(c("ogrn")),
        m_kpp=pl.when(own).then(c("kpp")),
        parent_key=pl.concat_str(c("source"), pl.lit("|"), extra_id),
    )
    mentions = mentions.with_columns(
        official=json_field(mentions.get_column("extra"), "ОфициальноеНаименование")
    ).drop("_extra_inn", "_extra_id")
    # a Представитель names its company by 1C id: borrow that record's ИНН and ОГРН
    parents = mentions.filter(c("is_self")).select(
        parent_key="record_key", p_inn="m_inn", p_ogrn="m_ogrn"
    )
    return mentions.join(parents, on="parent_key", how="left").with_columns(
        m_inn=pl.coalesce("m_inn", "p_inn"), m_ogrn=pl.coalesce("m_ogrn", "p_ogrn")
    )


def _company_id(key: str) -> str:
    return "K" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:15].upper()


def assign_company_keys(mentions: pl.DataFrame) -> pl.DataFrame:
    """``match_key`` (``inn:…``, ``ogrn:…`` or ``name:…``) and ``company_id`` per mention."""
    c = pl.col
    ogrn_inn = (
        mentions.drop_nulls(["m_ogrn", "m_inn"])
        .group_by("m_ogrn")
        .agg(o_inn=c("m_inn").mode().sort().first())
    )
    keyed = mentions.join(ogrn_inn, on="m_ogrn", how="left").with_columns(
        strong=pl.coalesce(
            pl.concat_str(pl.lit("inn:"), pl.coalesce("m_inn", "o_inn")),
            pl.concat_str(pl.lit("ogrn:"), "m_ogrn"),
        )
    )
    by_name = (
        keyed.drop_nulls(["strong", "company_key"])
        .group_by("company_key")
        .agg(n=c("strong").n_unique(), name_strong=c("strong").first())
        .filter(c("n") == 1)
        .drop("n")
    )
    keyed = keyed.join(by_name, on="company_key", how="left").with_columns(
        match_key=pl.coalesce(
            "strong", "name_strong", pl.concat_str(pl.lit("name:"), "company_key")
        )
    )
    ids = keyed.select(pl.col("match_key").drop_nulls().unique())
    ids = ids.with_columns(
        company_id=c("match_key").map_elements(_company_id, return_dtype=pl.String)
    )
    return keyed.drop_nulls("match_key").join(ids, on="match_key")


def _mode(col: str) -> pl.Expr:
    return pl.col(col).drop_nulls().mode().sort().first()


def build_companies(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(companies: one row per company, customer_companies: one row per person × company)."""
    c = pl.col
    keyed = assign_company_keys(company_mentions(frame))
    links = (
        keyed.filter(~c("is_self"))
        .sort("record_at", "record_key", nulls_last=True)
        .group_by("customer_id", "company_id")
        .agg(
            position=c("position").drop_nulls().last(),
            sources=c("source").unique().sort(),
            record_count=c("record_key").n_unique(),
            first_seen=c("record_at").min(),
            last_seen=c("record_at").max(),
        )
    )
    own = c("is_self")
    companies = keyed.group_by("company_id").agg(
        match_key=c("match_key").first(),
        inn=c("m_inn").drop_nulls().mode().sort().first(),
        kpp=_mode("m_kpp"),
        ogrn=_mode("m_ogrn"),
        name=pl.coalesce(
            c("company_name").filter(own).drop_nulls().mode().sort().first(), _mode("company_name")
        ),
        legal_form=_mode("legal_form"),
        official_name=_mode("official"),
        customer_id=c("customer_id").filter(own).mode().sort().first(),
        city=c("city").filter(own).drop_nulls().mode().sort().first(),
        region=c("region").filter(own).drop_nulls().mode().sort().first(),
        contacts_count=c("customer_id").filter(~own).n_unique(),
        record_count=pl.len(),
        sources=c("source").unique().sort(),
        first_seen=c("record_at").min(),
        last_seen=c("record_at").max(),
    )
    # the company's own customer is not its contact
    links = links.join(
        companies.select("company_id", self_id="customer_id"), on="company_id", how="left"
    ).filter(c("customer_id").ne_missing(c("self_id")))
    return (
        typed(companies, COMPANY_SCHEMA).sort("company_id"),
        typed(links, LINK_SCHEMA).sort("customer_id", "company_id"),
    )
