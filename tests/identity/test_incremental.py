"""Incremental resolution equals a full run with the same parameters, and touches little."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from identity.blocking import rule_caps
from identity.engine import Resolution, resolve
from identity.features import STAGED_INPUTS
from identity.incremental import Batch, _replaced, resolve_batch
from identity.overrides import Overrides
from identity.settings import EngineSettings
from identity.store import (
    LOG_SHARE,
    State,
    component_labels,
    load_state,
    save_batch,
    save_full,
)
from pipelines.resolution import Resolved, request_full, resolve_workspace, state_dir
from pipelines.workspace import Workspace
from tests.identity.engine_data import PEOPLE, Rec, staged

LATER = [
    Rec("new|1", "ivan", "Иван Петрович Иванов", "+79163215476", "", "1980-03-12"),
    Rec("new|2", "petr2", "Petr Sidorov", "", "petr.sidorov@gmail.com"),
    Rec("new|3", "zoya", "Лебедева Зоя", "+7 999 404-40-44", "zoya.l@list.ru"),
    Rec("new|4", "boris", "Борис Орлов", "+7 999 404-40-45", ""),
]
SETTINGS = EngineSettings()
CAPS = rule_caps(SETTINGS)


def stored(root: Path, records: list[Rec], settings: EngineSettings = SETTINGS) -> State:
    """A full run on ``records`` saved as the state an incremental run continues."""
    first = resolve(staged(records), settings, keys_out=str(root / "keys"))
    save_full(root / "state", first, settings, root / "keys")
    state, why = load_state(root / "state", settings)
    assert state is not None, why
    return state


def after_batch(
    root: Path, state: State, records: list[Rec], log_share: float = LOG_SHARE
) -> tuple[Batch, State]:
    """Resolve ``records`` against ``state``, save the batch, and load the saved state back."""
    done = resolve_batch(staged(records), state, SETTINGS)
    save_batch(state, done, SETTINGS, log_share=log_share)
    again, why = load_state(root / "state", SETTINGS)
    assert again is not None, why
    return done, again


def same(incremental: Resolution, full: Resolution) -> None:
    assert incremental.assignments.equals(full.assignments)
    keys = ["left_key", "right_key"]  # a batch appends its evidence rows (sorted among them)
    assert incremental.evidence.sort(keys).equals(
        full.evidence.select(incremental.evidence.columns).sort(keys)
    )
    order = ["type", "value", "reason"]
    assert incremental.guards.sort(order).equals(full.guards.sort(order))


@pytest.mark.parametrize("split", [len(PEOPLE), len(PEOPLE) - 3])
def test_incremental_batch_equals_a_full_run_with_the_same_parameters(
    split: int, tmp_path: Path
) -> None:
    old, batch = PEOPLE[:split], PEOPLE[split:] + LATER
    state = stored(tmp_path, old)
    done = resolve_batch(staged(batch), state, SETTINGS)
    full = resolve(staged(old + batch), SETTINGS, frozen=state.frozen)
    same(done.result, full)
    assert done.rebuilt < len(old + batch)  # the companies and the colleagues were not touched


def test_a_second_batch_continues_the_saved_state(tmp_path: Path) -> None:
    state = stored(tmp_path, PEOPLE[:-3])
    _, again = after_batch(tmp_path, state, PEOPLE[-3:])
    second = resolve_batch(staged(LATER), again, SETTINGS)
    same(second.result, resolve(staged(PEOPLE + LATER), SETTINGS, frozen=state.frozen))


@pytest.mark.parametrize("log_share", [float("inf"), 0.0])
def test_the_stored_evidence_log_reads_back_as_a_full_run_gives(
    log_share: float, tmp_path: Path
) -> None:
    # batches append to the evidence log (inf: never compacted) or compact it each time (0)
    state = stored(tmp_path, PEOPLE[:-3])
    batches = [PEOPLE[-3:-1], PEOPLE[-1:], LATER]
    seen: list[Rec] = list(PEOPLE[:-3])
    for batch in batches:
        done, again = after_batch(tmp_path, state, batch, log_share)
        seen += batch
        full = resolve(staged(seen), SETTINGS, frozen=state.frozen)
        same(replace(done.result, evidence_plan=again.evidence), full)
        state = again
    stored_parts = sorted(p.name for p in (tmp_path / "state" / "evidence").iterdir())
    if log_share == 0.0:  # compacted: one part, the earlier ones removed
        assert len(state.log.parts) == 1 and len(stored_parts) == 1
    else:  # the base and each batch's rows, and each batch's drops
        assert len(state.log.parts) == 4 and len(stored_parts) == 7


def test_saved_component_labels_are_those_of_the_saved_links(tmp_path: Path) -> None:
    # a batch relabels only the components it rebuilt; the labels it saves must still be what
    # labelling the whole saved graph gives (the next batch picks its area by them)
    _, again = after_batch(tmp_path, stored(tmp_path, PEOPLE[:-3]), PEOPLE[-3:] + LATER)
    rids = np.arange(again.features.height, dtype=np.uint32)
    assert np.array_equal(again.components, component_labels(again.edges, rids))
    assert len(np.unique(again.components)) < len(rids)  # some records are linked


def test_saved_key_sizes_count_the_saved_keys(tmp_path: Path) -> None:
    # a batch reads block sizes from the stored counts instead of counting the stored keys; the
    # counts it saves must be what counting them gives, new key numbers included
    state = stored(tmp_path, PEOPLE[:-3])
    _, again = after_batch(tmp_path, state, PEOPLE[-3:] + LATER)
    kids = np.concatenate([part["kid"] for part in again.keys.parts])
    numbers = pl.read_parquet(again.ids_glob)
    assert len(again.key_sizes) == numbers.height > len(state.key_sizes)
    counted = np.bincount(kids, minlength=numbers.height)
    assert np.array_equal(again.key_sizes, counted)


def test_component_labels_name_each_component_by_its_smallest_id() -> None:
    edges = pl.DataFrame(
        {"rid_l": [0, 1, 3], "rid_r": [2, 2, 4]},
        schema=dict.fromkeys(["rid_l", "rid_r"], pl.UInt32),
    )
    ids = np.array([9, 4, 7, 5, 1], dtype=np.uint32)  # the id each row stands for
    assert component_labels(edges, ids).tolist() == [4, 4, 4, 1, 1]


def test_a_key_a_batch_brought_is_found_by_the_next_batch(tmp_path: Path) -> None:
    # the phone and e-mail are new to the store in the first batch: their key numbers are
    # given by that batch, and the second batch must block on the same numbers
    state = stored(tmp_path, PEOPLE)
    first_rec = Rec("new|a", "gleb", "Глеб Котов", "+7 912 555-01-02", "gleb.kotov@mail.ru")
    _, again = after_batch(tmp_path, state, [first_rec])
    later = Rec("new|b", "gleb", "Котов Глеб", "8 (912) 555-01-02", "gleb.kotov@mail.ru")
    # her keys sort before his: numbered afresh, his would get other numbers than in batch one
    other = Rec("new|c", "anna", "Анна Белова", "+7 900 111-22-33", "a.belova@bk.ru")
    second = resolve_batch(staged([later, other]), again, SETTINGS)
    everyone = [*PEOPLE, first_rec, later, other]
    same(second.result, resolve(staged(everyone), SETTINGS, frozen=state.frozen))
    gleb = pl.col("record_key").is_in(["new|a", "new|b"])
    assert second.result.assignments.filter(gleb)["cluster_key"].n_unique() == 1


def test_a_batch_over_a_block_cap_rebuilds_the_holders(tmp_path: Path) -> None:
    # three old namesakes in one block of cap 3; a fourth pushes the key over the cap
    settings = EngineSettings(max_block_size=3)
    state = stored(tmp_path, PEOPLE, settings)
    more = [Rec(f"new|{i}", f"x{i}", "Иванов Иван", f"+7 999 000-00-{i:02d}") for i in range(3)]
    done = resolve_batch(staged(more), state, settings)
    same(done.result, resolve(staged(PEOPLE + more), settings, frozen=state.frozen))


def test_an_unrelated_batch_rebuilds_only_itself(tmp_path: Path) -> None:
    state = stored(tmp_path, PEOPLE)
    stranger = [Rec("new|9", "x", "Фомина Ирина Олеговна", "+7 999 111-00-99", "fomina@bk.ru")]
    done = resolve_batch(staged(stranger), state, SETTINGS)
    assert done.rebuilt == 1
    kept = done.result.assignments.filter(pl.col("record_key") != "new|9")
    assert kept.equals(state.assignments)


def test_other_settings_are_not_continued(tmp_path: Path) -> None:
    stored(tmp_path, PEOPLE)
    state, why = load_state(tmp_path / "state", EngineSettings(link_threshold=0.8))
    assert state is None
    assert "settings" in why


def _workspace(root: Path, **matching: object) -> Workspace:
    ws = Workspace.open(root)
    changed = ws.config.matching.model_copy(update=matching)
    return replace(ws, config=ws.config.model_copy(update={"matching": changed}))


def _staged(ws: Workspace) -> pl.DataFrame:
    return pl.read_parquet(ws.staged_dir / "staged.parquet")


def _resolve(ws: Workspace, staged: pl.DataFrame, settings: EngineSettings) -> Resolved:
    path = ws.root / "part.parquet"
    staged.write_parquet(path)
    return resolve_workspace(ws, path, settings, Overrides())


def test_a_run_resolves_only_added_batches_incrementally(published: Path) -> None:
    ws = _workspace(published, full_after_growth=10.0)
    staged, settings = _staged(ws), EngineSettings()
    last = staged.get_column("batch_id").unique().sort()[-1]
    old = staged.filter(pl.col("batch_id") != last)
    request_full(ws)
    assert _resolve(ws, old, settings).mode == "full"
    added = _resolve(ws, staged, settings)
    assert (added.mode, added.reason.split(" ")[1:3]) == ("incremental", ["new", "records,"])
    state, _ = load_state(state_dir(ws), settings)
    assert state is not None
    inputs = [c for c in STAGED_INPUTS if c in staged.columns]
    full = resolve(staged.select(inputs), settings, frozen=state.frozen)
    assert added.resolution.assignments.equals(full.assignments)
    same_again = _resolve(ws, staged, settings)
    assert (same_again.mode, same_again.reason) == ("incremental", "no new records")
    assert same_again.resolution.assignments.equals(full.assignments)
    rolled_back = _resolve(ws, old, settings)
    assert rolled_back.mode == "full"
    assert "rolled back" in rolled_back.reason


def sizes_by_key(state: State) -> pl.DataFrame:
    ids = pl.read_parquet(state.ids_glob)
    return ids.select("rule", "key", n=pl.Series(state.key_sizes).gather(ids["kid"])).sort(
        "rule", "key"
    )


def test_a_state_saved_aside_is_the_state_saved_in_line(published: Path, tmp_path: Path) -> None:
    # resolve_stage saves the state on a second thread while it assigns customer IDs
    saved = []
    for aside in (False, True):
        root = tmp_path / f"aside-{aside}"
        shutil.copytree(published, root)
        ws, settings = _workspace(root, full_after_growth=10.0), EngineSettings()
        staged = _staged(ws)
        last = staged.get_column("batch_id").unique().sort()[-1]
        path = ws.root / "part.parquet"
        request_full(ws)
        for part in (staged.filter(pl.col("batch_id") != last), staged):  # full, then a batch
            part.write_parquet(path)
            done = resolve_workspace(ws, path, settings, Overrides(), save_aside=aside)
            assert (done.saving is not None) == aside
            done.wait()
        state, why = load_state(state_dir(ws), settings)
        assert state is not None, why
        saved.append(state)
    inline, aside_state = saved
    assert aside_state.assignments.equals(inline.assignments)
    assert aside_state.evidence.collect().equals(inline.evidence.collect())
    assert aside_state.features.equals(inline.features)
    # key numbers are given in no set order by each full run: the sizes are compared per key
    assert sizes_by_key(aside_state).equals(sizes_by_key(inline))


def test_full_resolution_when_settings_change_or_incremental_is_off(published: Path) -> None:
    ws = _workspace(published, full_after_growth=0.01)
    staged = _staged(ws)
    last = staged.get_column("batch_id").unique().sort()[-1]
    _resolve(ws, staged.filter(pl.col("batch_id") != last), EngineSettings())
    assert "grew by" in _resolve(ws, staged, EngineSettings()).reason
    other = _resolve(ws, staged, EngineSettings(link_threshold=0.8))
    assert (other.mode, "settings" in other.reason) == ("full", True)
    off = _resolve(_workspace(published, incremental=False), staged, EngineSettings())
    assert (off.mode, off.reason) == ("full", "[matching] incremental = false")


_NAMESAKES = ("Иванов Иван Петрович", "Иванова Анна Сергеевна", "Иванов Иван Олегович")


def _namesakes(seed: int) -> list[Rec]:
    """Records sharing a few names (blocks near their cap), some with phones and birth dates."""
    rng = random.Random(seed)
    return [
        Rec(
            f"r|{i:02d}",
            f"p{i}",
            rng.choice(_NAMESAKES),
            f"+7 916 {rng.randrange(1000):03d}-{i:02d}-00" if rng.random() < 0.7 else "",
            dob=f"19{rng.randrange(60, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(9)}"
            if rng.random() < 0.5
            else "",
            city=rng.choice(["Москва", "Тула"]),
        )
        for i in range(rng.randrange(8, 14))
    ]


@pytest.mark.parametrize("seed", [41, 43, 45, 57])
def test_keys_pushed_over_their_cap_give_what_a_full_run_gives(seed: int, tmp_path: Path) -> None:
    # the holders of a key the batch pushes over its cap lose the pairs through it; their other
    # pairs are not compared again, and the result is still the full run's
    settings = EngineSettings(max_block_size=3 if seed == 43 else 4)
    records = _namesakes(seed)
    split = len(records) - (1 if seed in (45, 57) else 2)
    state = stored(tmp_path, records[:split], settings)
    done = resolve_batch(staged(records[split:]), state, settings)
    same(done.result, resolve(staged(records), settings, frozen=state.frozen))


def test_replaced_rows_keep_the_order_a_full_sort_gives() -> None:
    # rebuilt rows replace stored ones ("b", "e") and bring new keys ("a", "d", "f"; "ca" and
    # "cc" go between the same two stored keys)
    stored = pl.DataFrame({"record_key": ["b", "c", "e"], "v": [1, 2, 3]})
    rebuilt = pl.DataFrame(
        {"record_key": ["f", "e", "cc", "a", "d", "ca", "b"], "v": [4, 5, 9, 6, 7, 10, 8]}
    )
    replaced = _replaced(stored, rebuilt)
    assert replaced["record_key"].to_list() == ["a", "b", "c", "ca", "cc", "d", "e", "f"]
    assert replaced["v"].to_list() == [6, 8, 2, 10, 9, 7, 5, 4]
    unsorted = _replaced(stored.reverse(), rebuilt)  # a state written before sorting was kept
    assert unsorted.equals(replaced)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda root: (root / "block_keys" / "part-00000.kid.npy").unlink(), "part-00000.kid.npy"),
        (lambda root: (root / "components.npy").write_bytes(b"not an array"), "components.npy"),
        (lambda root: (root / "state.json").write_text("{", encoding="utf-8"), "JSONDecodeError"),
    ],
)
def test_a_damaged_state_is_not_continued_and_says_why(
    tmp_path: Path, damage: Any, named: str
) -> None:
    # a state file lost or garbled (disk trouble, a hand edit) must lead to a full run with the
    # reason logged, not to a failed run
    stored(tmp_path, PEOPLE)
    damage(tmp_path / "state")
    state, why = load_state(tmp_path / "state", SETTINGS)
    assert state is None
    assert why.startswith("the stored state cannot be read") and named in why
