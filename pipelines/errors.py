"""Exceptions raised by Svod's pipelines.

Every message says what went wrong, where (file, row, field or config key) and what to do.
Subclasses also inherit the builtin they refine so callers can catch either.
"""

from __future__ import annotations


class SvodError(Exception):
    """Base class of every error Svod raises on purpose."""


class ConfigError(SvodError, ValueError):
    """The workspace configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{path}: {len(problems)} problem(s) in the configuration "
            f"(ошибки в конфигурации):\n{lines}"
        )


class SourceFileError(SvodError, ValueError):
    """A source file cannot be read at all; the run goes on with the other files."""

    def __init__(self, file: str, reason: str, hint: str, *, location: str | None = None) -> None:
        self.file = file
        self.reason = reason
        self.hint = hint
        self.location = location
        where = f"{file} ({location})" if location else file
        super().__init__(f"{where}: {reason}. {hint}")


class WorkspaceError(SvodError, RuntimeError):
    """The workspace is missing, locked or inconsistent."""


class PublishError(SvodError, RuntimeError):
    """Publishing failed; the previously published tables were left untouched."""


class StageError(SvodError, RuntimeError):
    """Normalising a slice of a raw batch failed; nothing of the run was staged or published."""
