"""What a resolution leaves for the next one: the state an incremental run starts from.

A directory of Parquet and JSON (never pickles): record features (``rid`` = position, appended
part by part), blocking keys as numbers (``rid, rule, cap, kid``, one part per run) and the
numbers of the key strings (``rule, key, kid``, new keys appended per run), the candidate links
between records, the guards, the frozen model and term frequencies, and the assignments and
evidence. ``state.json`` names the engine settings and the state version; a state written under
other settings, another version or another set of comparisons is not compatible and the caller
runs a full resolution instead.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from identity.blocking import key_ids_path
from identity.comparison import COMPARISONS
from identity.engine import Frozen, Resolution
from identity.model import Model
from identity.settings import EngineSettings

#: bump when the meaning of a stored file changes: older states then trigger a full run
STATE_VERSION = 3


@dataclass(frozen=True)
class State:
    """A previous resolution, as an incremental run needs it."""

    root: Path
    features: pl.DataFrame  # record features without the guard-derived columns, rid = row
    edges: pl.DataFrame  # rid_l, rid_r: candidate links (linked or rejected)
    components: np.ndarray  # per rid, the smallest rid connected to it by ``edges``
    guards: pl.DataFrame  # identity_guards, blocking rows included
    assignments: pl.DataFrame  # record_key, cluster_key, match_rule
    evidence: pl.DataFrame  # link_evidence
    blocking: pl.DataFrame  # per-rule counts of the last full run
    frozen: Frozen
    full_records: int  # records at the last full run (the model was estimated on them)

    @property
    def keys_glob(self) -> str:
        """The block key parts, for DuckDB's ``read_parquet``."""
        return str(self.root / "block_keys" / "*.parquet")

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
    root: Path, result: Resolution, settings: EngineSettings, full: int, records: int
) -> None:
    assert result.model is not None and result.edges is not None
    _write(result.edges, root / "edges.parquet")
    _write(result.guards, root / "guards.parquet")
    _write(result.assignments, root / "assignments.parquet")
    _write(result.evidence, root / "evidence.parquet")
    labels = result.components
    if labels is None:
        labels = component_labels(result.edges, np.arange(records, dtype=np.uint32))
    pl.DataFrame({"component": labels}).write_parquet(root / "components.parquet")
    if not (root / "model.json").is_file():  # frozen between full runs: written once
        (root / "model.json").write_text(result.model.to_json(), encoding="utf-8")
        tf = [t.with_columns(comparison=pl.lit(c)) for c, t in result.tf.items()]
        pl.concat(tf).select("comparison", "value", "tf").write_parquet(root / "tf.parquet")
    meta = {"fingerprint": settings_fingerprint(settings), "full_records": full, "records": records}
    (root / "state.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def base_features(features: pl.DataFrame) -> pl.DataFrame:
    """Features as :func:`identity.features.record_features` makes them (no guard columns)."""
    return features.drop("smobiles", "semails", strict=False)


def save_full(root: Path, result: Resolution, settings: EngineSettings, keys: Path) -> None:
    """Replace the state with a full run's; ``keys`` is the block key file it wrote."""
    if result.model is None or result.features is None:
        shutil.rmtree(root, ignore_errors=True)  # nothing to continue from (no pairs)
        keys.unlink(missing_ok=True)
        key_ids_path(keys).unlink(missing_ok=True)
        return
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "features").mkdir(parents=True)
    (tmp / "block_keys").mkdir()
    (tmp / "key_ids").mkdir()
    _write(base_features(result.features), tmp / "features" / "part-00000.parquet")
    shutil.move(str(keys), tmp / "block_keys" / "part-00000.parquet")
    shutil.move(str(key_ids_path(keys)), tmp / "key_ids" / "part-00000.parquet")
    result.blocking.write_parquet(tmp / "blocking.parquet")
    n = result.features.height
    _write_common(tmp, result, settings, n, n)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)


def save_batch(
    state: State, result: Resolution, settings: EngineSettings, new_features: pl.DataFrame
) -> None:
    """Append an incremental run's new records and keys (written by the run) to the state."""
    root = state.root
    name = f"part-{len(list((root / 'features').glob('part-*.parquet'))):05d}.parquet"
    _write(base_features(new_features), root / "features" / name)
    shutil.move(str(pending_keys(root)), root / "block_keys" / name)
    shutil.move(str(key_ids_path(pending_keys(root))), root / "key_ids" / name)
    records = state.features.height + new_features.height
    _write_common(root, result, settings, state.full_records, records)


def pending_keys(root: Path) -> Path:
    """Where an incremental run writes its new block keys until the state is saved."""
    return root / "block_keys.pending.parquet"


def load_state(root: Path, settings: EngineSettings) -> tuple[State | None, str]:
    """The state in ``root`` if it can be continued under ``settings``, else why not."""
    meta_path = root / "state.json"
    if not meta_path.is_file():
        return None, "no previous resolution state"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
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
    pending_keys(root).unlink(missing_ok=True)  # left by a run that failed before saving
    key_ids_path(pending_keys(root)).unlink(missing_ok=True)
    features = pl.read_parquet(root / "features" / "*.parquet")
    if features.height != meta.get("records"):
        return None, "the stored features do not match the state (an interrupted run)"
    if not features["rid"].is_sorted():
        features = features.sort("rid")
    components = pl.read_parquet(root / "components.parquet")["component"].to_numpy()
    if len(components) != features.height:
        return None, "the stored components do not match the state (an interrupted run)"
    return State(
        root=root,
        features=features,
        edges=pl.read_parquet(root / "edges.parquet"),
        components=components,
        guards=pl.read_parquet(root / "guards.parquet"),
        assignments=pl.read_parquet(root / "assignments.parquet"),
        evidence=pl.read_parquet(root / "evidence.parquet"),
        blocking=pl.read_parquet(root / "blocking.parquet"),
        frozen=frozen,
        full_records=int(meta["full_records"]),
    ), "previous state is compatible"
