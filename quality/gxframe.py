"""Compact pandas input for Great Expectations, and the way back to the user's values.

GX validates pandas, and at 1M rows of strings the conversion, GX's batch fingerprint (a hash
of every value) and its per-value work cost seconds per layer. Most of our expectations only
ask whether a value is present or repeated, so GX gets a stand-in column that answers the same:

* a column only checked for nulls becomes 1 or null (the same rows are null);
* a string column only checked for nulls or uniqueness becomes an integer code per distinct
  value (the same rows are null, the same rows repeat);
* the ``source`` column of row conditions becomes categorical (the same rows match);
* booleans with nulls become pandas' masked booleans (not a million Python objects);
* small unsigned counts become int64 (GX compares int64 vectorised, uint32 value by value);
* any other column goes as it is.

GX then reports the same counts, percentages and unexpected rows, in the same order; ``decode``
puts the original values back into its examples, so results and data docs read as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

NOT_NULL = "ExpectColumnValuesToNotBeNull"
UNIQUE = "ExpectColumnValuesToBeUnique"
ROW_CONDITION = "row_condition"
#: Column keyword arguments of the expectations we use.
COLUMN_KWARGS = ("column", "column_A", "column_B")


@dataclass
class Decoder:
    """Per stand-in column: the original value of every code and the original null."""

    values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    nulls: dict[str, Any] = field(default_factory=dict)

    def value(self, column: str, code: Any) -> Any:
        if column not in self.nulls:
            return code
        if code is None or code != code:  # None or NaN: GX shows this column's own null
            return self.nulls[column]
        return self.values.get(column, {}).get(code, code)

    def decode(self, column: str | None, result: dict[str, Any]) -> None:
        """Replace codes in a GX result (in place) by the values they stand for."""
        if column is None or column not in self.nulls:
            return
        listed = result.get("partial_unexpected_list")
        if not listed:
            return
        values = [self.value(column, v) for v in listed]
        result["partial_unexpected_list"] = values
        if "partial_unexpected_counts" in result:  # as GX builds it, from the decoded values
            try:
                counted = Counter(values).most_common(len(values))
                ordered = sorted(counted, key=lambda x: (-x[1], x[0]))
                result["partial_unexpected_counts"] = [{"value": v, "count": n} for v, n in ordered]
            except TypeError:
                pass  # unorderable values: keep GX's own counts


def uses(kinds: Iterable[tuple[str, Mapping[str, Any], bool]]) -> dict[str, set[str]]:
    """Which expectation types (and row conditions) read each column.

    ``kinds`` holds (GX type, kwargs, has a source row condition) per expectation.
    """
    found: dict[str, set[str]] = {}
    for gx_type, kwargs, conditioned in kinds:
        for key in COLUMN_KWARGS:
            if isinstance(kwargs.get(key), str):
                found.setdefault(kwargs[key], set()).add(gx_type)
        if conditioned:
            found.setdefault("source", set()).add(ROW_CONDITION)
    return found


def _null_of(dtype: pl.DataType) -> Any:
    """The null GX sees for this polars type after ``to_pandas`` (None, NaN or NaT)."""
    return pl.DataFrame({"c": [None]}, schema={"c": dtype}).to_pandas()["c"].tolist()[0]


def _codes(series: pl.Series) -> tuple[pl.Series, dict[Any, Any]]:
    """An integer per distinct value: the row number, or past the end for repeated hashes.

    Hashing is cheap; only rows whose hash repeats (real duplicates, rarely a collision) are
    told apart by value, so equal codes mean equal values. Nulls stay null.
    """
    n = len(series)
    repeated = series.hash().is_duplicated() & series.is_not_null()
    where = repeated.arg_true()
    dups = series.gather(where)
    ranks = dups.rank("dense").cast(pl.Int64) + n
    codes = pl.int_range(0, n, dtype=pl.Int64, eager=True).scatter(where, ranks)
    if series.null_count():
        codes = pl.select(pl.when(series.is_not_null()).then(codes)).to_series()
    return codes.rename(series.name), dict(zip(ranks.to_list(), dups.to_list(), strict=True))


def compact(frame: pl.DataFrame, columns: Mapping[str, set[str]]) -> tuple[Any, Decoder]:
    """The pandas frame GX validates (only ``columns``), and the decoder of its examples."""
    decoder = Decoder()
    out: list[pl.Series] = []
    for name, kinds in columns.items():
        series = frame.get_column(name)
        if kinds == {NOT_NULL}:
            decoder.nulls[name] = _null_of(series.dtype)
            present = pl.select(pl.when(series.is_not_null()).then(pl.lit(1, pl.Int8)))
            out.append(present.to_series().rename(name))
        elif kinds <= {NOT_NULL, UNIQUE} and series.dtype == pl.String:
            decoder.nulls[name] = _null_of(series.dtype)
            codes, decoder.values[name] = _codes(series)
            out.append(codes)
        elif kinds == {ROW_CONDITION} and series.dtype == pl.String:
            out.append(series.cast(pl.Categorical))
        elif series.dtype in (pl.UInt8, pl.UInt16, pl.UInt32):  # counts, e.g. ``pl.len()``
            out.append(series.cast(pl.Int64))
        else:
            out.append(series)
    frame_pd = pl.DataFrame(out).to_pandas()
    for series in out:  # booleans with nulls: pandas' masked boolean, not Python objects
        if series.dtype == pl.Boolean and series.null_count():
            import pandas as pd

            values = series.fill_null(False).to_numpy()
            frame_pd[series.name] = pd.arrays.BooleanArray(values, series.is_null().to_numpy())
    return frame_pd, decoder


def plain(frame: pl.DataFrame, columns: Mapping[str, set[str]]) -> tuple[Any, Decoder]:
    """The columns as they are, nothing to decode (what ``compact`` must agree with)."""
    return frame.select(list(columns)).to_pandas(), Decoder()


Converter = Callable[[pl.DataFrame, Mapping[str, set[str]]], tuple[Any, Decoder]]
