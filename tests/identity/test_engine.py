"""The resolution engine on a small labelled population with the hard cases."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from identity.blocking import block
from identity.engine import Resolution, resolve
from identity.errors import BlockingError, SqlError
from identity.evidence import evidence_schema
from identity.features import record_features
from identity.guards import identifier_guards
from identity.overrides import Overrides
from identity.settings import EngineSettings
from identity.sqlexec import execute
from tests.identity.engine_data import PEOPLE, groups, staged, truth


@pytest.fixture(scope="module")
def result() -> Resolution:
    return resolve(staged(PEOPLE))


def owner(keys: frozenset[str]) -> set[str]:
    who = {r.key: r.who for r in PEOPLE}
    return {who[k] for k in keys}


def test_no_cluster_mixes_two_people(result: Resolution) -> None:
    # family sharing a phone and mailbox, namesakes, colleagues behind one office line
    for cluster in groups(result.assignments):
        assert len(owner(cluster)) == 1, sorted(cluster)


def test_same_person_across_sources_is_one_cluster(result: Resolution) -> None:
    found = groups(result.assignments)
    # diminutive (Ваня), Latin (Ivanov Ivan), initials (Иванов И.П.), formatted phones
    assert frozenset({"crm|1", "form|1", "desk|1", "1c|1"}) in found
    assert frozenset({"crm|4", "1c|4"}) in found  # ё folded
    assert frozenset({"crm|5", "form|5"}) in found  # Петя = Петр, namesake kept apart
    assert frozenset({"1c|9", "sales|9"}) in found  # a company by ИНН
    assert len(found) <= len(truth(PEOPLE)) + 3


def test_every_record_gets_one_cluster_and_rules_are_named(result: Resolution) -> None:
    frame = result.assignments
    assert sorted(frame["record_key"].to_list()) == sorted(r.key for r in PEOPLE)
    assert frame["record_key"].is_unique().all()
    rules = dict(zip(frame["record_key"], frame["match_rule"], strict=True))
    assert rules["crm|6"] == "singleton"  # only an office line and a role mailbox
    assert rules["1c|9"] == "rule"  # deterministic: ИНН of a company


def test_shared_office_line_and_role_mailbox_are_guarded(result: Resolution) -> None:
    guards = result.guards
    reasons = dict(zip(guards["value"], guards["reason"], strict=True))
    assert "role mailbox" in reasons["info@romashka.ru"]
    assert "landline" in reasons["+74951112233"]


def test_evidence_shows_fields_levels_weights_and_decision(result: Resolution) -> None:
    evidence = result.evidence
    assert dict(evidence.schema) == evidence_schema()
    row = evidence.filter((pl.col("left_key") == "crm|1") & (pl.col("right_key") == "desk|1")).row(
        0, named=True
    )
    assert row["decision"] == "linked"
    assert row["email"] == "exact" and row["email_weight"] > 0
    assert row["first_name"] == "exact" and row["last_name"] == "exact"
    assert "email" in row["rules"].split("+")


def test_family_sharing_phone_is_scored_low_with_negative_first_name() -> None:
    records = PEOPLE
    result = resolve(staged(records), EngineSettings(evidence_min_probability=0.0))
    row = result.evidence.filter(
        (pl.col("left_key") == "crm|1") & (pl.col("right_key") == "crm|2")
    ).row(0, named=True)
    assert row["phone"] == "shared_mobile"
    assert row["first_name"] == "different" and row["first_name_weight"] < 0
    assert row["decision"] == "below_threshold"


def test_blocking_counts_pairs_per_rule() -> None:
    features, _ = identifier_guards(record_features(staged(PEOPLE)), EngineSettings())
    with duckdb.connect() as con:
        blocking = block(con, features, EngineSettings())
    stats = dict(zip(blocking.stats["rule"], blocking.stats["pairs"], strict=True))
    assert stats["inn"] == 1  # the two company records
    assert stats["mobile"] >= 4
    pairs = blocking.pairs
    assert (pairs["rid_l"] < pairs["rid_r"]).all()
    assert pairs.select("rid_l", "rid_r").is_unique().all()


def test_a_rule_with_too_many_pairs_is_refused_naming_the_rule() -> None:
    features, _ = identifier_guards(record_features(staged(PEOPLE)), EngineSettings())
    settings = EngineSettings(max_pairs_per_rule=5)
    with duckdb.connect() as con, pytest.raises(BlockingError) as info:
        block(con, features, settings)
    message = str(info.value)
    assert "blocking rule 'mobile'" in message and "4 records" in message
    assert "max_pairs_per_rule = 5" in message and "svod.toml" in message


def test_a_block_bigger_than_its_cap_is_skipped_and_reported() -> None:
    records = staged(PEOPLE)
    result = resolve(records, EngineSettings(max_block_size=2))
    skipped = result.guards.filter(pl.col("type").str.starts_with("blocking:"))
    assert "blocking:email" in skipped["type"].to_list()  # ivanov.ip@mail.ru: 3 records
    assert skipped["reason"].str.contains("too common to block on").all()


def test_failed_sql_names_the_step_and_carries_the_statement() -> None:
    with duckdb.connect() as con, pytest.raises(SqlError) as info:
        execute(con, "pairs", "SELECT nope FROM missing_table")
    assert "identity step 'pairs' failed" in str(info.value)
    assert "SELECT nope FROM missing_table" in str(info.value)


def test_invalid_settings_are_refused_with_every_problem() -> None:
    with pytest.raises(ValueError, match=r"link_threshold.*max_block_size"):
        EngineSettings(link_threshold=1.5, max_block_size=1)


def test_empty_and_single_record_inputs() -> None:
    one = resolve(staged(PEOPLE[:1]))
    assert one.assignments["cluster_key"].to_list() == ["crm|1"]
    assert one.evidence.height == 0


def test_a_parquet_scan_resolves_like_a_frame(tmp_path: Path, result: Resolution) -> None:
    # the memory-lean path: the engine reads the scan and drops it once features are made
    staged(PEOPLE).write_parquet(tmp_path / "staged.parquet")
    lazy = resolve(pl.scan_parquet(tmp_path / "staged.parquet"))
    assert lazy.assignments.equals(result.assignments)
    assert lazy.evidence.equals(result.evidence)


def test_a_must_link_below_the_evidence_floor_is_still_evidence() -> None:
    # levels are freed for pairs that cannot be evidence; a steward's must-link always can
    settings = EngineSettings(evidence_min_probability=0.999)
    forced = resolve(staged(PEOPLE), settings, overrides=Overrides(must=[("crm|4", "crm|5")]))
    row = forced.evidence.filter((pl.col("left_key") == "crm|4") & (pl.col("right_key") == "crm|5"))
    assert row["decision"].to_list() == ["linked"]
    assert row["first_name"].to_list() == ["exact"]
