"""Byte-level help for the CommerceML reader: HTML entities and readable parse errors.

1C-Bitrix exporters write ``&nbsp;``, ``&laquo;`` and other HTML entities that XML does not
define; expat would reject the whole file. They are rewritten to numeric references on the fly,
chunk by chunk, so streaming is kept. Parse errors become ``SourceFileError`` with a location.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.entities import name2codepoint
from pathlib import Path
from pyexpat import errors as expat_errors
from typing import BinaryIO

from pipelines.errors import SourceFileError

_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_REEXPORT = "Export the file again from 1C (Обмен с сайтом)"

_TRUNCATED = {
    expat_errors.codes[m]
    for m in (
        expat_errors.XML_ERROR_NO_ELEMENTS,
        expat_errors.XML_ERROR_UNCLOSED_TOKEN,
        expat_errors.XML_ERROR_PARTIAL_CHAR,
        expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
}
_ENCODING_ERRORS = {
    expat_errors.codes[expat_errors.XML_ERROR_UNKNOWN_ENCODING],
    expat_errors.codes[expat_errors.XML_ERROR_INCORRECT_ENCODING],
}
_INVALID_TOKEN = expat_errors.codes[expat_errors.XML_ERROR_INVALID_TOKEN]


def _numeric(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    if name in _XML_ENTITIES or name not in name2codepoint:
        return match.group(0)
    return b"&#%d;" % name2codepoint[name]


class HtmlEntities:
    """A binary reader that turns HTML named entities into numeric character references."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self._tail
        self._tail = b""
        while True:
            data = self._raw.read(size if size > 0 else -1)
            chunk += data
            if not data:  # end of file: whatever is left goes out as is
                break
            cut = chunk.rfind(b"&", max(0, len(chunk) - 34))
            if cut == -1 or b";" in chunk[cut:]:
                break
            chunk, self._tail = chunk[:cut], chunk[cut:]
            if chunk:
                break
            chunk, self._tail = self._tail, b""
        return _ENTITY.sub(_numeric, chunk) if b"&" in chunk else chunk


def declared_encoding(path: Path) -> str:
    """The encoding named in the XML declaration (UTF-8 when there is none)."""
    with path.open("rb") as fh:
        head = fh.read(256)
    found = _ENCODING.search(head.split(b"?>", 1)[0]) if head.startswith(b"<?xml") else None
    return found.group(1).decode("ascii") if found else "utf-8"


def _line_decodes(path: Path, number: int, encoding: str) -> bool:
    with path.open("rb") as fh:
        for index, line in enumerate(fh, start=1):
            if index == number:
                try:
                    line.decode(encoding)
                except (UnicodeDecodeError, LookupError):
                    return False
                return True
    return True


def parse_error(path: Path, relpath: str, exc: ET.ParseError) -> SourceFileError:
    """A file error that says where the XML broke, the likely cause and what to do."""
    line, column = exc.position
    location = f"line {line}, column {column + 1}"
    message = str(exc).split(":", 1)[0]
    if exc.code in _TRUNCATED:
        with path.open("rb") as fh:
            blank = not fh.read(4096).strip() and not fh.read(1)
        if blank:
            return SourceFileError(relpath, "the file is empty", _REEXPORT, location=location)
        return SourceFileError(
            relpath,
            f"the XML ends before its elements are closed ({message}); the file looks truncated",
            "Check that the file was copied completely, or export it again from 1C",
            location=location,
        )
    encoding = declared_encoding(path)
    if exc.code in _ENCODING_ERRORS:
        return SourceFileError(
            relpath,
            f"the XML declares encoding {encoding!r}, which cannot be used ({message})",
            "Export the file again as UTF-8 or windows-1251",
            location=location,
        )
    if exc.code == _INVALID_TOKEN and not _line_decodes(path, line, encoding):
        return SourceFileError(
            relpath,
            f"line {line} is not valid {encoding}, the encoding the XML declaration names",
            "The file was saved in another encoding than it declares: export it again from 1C, "
            "or correct encoding=... in its first line",
            location=location,
        )
    return SourceFileError(
        relpath, f"the XML is not well-formed ({message})", _REEXPORT, location=location
    )
