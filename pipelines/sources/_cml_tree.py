"""Parsing a CommerceML file as a stream of finished top-level elements, built in C.

``iterparse`` hands every element to Python twice (start and end): 20 million turns of a Python
loop for a 1C export of 10 million elements. Here the C tree builder builds the elements with no
event per element; after each chunk the finished children of the root (all but the last: a
sibling only starts once the previous one has ended) go to the reader whole, and the still open
last one is offered too, so a huge ``Каталог`` can be drained as it grows. Errors are the expat
errors a streaming pass raises, at the same line and column.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from typing import Any, Protocol

#: Bytes read per parser feed.
CHUNK_BYTES = 64 * 1024


class Readable(Protocol):
    """A binary stream: a file, or a wrapper such as ``_cml_stream.HtmlEntities``."""

    def read(self, size: int = -1, /) -> bytes: ...


class TreeReader(Protocol):
    """What :func:`parse_top_level` hands the elements to."""

    def root(self, elem: ET.Element) -> None:
        """The root element, as soon as its start tag is read (children not yet)."""

    def finished(self, elem: ET.Element) -> None:
        """A child of the root whose end tag was read; it is dropped afterwards."""

    def open(self, elem: ET.Element) -> None:
        """The root's last child, which may still be growing."""


def parse_top_level(raw: Readable, reader: TreeReader) -> None:
    """Parse ``raw`` and hand the root and each of its children to ``reader`` in file order.

    Raises ``ET.ParseError`` where the XML breaks. A wrong root is reported (by ``reader.root``)
    before an error later in the same chunk, as an event-by-event pass would.
    """
    queue: deque[Any] = deque()
    parser = ET.XMLParser(target=ET.TreeBuilder())
    # XMLPullParser's own hook: report starts only until the root is known (a parser that
    # cannot switch them off again keeps reporting them; they are dropped with the queue)
    parser._setevents(queue, ("start",))  # type: ignore[attr-defined]
    root: ET.Element | None = None
    while data := raw.read(CHUNK_BYTES):
        try:
            parser.feed(data)
        except ET.ParseError:
            if root is None and queue:
                reader.root(queue[0][1])
            raise
        if root is None:
            if not queue:
                continue
            root = queue[0][1]
            reader.root(root)
            parser._setevents(queue, ())  # type: ignore[attr-defined]
        queue.clear()
        if (done := len(root) - 1) > 0:
            for child in root[:done]:
                reader.finished(child)
            del root[:done]
        if len(root):
            reader.open(root[-1])
    parser.close()
    if root is None:  # parser.close() raised if there was no element at all
        if not queue:
            return
        root = queue[0][1]
        reader.root(root)
    for child in root[:]:
        reader.finished(child)
    del root[:]
