"""The truth file: who each written contact record really is, and what it should normalise to.

The pipeline never reads it; tests and benchmarks score matching (``entity_id``) and
normalisation (``true_*``) against it. One row per contact record, junk rows included.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO

from pipelines.sample.contacts import Rendered
from pipelines.sample.render import NameOut

TRUTH_COLUMNS: tuple[str, ...] = (
    "file",
    "sheet",
    "row",
    "native_id",
    "entity_kind",
    "entity_id",
    "true_last_name",
    "true_first_name",
    "true_middle_name",
    "true_phones",
    "true_emails",
    "true_birth_date",
    "true_inn",
    "noise",
)


@dataclass(frozen=True)
class Where:
    """Where a record sits: file relative to the inbox, sheet, physical row, native id."""

    file: str
    sheet: str = ""
    row: int | None = None
    native_id: str = ""


@dataclass(frozen=True)
class TruthRow:
    """One written contact record and its expected normalised values."""

    where: Where
    entity_kind: str  # person / company / junk
    entity_id: str
    last: str = ""
    first: str = ""
    middle: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    birth_date: date | None = None
    inn: str = ""
    noise: tuple[str, ...] = ()

    def cells(self) -> list[str]:
        """The row as CSV cells in ``TRUTH_COLUMNS`` order."""
        w = self.where
        return [
            w.file,
            w.sheet,
            "" if w.row is None else str(w.row),
            w.native_id,
            self.entity_kind,
            self.entity_id,
            self.last,
            self.first,
            self.middle,
            ";".join(dict.fromkeys(self.phones)),
            ";".join(dict.fromkeys(e.strip().lower() for e in self.emails)),
            self.birth_date.isoformat() if self.birth_date else "",
            self.inn,
            ";".join(dict.fromkeys(self.noise)),
        ]


def person_row(
    where: Where,
    pid: str,
    name: NameOut,
    phones: Rendered,
    emails: Rendered,
    *,
    birth_date: date | None = None,
    inn: str = "",
    extra_noise: tuple[str, ...] = (),
) -> TruthRow:
    """The truth of a person record assembled from its rendered parts."""
    return TruthRow(
        where=where,
        entity_kind="person",
        entity_id=pid,
        last=name.true_last,
        first=name.true_first,
        middle=name.true_middle,
        phones=tuple(phones.phones),
        emails=tuple(emails.emails),
        birth_date=birth_date,
        inn=inn,
        noise=(*name.noise, *phones.noise, *emails.noise, *extra_noise),
    )


def junk_row(where: Where, reason: str) -> TruthRow:
    """A deliberately written empty, test or group row: no entity behind it."""
    return TruthRow(where=where, entity_kind="junk", entity_id="", noise=(reason,))


class TruthWriter:
    """Streams truth rows to a UTF-8 CSV so million-row benchmarks never hold them all."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self._csv.writerow(TRUTH_COLUMNS)
        self.count = 0

    def write(self, row: TruthRow) -> None:
        self._csv.writerow(row.cells())
        self.count += 1

    def write_all(self, rows: list[TruthRow]) -> None:
        for row in rows:
            self.write(row)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> TruthWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
