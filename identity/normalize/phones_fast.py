"""The vectorised fast path for phone cells: plain Russian numbers classified without phonenumbers.

Most cells of a Russian customer base are one to three `+7/8 (xxx) xxx-xx-xx` numbers, perhaps
with a `доб.` extension, separated by `,` `;` `/` or `или`. polars handles those in bulk
(and without the GIL); everything else goes to `phones.parse_phone_cell`. Only shapes that
phonenumbers reads unambiguously qualify (national numbers starting 3/4/8/9, which its metadata
assigns to RU, never KZ) and types come from its own RU regexes, so the answer equals
`parse_phone_cell`'s (a property test checks this).
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
    phones = (
        kept.filter(~pl.col("junk"))
        .unique(["cell", "e164"], keep="first", maintain_order=True)
        .sort("pos")
    )
    unallocated = pl.col("kind") == "unallocated"
    by_cell = phones.group_by("cell", maintain_order=True).agg(
        phones=pl.col("e164").str.join(SEP),
        phone_types=pl.when(unallocated).then(pl.lit("mobile")).otherwise("kind").str.join(SEP),
        phone_exts=pl.col("ext").str.join(SEP),
        n=pl.len(),
        any_ext=(pl.col("ext") != "").any(),
        any_unallocated=unallocated.any(),
    )
    any_junk = kept.group_by("cell", "raw").agg(any_junk=pl.col("junk").any())
    out = any_junk.join(by_cell, on="cell", how="left")
    flags = pl.concat_str(
        [
            pl.when(pl.col("any_junk")).then(pl.lit("phone_junk")),
            pl.when(pl.col("any_unallocated")).then(pl.lit("phone_unallocated")),
            pl.when(pl.col("n") > 1).then(pl.lit("phone_multiple")),
            pl.when(pl.col("any_ext")).then(pl.lit("phone_extension")),
        ],
        separator=SEP,
        ignore_nulls=True,
    )
    return out.select(
        "raw",
        "phones",
        "phone_types",
        phone_exts=pl.col("phone_exts").fill_null(""),
        phone_flags=flags.replace("", None),
    )
