"""Reading a large CommerceML 2.x file as two halves on two cores (issue 3: ingest ≥ 20 MB/s).

The file is cut just after a ``</Документ>`` a little past its middle. The first half gets the
closing root tag, the second the bytes up to the end of the root start tag, so each is a document
of its own; the first is read here, the second at the same time by a fresh interpreter (not fork:
polars is threaded) that leaves its frames and its Ид log in a temporary folder. The halves are
then joined as one pass would have read them. A cut inside a nested element makes a half
ill-formed, so it cannot go unnoticed. Anything unexpected gives None and the caller reads the
file in one pass, which also reports errors exactly. Ид repeated across the cut are settled by
:mod:`._cml_merge`; only a file whose records lack an Ид (ids then come from positions) makes
this process read the second half itself.
"""

from __future__ import annotations

import codecs
import pickle
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import polars as pl

from pipelines.errors import SourceFileError
from pipelines.sources._cml_merge import Half, Log, join
from pipelines.sources._cml_stream import HtmlEntities, declared_encoding
from pipelines.sources._common import paused_gc
from pipelines.sources.base import ReadResult, SourceFile, quarantine_rows

if TYPE_CHECKING:
    from pipelines.sources.commerceml import _Reader

#: Files at least this large are read in two processes; tests lower it.
THRESHOLD_BYTES = 64 * 1024 * 1024
#: Where the cut goes: the worker also starts Python and logs its Ид checks, so it reads less.
FIRST_SHARE = 0.55
_HEAD = 64 * 1024
_WINDOW = 16 * 1024 * 1024
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_START = re.compile(rb"""<([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*>""")
_ROOT = "КоммерческаяИнформация"
_DOC = "Документ"


@dataclass(frozen=True)
class Plan:
    """Where to cut: the root start (everything up to its ``>``), its end tag, the cut offset."""

    header: bytes
    close: bytes
    split: int
    size: int


class Chunk:
    """A byte range of a file, with bytes put before and after it: one half as a document."""

    def __init__(self, path: Path, span: tuple[int, int], prefix: bytes, suffix: bytes) -> None:
        self._fh = path.open("rb")
        self._fh.seek(span[0])
        self._left = span[1] - span[0]
        self._prefix, self._suffix = prefix, suffix

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            out, self._prefix = self._prefix, b""
            return out
        if self._left > 0:
            data = self._fh.read(self._left if size < 0 else min(size, self._left))
            self._left = self._left - len(data) if data else 0
            if data:
                return data
        out, self._suffix = self._suffix, b""
        return out

    def __enter__(self) -> Chunk:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._fh.close()


def plan(path: Path, near: int | None = None) -> Plan | None:
    """The cut after ``near`` (default: :data:`FIRST_SHARE` of the file) of a CommerceML 2.x
    file; None when it cannot be cut."""
    size = path.stat().st_size
    encoding = declared_encoding(path)
    try:
        if codecs.lookup(encoding).name.startswith("utf-16") or "<".encode(encoding) != b"<":
            return None
        root_name, doc_name = _ROOT.encode(encoding), _DOC.encode(encoding)
    except (LookupError, UnicodeError):
        return None
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
        pos = 3 if head.startswith(codecs.BOM_UTF8) else 0
        while skip := _SKIP.match(head, pos):
            pos = skip.end()
        root = _START.match(head, pos + len(head[pos:]) - len(head[pos:].lstrip()))
        if root is None or root.group(1).rpartition(b":")[2] != root_name:
            return None
        middle = max(int(size * FIRST_SHARE) if near is None else near, root.end())
        fh.seek(middle)
        window = fh.read(_WINDOW)
    found = re.search(rb"</(?:[^\s<>/:]+:)?" + re.escape(doc_name) + rb"\s*>", window)
    if found is None or middle + found.end() >= size:
        return None
    return Plan(head[: root.end()], b"</" + root.group(1) + b">", middle + found.end(), size)


