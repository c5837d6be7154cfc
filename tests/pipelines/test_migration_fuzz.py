"""Fuzz: broken inputs through the connectors end in a clear SourceFileError or in quarantine.

Over 1,000 inputs are generated from the real sample files (truncated, bytes flipped, re-encoded,
junk prepended, pure binary) plus hand-made broken tables (huge cells, formula cells, duplicate
headers, ragged rows, malformed XML/JSON). No other exception may escape, and where the number of
data rows is known, every row is a record or a quarantined row.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.errors import SourceFileError
from pipelines.sources import read_file
from pipelines.sources.base import SourceFile

KINDS = {
    "sales": "spreadsheet",
    "1c": "commerceml",
    "forms": "webform",
    "tickets": "tickets",
}
SEEDS_PER_MUTATION = 22
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def mutations(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    cut = rng.randrange(1, max(2, len(data)))
    yield "truncated", data[:cut]
    flipped = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    yield "flipped", bytes(flipped)
    text = data.decode("utf-8", errors="replace")
    for encoding in ("cp1251", "utf-16", "koi8-r"):
        yield f"encoded-{encoding}", text.encode(encoding, errors="replace")
    yield "junk-prefix", rng.randbytes(rng.randint(1, 64)) + data
    yield "binary", rng.randbytes(rng.randint(0, 2048))
    yield "doubled", data + data[:cut]


def broken_tables(rng: random.Random) -> Iterator[tuple[str, str, int]]:
    """(name, csv text, data rows) — well-formed CSV with nasty content; every row must survive."""
    rows = rng.randint(1, 30)
    huge = "Я" * rng.choice([10_000, 200_000])
    formulas = ['=HYPERLINK("http://x")', "+7 916 000-00-00", "-1", "@SUM(A1:A2)", "=1+1"]
    lines = ["ФИО;Телефон;E-mail;Телефон"]
    for i in range(rows):
        name = rng.choice(["Иванов Иван", huge, rng.choice(formulas), "", "\u0000x"])
        phone = rng.choice([*formulas, "89161234567", ""])
        lines.append(f"{name} {i};{phone};u{i}@example.ru;{rng.choice(formulas)}")
    yield "nasty-cells", "\n".join(lines) + "\n", rows


def cases(template: Path) -> Iterator[tuple[str, str, bytes, int | None]]:
    """(kind, file name, bytes, known data rows or None)."""
    rng = random.Random(7)
    for folder, kind in KINDS.items():
        for path in sorted((template / "inbox" / folder).glob("*")):
            data = path.read_bytes()
            for seed in range(SEEDS_PER_MUTATION):
                for label, mutated in mutations(data, random.Random(seed)):
                    yield kind, f"{path.stem}-{label}-{seed}{path.suffix}", mutated, None
    for seed in range(40):
        for label, text, rows in broken_tables(random.Random(seed)):
            yield "spreadsheet", f"{label}-{seed}.csv", text.encode(), rows
    for seed in range(20):
        body = "<КоммерческаяИнформация><Документ><Контрагенты><Контрагент><Ид>1</Ид>"
        yield "commerceml", f"unclosed-{seed}.xml", body.encode()[: rng.randint(5, len(body))], None
        yield "commerceml", f"entity-{seed}.xml", b"<?xml version='1.0'?><a>&bogus;</a>", None
        yield "webform", f"bad-{seed}.json", b'[{"name": "x",}, ' + rng.randbytes(seed), None
        yield "tickets", f"bad-{seed}.json", b'{"users": [{"id": 1, "email": ', None


@pytest.fixture(scope="module")
def all_cases(sample_template: Path) -> list[tuple[str, str, bytes, int | None]]:
    return list(cases(sample_template))


def test_fuzz_broken_inputs_end_in_a_clear_error_or_quarantine(
    all_cases: list[tuple[str, str, bytes, int | None]], tmp_path: Path
) -> None:
    assert len(all_cases) >= 1000
    crashes: list[str] = []
    lost: list[str] = []
    errors = 0
    for i, (kind, name, data, rows) in enumerate(all_cases):
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(data)
        file = SourceFile(
            path=path,
            relpath=path.name,
            source="fuzz",
            kind=kind,
            sha256=f"{i:064x}",
            batch_id=f"b{i}",
            ingested_at=NOW,
        )
        try:
            result, _events = read_file(file)
        except SourceFileError as exc:
            errors += 1
            assert path.name in str(exc)  # the message names the file
            continue
        except Exception as exc:
            crashes.append(f"{kind} {name}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        keys = result.records["record_key"].to_list() + result.quarantine["record_key"].to_list()
        if len(keys) != len(set(keys)):
            lost.append(f"{kind} {name}: duplicate record keys")
        if rows is not None and result.rows_in != rows:
            lost.append(f"{kind} {name}: {rows} rows written, {result.rows_in} read")
        path.unlink()
    assert crashes == [], "\n".join(crashes[:20])
    assert lost == [], "\n".join(lost[:20])
    assert errors > 100  # most mutations really are broken
