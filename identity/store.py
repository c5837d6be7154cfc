"""What a resolution leaves for the next one: the state an incremental run starts from.

A directory of Parquet, NumPy arrays and JSON (never pickles): record features (``rid`` =
position, appended part by part), blocking keys as numbers (``rid, rule, kid``, one part per run,
as ``.npy`` arrays read memory-mapped: :mod:`identity.storedkeys`) and the numbers of the key
strings (``rule, key, kid``, new keys appended per run), the candidate links between records,
the guards, the frozen model and term frequencies, the assignments, and the evidence as a log
(see :func:`evidence_log`): a batch appends its rows and the records whose earlier rows it
dropped, instead of rewriting a million rows. ``state.json`` names the engine settings and the
state version; a state written under other settings, another version or another set of
comparisons is not compatible and the caller runs a full resolution instead.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from identity.blocking import key_ids_path, key_sizes_path, rule_caps
from identity.comparison import COMPARISONS
from identity.engine import Frozen, Resolution
from identity.model import Model
from identity.settings import EngineSettings
from identity.storedkeys import StoredKeys, drop_keys, load_array, store_keys

if TYPE_CHECKING:
    from identity.incremental import Batch

#: bump when the meaning of a stored file changes: older states then trigger a full run
STATE_VERSION = 5

#: The evidence log is compacted (rewritten as one part) when its batches' rows pass this share
#: of the base part's, or it holds this many batches: reading it stays about a full table's read.
LOG_SHARE = 0.25
LOG_PARTS = 16


@dataclass(frozen=True)
class EvidenceLog:
    """Which evidence parts are in force: ``parts[0]`` is the base (a full run's, or a
    compaction's), each later one a batch's rows, with the drops it made before them."""

    parts: list[int] = field(default_factory=lambda: [0])
    base_rows: int = 0
    logged_rows: int = 0  # rows of the parts after the base


def _part(root: Path, number: int) -> Path:
    return root / "evidence" / f"part-{number:05d}.parquet"


def _drops(root: Path, number: int) -> Path:
    return root / "evidence" / f"drop-{number:05d}.parquet"


def drop_evidence(evidence: pl.LazyFrame, dropped: pl.DataFrame) -> pl.LazyFrame:
    """``evidence`` without the rows a batch replaced: ``dropped`` lists the records of the
    components it rebuilt (``record_key``; ``moved``: the record's own pairs were compared
    again). A row goes when both its ends were rebuilt, or either end moved."""
    keys = dropped.get_column("record_key").implode()
    moved = dropped.filter("moved").get_column("record_key").implode()
    c = pl.col
    return evidence.filter(
        ~(c("left_key").is_in(keys) & c("right_key").is_in(keys))
        & ~c("left_key").is_in(moved)
        & ~c("right_key").is_in(moved)
    )


def evidence_log(root: Path, log: EvidenceLog) -> pl.LazyFrame:
    """The stored evidence: the base part, then for each batch its drops applied to the rows
    before it and its own rows appended (the order the batches produced them in)."""
    frame = pl.scan_parquet(_part(root, log.parts[0]))
    for number in log.parts[1:]:
        kept = drop_evidence(frame, pl.read_parquet(_drops(root, number)))
        frame = pl.concat([kept, pl.scan_parquet(_part(root, number))])
    return frame


@dataclass(frozen=True)
class State:
    """A previous resolution, as an incremental run needs it."""

    root: Path
    features: pl.DataFrame  # record features without the guard-derived columns, rid = row
    edges: pl.DataFrame  # rid_l, rid_r: candidate links (linked or rejected)
    components: np.ndarray  # per rid, the smallest rid connected to it by ``edges``
    key_sizes: np.ndarray  # per key number, how many key rows hold it (the block's size)
    keys: StoredKeys  # the block key rows, memory-mapped
    guards: pl.DataFrame  # identity_guards, blocking rows included
    assignments: pl.DataFrame  # record_key, cluster_key, match_rule
    evidence: pl.LazyFrame  # link_evidence, read from the log when asked for
    log: EvidenceLog
    blocking: pl.DataFrame  # per-rule counts of the last full run
    frozen: Frozen
    full_records: int  # records at the last full run (the model was estimated on them)

    @property
    def ids_glob(self) -> str:
        """The key number parts, for DuckDB's ``read_parquet``."""
        return str(self.root / "key_ids" / "*.parquet")


def component_labels(edges: pl.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Per record, the smallest of ``ids`` connected to it by ``edges`` (rows = positions in
    ``ids``). Such labels stay right for every component a batch does not touch, so a batch
    relabels only the ones it rebuilds instead of the whole graph."""
    n = len(ids)
    ends = (edges["rid_l"].to_numpy(), edges["rid_r"].to_numpy())
    graph = coo_matrix((np.ones(edges.height, dtype=np.float32), ends), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    smallest = np.full(count, np.iinfo(np.uint32).max, dtype=np.uint32)
    np.minimum.at(smallest, label, ids.astype(np.uint32))
    out: np.ndarray = smallest[label]
    return out


def settings_fingerprint(settings: EngineSettings) -> str:
    """What must not change between a state and the run that continues it."""
    levels = {c.name: list(c.levels) for c in COMPARISONS}
    return json.dumps(
        {"version": STATE_VERSION, "settings": asdict(settings), "comparisons": levels},
        sort_keys=True,
        ensure_ascii=False,
    )


def model_from_json(text: str) -> Model:
    """The inverse of :meth:`identity.model.Model.to_json`."""
    body = json.loads(text)
    comps = body["comparisons"]
    return Model(
        m={c: list(v["m"]) for c, v in comps.items()},
        u={c: list(v["u"]) for c, v in comps.items()},
        u_random={c: list(v["u_random"]) for c, v in comps.items()},
        lam=float(body["lambda"]),
        iterations=int(body["iterations"]),
    )


#: DuckDB's row group size: files in row groups of this many rows load into the warehouse on
#: two threads (``pipelines.publication``); evidence and assignments are published as written.
ROW_GROUP = 122_880


def _write(frame: pl.DataFrame, path: Path) -> None:
    """LZ4: a batch rewrites the million-row tables, and LZ4 writes (and reads) them about a
    third faster than the default zstd, for files about 1.6 times larger."""
    frame.write_parquet(path, compression="lz4", row_group_size=ROW_GROUP)


def _write_common(
    root: Path,
    result: Resolution,
    settings: EngineSettings,
    full: int,
    records: int,
    log: EvidenceLog,
) -> None:
    """Everything but the features, keys and evidence parts; ``state.json`` last, naming the
    evidence parts in force (a run that stops before it leaves the previous ones named)."""
    assert result.model is not None and result.edges is not None
    _write(result.edges, root / "edges.parquet")
    _write(result.guards, root / "guards.parquet")
    _write(result.assignments, root / "assignments.parquet")
    labels = result.components
    if labels is None:
        labels = component_labels(result.edges, np.arange(records, dtype=np.uint32))
    np.save(root / "components.npy", labels.astype(np.uint32, copy=False), allow_pickle=False)
    if not (root / "model.json").is_file():  # frozen between full runs: written once
        (root / "model.json").write_text(result.model.to_json(), encoding="utf-8")
        tf = [t.with_columns(comparison=pl.lit(c)) for c, t in result.tf.items()]
        pl.concat(tf).select("comparison", "value", "tf").write_parquet(root / "tf.parquet")
    meta = {
        "fingerprint": settings_fingerprint(settings),
        "full_records": full,
        "records": records,
        "evidence": asdict(log),
    }
    (root / "state.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    named = {_part(root, n).name for n in log.parts} | {_drops(root, n).name for n in log.parts}
    for path in (root / "evidence").glob("*.parquet"):
        if path.name not in named:  # compacted away, or left by a run that stopped
            path.unlink()


def base_features(features: pl.DataFrame) -> pl.DataFrame:
    """Features as :func:`identity.features.record_features` makes them (no guard columns)."""
    return features.drop("smobiles", "semails", strict=False)


def save_full(root: Path, result: Resolution, settings: EngineSettings, keys: Path) -> None:
    """Replace the state with a full run's; ``keys`` is where it wrote its block keys
    (``resolve(keys_out=…)``)."""
    if result.model is None or result.features is None:
        shutil.rmtree(root, ignore_errors=True)  # nothing to continue from (no pairs)
        drop_keys(keys)
        key_ids_path(keys).unlink(missing_ok=True)
        key_sizes_path(keys).unlink(missing_ok=True)
        return
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for folder in ("features", "block_keys", "key_ids", "evidence"):
        (tmp / folder).mkdir(parents=True)
    _write(base_features(result.features), tmp / "features" / "part-00000.parquet")
    _write(result.evidence, _part(tmp, 0))
    store_keys(keys, tmp / "block_keys", 0)
    shutil.move(key_ids_path(keys), tmp / "key_ids" / "part-00000.parquet")
    shutil.move(key_sizes_path(keys), tmp / "key_sizes.npy")
    result.blocking.write_parquet(tmp / "blocking.parquet")
    n = result.features.height
    _write_common(tmp, result, settings, n, n, EvidenceLog(base_rows=result.evidence.height))
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)


def save_batch(
    state: State, batch: Batch, settings: EngineSettings, *, log_share: float = LOG_SHARE
) -> None:
    """Append an incremental run's new records and keys (written by the run) to the state, and
    its evidence to the log: compacted into one part when the log grew past ``log_share`` of
    the base part's rows or ``LOG_PARTS`` parts."""
    root, log = state.root, state.log
    part = len(list((root / "features").glob("part-*.parquet")))
    name = f"part-{part:05d}.parquet"
    _write(base_features(batch.new_features), root / "features" / name)
    store_keys(pending_keys(root), root / "block_keys", part)
    shutil.move(str(key_ids_path(pending_keys(root))), root / "key_ids" / name)
    _save_sizes(root, batch.key_sizes)
    number = log.parts[-1] + 1
    logged = log.logged_rows + batch.evidence_added.height
    if logged > log.base_rows * log_share or len(log.parts) >= LOG_PARTS:
        evidence = batch.result.evidence  # read from the old parts before they are let go
        _write(evidence, _part(root, number))
        log = EvidenceLog([number], evidence.height, 0)
    else:
        _write(batch.evidence_dropped, _drops(root, number))
        _write(batch.evidence_added, _part(root, number))
        log = EvidenceLog([*log.parts, number], log.base_rows, logged)
    records = state.features.height + batch.new_features.height
    _write_common(root, batch.result, settings, state.full_records, records, log)


def table_file(root: Path, name: str) -> Path | None:
    """The one state file holding table ``name`` (assignments, guards, evidence) as the last run
    left it, or None: the evidence has none while batches are logged after its base part."""
    if name != "evidence":
        path = root / f"{name}.parquet"
        return path if path.is_file() else None
    meta = json.loads((root / "state.json").read_text(encoding="utf-8"))
    parts = EvidenceLog(**meta["evidence"]).parts
    return _part(root, parts[0]) if len(parts) == 1 else None


def pending_keys(root: Path) -> Path:
    """Where an incremental run writes its new block keys until the state is saved (a name
    without a suffix: the files are named after it, see :func:`identity.storedkeys.key_files`)."""
    return root / "pending_keys"


def _save_sizes(root: Path, sizes: np.ndarray) -> None:
    """The block size per key number (written whole by each run: ~2M numbers at 1M records)."""
    np.save(root / "key_sizes.npy", sizes.astype(np.uint32, copy=False), allow_pickle=False)


def load_state(root: Path, settings: EngineSettings) -> tuple[State | None, str]:
    """The state in ``root`` if it can be continued under ``settings``, else why not (a state
    whose files are missing or unreadable is not continued: the run resolves in full)."""
    meta_path = root / "state.json"
    if not meta_path.is_file():
        return None, "no previous resolution state"
    try:
        return _read_state(root, settings, json.loads(meta_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        return None, f"the stored state cannot be read ({type(exc).__name__}: {exc})"


def _read_state(
    root: Path, settings: EngineSettings, meta: dict[str, Any]
) -> tuple[State | None, str]:
    if meta.get("fingerprint") != settings_fingerprint(settings):
        return None, "engine settings, comparisons or state version changed since the last run"
    tf = pl.read_parquet(root / "tf.parquet")
    frozen = Frozen(
        model=model_from_json((root / "model.json").read_text(encoding="utf-8")),
        tf={
            str(c): part.drop("comparison")
            for (c,), part in tf.partition_by("comparison", as_dict=True).items()
        },
    )
    drop_keys(pending_keys(root))  # left by a run that failed before saving
    key_ids_path(pending_keys(root)).unlink(missing_ok=True)
    features = pl.read_parquet(root / "features" / "*.parquet")
    if features.height != meta.get("records"):
        return None, "the stored features do not match the state (an interrupted run)"
    if not features["rid"].is_sorted():
        features = features.sort("rid")
    components = load_array(root / "components.npy")
    if len(components) != features.height:
        return None, "the stored components do not match the state (an interrupted run)"
    log = EvidenceLog(**meta["evidence"])
    return State(
        root=root,
        features=features,
        edges=pl.read_parquet(root / "edges.parquet"),
        components=components,
        key_sizes=load_array(root / "key_sizes.npy"),
        keys=StoredKeys.open(root / "block_keys", rule_caps(settings)),
        guards=pl.read_parquet(root / "guards.parquet"),
        assignments=pl.read_parquet(root / "assignments.parquet"),
        evidence=evidence_log(root, log),
        log=log,
        blocking=pl.read_parquet(root / "blocking.parquet"),
        frozen=frozen,
        full_records=int(meta["full_records"]),
    ), "previous state is compatible"
