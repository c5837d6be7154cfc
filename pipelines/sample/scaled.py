"""Benchmark-sized files written as streams: memory holds one chunk of people, never the file.

Each writer puts its truth beside the data as ``<file>.truth.csv`` (same columns as the sample
truth; ``file`` is the data file's name).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

from pipelines.sample import ids
from pipelines.sample.commerceml import CmlWriter, company_xml, individual_xml
from pipelines.sample.companies import Company
from pipelines.sample.people import iter_chunks
from pipelines.sample.plan import Slot, person_slots
from pipelines.sample.sales import (
    IVANOVA_HEADERS,
    ContactRow,
    contact_row,
    new_workbook,
    write_cells,
)
from pipelines.sample.truth import TruthRow, TruthWriter, Where, junk_row

#: The benchmark sheet: the first sales manager's columns plus the company ones.
BENCH_HEADERS = (*IVANOVA_HEADERS[:5], "Компания", "ИНН", IVANOVA_HEADERS[5])
XLSX_MAX_DATA_ROWS = 1_000_000  # per sheet; Excel stops at 1,048,576 rows
_JUNK_EVERY = 5000


def truth_path(path: Path) -> Path:
    """Where a benchmark file's truth goes."""
    return path.with_name(path.name + ".truth.csv")


def _slots(records: int, seed: int) -> Iterator[Slot]:
    """Record slots in a shuffled order per chunk, enough for ``records`` rows."""
    for chunk_no, people in enumerate(iter_chunks(records, seed)):
        rng = random.Random(f"svod-bench-plan:{seed}:{chunk_no}")
        slots = [slot for person in people for _, slot in person_slots(person, rng)]
        rng.shuffle(slots)
        yield from slots


def _bench_rows(
    records: int, seed: int, name: str, *, numeric_ok: bool
) -> Iterator[tuple[int, ContactRow | None, str]]:
    """(data row index, row or None for junk, junk reason) until ``records`` rows."""
    rng = random.Random(f"svod-bench-rows:{seed}:{name}")
    slots = _slots(records, seed)
    index = 0
    while index < records:
        if index % _JUNK_EVERY == _JUNK_EVERY - 1:
            yield index, None, rng.choice(("empty_row", "test_row"))
        else:
            row = contact_row(
                rng, next(slots), Where(name), numeric_ok=numeric_ok, birth_dates=True
            )
            yield index, row, ""
        index += 1


def _company_cells(row: ContactRow, rng: random.Random) -> list[str]:
    """Company name and ИНН for employees (most of the time), empty otherwise."""
    if row.company is None or rng.random() < 0.3:
        return ["", ""]
    return [row.company.name, row.company.inn]


def _finish(row: ContactRow, where: Where, company: list[str]) -> TruthRow:
    return replace(row.truth, where=where, inn=company[1])


def write_benchmark_csv(path: Path, records: int, seed: int = 7, *, encoding: str = "utf-8") -> int:
    """``records`` data rows (junk included) with the sales headers, `;`-separated, CRLF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"svod-bench-company:{seed}")
    with (
        path.open("w", encoding=encoding, newline="") as handle,
        TruthWriter(truth_path(path)) as truth_out,
    ):
        out = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        out.writerow(BENCH_HEADERS)
        for index, row, reason in _bench_rows(records, seed, path.name, numeric_ok=False):
            where = Where(path.name, "", index + 2)
            if row is None:
                out.writerow(["test", "9999999999"] if reason == "test_row" else [""] * 8)
                truth_out.write(junk_row(where, reason))
                continue
            company = _company_cells(row, rng)
            birth = row.birth.strftime("%d.%m.%Y") if isinstance(row.birth, date) else row.birth
            out.writerow([row.name, row.phone, row.email, row.city, birth, *company, row.comment])
            truth_out.write(_finish(row, where, company))
    return records


def write_benchmark_xlsx(path: Path, records: int, seed: int = 7) -> int:
    """``records`` data rows in xlsxwriter's constant-memory mode, a new sheet per million."""
    book = new_workbook(path, constant_memory=True)
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    rng = random.Random(f"svod-bench-company:{seed}")
    sheet, sheet_name, row_no = None, "", 0
    with TruthWriter(truth_path(path)) as truth_out:
        for index, row, reason in _bench_rows(records, seed, path.name, numeric_ok=True):
            if index % XLSX_MAX_DATA_ROWS == 0:
                part = index // XLSX_MAX_DATA_ROWS + 1
                sheet_name = "Клиенты" if part == 1 else f"Клиенты {part}"
                sheet = book.add_worksheet(sheet_name)
                sheet.write_row(0, 0, BENCH_HEADERS)
                row_no = 1
            assert sheet is not None
            where = Where(path.name, sheet_name, row_no + 1)
            if row is None:
                if reason == "test_row":
                    write_cells(sheet, row_no, ["test", 9999999999], date_format)
                truth_out.write(junk_row(where, reason))
            else:
                company = _company_cells(row, rng)
                inn: str | int = company[1]
                if inn and rng.random() < 0.4:
                    inn = int(inn)  # typed as a number: a leading zero is lost
                cells = [row.name, row.phone, row.email, row.city, row.birth, company[0], inn]
                write_cells(sheet, row_no, [*cells, row.comment], date_format)
                truth_out.write(_finish(row, where, company))
            row_no += 1
    book.close()
    return records


