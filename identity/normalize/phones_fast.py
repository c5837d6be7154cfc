"""The vectorised fast path for phone cells: plain Russian numbers classified without phonenumbers.

Most cells of a Russian customer base are one to three `+7/8 (xxx) xxx-xx-xx` numbers, perhaps
with a `доб.` extension, separated by `,` `;` `/` or `или`. polars handles those in bulk
(and without the GIL); everything else goes to `phones.parse_phone_cell`. Only shapes that
phonenumbers reads unambiguously qualify (national numbers starting 3/4/8/9, which its metadata
assigns to RU, never KZ) and types come from its own RU regexes, so the answer equals
`parse_phone_cell`'s (a property test checks this). Cells of one number too short to be any
number (`fast_short`) are answered here too: phonenumbers' matcher spends ~60 µs on each.
"""

from __future__ import annotations

import phonenumbers as pn
import polars as pl

SEP = "\x1f"  # joins list items on the way to polars; never in phone text

# Placeholders typed to get past a required field. Junk is judged on the national number.
RUNS = ("01234567", "12345678", "23456789", "98765432", "87654321", "76543210")
JUNK_SUBSCRIBERS = frozenset([d * 7 for d in "0123456789"] + ["1234567", "7654321"])
#: A 10-digit number starting with 9 is a Russian mobile even where phonenumbers' metadata has
#: a gap (it lags the regulator's allocations); it is kept and flagged `phone_unallocated`.
RU_MOBILE_SHAPE = r"^9[0-9]{9}$"

_EXT = r"(?i)[\s,;(]+(?:добавочный|внутренний|внутр|доб|доп|вн)\b\.?\s*([0-9]{1,6})\s*\)?\s*$"
_EXT_INNER = (
    r"(?i)[\s,;(]+(?:добавочный|внутренний|внутр|доб|доп|вн)\b\.?\s*([0-9]{1,6})\s*\)?"
    r"(\s*(?:[,;/|\\\n]|\s(?:или|or|и)\s))"
)
_SEPARATORS = r"\s*(?:[,;/|\\\n]|\s(?:или|or|и)\s)\s*"


def _ru_type_patterns() -> list[tuple[str, str]]:
    """RU number-type regexes from phonenumbers' own metadata, in its `number_type` order."""
    meta = pn.PhoneMetadata.metadata_for_region("RU")
    assert meta is not None
    order = [
        ("premium_rate", "other"),
        ("toll_free", "toll_free"),
        ("shared_cost", "other"),
        ("voip", "voip"),
        ("personal_number", "other"),
        ("pager", "other"),
        ("uan", "other"),
        ("voicemail", "other"),
        ("fixed_line", "fixed"),
        ("mobile", "mobile"),
    ]
    patterns = []
    for attr, kind in order:
        desc = getattr(meta, attr)
        if desc is None or desc.national_number_pattern is None:
            continue
        if desc.possible_length and 10 not in desc.possible_length:
            continue
        patterns.append((f"^(?:{desc.national_number_pattern})$", kind))
    return patterns


_RU_TYPES = _ru_type_patterns()


def _kinds(nsn: pl.Series) -> pl.DataFrame:
    """Kind of each distinct national number (null when phonenumbers would call it invalid)."""
    col = pl.col("nsn")
    kind: pl.Expr = pl.when(col.str.contains(RU_MOBILE_SHAPE)).then(pl.lit("unallocated"))
    for pattern, name in reversed(_RU_TYPES):
        kind = pl.when(col.str.contains(pattern)).then(pl.lit(name)).otherwise(kind)
    return nsn.unique().to_frame("nsn").with_columns(kind=kind)


def fast_ru(uniques: pl.Series) -> pl.DataFrame:
    """(raw, phones, phone_types, phone_exts, phone_flags) for the cells the fast path reads.

    List columns come back as `SEP`-joined strings (null for none), like the slow path's.
    """
    raw = pl.col("raw")
    text = (
        raw.str.replace(r"^\s*(\+?[0-9]{5,})[.,]0+\s*$", "$1")
        .str.replace_all(_EXT_INNER, "#$1$2")
        .str.replace(_EXT, "#$1")
        .str.replace_all(_SEPARATORS, SEP)
    )
    parts = (
        pl.DataFrame({"raw": uniques})
        .with_columns(part=text.str.split(SEP))
        .with_row_index("cell")
        .explode("part")
        .with_row_index("pos")  # cells stay contiguous: the index orders parts within a cell
        .filter(pl.col("part").str.contains(r"[0-9]"))
        .with_columns(
            body=pl.col("part").str.replace(r"#[0-9]{1,6}$", ""),
            ext=pl.col("part").str.extract(r"#([0-9]{1,6})$", 1).fill_null(""),
        )
        .with_columns(digits=pl.col("body").str.replace_all(r"[^0-9]", ""))
    )
    body, digits = pl.col("body"), pl.col("digits")
    n = digits.str.len_chars()
    plain = body.str.contains(r"^[\s0-9()\-]+$")
    plus7 = body.str.starts_with("+7") & body.str.contains(r"^\+7[\s0-9()\-]+$")
    eleven = (n == 11) & digits.str.contains(r"^[78][3489]")
    ten = (n == 10) & digits.str.contains(r"^[349]")
    ok = (plain & (eleven | ten)) | (plus7 & eleven & digits.str.starts_with("7"))
    parts = parts.select("cell", "pos", "raw", "ext", nsn=pl.when(ok).then(digits.str.slice(-10)))
    parts = parts.join(_kinds(parts["nsn"].drop_nulls()), on="nsn", how="left")
    bad = parts.filter(pl.col("kind").is_null())["cell"]
    parts = parts.filter(~pl.col("cell").is_in(bad.implode()))
    nsn = pl.col("nsn")
    junk = nsn.str.slice(-7).is_in(list(JUNK_SUBSCRIBERS)) | nsn.str.contains_any(list(RUNS))
    kept = parts.with_columns(junk=junk, e164=pl.lit("+7") + nsn)
    alone = pl.col("cell").is_unique()  # one number in the cell: nearly all of them
    return pl.concat([_one_number(kept.filter(alone)), _several(kept.filter(~alone))])


