"""Exceptions raised by identity resolution.

Every message says what went wrong, where (rule, record key, file line) and what to do.
Subclasses also inherit the builtin they refine so callers can catch either.
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base class of every error identity resolution raises on purpose."""


class BlockingError(IdentityError, ValueError):
    """A blocking rule would produce more candidate pairs than allowed."""

    def __init__(self, rule: str, pairs: int, limit: int, biggest_block: int) -> None:
        self.rule, self.pairs, self.limit = rule, pairs, limit
        super().__init__(
            f"blocking rule '{rule}' would produce {pairs:,} candidate pairs, more than "
            f"max_pairs_per_rule = {limit:,} (its biggest block holds {biggest_block:,} records); "
            "lower [matching].max_block_size or raise [matching].max_pairs_per_rule in svod.toml"
        )


class SqlError(IdentityError, RuntimeError):
    """A generated SQL statement failed; the statement and the step are attached."""

    def __init__(self, step: str, sql: str, cause: Exception) -> None:
        self.step, self.sql = step, sql
        super().__init__(f"identity step '{step}' failed: {cause}\n-- SQL:\n{sql}")


class OverridesError(IdentityError, ValueError):
    """The steward overrides file cannot be used; names the file and the line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in the overrides file:\n{lines}")