class _FarOrders:
    """Orders of counterparties met anywhere earlier in the file (regular customers).

    A uniform sample of the counterparties written so far is kept (reservoir, bounded memory);
    its own random stream leaves the file unchanged when the share is 0.
    """

    def __init__(self, seed: int, share: float, keep: int = 4096) -> None:
        if not 0 <= share < 1:
            raise ValueError(f"far_repeats must be in [0, 1), not {share}")
        self.rng = random.Random(f"svod-bench-cml-far:{seed}")
        self.per_order = share / (1 - share)  # far orders per nearby one
        self.keep, self.pool, self.seen = keep, list[str](), 0

    def count(self) -> int:
        """How many far orders follow one nearby order."""
        if not self.per_order:
            return 0
        whole = int(self.per_order)
        return whole + (self.rng.random() < self.per_order - whole)

    def pick(self) -> str | None:
        return self.rng.choice(self.pool) if self.pool else None

    def remember(self, xml: str) -> None:
        if not self.per_order:
            return
        self.seen += 1
        if len(self.pool) < self.keep:
            self.pool.append(xml)
        elif (slot := self.rng.randrange(self.seen)) < self.keep:
            self.pool[slot] = xml


def write_benchmark_commerceml(
    path: Path, target_bytes: int, seed: int = 7, *, far_repeats: float = 0.0
) -> int:
    """Orders until the file reaches ``target_bytes``; returns contact records (distinct `Ид`).

    A counterparty places one to three orders in a row. ``far_repeats`` is the share of orders
    placed instead by a counterparty from anywhere earlier in the file, as a regular customer
    does all year in a real 1C export (same Ид, same content).
    """
    rng = random.Random(f"svod-bench-cml:{seed}")
    far = _FarOrders(seed, far_repeats)
    rel, number, written = path.name, 0, 0
    first = date(2024, 1, 10).toordinal()
    with CmlWriter(path) as out, TruthWriter(truth_path(path)) as truth_out:
        for chunk_no, people in enumerate(iter_chunks(target_bytes // 200 + 1, seed)):
            parties: list[tuple[str, list[TruthRow]]] = []
            reps: dict[str, list[tuple[str, Slot]]] = {}
            companies: dict[str, Company] = {}
            for person in people:
                for n, (_, slot) in enumerate(person_slots(person, rng)):
                    key = f"{chunk_no}:{person.index}:{n}"
                    if person.company is None:
                        xml, truth = individual_xml(rng, slot, ids.guid(seed, "buyer", key), rel)
                        parties.append((xml, [truth]))
                    else:
                        companies[person.company.kid] = person.company
                        reps.setdefault(person.company.kid, [])
                        reps[person.company.kid].append((ids.guid(seed, "rep", key), slot))
            for kid in sorted(companies):
                company = companies[kid]
                cid = ids.guid(seed, "company", company.index)
                parties.append(company_xml(rng, company, cid, reps[kid], rel))
            rng.shuffle(parties)
            for xml, truths in parties:
                for _ in range(rng.choices((1, 2, 3), (60, 25, 15))[0]):
                    number += 1
                    day = date.fromordinal(first + rng.randrange(537))
                    out.document(rng, number, day, xml, seed)
                    for _ in range(far.count()):
                        if (earlier := far.pick()) is not None:
                            number += 1
                            day = date.fromordinal(first + far.rng.randrange(537))
                            out.document(far.rng, number, day, earlier, seed)
                far.remember(xml)
                for truth in truths:
                    truth_out.write(truth)
                written += len(truths)
                if out.bytes >= target_bytes:
                    return written
    return written