_UNALLOCATED = pl.col("kind") == "unallocated"
_TYPE = pl.when(_UNALLOCATED).then(pl.lit("mobile")).otherwise("kind")


def _flags(junk: pl.Expr, unallocated: pl.Expr, multiple: pl.Expr, ext: pl.Expr) -> pl.Expr:
    flags = [("phone_junk", junk), ("phone_unallocated", unallocated)]
    flags += [("phone_multiple", multiple), ("phone_extension", ext)]
    return pl.concat_str(
        [pl.when(on).then(pl.lit(name)) for name, on in flags], separator=SEP, ignore_nulls=True
    ).replace("", None)


def _one_number(parts: pl.DataFrame) -> pl.DataFrame:
    """The cells of one part: what `_several` gives them, without grouping."""
    real = ~pl.col("junk")
    return parts.select(
        "raw",
        phones=pl.when(real).then("e164"),
        phone_types=pl.when(real).then(_TYPE),
        phone_exts=pl.when(real).then("ext").otherwise(pl.lit("")),
        phone_flags=_flags(
            pl.col("junk"), real & _UNALLOCATED, pl.lit(False), real & (pl.col("ext") != "")
        ),
    )


def _several(kept: pl.DataFrame) -> pl.DataFrame:
    """Cells of several parts: numbers in order, each once; a junk part only flags the cell."""
    phones = (
        kept.filter(~pl.col("junk"))
        .unique(["cell", "e164"], keep="first", maintain_order=True)
        .sort("pos")
    )
    # Gathered as lists and joined after: `str.join` inside the aggregation is ~7× slower.
    by_cell = (
        phones.group_by("cell", maintain_order=True)
        .agg(
            phones=pl.col("e164"),
            phone_types=_TYPE,
            phone_exts=pl.col("ext"),
            n=pl.len(),
            any_ext=(pl.col("ext") != "").any(),
            any_unallocated=_UNALLOCATED.any(),
        )
        .with_columns(pl.col("phones", "phone_types", "phone_exts").list.join(SEP))
    )
    any_junk = kept.group_by("cell", "raw").agg(any_junk=pl.col("junk").any())
    out = any_junk.join(by_cell, on="cell", how="left")
    flags = _flags(
        pl.col("any_junk"), pl.col("any_unallocated"), pl.col("n") > 1, pl.col("any_ext")
    )
    return out.select(
        "raw",
        "phones",
        "phone_types",
        phone_exts=pl.col("phone_exts").fill_null(""),
        phone_flags=flags,
    )


def fast_short(uniques: pl.Series) -> pl.DataFrame:
    """The same columns for cells of one number too short to be valid (a truncated export).

    Digits, spaces, brackets and hyphens (perhaps after "+7") with one to nine digits: no part
    of such a cell is a possible Russian or Kazakh number (ten digits), and with no other
    country code and no "810" (the international prefix) in it, none can be read as foreign.
    phonenumbers would search it in vain; the answer is `phone_junk` or `phone_invalid`.
    """
    digits = pl.col("raw").str.replace_all(r"[^0-9]", "")
    n = digits.str.len_chars()
    cells = (
        pl.DataFrame({"raw": uniques})
        .filter(pl.col("raw").str.contains(r"^\s*(?:\+7)?[0-9 ()\-]+\s*$"))
        .with_columns(digits=digits)
        .filter((n > 0) & (n < 10) & ~digits.str.contains("810", literal=True))
    )
    d = pl.col("digits")
    junk = (
        d.str.contains(r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$")
        | d.str.slice(-7).is_in(list(JUNK_SUBSCRIBERS))
        | d.str.contains_any(list(RUNS))
    )
    return cells.select(
        "raw",
        phones=pl.lit(None, pl.String),
        phone_types=pl.lit(None, pl.String),
        phone_exts=pl.lit(""),
        phone_flags=pl.when(junk).then(pl.lit("phone_junk")).otherwise(pl.lit("phone_invalid")),
    )
