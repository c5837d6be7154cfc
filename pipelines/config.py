"""The workspace configuration (``svod.toml``): a typed model validated before anything runs.

Every problem is collected and reported at once, each naming the key, what is wrong and what to
write instead, so a user fixes the file in one pass rather than one error per run.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipelines.errors import ConfigError
from pipelines.schema import RAW_FIELDS

CONFIG_FILE = "svod.toml"

SourceKind = Literal["spreadsheet", "commerceml", "webform", "tickets", "auto"]
SOURCE_KINDS: tuple[str, ...] = ("spreadsheet", "commerceml", "webform", "tickets", "auto")
IdentifierKind = Literal["phone", "email", "inn"]
IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = ("phone", "email", "inn")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsConfig(_Strict):
    """Where the workspace keeps its parts, relative to the workspace folder."""

    inbox: str = "inbox"
    lake: str = "lake"
    warehouse: str = "warehouse.duckdb"


class SourceConfig(_Strict):
    """One source: a name, the connector kind, and which inbox files belong to it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    kind: SourceKind
    path: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, str] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _relative_glob(cls, value: str) -> str:
        if value.startswith("/") or ".." in Path(value).parts:
            raise ValueError("must be a glob relative to the inbox folder, e.g. 'sales/*.xlsx'")
        return value


class NormalizeConfig(_Strict):
    """Settings of the normalisers."""

    default_region: str = Field(default="RU", pattern=r"^[A-Z]{2}$")


class MatchingConfig(_Strict):
    """Settings of identity resolution."""

    link_on: list[IdentifierKind] = Field(default_factory=lambda: list(IDENTIFIER_KINDS))
    max_records_per_identifier: int = Field(default=25, ge=2, le=100_000)
    max_people_per_identifier: int = Field(default=3, ge=1, le=1000)
    link_threshold: float = Field(default=0.9, gt=0.0, lt=1.0)
    cluster_threshold: float = Field(default=0.3, gt=0.0, lt=1.0)
    #: two clusters whose cross pairs average this match probability merge (fragments)
    fragment_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    max_block_size: int = Field(default=300, ge=2, le=100_000)
    max_pairs_per_rule: int = Field(default=30_000_000, ge=1000)
    dob_conflict_years: int = Field(default=5, ge=0, le=100)
    overrides: str = "overrides.csv"  # steward must-link / cannot-link, relative to the workspace
    #: resolve a batch of only-new records against the stored graph (frozen model) when possible
    incremental: bool = True
    #: re-estimate the model (a full run) once the records added since the last full run
    #: exceed this share of the records it estimated on
    full_after_growth: float = Field(default=0.25, gt=0.0, le=100.0)


GoldenAttribute = Literal[
    "name", "gender", "birth_date", "phone", "email", "city", "address", "company_name", "inn",
    "position",
]  # fmt: skip
SurvivorshipRule = Literal["validity", "quality", "source_priority", "frequency", "recency"]
DEFAULT_RULES: tuple[SurvivorshipRule, ...] = (
    "validity", "quality", "source_priority", "frequency", "recency",
)  # fmt: skip


class ProfileConfig(_Strict):
    """Survivorship and segment settings of the published profiles (``[profile]``)."""

    source_priority: list[str] = Field(default_factory=list)
    attribute_priority: dict[GoldenAttribute, list[str]] = Field(default_factory=dict)
    rules: list[SurvivorshipRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    business_units: dict[str, str] = Field(default_factory=dict)
    default_business_unit: str | None = None
    age_bands: list[int] = Field(default_factory=lambda: [18, 25, 35, 45, 55, 65])

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each rule at most once, e.g. ['validity', 'quality', 'recency']")
        return value

    @field_validator("age_bands")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in itertools.pairwise(value)) or any(v <= 0 for v in value):
            raise ValueError("must be positive ages in increasing order, e.g. [18, 25, 35]")
        return value


class QualityConfig(_Strict):
    """Floors of the quality checks (``[quality]``); a source below a floor stops the run."""

    phone_valid_min: float = Field(default=0.5, ge=0, le=1)  # share of given phones valid
    email_valid_min: float = Field(default=0.5, ge=0, le=1)  # share of given e-mails valid
    quarantined_max: float = Field(default=0.5, ge=0, le=1)  # share of rows quarantined
    data_docs: bool = True  # write Great Expectations data docs beside the report


class WarehouseConfig(_Strict):
    """How much publish history the warehouse keeps (``[warehouse]``)."""

    #: Snapshots whose tables are kept for rollback (the latest N); 0 keeps every snapshot.
    keep_snapshots: int = Field(default=10, ge=0, le=100_000)


