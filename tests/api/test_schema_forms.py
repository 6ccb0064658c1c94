"""The patterns the OpenAPI document states (api/schema_forms.py) say what the deciders check: a
value matches exactly when the domain's own check takes it (for a rate and a threshold, a match
is always taken). tests/api/test_schemathesis.py then sends generated values of those forms."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from api.schema_forms import (
    COMMAND_DATE,
    CONTRIBUTION_PERCENT,
    CREDIT_RATE,
    OPTIONAL_TEXT,
    RATE,
    REQUIRED_TEXT,
    THRESHOLD,
    WEBHOOK_URL,
    comma_list,
)
from api.webhook_endpoints import _check_url
from domain.contributions import _rate as contribution_percent
from domain.errors import InvalidCommand
from domain.money import parse_rate
from domain.rules import a_date, text
from domain.sensors import _rate as credit_rate

# Spaces, controls and ordinary characters, so the edges of both rules come up often.
_CHARS = st.sampled_from(
    ["\t", "\n", "\x0b", "\x1c", "\x1f", "\x01", " ", "\x85", "\xa0", "\u2028", "\u3000", "\ufeff", "a", "é", "-"]
)
_TEXTS = st.lists(_CHARS, max_size=8).map("".join) | st.text(max_size=8)


def _taken(check, *args, **kwargs) -> bool:
    try:
        check(*args, **kwargs)
    except InvalidCommand:
        return False
    return True


@given(_TEXTS)
@example("")
@example("   ")
@example(" a\t")
@example("a\tb")
def test_the_text_patterns_say_domain_rules_text(value: str) -> None:
    assert bool(re.search(REQUIRED_TEXT, value)) == _taken(text, value, "f")
    assert bool(re.search(OPTIONAL_TEXT, value)) == _taken(text, value, "f", required=False)


def test_the_space_class_is_what_strip_removes() -> None:
    spaces = {chr(i) for i in range(0x3100) if chr(i).isspace()}
    written = {chr(i) for i in range(0x3100) if re.fullmatch(REQUIRED_TEXT, "a" + chr(i))}
    # "a" then one more character matches when it is a space (stripped) or any non-control one.
    assert {c for c in written if ord(c) < 0x20} == {c for c in spaces if ord(c) < 0x20}


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2300, 12, 31)))
@example(date(1900, 12, 31))
@example(date(1901, 1, 1))
@example(date(2199, 12, 31))
@example(date(2200, 1, 1))
def test_the_date_pattern_says_domain_rules_a_date(day: date) -> None:
    assert bool(re.search(COMMAND_DATE, day.isoformat())) == _taken(a_date, day, "d")


@settings(max_examples=200)
@given(st.from_regex(RATE))
def test_every_rate_the_pattern_allows_is_a_share_from_0_to_1(value: str) -> None:
    assert 0 <= parse_rate(value.strip(), "r") <= 1


@settings(max_examples=200)
@given(st.from_regex(CONTRIBUTION_PERCENT), st.from_regex(CREDIT_RATE))
def test_every_percent_and_credit_rate_the_patterns_allow_is_taken(percent: str, credits: str) -> None:
    assert 0 < contribution_percent(percent.strip()) <= 100
    assert 0 < Decimal(credit_rate(credits.strip(), "credit_rate")) <= 1000


@pytest.mark.parametrize(("percent", "credits"), [("0", "0"), ("100.5", "1000.5"), ("0.0000001", "0.0000001"), ("101", "0.000")])
def test_the_percent_and_credit_rate_patterns_refuse_what_the_deciders_refuse(percent: str, credits: str) -> None:
    assert not re.search(CONTRIBUTION_PERCENT, percent) and not _taken(contribution_percent, percent)
    assert not re.search(CREDIT_RATE, credits) and not _taken(credit_rate, credits, "credit_rate")


@pytest.mark.parametrize("value", ["1.5", "2", "5/3", "10/9", "1.0000000000001"])
def test_the_rate_pattern_refuses_more_than_1(value: str) -> None:
    assert not re.search(RATE, value)
    assert not _taken(parse_rate, value, "r")


@pytest.mark.parametrize(("value", "matches"), [("2/3", True), ("0.75", True), ("1", True), ("0.4", False), ("two", False)])
def test_the_threshold_pattern(value: str, matches: bool) -> None:
    assert bool(re.search(THRESHOLD, value)) == matches


@pytest.mark.parametrize(
    ("value", "matches"),
    [("fee.paid", True), (" fee.paid , entry.reversed", True), ("", True), (",,", True), ("fee.paidx", False), ("fee", False)],
)
def test_a_comma_list_of_kinds(value: str, matches: bool) -> None:
    assert bool(re.search(comma_list(r"fee\.paid|entry\.reversed"), value)) == matches


@pytest.mark.parametrize(
    "url", ["http://a..b/", "http://a:65536/", "http://:1/", "ftp://a.example/", "http://" + "x" * 64 + ".example/"]
)
def test_urls_the_pattern_refuses_are_refused_as_urls(url: str) -> None:
    assert not re.search(WEBHOOK_URL, url)
    with pytest.raises(InvalidCommand) as refused:
        _check_url(url)
    assert refused.value.rule == "url"
