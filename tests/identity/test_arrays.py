"""The sorting set operations give exactly numpy's results."""

import numpy as np
import polars as pl
import pytest

from identity.arrays import difference_ints, gather_rows, union_ints, unique_ints


@pytest.mark.parametrize("size", [0, 1, 2, 50, 5_000])
def test_same_as_numpy(size: int) -> None:
    rng = np.random.default_rng(size)
    left = rng.integers(0, max(size // 2, 1), size, dtype=np.int64)
    right = rng.integers(0, max(size // 2, 1), size // 3, dtype=np.int64)
    assert np.array_equal(unique_ints(left), np.unique(left))
    assert np.array_equal(union_ints(left, right), np.union1d(left, right))
    assert np.array_equal(difference_ints(left, right), np.setdiff1d(left, right))


def test_keeps_dtype_and_sorts() -> None:
    values = np.array([7, 3, 7, 1, 3], dtype=np.uint32)
    out = unique_ints(values)
    assert out.dtype == np.uint32
    assert out.tolist() == [1, 3, 7]


@pytest.mark.parametrize("chunks", [1, 3, 7])
def test_gather_rows_equals_gathering_from_one_chunk(chunks: int) -> None:
    rng = np.random.default_rng(chunks)
    whole = pl.DataFrame(
        {
            "rid": np.arange(100, dtype=np.uint32),
            "name": [f"n{i}" for i in range(100)],
            "ids": [[f"x{i}"] * (i % 3) for i in range(100)],
        }
    )
    cuts = np.sort(rng.choice(np.arange(1, 100), chunks - 1, replace=False))
    pieces = np.split(np.arange(100), cuts)
    chunked = pl.concat([whole[int(p[0]) : int(p[-1]) + 1] for p in pieces], rechunk=False)
    assert chunked.get_column("rid").n_chunks() == chunks
    for rows in (np.array([0, 1, 2, 57, 98, 99]), np.sort(rng.choice(100, 40, replace=False))):
        assert gather_rows(chunked, rows).equals(whole[rows.tolist()])
    assert gather_rows(chunked, np.array([], dtype=np.int64)).height == 0