class SvodConfig(_Strict):
    """The whole ``svod.toml``."""

    paths: PathsConfig = Field(default_factory=PathsConfig)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)


_HINTS: dict[str, str] = {
    "literal_error": "write one of the allowed values",
    "missing": "add this key",
    "string_pattern_mismatch": "use the pattern shown",
    "int_parsing": "write a whole number",
    "greater_than_equal": "write a larger number",
    "less_than_equal": "write a smaller number",
    "string_too_short": "write a non-empty value",
    "dict_type": "write a table, e.g. [sources.options]",
    "list_type": 'write a list, e.g. ["a", "b"]',
    "string_type": "write a quoted string",
}

_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": tuple(SvodConfig.model_fields),
    "paths": tuple(PathsConfig.model_fields),
    "normalize": tuple(NormalizeConfig.model_fields),
    "matching": tuple(MatchingConfig.model_fields),
    "sources": tuple(SourceConfig.model_fields),
    "profile": tuple(ProfileConfig.model_fields),
    "warehouse": tuple(WarehouseConfig.model_fields),
    "quality": tuple(QualityConfig.model_fields),
}


def _key_path(loc: tuple[str | int, ...], data: dict[str, Any]) -> str:
    """Render a pydantic location as a TOML key, naming sources by their name when known."""
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int) and parts and parts[-1] == "sources":
            sources = data.get("sources")
            name = None
            if (
                isinstance(sources, list)
                and item < len(sources)
                and isinstance(sources[item], dict)
            ):
                name = sources[item].get("name")
            parts[-1] = f"sources[{item}]" + (f" ({name})" if name else "")
        elif isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif not (i and loc[i - 1] == "mapping"):
            parts.append(str(item))
        else:
            parts.append(repr(item))
    return ".".join(parts) if parts else "(top level)"


def _describe(error: Any, data: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    key = _key_path(loc, data)
    kind = error["type"]
    if kind == "extra_forbidden":
        section = ".".join(str(p) for p in loc[:-1] if isinstance(p, str))
        known = _KNOWN_KEYS.get(section, ())
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        instead = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        return f"{key}: unknown key; {instead}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{key}: {error['input']!r} is not allowed; write one of {expected}"
    hint = _HINTS.get(kind, "see the README section 'Workspace configuration'")
    return f"{key}: {error['msg'].lower()}; {hint}"


def _semantic_problems(config: SvodConfig) -> list[str]:
    """Checks across keys that a field validator cannot see."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, source in enumerate(config.sources):
        where = f"sources[{i}] ({source.name})"
        if source.name in seen:
            problems.append(f"{where}.name: duplicate source name; give each source its own name")
        seen.add(source.name)
        for header, target in source.mapping.items():
            if target not in RAW_FIELDS or target == "extra":
                valid = sorted(f for f in RAW_FIELDS if f != "extra")
                close = difflib.get_close_matches(target, valid, n=1)
                instead = f"did you mean '{close[0]}'?" if close else f"use one of {valid}"
                problems.append(
                    f"{where}.mapping.{header!r}: '{target}' is not a Svod field; {instead}"
                )
    names = {s.name for s in config.sources}
    priorities = {"source_priority": config.profile.source_priority} | {
        f"attribute_priority.{k}": v for k, v in config.profile.attribute_priority.items()
    }
    for key, listed in priorities.items():
        for name in sorted(set(listed) - names):
            problems.append(
                f"profile.{key}: '{name}' is not a configured source; use one of {sorted(names)}"
            )
    if not config.sources:
        problems.append(
            "sources: no sources configured; add a [[sources]] table with name, kind and path"
        )
    return problems


def parse_config(data: dict[str, Any], *, origin: str = CONFIG_FILE) -> SvodConfig:
    """Validate parsed TOML data, raising ``ConfigError`` listing every problem at once."""
    try:
        config = SvodConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(origin, [_describe(e, data) for e in exc.errors()]) from None
    problems = _semantic_problems(config)
    if problems:
        raise ConfigError(origin, problems)
    return config


def load_config(path: Path) -> SvodConfig:
    """Read and validate ``svod.toml``."""
    if not path.is_file():
        raise ConfigError(
            str(path),
            [f"file not found; run 'svod sample --workspace {path.parent}' or create {path.name}"],
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}; fix the syntax there"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["not UTF-8 text; save the file as UTF-8"]) from None
    return parse_config(data, origin=str(path))
