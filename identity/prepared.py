"""Records made ready for comparison once (the per-pair columns are :mod:`identity.pairframe`).

A record's strings become dictionary codes (:mod:`identity.pairsim`), its lists their length
and first value, its term frequencies a number: comparing a pair is then gathering integers,
and every string similarity is computed once per distinct value pair. Everything is exact: the
levels are those of comparing the strings themselves.
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

from identity.pairsim import (
    Memo,
    as_array,
    encode,
)

#: codes compared for equality in the level expressions (strings in the features)
CODED = ("fn", "ln", "fi", "mn", "mi", "gender", "inn", "company", "snils", "passport")
#: lists intersected per pair (``phone``: mobiles and landlines together)
LISTS = ("phone", "mob", "mail", "smail", "alts")
#: value pairs are remembered across chunks while two dictionaries make at most this many
MEMO_CELLS = 4_000_000
#: threads the engine uses for one step: preparing records (``_side_by_side``) and comparing
#: pair chunks (``identity.comparison.compare``); the machines it targets have two cores
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


def shares_of(values: pl.Series, table: pl.DataFrame | None) -> pl.Series:
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
                f"tf_{name}": partial(shares_of, f[name], by_column.get(name))
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
                "mob": partial(shares_of, phones, tables["mob"]),
                "smail": partial(shares_of, mails, tables["smail"]),
            }
        ).items()
    }
    return Prepared(frame, arrays, values, lists, shares, tables)
