"""Set operations on integer arrays, by sorting; gathering sorted rows from a chunked frame.

numpy 2.4's ``np.unique`` (and so ``union1d`` and ``setdiff1d``) takes a hash-table path for
integer arrays that is slow at our sizes: 2 s for a million distinct int64 on this machine,
against 8 ms to sort them. The record ids, pair codes and cluster labels the engine handles are
exactly that, so these functions sort instead (same results, sorted).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def unique_ints(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` without its slow path)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def union_ints(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The distinct values of both arrays, sorted (``np.union1d``)."""
    return unique_ints(np.concatenate([left, right]))


def difference_ints(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The distinct values of ``left`` not in ``right``, sorted (``np.setdiff1d``)."""
    values = unique_ints(left)
    out: np.ndarray = values[~np.isin(values, right)]
    return out


def gather_rows(frame: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
    """``frame``'s rows at the sorted positions ``rows``, one chunk at a time.

    A frame read from Parquet (one chunk per row group) and a batch appended to it stay in
    chunks: gathering across them costs about five times gathering from one, and joining them
    into one first copies the whole store. Sorted positions fall into the chunks in runs, so
    each chunk gathers its own; the rows are then joined into one chunk. (The chunks are the
    first column's: columns read and concatenated together are chunked alike; others give the
    same rows, more slowly.)
    """
    lengths = np.asarray(frame.get_column(frame.columns[0]).chunk_lengths(), dtype=np.int64)
    if len(lengths) <= 1:
        return frame.select(pl.all().gather(rows))
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(rows, ends)
    parts, low = [], 0
    for end, length, high in zip(ends, lengths, cuts, strict=True):
        if high > low:
            start = int(end - length)
            local = pl.Series(rows[low:high] - start)
            parts.append(frame.slice(start, int(length)).select(pl.all().gather(local)))
        low = high
    return pl.concat(parts, rechunk=True) if parts else frame.clear()
