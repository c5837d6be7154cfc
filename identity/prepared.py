"""Records made ready for comparison once, and the per-pair columns the levels are read from.

A record's strings become dictionary codes (:mod:`identity.pairsim`), its lists their length
and first value, its term frequencies a number: comparing a pair is then gathering integers,
and every string similarity is computed once per distinct value pair. A list with more than one
value (a second mobile, an old e-mail) is intersected the usual way, for the few pairs that
have one. Everything is exact: the levels are those of comparing the strings themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity.pairsim import (
    MISSING,
    Memo,
    Scorer,
    as_array,
    digit_edits,
    encode,
    name_prefix,
    rapid,
    similarity,
)

#: codes compared for equality in the level expressions (strings in the features)
CODED = ("fn", "ln", "fi", "mn", "mi", "gender", "inn", "company", "snils", "passport")
#: lists intersected per pair (``phone``: mobiles and landlines together)
LISTS = ("phone", "mob", "mail", "smail", "alts")
#: value pairs are remembered across chunks while two dictionaries make at most this many
MEMO_CELLS = 4_000_000
#: threads for preparing records (see ``_side_by_side``)
THREADS = 2


@dataclass(frozen=True)
class Prepared:
    """Per record (row = position): ``frame`` for the level expressions, code arrays for
    similarities and intersections, dictionaries of values, and the lists themselves."""

    frame: pl.DataFrame
    arrays: dict[str, np.ndarray]
    values: dict[str, np.ndarray]  # dictionary (code → value) of each similarity's column
    lists: pl.DataFrame
    shares: dict[str, np.ndarray]  # "mob" / "smail": TF share per code of their dictionary
    tables: dict[str, pl.DataFrame | None]  # "mob" / "smail": the TF table (value, tf)
    memos: dict[str, Memo | None] = field(default_factory=dict)  # made on first use
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def memo(self, name: str, left: str, right: str) -> Memo | None:
        """The value pairs of similarity ``name`` scored so far (None: too many to keep)."""
        with self.lock:  # chunks are compared in two threads
            if name not in self.memos:
                rows, cols = len(self.values[left]), len(self.values[right])
                self.memos[name] = Memo(rows, cols) if rows * cols <= MEMO_CELLS else None
            return self.memos[name]


def _shares(values: pl.Series, table: pl.DataFrame | None) -> pl.Series:
    """The term-frequency share of each value (Float32, 0 where unknown or no table)."""
    if table is None:
        return pl.Series(np.zeros(values.len(), dtype=np.float32))
    # the table (every phone of the store) probes a set of the values: half the cost of a join
    table = table.filter(pl.col("value").is_in(values.implode()))
    got = pl.DataFrame({"value": values}).join(table, on="value", how="left", maintain_order="left")
    return got.get_column("tf").cast(pl.Float32).fill_null(0.0)


def _digits(values: pl.Series, width: int) -> np.ndarray:
    """Decimal digits (int8, ``width`` columns, zero-padded) of non-negative integers."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values.fill_null(0).clip(0, None).to_numpy()[:, None] // powers) % 10).astype(np.int8)


