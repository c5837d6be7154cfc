"""Structured logging: key=value (or JSON) lines carrying the ``extra`` fields of each record.

Messages at INFO name files, stages and counts only, never personal data.
"""

from __future__ import annotations

import json
import logging
from typing import Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields passed through ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class KeyValueFormatter(logging.Formatter):
    """``time level logger message key=value …``"""

    def format(self, record: logging.LogRecord) -> str:
        base = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        )
        extra = " ".join(f"{k}={v}" for k, v in fields_of(record).items())
        return f"{base} {extra}".rstrip()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO, *, json_lines: bool = False) -> None:
    """Send Svod's logs (``pipelines``, ``identity``, ``quality``) to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else KeyValueFormatter())
    for name in ("pipelines", "identity", "quality"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
