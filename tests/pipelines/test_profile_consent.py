"""Consent: yes/no parsing, fields and extra JSON, most restrictive wins on merge."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.profile.common import parse_yes_no
from pipelines.schema import field_for_header
from tests.pipelines.profile_helpers import build, profile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("да", True), ("Да ", True), ("1", True), ("TRUE", True), ("Y", True), ("✓", True),
     ("нет", False), ("0", False), ("false", False), ("N", False), ("", None), ("может", None),
     (None, None)],
)  # fmt: skip
def test_yes_no_values(raw: str | None, expected: bool | None) -> None:
    got = pl.select(parse_yes_no(pl.lit(raw, pl.String))).item()
    assert got is expected


@pytest.mark.parametrize(
    ("header", "field"),
    [("Согласие на рассылку", "consent_email"), ("Отказ от рассылки", "unsubscribed"),
     ("Отписан", "unsubscribed"), ("Не звонить", "do_not_call"), ("unsubscribed", "unsubscribed"),
     ("opt_out", "unsubscribed"), ("email_opt_in", "consent_email")],
)  # fmt: skip
def test_consent_headers_map_to_fields(header: str, field: str) -> None:
    assert field_for_header(header) == field


def test_an_opt_out_anywhere_wins_over_later_opt_ins_with_its_record() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "consent_email": "да",
         "observed_at": "01.03.2025"},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван", "unsubscribed": "✓",
         "observed_at": "01.02.2025", "source": "forms"},
        {"key": "3", "customer": "C1", "full_name": "Иванов Иван", "consent_email": "1",
         "consent_sms": "да", "observed_at": "01.04.2025"},
        {"key": "4", "customer": "C2", "full_name": "Петров Пётр", "consent_email": "yes",
         "consent_calls": "нет", "observed_at": "05.01.2025"},
    ]  # fmt: skip
    tables = build(rows)
    one = profile(tables, "C1")
    assert one["consent_email"] == "opt_out"
    assert (one["consent_email_source"], one["consent_email_record"]) == ("forms", "forms|2")
    assert one["consent_email_at"] == datetime(2025, 2, 1, tzinfo=UTC)
    # "unsubscribed" covers SMS too, so the later SMS opt-in does not win either
    assert one["consent_sms"] == "opt_out"
    assert one["consent_calls"] is None
    two = profile(tables, "C2")
    assert (two["consent_email"], two["consent_calls"], two["consent_sms"]) == (
        "opt_in", "opt_out", None,
    )  # fmt: skip


def test_a_no_on_an_opt_out_flag_grants_nothing() -> None:
    rows = [{"key": "1", "customer": "C1", "full_name": "Иванов Иван", "unsubscribed": "нет",
             "do_not_call": "0"}]  # fmt: skip
    one = profile(build(rows), "C1")
    assert (one["consent_email"], one["consent_sms"], one["consent_calls"]) == (None, None, None)


def test_consent_is_read_from_extra_json_too() -> None:
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "source": "helpdesk",
         "extra": '{"role": "end-user", "user_fields": {"do_not_call": true}}'},
        {"key": "2", "customer": "C1", "full_name": "Иванов Иван",
         "extra": '{"Согласие на рассылку": "Да"}'},
    ]  # fmt: skip
    tables = build(rows)
    one = profile(tables, "C1")
    assert (one["consent_calls"], one["consent_calls_record"]) == ("opt_out", "helpdesk|1")
    assert (one["consent_email"], one["consent_email_record"]) == ("opt_in", "sales|2")
    said = tables["consents"].sort("record_key")
    assert said.select("field", "raw_value").rows() == [
        ("do_not_call", "true"),
        ("consent_email", "Да"),
    ]


def test_a_field_stated_twice_keeps_the_column_and_rows_come_in_one_order() -> None:
    # consent_email both as a raw column ("да") and inside extra JSON ("1"): the column's
    # statement is kept, every run; one record's statements on a channel are in a fixed order
    rows = [
        {"key": "1", "customer": "C1", "full_name": "Иванов Иван", "consent_email": "да",
         "unsubscribed": "да", "extra": '{"consent_email": "1"}'},
    ]  # fmt: skip
    for _ in range(5):
        said = build(rows)["consents"]
        assert said.select("channel", "status", "field", "raw_value").rows() == [
            ("email", "opt_in", "consent_email", "да"),
            ("email", "opt_out", "unsubscribed", "да"),
            ("sms", "opt_out", "unsubscribed", "да"),
        ]
