"""Value-pair similarities computed once per distinct pair give what rapidfuzz gives per pair."""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity import comparison
from identity.comparison import compare, prepare_records
from identity.features import record_features
from identity.guards import identifier_guards
from identity.pairsim import MISSING, Memo, digit_edits, encode, rapid, similarity
from identity.settings import EngineSettings
from tests.identity.engine_data import PEOPLE, staged


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1)
    return ((values[:, None] // powers) % 10).astype(np.int8)


def test_digit_edits_are_damerau_levenshtein_of_the_written_dates() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(19_000_101, 20_251_231, 4000)
    # near copies: one digit changed, two adjacent swapped, or anything
    b = a.copy()
    b[:1000] += 10 ** rng.integers(0, 8, 1000)
    swap = [
        int(s[:i] + s[i + 1] + s[i] + s[i + 2 :])
        for s, i in zip(map(str, a[1000:2000]), rng.integers(0, 7, 1000), strict=True)
    ]
    b[1000:2000] = swap
    b[2000:] = rng.integers(19_000_101, 20_251_231, 2000)
    want = process.cpdist(
        [str(x) for x in a], [str(x) for x in b], scorer=DamerauLevenshtein.distance
    )
    got = digit_edits(_digits(a, 8), _digits(b, 8))
    assert (got == np.minimum(want, 2)).all()
    assert {0, 1, 2} <= set(got.tolist())


def test_similarity_scores_each_value_pair_as_rapidfuzz_does() -> None:
    names = pl.Series(["ivan", "ivanov", None, "iван", "petr", "ivan"])
    (codes,), values = encode(names)
    arr = codes.cast(pl.Int32).fill_null(MISSING).to_numpy()
    a, b = np.repeat(arr, len(arr)), np.tile(arr, len(arr))
    vals = values.to_numpy().astype(object)
    jw = rapid(JaroWinkler.normalized_similarity)
    memo = Memo(len(vals), len(vals))
    for got in (
        similarity(a, b, (vals, vals), jw, same=1.0, missing=0.0),
        similarity(a, b, (vals, vals), jw, same=1.0, missing=0.0, memo=memo),
        similarity(a, b, (vals, vals), jw, same=1.0, missing=0.0, memo=memo),  # remembered
    ):
        left, right = names.to_list(), names.to_list()
        for i, (x, y) in enumerate((x, y) for x in left for y in right):
            want = 0.0 if x is None or y is None else JaroWinkler.normalized_similarity(x, y)
            assert abs(got[i] - want) < 1e-6


def test_comparing_some_pairs_prepares_only_their_records_and_agrees() -> None:
    features, _ = identifier_guards(record_features(staged(PEOPLE)), EngineSettings())
    n = features.height
    pairs = pl.DataFrame(
        {"rid_l": [0, 1, 2, 0], "rid_r": [n - 1, 3, n - 2, 1]},
        schema=dict.fromkeys(("rid_l", "rid_r"), pl.UInt32),
    )
    alone = compare(features, pairs)
    assert alone.equals(compare(features, pairs, prepared=prepare_records(features, None)))
    assert compare(features, pairs.clear()).columns == alone.columns


def test_pairs_compared_in_chunks_on_two_threads_equal_one_pass(monkeypatch) -> None:
    """Chunks share the prepared records and their memos across threads: the levels must be
    those of comparing every pair at once, in the pairs' order."""
    features, _ = identifier_guards(record_features(staged(PEOPLE)), EngineSettings())
    n = features.height
    left, right = np.triu_indices(n, k=1)
    pairs = pl.DataFrame({"rid_l": left, "rid_r": right}).cast(pl.UInt32)
    prepared = prepare_records(features, None)
    whole = compare(features, pairs, prepared=prepare_records(features, None))
    monkeypatch.setattr(comparison, "CHUNK", 7)
    assert pairs.height > 3 * comparison.CHUNK
    assert compare(features, pairs, prepared=prepared).equals(whole)
