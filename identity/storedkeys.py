"""The stored block keys (``rid, rule, kid``: ten million rows at 1M records) as NumPy arrays,
looked up by record or by key number with a mask gathered over them.

An incremental batch needs three subsets of them: the keys of its focus records, and the holders
of two sets of key numbers. Joining the Parquet parts in DuckDB read and hashed all ten million
rows for each (~0.45 s of a ~2.6 s batch at 1M). Each part is kept as one ``.npy`` file per
column, opened memory-mapped (no decoding), and a boolean mask indexed by rid or kid picks the
rows in tens of milliseconds. A key's cap is its rule's (``identity.blocking.rule_caps``), so it
is not stored. Rows come in stored order: every use groups or deduplicates them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

#: the stored columns and their types (``cap`` is looked up by rule)
COLUMNS: dict[str, type[np.generic]] = {"rid": np.uint32, "rule": np.uint8, "kid": np.uint32}


def load_array(path: Path, *, mapped: bool = False) -> np.ndarray:
    """A ``.npy`` array of the state (never pickles); a damaged file names itself."""
    try:
        array: np.ndarray = np.load(path, mmap_mode="r" if mapped else None, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path.name} is not an array file Svod wrote ({exc})") from exc
    return array


def key_files(keys: Path) -> dict[str, Path]:
    """The array file of each column of the block keys written at ``keys``."""
    return {name: keys.with_name(f"{keys.stem}.{name}.npy") for name in COLUMNS}


def write_keys(columns: dict[str, np.ndarray], keys: Path) -> None:
    """Write block key columns (``rid, rule, kid``) at ``keys`` (:func:`key_files`)."""
    for name, path in key_files(keys).items():
        np.save(path, columns[name].astype(COLUMNS[name], copy=False), allow_pickle=False)


def store_keys(keys: Path, folder: Path, part: int) -> None:
    """Move the block keys written at ``keys`` into ``folder`` as part ``part``."""
    for name, path in key_files(keys).items():
        shutil.move(path, folder / f"part-{part:05d}.{name}.npy")


def drop_keys(keys: Path) -> None:
    """Remove block keys written at ``keys`` and never stored (a run that stopped)."""
    for path in key_files(keys).values():
        path.unlink(missing_ok=True)


def key_parts(folder: Path) -> list[int]:
    """The part numbers stored in ``folder``."""
    return sorted(int(path.name.split(".")[0][5:]) for path in folder.glob("part-*.rid.npy"))


@dataclass(frozen=True)
class StoredKeys:
    """The stored key rows, part by part (one array per column), and the cap of each rule."""

    parts: list[dict[str, np.ndarray]]
    caps: np.ndarray  # int32, indexed by rule
    bounds: dict[str, int]  # "rid" / "kid": one more than the largest stored

    @classmethod
    def open(cls, folder: Path, caps: np.ndarray) -> StoredKeys:
        """The parts in ``folder``, memory-mapped."""
        parts = [
            {name: load_array(folder / f"part-{n:05d}.{name}.npy", mapped=True) for name in COLUMNS}
            for n in key_parts(folder)
        ]
        for n, part in zip(key_parts(folder), parts, strict=True):
            if len({len(column) for column in part.values()}) != 1:
                raise ValueError(f"{folder / f'part-{n:05d}'}: its columns differ in length")
        bounds = {
            by: max((int(part[by].max(initial=0)) + 1 for part in parts), default=0)
            for by in ("rid", "kid")
        }
        return cls(parts, caps, bounds)

    def _rows(self, by: str, ids: np.ndarray, columns: tuple[str, ...]) -> pl.DataFrame:
        ids = np.asarray(ids, dtype=np.int64)
        mask = np.zeros(max(self.bounds[by], int(ids.max(initial=-1)) + 1), dtype=bool)
        mask[ids] = True
        picked = [np.flatnonzero(mask[part[by]]) for part in self.parts]
        out = {
            name: np.concatenate(
                [part[name][at] for part, at in zip(self.parts, picked, strict=True)]
                or [np.zeros(0, dtype=COLUMNS[name])]
            )
            for name in ("rid", "rule", "kid")
        }
        frame = pl.DataFrame(out)
        if "cap" in columns:
            frame = frame.with_columns(cap=pl.Series(self.caps[out["rule"]], dtype=pl.Int32))
        return frame.select(columns)

    def of_records(self, rids: np.ndarray) -> pl.DataFrame:
        """``rid, rule, cap, kid`` of every stored key row held by one of ``rids``."""
        return self._rows("rid", rids, ("rid", "rule", "cap", "kid"))

    def holding(self, kids: np.ndarray) -> pl.DataFrame:
        """``rid, rule, kid`` of every stored key row whose key number is one of ``kids``."""
        return self._rows("kid", kids, ("rid", "rule", "kid"))
