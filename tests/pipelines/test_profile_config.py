"""The [profile] section of svod.toml: defaults keep old files valid; mistakes are named."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.config import parse_config
from pipelines.errors import ConfigError
from pipelines.profile.segments import age_band_labels

SOURCES: list[dict[str, Any]] = [{"name": "sales", "kind": "spreadsheet", "path": "s/*"}]


def test_defaults_without_a_profile_section() -> None:
    config = parse_config({"sources": SOURCES})
    assert config.profile.rules[0] == "validity"
    assert config.profile.age_bands == [18, 25, 35, 45, 55, 65]


def test_every_mistake_is_reported_at_once() -> None:
    data = {
        "sources": SOURCES,
        "profile": {
            "rules": ["validity", "validity"],
            "source_priority": ["crm"],
            "attribute_priority": {"emial": ["sales"]},
            "age_bands": [30, 20],
        },
    }
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    text = str(info.value)
    assert "profile.rules" in text and "each rule at most once" in text
    assert "profile.attribute_priority" in text
    assert "profile.age_bands" in text


def test_priority_must_name_configured_sources() -> None:
    with pytest.raises(ConfigError, match=r"profile.source_priority: 'crm' is not a configured"):
        parse_config({"sources": SOURCES, "profile": {"source_priority": ["crm"]}})


def test_age_band_labels() -> None:
    assert age_band_labels([18, 25]) == ["<18", "18-24", "25+"]
