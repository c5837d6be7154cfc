"""Match features of each staged record: the compact, comparable form the engine works on.

Staged records carry display values and raw columns; the engine needs only keys, in one script
where it matters (Latin keys make «Иванов» and «Ivanov» comparable), lists of identifiers split
by strength (mobile vs landline), and an integer ``rid`` so pair tables stay small.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from identity.normalize.emails import is_role
from identity.normalize.name_text import latin_key

#: Columns the engine reads from staged records; missing ones are treated as empty.
STAGED_INPUTS: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "entity_kind": pl.String(),
    "first_name": pl.String(),
    "middle_name": pl.String(),
    "first_initial": pl.String(),
    "middle_initial": pl.String(),
    "first_name_alternatives": pl.List(pl.String()),
    "gender": pl.String(),
    "last_name_key": pl.String(),
    "first_name_key": pl.String(),
    "latin_last_key": pl.String(),
    "latin_first_key": pl.String(),
    "phones": pl.List(pl.String()),
    "phone_types": pl.List(pl.String()),
    "email_keys": pl.List(pl.String()),
    "birth_date": pl.Date(),
    "city": pl.String(),
    "company_key": pl.String(),
    "inn": pl.String(),
    "snils": pl.String(),
    "passport": pl.String(),
}


#: Free-mail domains (after the typo fixes of normalisation): a personal address there and a
#: work address elsewhere are not two answers to one question.
FREE_MAIL: tuple[str, ...] = (
    "mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru", "yandex.ru", "rambler.ru",
    "gmail.com", "icloud.com", "outlook.com", "hotmail.com", "yahoo.com", "live.com",
)  # fmt: skip


@lru_cache(maxsize=65536)
def _latin_initial(text: str) -> str:
    key = latin_key(text)
    return key[:1]


def _fold(column: str) -> pl.Expr:
    return (
        pl.col(column)
        .str.to_lowercase()
        .str.replace_all("ё", "е")
        .str.strip_chars()
        .replace("", None)
    )


def complete(staged: pl.DataFrame) -> pl.DataFrame:
    """``staged`` with every input column present (nulls / empty lists where a source had none)."""
    missing = []
    for name, dtype in STAGED_INPUTS.items():
        if name not in staged.columns:
            empty: list[str] | None = [] if isinstance(dtype, pl.List) else None
            missing.append(pl.lit(empty, dtype=dtype).alias(name))
    frame = staged.with_columns(missing) if missing else staged
    return frame.select(list(STAGED_INPUTS)).cast(dict(STAGED_INPUTS))  # type: ignore[arg-type]


def record_features(staged: pl.DataFrame) -> pl.DataFrame:
    """One row per record, sorted by record_key, with ``rid`` = row number."""
    frame = _one_per_key(complete(staged))
    phones = frame.select(
        "record_key", phone=pl.col("phones"), ptype=pl.col("phone_types")
    ).explode("phone", "ptype")
    phones = (
        phones.drop_nulls("phone")
        .group_by("record_key")
        .agg(
            mobiles=pl.col("phone").filter(pl.col("ptype") == "mobile").unique().sort(),
            lands=pl.col("phone").filter(pl.col("ptype") != "mobile").unique().sort(),
        )
    )
    out = frame.join(phones, on="record_key", how="left", maintain_order="left")
    empty = pl.lit([], dtype=pl.List(pl.String()))
    # each list made once, then read (an eager select would recompute a shared expression)
    out = out.with_columns(
        # one list.eval: polars' list.sort costs ~0.1 s per call even on 10k short lists
        _emails=pl.col("email_keys").list.eval(pl.element().drop_nulls().unique().sort())
    ).with_columns(
        _locals=pl.col("_emails").list.eval(pl.element().str.split("@").list.first()),
        _free=pl.col("_emails").list.eval(pl.element().str.split("@").list.last().is_in(FREE_MAIL)),
    )
    emails, locals_, free = pl.col("_emails"), pl.col("_locals"), pl.col("_free")
    role = locals_.list.eval(pl.element().is_in(_role_locals(frame)))
    first_raw = pl.col("first_name").str.replace_all(r"[.\s]", "")
    out = out.with_row_index("rid").select(
        pl.col("rid").cast(pl.UInt32()),
        "record_key",
        kind=pl.col("entity_kind").fill_null("person"),
        fn=_fold("first_name_key"),
        lfn=_fold("latin_first_key"),
        fn_alts=pl.col("first_name_alternatives").list.eval(
            pl.element().str.to_lowercase().str.replace_all("ё", "е")
        ),
        fi=pl.coalesce(_fold("latin_first_key").str.slice(0, 1), _fold("first_initial")),
        full_first=first_raw.str.len_chars().fill_null(0) > 1,
        ln=_fold("last_name_key"),
        lln=_fold("latin_last_key"),
        mn=_fold("middle_name").str.replace_all(r"[.\s]", "").replace("", None),
        mi=_fold("middle_initial"),
        gender=pl.col("gender"),
        dob=pl.col("birth_date"),
        mobiles=pl.col("mobiles").fill_null(empty),
        lands=pl.col("lands").fill_null(empty),
        emails=emails.fill_null(empty),
        elocals=locals_.fill_null(empty),
        eroles=role.fill_null(pl.lit([], dtype=pl.List(pl.Boolean()))),
        efree=free.list.any().fill_null(False),
        ework=free.list.eval(~pl.element()).list.any().fill_null(False),
        city=_fold("city"),
        inn=pl.col("inn"),
        company=_fold("company_key"),
        snils=pl.col("snils"),
        passport=pl.col("passport"),
    )
    # initials of Cyrillic records in Latin, so «И.» and «Ivan» are compatible
    letters = out.get_column("fi").drop_nulls().unique().to_list()
    latin = {v: _latin_initial(v) for v in letters}
    return out.with_columns(
        fi=pl.col("fi").replace_strict(latin, default=None, return_dtype=pl.String()),
        mn=pl.when(pl.col("mn").str.len_chars() > 1).then(pl.col("mn")),
    )


def _one_per_key(frame: pl.DataFrame) -> pl.DataFrame:
    """The first row of each record_key, sorted by it. Staged records come sorted: then only a
    repeated key is dropped, without sorting a million keys again."""
    keys = frame.get_column("record_key")
    if keys.null_count() == 0 and keys.is_sorted():
        return frame.filter(keys.ne_missing(keys.shift(1)))
    return frame.unique("record_key", keep="first").sort("record_key")


def _role_locals(staged: pl.DataFrame) -> pl.Series:
    """The distinct e-mail local parts that are role mailboxes (info@, zakaz@), checked once."""
    locals_ = (
        staged.select(pl.col("email_keys").explode().str.split("@").list.first().alias("v"))
        .drop_nulls()
        .unique()
        .get_column("v")
    )
    return pl.Series([v for v in locals_.to_list() if is_role(v)], dtype=pl.String()).implode()


def value_counts(features: pl.DataFrame, column: str) -> pl.DataFrame:
    """(value, n): how many records hold each value of a column or list column."""
    frame = features.select(pl.col(column).alias("value"))
    if isinstance(frame.schema["value"], pl.List):
        frame = frame.explode("value")
    return frame.drop_nulls().group_by("value").agg(n=pl.len())