def _side_by_side(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Independent polars steps on two threads: each runs on one core for much of its time,
    and polars releases the GIL while it works."""
    with ThreadPoolExecutor(THREADS) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def prepare(
    features: pl.DataFrame, tf: dict[str, pl.DataFrame] | None, tf_value: dict[str, str]
) -> Prepared:
    """``features`` (with ``smobiles`` / ``semails``) ready for :func:`pair_frame`; ``tf`` as in
    :func:`identity.comparison.compare`, ``tf_value`` the column each TF comparison reads."""
    f, tf = features, tf or {}
    c = pl.col
    el1, em1 = f["elocals"].list.first(), f["emails"].list.first()
    lists = f.select(
        phone=c("mobiles").list.concat(c("lands")),
        mob="smobiles",
        mail="emails",
        smail="semails",
        alts="fn_alts",
    )
    by_column = {column: tf.get(comp) for comp, column in tf_value.items()}
    done = _side_by_side(
        {
            "names": lambda: encode(f["lfn"], f["lln"]),  # one dictionary: swapped names compare
            "lfn": lambda: encode(f["lfn"]),
            "lln": lambda: encode(f["lln"]),
            "city": lambda: encode(f["city"]),
            "el": lambda: encode(el1),
            # digit runs: 5× faster than one by one
            "digits": lambda: encode(el1.str.replace_all(r"\D+", "")),
            "domain": lambda: encode(em1.str.split("@").list.last()),
            "phones": lambda: encode(lists["phone"].list.first(), lists["mob"].list.first()),
            "mails": lambda: encode(em1, lists["smail"].list.first()),
            "alts": lambda: encode(lists["alts"].list.first()),
            **{name: partial(encode, f[name]) for name in CODED},
            **{
                f"tf_{name}": partial(_shares, f[name], by_column.get(name))
                for name in ("fn", "lln", "city", "company")
            },
        }
    )
    (lfn, lln), _ = done["names"]
    (lfn_s,), firsts_ = done["lfn"]
    (lln_s,), lasts = done["lln"]
    (city,), cities = done["city"]
    (el_code,), locals_ = done["el"]
    (digits,), _ = done["digits"]
    (domain,), _ = done["domain"]
    (ph1, mob1), phones = done["phones"]
    (em_code, smail1), mails = done["mails"]
    (alts1,), _ = done["alts"]
    firsts = {"phone": ph1, "mob": mob1, "mail": em_code, "smail": smail1, "alts": alts1}
    dob = f["dob"]
    year = dob.dt.year().cast(pl.Int64)
    ymd = year * 10_000 + dob.dt.month().cast(pl.Int64) * 100 + dob.dt.day().cast(pl.Int64)
    frame = pl.DataFrame(
        {
            "is_co": f["kind"] == "company",
            "lfn": lfn,
            "lln": lln,
            "city": city,
            **{name: done[name][0][0] for name in CODED},
            **{name: f[name] for name in ("full_first", "efree", "ework")},
            "dob": dob,
            "digits": digits,
            "domain": domain,
            "el_long": el1.str.len_chars() >= 5,
            "em_long": em1.str.len_chars() >= 10,
            "em_n": f["emails"].list.len(),
            "mob_n": f["mobiles"].list.len(),
            **{f"tf_{name}": done[f"tf_{name}"] for name in ("fn", "lln", "city", "company")},
        }
    )
    arrays = {
        "lfn": as_array(lfn_s),
        "lln": as_array(lln_s),
        "city": as_array(city),
        "el": as_array(el_code),
        "em": as_array(em_code),
        "em_len": as_array(em1.str.len_chars()),
        "el_long": (el1.str.len_chars() >= 5).fill_null(False).to_numpy(),
        "em_long": (em1.str.len_chars() >= 10).fill_null(False).to_numpy(),
        "digits": as_array(digits),
        "domain": as_array(domain),
        "free": f["efree"].to_numpy(),
        "work": f["ework"].to_numpy(),
        "has_dob": dob.is_not_null().to_numpy(),
        # a year outside 0..9999 is not written with four digits: such dates compare as text
        "odd_dob": ((year < 0) | (year > 9999)).fill_null(False).to_numpy(),
        "ymd": _digits(ymd, 8),
        **{f"{k}_1": as_array(v) for k, v in firsts.items()},
        **{f"{k}_long": (lists[k].list.len() > 1).fill_null(False).to_numpy() for k in LISTS},
    }
    values = {
        "lfn": firsts_.to_numpy().astype(object),
        "lln": lasts.to_numpy().astype(object),
        "city": cities.to_numpy().astype(object),
        "el": locals_.to_numpy().astype(object),
        "em": mails.to_numpy().astype(object),
    }
    tables = {"mob": by_column.get("mobiles"), "smail": by_column.get("emails")}
    shares = {
        name: got.to_numpy()
        for name, got in _side_by_side(
            {
                "mob": partial(_shares, phones, tables["mob"]),
                "smail": partial(_shares, mails, tables["smail"]),
            }
        ).items()
    }
    return Prepared(frame, arrays, values, lists, shares, tables)


def _intersections(prep: Prepared, lpos: np.ndarray, rpos: np.ndarray) -> dict[str, np.ndarray]:
    """Per list: does the pair share a value; for strong mobiles / e-mails also the TF share
    of the first shared one (what the TF adjustment reads)."""
    a = prep.arrays
    out: dict[str, np.ndarray] = {}
    for name in LISTS:
        first_l, first_r = a[f"{name}_1"][lpos], a[f"{name}_1"][rpos]
        long_rows = a[f"{name}_long"][lpos] | a[f"{name}_long"][rpos]
        shared = (first_l != MISSING) & (first_l == first_r) & ~long_rows
        rows = np.flatnonzero(long_rows)
        common = None
        if len(rows):
            lists = prep.lists.get_column(name)
            common = lists.gather(lpos[rows]).list.set_intersection(lists.gather(rpos[rows]))
            shared[rows] = (common.list.len() > 0).fill_null(False).to_numpy()
        out[name] = shared
        if name in prep.shares:
            share = np.zeros(len(shared), dtype=np.float32)
            share[shared] = prep.shares[name][first_l[shared]]
            if common is not None:
                share[rows] = _shares(common.list.first(), prep.tables[name]).to_numpy()
            out[f"{name}_share"] = share
    return out


def _dates(prep: Prepared, lpos: np.ndarray, rpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edit distances (capped at 2; 0 same, 99 missing) of the two birth dates written
    ``%Y%m%d`` and of their years, as the levels read them."""
    a = prep.arrays
    both = a["has_dob"][lpos] & a["has_dob"][rpos]
    odd = both & (a["odd_dob"][lpos] | a["odd_dob"][rpos])
    dl_dob = np.where(both, 0.0, 99.0)
    dl_year = dl_dob.copy()
    rows = np.flatnonzero(both & ~odd)
    left, right = a["ymd"][lpos[rows]], a["ymd"][rpos[rows]]
    dl_dob[rows] = digit_edits(left, right)
    dl_year[rows] = digit_edits(left[:, :4], right[:, :4])
    rows = np.flatnonzero(odd)
    if len(rows):
        dob = prep.frame.get_column("dob")
        edits = rapid(DamerauLevenshtein.distance)
        for fmt, out in (("%Y%m%d", dl_dob), ("%Y", dl_year)):
            texts_l = dob.gather(lpos[rows]).dt.strftime(fmt).to_numpy().astype(object)
            texts_r = dob.gather(rpos[rows]).dt.strftime(fmt).to_numpy().astype(object)
            out[rows] = edits(texts_l, texts_r)
    return dl_dob, dl_year


def pair_frame(
    prep: Prepared, lpos: np.ndarray, rpos: np.ndarray, *, typo_edits: int, near_edits: int
) -> pl.DataFrame:
    """Both records' columns (``_l`` / ``_r``) and the pair's similarities, for the pairs of
    record positions (``lpos[i]``, ``rpos[i]``). ``dl_el`` and ``dl_em`` are exact only where the
    e-mail level can depend on them (an e-mail typo needs the same digits and domain; a near
    address, no shared address, like against like, lengths within ``near_edits``): elsewhere
    they only say "further than ``typo_edits`` / ``near_edits``"."""
    a, v = prep.arrays, prep.values
    jw = rapid(JaroWinkler.normalized_similarity)

    def both(name: str) -> tuple[np.ndarray, np.ndarray]:
        return a[name][lpos], a[name][rpos]

    def sim(name: str, left: str, right: str, score: Scorer) -> np.ndarray:
        """Names and cities: 1 when equal, 0 when missing (as rapidfuzz's similarity says)."""
        memo = prep.memo(name, left, right)
        pair = (v[left], v[right])
        return similarity(
            a[left][lpos], a[right][rpos], pair, score, same=1.0, missing=0.0, memo=memo
        )

    shared = _intersections(prep, lpos, rpos)
    digits_l, digits_r = both("digits")
    domain_l, domain_r = both("domain")
    typo_only = (
        a["el_long"][lpos]
        & (digits_l != MISSING)
        & (digits_l == digits_r)
        & (domain_l != MISSING)
        & (domain_l == domain_r)
    )
    edits = DamerauLevenshtein.distance
    dl_el = similarity(
        *both("el"), (v["el"], v["el"]), rapid(edits, typo_edits), same=0, missing=99,
        only=typo_only, skipped=typo_edits + 1,
    )  # fmt: skip
    len_l, len_r = both("em_len")
    free_l, free_r = both("free")
    work_l, work_r = both("work")
    near_only = (
        ((free_l & free_r) | (work_l & work_r))
        & ~shared["mail"]
        & ~((dl_el <= typo_edits) & typo_only)
        & a["em_long"][lpos]
        & (np.abs(len_l - len_r) <= near_edits)
    )
    dl_em = similarity(
        *both("em"), (v["em"], v["em"]), rapid(edits, near_edits), same=0, missing=99,
        only=near_only, skipped=near_edits + 1,
    )  # fmt: skip
    dl_dob, dl_year = _dates(prep, lpos, rpos)
    left = prep.frame.select(pl.all().gather(lpos)).rename(lambda c: f"{c}_l")
    right = prep.frame.select(pl.all().gather(rpos)).rename(lambda c: f"{c}_r")
    pairs = pl.DataFrame(
        {
            "jw_fn": sim("jw_fn", "lfn", "lfn", jw),
            "jw_ln": sim("jw_ln", "lln", "lln", jw),
            "jw_city": sim("jw_city", "city", "city", jw),
            "jw_x1": sim("jw_x1", "lfn", "lln", jw),
            "jw_x2": sim("jw_x2", "lln", "lfn", jw),
            # equal names need no prefix: they agree at the typo level or better anyway
            "prefix": sim("prefix", "lfn", "lfn", name_prefix) > 0.5,
            "dl_year": dl_year,
            "dl_dob": dl_dob,
            "dl_el": dl_el,
            "dl_em": dl_em,
            "anyphone": shared["phone"],
            "mail": shared["mail"],
            "strong_mob": shared["mob"],
            "strong_mail": shared["smail"],
            "alts": shared["alts"],
            "tf_mobiles": shared["mob_share"],
            "tf_emails": shared["smail_share"],
        }
    )
    return pl.concat([left, right, pairs], how="horizontal")
