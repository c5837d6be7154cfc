"""Settings of the resolution engine: one typed, frozen object, validated before any run.

The pipeline builds it from ``[matching]`` in ``svod.toml``; tests and benchmarks build it directly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

IDENTIFIERS: tuple[str, ...] = ("phone", "email", "inn")


@dataclass(frozen=True)
class EngineSettings:
    """Thresholds and bounds; every field has a safe default."""

    link_on: tuple[str, ...] = IDENTIFIERS
    #: a pair links when its match probability reaches this
    link_threshold: float = 0.9
    #: two clusters joined by a doubtful chain merge only if their scored pairs average this
    cluster_threshold: float = 0.3
    #: two clusters whose cross pairs average this probability merge (identity/fragments.py)
    fragment_threshold: float = 0.5
    #: records sharing one blocking key; a bigger block is skipped (and reported)
    max_block_size: int = 300
    #: candidate pairs one blocking rule may produce; more is refused with BlockingError
    max_pairs_per_rule: int = 30_000_000
    #: an identifier held by more records, or by more distinct first names, is weak evidence
    max_records_per_identifier: int = 25
    max_people_per_identifier: int = 3
    #: birth dates further apart than this (and not a typo of each other) forbid a merge
    dob_conflict_years: int = 5
    #: a field whose estimated disagreement among true matches exceeds this is not a hard guard
    reliable_disagreement: float = 0.02
    #: pairs at least this probable are kept as evidence even when not linked
    evidence_min_probability: float = 0.05
    random_pairs: int = 300_000
    em_iterations: int = 40
    seed: int = 20240501
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 < self.link_threshold < 1.0:
            problems.append("link_threshold must be between 0 and 1 (exclusive)")
        if not 0.0 < self.cluster_threshold < 1.0:
            problems.append("cluster_threshold must be between 0 and 1 (exclusive)")
        if not 0.0 < self.fragment_threshold < 1.0:
            problems.append("fragment_threshold must be between 0 and 1 (exclusive)")
        if self.max_block_size < 2:
            problems.append("max_block_size must be at least 2")
        unknown = set(self.link_on) - set(IDENTIFIERS)
        if unknown:
            problems.append(f"link_on has unknown identifiers {sorted(unknown)}; use {IDENTIFIERS}")
        if problems:
            raise ValueError("invalid engine settings: " + "; ".join(problems))

    def to_json(self) -> str:
        """Indented JSON, the way settings are saved beside a run (never pickled)."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)
