"""The sorting set operations give exactly numpy's results."""

import numpy as np
import pytest

from identity.arrays import difference_ints, union_ints, unique_ints


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
