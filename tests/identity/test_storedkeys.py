"""The stored block keys: looking rows up by mask equals filtering them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from identity.blocking import RULES, rule_caps
from identity.settings import EngineSettings
from identity.storedkeys import StoredKeys, drop_keys, key_files, key_parts, store_keys, write_keys

CAPS = rule_caps(EngineSettings())


def _part(folder: Path, number: int, rows: pl.DataFrame) -> None:
    written = folder / f"keys-{number}"
    write_keys({name: rows[name].to_numpy() for name in ("rid", "rule", "kid")}, written)
    store_keys(written, folder, number)
    assert not any(path.exists() for path in key_files(written).values())  # moved in


def _keys(seed: int, n: int, rids: int, kids: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rule = rng.integers(0, len(RULES), n).astype(np.uint8)
    return pl.DataFrame(
        {
            "rid": rng.integers(0, rids, n).astype(np.uint32),
            "rule": rule,
            "cap": CAPS[rule],
            "kid": rng.integers(0, kids, n).astype(np.uint32),
        }
    )


@pytest.fixture
def stored(tmp_path: Path) -> tuple[StoredKeys, pl.DataFrame]:
    first, second = _keys(1, 5_000, 800, 1_500), _keys(2, 700, 900, 1_700)  # a batch's part
    _part(tmp_path, 0, first)
    _part(tmp_path, 1, second)
    assert key_parts(tmp_path) == [0, 1]
    return StoredKeys.open(tmp_path, CAPS), pl.concat([first, second])


def _rows(frame: pl.DataFrame) -> list[tuple[int, ...]]:
    return sorted(frame.iter_rows())


def test_keys_of_records_are_their_stored_rows_with_their_rules_caps(
    stored: tuple[StoredKeys, pl.DataFrame],
) -> None:
    keys, every = stored
    rids = np.array([0, 5, 17, 850, 899, 5_000])  # 5_000: a new record, beyond every part
    got = keys.of_records(rids)
    assert got.columns == ["rid", "rule", "cap", "kid"]
    assert got.schema["cap"] == pl.Int32
    expected = every.filter(pl.col("rid").is_in(rids.tolist()))
    assert got.height == expected.height > 0  # repeated rows kept, as a join keeps them
    assert _rows(got) == _rows(expected.cast(got.schema))


def test_holders_of_key_numbers_are_every_part_s_rows_of_them(
    stored: tuple[StoredKeys, pl.DataFrame],
) -> None:
    keys, every = stored
    batch_only = int(every["kid"].to_numpy().max())  # the first part's numbers are below 1_500
    kids = np.array([3, 1_499, batch_only, 9_999])
    got = keys.holding(kids)
    expected = every.filter(pl.col("kid").is_in(kids.tolist())).select("rid", "rule", "kid")
    assert batch_only >= 1_500 and batch_only in got["kid"]
    assert _rows(got) == _rows(expected)
    assert keys.holding(np.array([], dtype=np.uint32)).height == 0


def test_keys_never_stored_are_dropped(tmp_path: Path) -> None:
    # a run that stopped between writing its keys and saving the state leaves them behind
    written = tmp_path / "pending_keys"
    write_keys({name: np.arange(3) for name in ("rid", "rule", "kid")}, written)
    assert all(path.exists() for path in key_files(written).values())
    drop_keys(written)
    assert not list(tmp_path.iterdir())
