"""Which repeated Ид a CommerceML file keeps, and how two halves read apart are joined.

Rows are positions: every Контрагент, Владелец and Представитель element takes the next row,
whether it is kept, read once as a repeat or quarantined. So a half read on its own numbers its
elements as one pass would, shifted by the rows before it. What a half cannot know is which of its
Ид the other half read first; the worker therefore logs every Ид check (row, Ид, content digest,
raw element) and :func:`join` replays the log against the first half's :class:`Seen` ids, giving
the one-pass decisions: first occurrence kept, same content read once, other content quarantined.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from pipelines.sources._common import duplicate_item

NEW, SAME, DIFFERS = "new", "same", "differs"


class Seen:
    """Ид read so far with their content digest and first row; counts same-content repeats.

    Digests are ``fingerprint`` strings, or ``local_fingerprint`` ints in a one-pass read.
    """

    def __init__(self) -> None:
        self._first: dict[str, tuple[str | int, int]] = {}
        self.repeats = 0

    def check(self, rid: str, digest: str | int, row: int) -> tuple[str, int]:
        """(NEW, row), (SAME, first row) or (DIFFERS, first row)."""
        first = self._first.get(rid)
        if first is None:
            self._first[rid] = (digest, row)
            return NEW, row
        if first[0] == digest:
            self.repeats += 1
            return SAME, first[1]
        return DIFFERS, first[1]


@dataclass
class Log:
    """A half's Ид checks in file order, for :func:`join`; raw elements are pickled to a file.

    ``kinds`` holds the count a kept record went to (company, person, representative), or "".
    """

    raw: BinaryIO
    rows: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    size: int = 0

    def add(self, entry: tuple[int, str, str, str], raw: Any) -> None:
        row, rid, digest, status = entry
        self.rows.append(row)
        self.ids.append(rid)
        self.digests.append(digest)
        self.statuses.append(status)
        self.kinds.append("")
        self.offsets.append(self.size)
        self.size += self.raw.write(pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL))

    def kept(self, kind: str) -> None:
        """The last checked element became a record counted as ``kind``."""
        self.kinds[-1] = kind

    def columns(self) -> dict[str, list[Any]]:
        """Everything but the raw file, to be pickled by the worker."""
        names = ("rows", "ids", "digests", "statuses", "kinds", "offsets")
        return {name: getattr(self, name) for name in names}


@dataclass
class Half:
    """What the worker read: its frames, counts, quarantine items and log (rows from 1)."""

    records: pl.DataFrame
    events: pl.DataFrame
    meta: dict[str, Any]
    log: dict[str, list[Any]]
    raw_path: Path


def join(
    seen: Seen, counts: dict[str, int], quarantine: list[dict[str, Any]], half: Half, offset: int
) -> pl.DataFrame:
    """The second half's records as one pass would have made them; its quarantine items are
    appended to ``quarantine``.

    ``seen``, ``counts`` and ``quarantine`` are the first half's and are updated in place;
    ``offset`` is the number of rows the first half took.
    """
    log = half.log
    for key, value in half.meta["counts"].items():
        counts[key] += value
    keep: list[bool] = []
    items = [
        {**item, "source_row": item["source_row"] + offset}
        for item in half.meta["quarantine"]
        if item["reason"] != "duplicate_id"  # decided again below
    ]
    with half.raw_path.open("rb") as raw:
        for row, rid, digest, local, kind, at in zip(
            log["rows"], log["ids"], log["digests"], log["statuses"], log["kinds"], log["offsets"],
            strict=True,
        ):  # fmt: skip
            status, first = seen.check(rid, digest, row + offset)
            if status == DIFFERS:
                raw.seek(at)
                items.append(duplicate_item(rid, row + offset, first, pickle.load(raw)))
            if local == NEW:  # one pass keeps only what the half kept (its ids are a subset)
                keep.append(status == NEW)
                if status != NEW and kind:
                    counts[kind] -= 1
    records = half.records
    if len(keep) != records.height:
        raise RuntimeError(f"the log has {len(keep)} kept rows, the frame {records.height}")
    if not all(keep):
        records = records.filter(pl.Series(keep, dtype=pl.Boolean))
    dtype = records.schema["source_row"]
    records = records.with_columns((pl.col("source_row") + offset).cast(dtype))
    quarantine.extend(sorted(items, key=lambda item: int(item["source_row"])))
    return records