def read_parallel(
    file: SourceFile, with_events: bool, near: int | None = None, threshold: int | None = None
) -> tuple[ReadResult, pl.DataFrame] | None:
    """Both halves read at once and joined; None when the caller should read in one pass.

    ``threshold`` (default :data:`THRESHOLD_BYTES`) is the smallest file size cut in two. The
    cut is near ``near``, else before ``file.helper_share`` of the file, else at FIRST_SHARE.
    """
    limit = THRESHOLD_BYTES if threshold is None else threshold
    size = file.path.stat().st_size
    if near is None and file.helper_share is not None:
        if file.helper_share <= 0:
            return None
        near = int(size * (1 - file.helper_share))
    if size < limit or (cut := plan(file.path, near)) is None:
        return None
    from pipelines.sources.commerceml import _Reader  # commerceml imports this module

    reader = _Reader(file, with_events)
    with tempfile.TemporaryDirectory(prefix="svod-cml-") as tmp:
        out = Path(tmp)
        (out / "job.pickle").write_bytes(pickle.dumps((file, with_events, cut)))
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipelines.sources._cml_parallel", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if not _run(reader, file.path, (0, cut.split), (b"", cut.close)):
                return None
            if worker.wait() != 0 or not (out / "meta.pickle").exists():
                return None
        finally:
            if worker.poll() is None:  # the first half failed: stop the second
                worker.kill()
                worker.wait()
        meta: dict[str, Any] = pickle.loads((out / "meta.pickle").read_bytes())
        if not meta["local_ids"]:
            half = Half(
                records=pl.read_ipc(out / "records.arrow"),
                events=pl.read_ipc(out / "events.arrow"),
                meta=meta,
                log=pickle.loads((out / "log.pickle").read_bytes()),
                raw_path=out / "raw.pickles",
            )
            first, offset = reader.records.frame(), reader.row
            second = join(reader.seen, reader.counts, reader.quarantine, half, offset)
            records = pl.concat([first, second], how="vertical", rechunk=False)
            events = pl.concat([reader.events.frame(), half.events], rechunk=False)
            return _result(reader, records, events)
    # ids made from row or document numbers (no Ид in the file): read the second half here
    if not _run(reader, file.path, (cut.split, cut.size), (cut.header, b"")):
        return None
    return _result(reader, reader.records.frame(), reader.events.frame())


def _run(reader: _Reader, path: Path, span: tuple[int, int], ends: tuple[bytes, bytes]) -> bool:
    try:
        with Chunk(path, span, *ends) as raw:
            reader.read(HtmlEntities(cast(BinaryIO, raw)))
    except (ET.ParseError, SourceFileError):
        return False
    return True


def _result(
    reader: _Reader, records: pl.DataFrame, events: pl.DataFrame
) -> tuple[ReadResult, pl.DataFrame]:
    quarantine = quarantine_rows(reader.file, reader.quarantine)
    return ReadResult(records=records, quarantine=quarantine, notes=reader.notes()), events


def _worker(folder: Path) -> None:
    """Read the second half; leave frames, counts, the Ид log in ``folder`` (nothing on error)."""
    from pipelines.sources.commerceml import _Reader

    file, with_events, cut = pickle.loads((folder / "job.pickle").read_bytes())
    reader = _Reader(file, with_events)
    with paused_gc(), (folder / "raw.pickles").open("wb", buffering=1 << 20) as raw:
        reader.log = Log(raw)
        if not _run(reader, file.path, (cut.split, cut.size), (cut.header, b"")):
            return
    reader.records.frame().write_ipc(folder / "records.arrow")
    reader.events.frame().write_ipc(folder / "events.arrow")
    (folder / "log.pickle").write_bytes(pickle.dumps(reader.log.columns()))
    meta = {"counts": reader.counts, "local_ids": reader.local_ids, "quarantine": reader.quarantine}
    (folder / "meta.pickle").write_bytes(pickle.dumps(meta))


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
