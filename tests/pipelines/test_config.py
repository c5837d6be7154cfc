"""Config validation: every problem reported at once, each naming the key and what to write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.config import load_config, parse_config
from pipelines.errors import ConfigError
from pipelines.workspace import SAMPLE_CONFIG, write_sample_config

GOOD_SOURCE = {"name": "sales", "kind": "spreadsheet", "path": "sales/*"}


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def test_sample_config_is_valid(tmp_path: Path) -> None:
    config = load_config(write_sample_config(tmp_path))
    assert [s.name for s in config.sources] == ["sales", "onec", "forms", "helpdesk"]
    assert config.matching.max_records_per_identifier == 25
    assert "[[sources]]" in SAMPLE_CONFIG


def test_all_problems_reported_at_once() -> None:
    problems = problems_of(
        {
            "paths": {"inbox": "inbox", "lakee": "lake"},
            "matching": {"max_records_per_identifier": 1},
            "sources": [
                {"name": "sales", "kind": "excel", "path": "sales/*"},
                {"name": "Bad Name", "kind": "spreadsheet", "path": "x/*"},
            ],
        }
    )
    assert len(problems) == 4
    assert "paths.lakee: unknown key; did you mean 'lake'?" in problems
    assert any(
        p.startswith("sources[0] (sales).kind: 'excel' is not allowed; write one of")
        and "'spreadsheet'" in p
        for p in problems
    )
    assert any(
        p.startswith("sources[1] (Bad Name).name: string should match pattern") for p in problems
    )
    assert any(
        p.startswith(
            "matching.max_records_per_identifier: input should be greater than or equal to 2"
        )
        and p.endswith("write a larger number")
        for p in problems
    )


def test_missing_keys_named() -> None:
    problems = problems_of({"sources": [{"name": "sales"}]})
    assert "sources[0] (sales).kind: field required; add this key" in problems
    assert "sources[0] (sales).path: field required; add this key" in problems


def test_path_must_stay_inside_inbox() -> None:
    problems = problems_of({"sources": [{**GOOD_SOURCE, "path": "../secret/*"}]})
    assert problems == [
        "sources[0] (sales).path: value error, must be a glob relative to the inbox folder, "
        "e.g. 'sales/*.xlsx'; see the README section 'Workspace configuration'"
    ]


def test_semantic_problems_duplicate_names_and_bad_mapping() -> None:
    problems = problems_of(
        {
            "sources": [
                {**GOOD_SOURCE, "mapping": {"Клиент": "fullname"}},
                {**GOOD_SOURCE, "path": "other/*"},
            ]
        }
    )
    assert problems == [
        "sources[0] (sales).mapping.'Клиент': 'fullname' is not a Svod field; "
        "did you mean 'full_name'?",
        "sources[1] (sales).name: duplicate source name; give each source its own name",
    ]


def test_no_sources() -> None:
    assert problems_of({}) == [
        "sources: no sources configured; add a [[sources]] table with name, kind and path"
    ]


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "svod.toml"
    path.write_text("[paths\ninbox = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1.*; fix the syntax there"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"file not found; run 'svod sample --workspace"):
        load_config(tmp_path / "nope" / "svod.toml")


def test_message_lists_every_problem_with_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"bogus": 1, "sources": []}, origin="/w/svod.toml")
    text = str(info.value)
    assert text.startswith("/w/svod.toml: 1 problem(s) in the configuration")
    assert "bogus: unknown key; known keys: paths, normalize, matching, sources" in text
