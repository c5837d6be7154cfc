"""Value-pair similarities for millions of candidate pairs, each distinct value pair once.

Candidate pairs repeat a few value pairs: first names come from a short list, surnames from a
few thousand, so of eight million pairs only tens of thousands of name pairs are distinct.
Values are replaced by dictionary codes; each distinct pair of codes is scored once with
rapidfuzz and the score gathered back. Birth-date typos (one digit changed, two adjacent digits
swapped) are found with integer arithmetic on the digits: no string is made per pair.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process

from identity.arrays import unique_ints

MISSING = -1  # the code of a missing value in numpy code arrays
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


def encode(*columns: pl.Series) -> tuple[list[pl.Series], pl.Series]:
    """Codes (UInt32; null stays null) of string ``columns`` in one shared dictionary, and the
    dictionary (values in order of first appearance; code = position). Equal codes ⇔ equal
    values; nothing reads an order into codes, and not sorting halves the cost."""
    values = (
        pl.concat([c.cast(pl.String).rename("value") for c in columns])
        .drop_nulls()
        .unique(maintain_order=True)
    )
    table = pl.DataFrame(
        {"value": values, "code": pl.int_range(values.len(), dtype=pl.UInt32, eager=True)}
    )
    coded = [
        pl.DataFrame({"value": c.cast(pl.String)})
        .join(table, on="value", how="left", maintain_order="left")
        .get_column("code")
        .rename(c.name)
        for c in columns
    ]
    return coded, values


def as_array(codes: pl.Series) -> np.ndarray:
    """Codes (or small counts) as int32 numpy, :data:`MISSING` for null."""
    return codes.cast(pl.Int32).fill_null(MISSING).to_numpy()


def rapid(scorer: Any, cutoff: float | None = None) -> Scorer:
    """A rapidfuzz scorer over two arrays of values, pair by pair (``cutoff`` as rapidfuzz's
    ``score_cutoff``: a distance above it is reported as ``cutoff + 1``)."""

    def run(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        got = process.cpdist(left, right, scorer=scorer, workers=-1, score_cutoff=cutoff)
        return np.asarray(got)

    return run


def name_prefix(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One name starts the other and both have at least three letters («Алекс» / «Александр»)."""
    got = (
        min(len(x), len(y)) >= 3 and (x.startswith(y) or y.startswith(x))
        for x, y in zip(left, right, strict=True)
    )
    return np.fromiter(got, dtype=bool, count=len(left))


class Memo:
    """Scores of the value pairs met so far, for two dictionaries small enough to tabulate
    (the first names against the surnames of a million records: a few hundred thousand)."""

    def __init__(self, rows: int, cols: int) -> None:
        self.width = np.int64(max(cols, 1))
        self.grid = np.zeros(rows * cols, dtype=np.float32)
        self.done = np.zeros(rows * cols, dtype=bool)
        self.lock = threading.Lock()  # chunks are compared in two threads

    def lookup(
        self, a: np.ndarray, b: np.ndarray, left: np.ndarray, right: np.ndarray, score: Scorer
    ) -> np.ndarray:
        """``score(left[a], right[b])``, computing only the pairs not met before."""
        cell = a.astype(np.int64) * self.width + b
        with self.lock:  # a cell marked done keeps its score for good: read after the lock
            new = unique_ints(cell[~self.done[cell]])
            if len(new):
                self.grid[new] = score(left[new // self.width], right[new % self.width])
                self.done[new] = True
        out: np.ndarray = self.grid[cell]
        return out


def similarity(
    a: np.ndarray,
    b: np.ndarray,
    values: tuple[np.ndarray, np.ndarray],
    score: Scorer,
    *,
    same: float,
    missing: float,
    only: np.ndarray | None = None,
    skipped: float = 0.0,
    memo: Memo | None = None,
) -> np.ndarray:
    """``score(left[a], right[b])`` per pair of codes (float64), ``values`` = (left, right)
    dictionaries: ``missing`` where a code is :data:`MISSING`; with one dictionary for both
    sides, ``same`` where the codes are equal. Each distinct pair of values is scored once (once
    per call; once for good with a ``memo``). With ``only`` just the pairs it marks are scored,
    the other ones get ``skipped``."""
    left, right = values
    both = (a != MISSING) & (b != MISSING)
    out = np.where(both, same, missing).astype(np.float64)
    todo = both & (a != b) if left is right else both
    if only is not None:
        out[todo & ~only] = skipped
        todo &= only
    if memo is not None:
        out[todo] = memo.lookup(a[todo], b[todo], left, right, score)
    elif todo.any():
        width = np.int64(max(len(right), 1))
        key = a[todo].astype(np.int64) * width + b[todo]
        uniq, back = np.unique(key, return_inverse=True)
        out[todo] = score(left[uniq // width], right[uniq % width])[back]
    return out


def digit_edits(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Damerau–Levenshtein distance, capped at 2, of numbers given as rows of decimal digits
    (int8, equal widths): 0 equal, 1 one digit changed or two adjacent digits swapped, 2 more.
    (Equal lengths: no single insertion or deletion turns one into the other.)"""
    diff = left != right
    count = diff.sum(axis=1)
    out: np.ndarray = np.minimum(count, 2).astype(np.int8)
    swap = np.zeros(len(left), dtype=bool)
    for i in range(left.shape[1] - 1):
        swap |= (
            diff[:, i]
            & diff[:, i + 1]
            & (left[:, i] == right[:, i + 1])
            & (left[:, i + 1] == right[:, i])
        )
    out[(count == 2) & swap] = 1
    return out
