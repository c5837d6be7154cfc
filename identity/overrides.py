"""Steward overrides: must-link / cannot-link decisions that always win over the model.

The file is a CSV with a header ``decision,left,right,note``; ``decision`` is ``must_link`` or
``cannot_link``; ``left`` / ``right`` are record keys (``source|id``) or customer IDs
(``C`` + 15 hex digits, expanded to the customer's records as last published)::

    decision,left,right,note
    must_link,crm|1042,C0A1B2C3D4E5F607,same person after marriage (ticket 5521)
    cannot_link,sales|x.xlsx:Клиенты:12,sales|x.xlsx:Клиенты:40,twins
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from identity.errors import OverridesError

log = logging.getLogger(__name__)
CUSTOMER_ID = re.compile(r"^C[0-9A-F]{15}$")
DECISIONS = ("must_link", "cannot_link")


@dataclass(frozen=True)
class Overrides:
    """Pairs of record keys the steward decided on."""

    must: list[tuple[str, str]] = field(default_factory=list)
    cannot: list[tuple[str, str]] = field(default_factory=list)

    def rid_pairs(self, keys: pl.Series) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """The decisions as (rid, rid) pairs over ``keys`` (rid = position); unknown keys skip."""
        index = {k: i for i, k in enumerate(keys.to_list())}

        def convert(pairs: list[tuple[str, str]]) -> set[tuple[int, int]]:
            out = set()
            for a, b in pairs:
                if a in index and b in index and a != b:
                    i, j = index[a], index[b]
                    out.add((min(i, j), max(i, j)))
            return out

        return convert(self.must), convert(self.cannot)


def parse_overrides(
    rows: Sequence[Mapping[str, str]],
    customers: Mapping[str, Sequence[str]],
    *,
    origin: str = "overrides.csv",
) -> Overrides:
    """Validate rows and expand customer IDs; every problem is reported at once."""
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    problems: list[str] = []
    for line, row in enumerate(rows, start=2):
        decision = (row.get("decision") or "").strip()
        left, right = (row.get("left") or "").strip(), (row.get("right") or "").strip()
        if decision not in DECISIONS:
            problems.append(f"line {line}: decision {decision!r} is not one of {DECISIONS}")
            continue
        sides = []
        for name, value in (("left", left), ("right", right)):
            if not value:
                problems.append(f"line {line}: {name} is empty; write a record key or customer ID")
            elif CUSTOMER_ID.match(value):
                if value not in customers:
                    problems.append(
                        f"line {line}: customer {value} is unknown; use an ID from record_links"
                    )
                sides.append(list(customers.get(value, ())))
            else:
                sides.append([value])
        if len(sides) != 2 or not all(sides):
            continue
        if decision == "must_link":
            must.append((sides[0][0], sides[1][0]))
            must += [(sides[0][0], k) for k in sides[0][1:]] + [
                (sides[1][0], k) for k in sides[1][1:]
            ]
        else:
            cannot += [(a, b) for a in sides[0] for b in sides[1]]
    if problems:
        raise OverridesError(origin, problems)
    return Overrides(must=must, cannot=cannot)


def load_overrides(path: Path, customers: Mapping[str, Sequence[str]]) -> Overrides:
    """Read the overrides CSV; a missing file means no overrides."""
    if not path.is_file():
        return Overrides()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"decision", "left", "right"} - set(reader.fieldnames or [])
        if missing:
            raise OverridesError(
                str(path), [f"header lacks {sorted(missing)}; write 'decision,left,right,note'"]
            )
        rows = list(reader)
    return parse_overrides(rows, customers, origin=str(path))
