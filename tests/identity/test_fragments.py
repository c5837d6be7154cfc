"""Fragments of one customer joined on all their cross pairs; incremental runs agree."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from identity.engine import resolve
from identity.incremental import resolve_batch
from identity.settings import EngineSettings
from identity.store import load_state, save_full
from tests.identity.engine_data import Rec, groups, staged, truth

FIRST = ["Robert", "Julia", "Noah", "Amelia", "Oliver", "Isla", "George", "Freya", "Harry", "Ella"]
LAST = ["Allen", "Taylor", "Watson", "Hughes", "Brooks", "Fisher", "Porter", "Lawson", "Dixon"]
CITY = ["London", "Leeds", "Bolton", "York", "Bath"]


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def noisy_people(n: int, copies: int, seed: int) -> list[Rec]:
    """``n`` people, each written ``copies`` times by hand: mistyped e-mails and names, birth
    dates a month or a year-digit off, values left out — the data where fragments appear."""
    rng = random.Random(seed)
    out = []
    for p in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        year, month, day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
        email = f"{first.lower()}.{last.lower()}{rng.randint(10, 99)}@example{p % 7}.org"
        city = rng.choice(CITY)
        for c in range(copies):
            m = month if rng.random() < 0.6 else max(1, min(12, month + rng.choice([-1, 1])))
            y = year if rng.random() < 0.7 else year + rng.choice([-10, -1, 1, 10])
            out.append(
                Rec(
                    f"src|{p}.{c}",
                    f"p{p}",
                    " ".join(
                        part
                        for part in (
                            _typo(first, rng) if rng.random() < 0.2 else first,
                            last if rng.random() < 0.8 else "",
                        )
                        if part
                    ),
                    email=_typo(email, rng) if rng.random() < 0.5 else email,
                    dob=f"{day:02d}.{m:02d}.{y}" if rng.random() < 0.85 else "",
                    city=city if rng.random() < 0.7 else "",
                )
            )
    rng.shuffle(out)
    return out


def _pairs(found: set[frozenset[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in found for a in g for b in g if a < b}


def test_fragment_merges_raise_recall_without_mixing_people() -> None:
    records = noisy_people(60, 4, seed=7)
    expected = _pairs(truth(records))
    joined = resolve(staged(records))
    without = resolve(staged(records), EngineSettings(fragment_threshold=0.999999))
    merged = joined.evidence.filter(pl.col("reason").str.starts_with("fragments joined"))
    assert merged.height > 0
    found, before = _pairs(groups(joined.assignments)), _pairs(groups(without.assignments))
    assert len(found & expected) > len(before & expected)
    assert len(found - expected) <= len(before - expected) + 2


def test_incremental_batch_equals_a_full_run_on_noisy_data(tmp_path: Path) -> None:
    records = noisy_people(60, 4, seed=11)
    old, batch = records[:200], records[200:]
    settings = EngineSettings()
    first = resolve(staged(old), settings, keys_out=str(tmp_path / "keys"))
    save_full(tmp_path / "state", first, settings, tmp_path / "keys")
    state, why = load_state(tmp_path / "state", settings)
    assert state is not None, why
    done = resolve_batch(staged(batch), state, settings)
    full = resolve(staged(old + batch), settings, frozen=state.frozen)
    assert done.result.assignments.equals(full.assignments)
    assert full.evidence.filter(pl.col("reason").str.starts_with("fragments joined")).height > 0
