"""Commands from JSON: parse errors name the field at fault; amounts stay exact."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.errors import InvalidCommand
from domain.fees import CallFee, PayFee
from domain.rule_catalogue import RULES
from ledger.commands import fingerprint, loads, parse_command
from tests.builders import found_association, ok

PAY = {
    "command": "PayFee",
    "idempotency_key": "pay-1",
    "coop": "demo",
    "member_id": "alice",
    "year": 2020,
    "amount": "40.00",
    "effective_date": "2020-03-01",
}


def parse_error(data) -> InvalidCommand:
    with pytest.raises(InvalidCommand) as exc:
        parse_command(data)
    return exc.value


def test_a_json_line_becomes_a_typed_command_with_exact_amounts():
    command, key, actor = parse_command(
        loads(
            '{"command": "PayFee", "idempotency_key": "k1", "actor": "treasurer", "coop": "demo",'
            ' "member_id": "alice", "year": 2020, "amount": 40.10, "effective_date": "2020-03-01"}'
        )
    )
    assert command == PayFee("demo", "alice", 2020, Decimal("40.10"), date(2020, 3, 1))
    assert isinstance(command.amount, Decimal) and str(command.amount) == "40.10"
    assert (key, actor) == ("k1", "treasurer")


def test_nested_commands_parse_into_dataclasses():
    command, _, actor = parse_command(
        loads(
            json.dumps(
                {
                    "command": "FoundCooperative",
                    "idempotency_key": "f",
                    "actor": 42,
                    "coop": "demo",
                    "name": "Demo",
                    "legal_form": "association",
                    "founded_on": "2020-01-01",
                    "colleges": [{"code": "a", "name": "A", "weight": "60"}, {"code": "b", "name": "B", "weight": "40"}],
                    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
                }
            )
        )
    )
    assert isinstance(command, FoundCooperative)
    assert command.colleges == [CollegeSpec("a", "A", "60"), CollegeSpec("b", "B", "40")]
    assert command.fee_schedule == [FeeBracket(1, None, "100")]
    assert actor is None  # only text is an actor


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        (["not", "an", "object"], "command", "object"),
        ({**PAY, "command": "PayFees"}, "command", "known_command"),
        ({k: v for k, v in PAY.items() if k != "command"}, "command", "known_command"),
        ({k: v for k, v in PAY.items() if k != "idempotency_key"}, "idempotency_key", "required"),
        ({**PAY, "idempotency_key": "   "}, "idempotency_key", "required"),
        ({**PAY, "idempotency_key": 12}, "idempotency_key", "required"),
        ({**PAY, "idempotency_key": "k" * 201}, "idempotency_key", "required"),
        ({**PAY, "amont": "40"}, "amont", "unknown_field"),
        ({**PAY, "amount": 40.1}, "amount", "decimal"),  # a float from a plain json.loads
        ({k: v for k, v in PAY.items() if k != "year"}, "year", "missing"),
    ],
)
def test_parse_errors_name_the_field_and_rule(data, field, rule):
    error = parse_error(data)
    assert (error.field, error.rule) == (field, rule)
    assert error.message


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"effective_date": "2020-13-01"}, "effective_date", "date_from_datetime_parsing"),
        ({"effective_date": "yesterday"}, "effective_date", "date_from_datetime_parsing"),
        ({"year": "twenty"}, "year", "int_parsing"),
        ({"member_id": ["alice"]}, "member_id", "string_type"),
    ],
)
def test_wrong_types_name_their_field_and_a_published_rule(overrides, field, rule):
    error = parse_error({**PAY, **overrides})
    assert (error.field, error.rule) == (field, rule) and rule in RULES  # domain/rule_catalogue.py


def test_errors_inside_lists_name_the_item():
    base = {
        "command": "FoundCooperative",
        "idempotency_key": "f",
        "coop": "demo",
        "name": "Demo",
        "legal_form": "association",
        "founded_on": "2020-01-01",
        "colleges": [{"code": "a", "name": "A"}],
        "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
    }
    error = parse_error({**base, "colleges": [{"code": "a", "name": "A"}, {"code": "b"}]})
    assert (error.field, error.rule) == ("colleges[1].name", "missing")
    error = parse_error({**base, "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": 99.5}]})
    assert (error.field, error.rule) == ("fee_schedule[0].amount", "decimal")


def test_fingerprint_ignores_how_an_amount_is_written_but_not_what_it_is():
    a = PayFee("demo", "alice", 2020, Decimal("12.5"), date(2020, 3, 1))
    assert fingerprint(a) == fingerprint(PayFee("demo", "alice", 2020, Decimal("12.50"), date(2020, 3, 1)))
    # Amounts may arrive as decimal text or ints: the same number is the same content.
    assert fingerprint(a) == fingerprint(PayFee("demo", "alice", 2020, "12.500", date(2020, 3, 1)))
    assert fingerprint(PayFee("demo", "alice", 2020, 40, date(2020, 3, 1))) == fingerprint(
        PayFee("demo", "alice", 2020, "40.00", date(2020, 3, 1))
    )
    # ...but only amounts: identifiers that look like numbers stay text.
    assert fingerprint(PayFee("demo", "007", 2020, 40, date(2020, 3, 1))) != fingerprint(
        PayFee("demo", "7", 2020, 40, date(2020, 3, 1))
    )
    assert fingerprint(a) != fingerprint(PayFee("demo", "alice", 2020, Decimal("12.51"), date(2020, 3, 1)))
    assert fingerprint(a) != fingerprint(PayFee("demo", "bob", 2020, Decimal("12.5"), date(2020, 3, 1)))
    assert fingerprint(a) != fingerprint(PayFee("demo", "alice", 2020, Decimal("12.5"), date(2020, 3, 2)))
    assert fingerprint(CallFee("demo", "alice", 2020, date(2020, 3, 1))) != fingerprint(
        CallFee("demo", "alice", 2021, date(2020, 3, 1))
    )
    # Beyond 28 significant digits the default context would round both to the same value.
    assert fingerprint(PayFee("demo", "alice", 2020, Decimal("1.0000000000000000000000000001"), date(2020, 3, 1))) != fingerprint(
        PayFee("demo", "alice", 2020, Decimal("1.0000000000000000000000000002"), date(2020, 3, 1))
    )


def test_a_huge_json_number_is_refused_not_crashed(ledger):
    """1e999999999 parses to a Decimal; it must come back as a refusal naming `amount`."""
    ok(ledger, found_association())
    ok(
        ledger,
        *parse_command(
            loads(
                '{"command": "AdmitMember", "idempotency_key": "a", "coop": "demo", "member_id": "alice", "name": "Alice",'
                ' "kind": "person", "college": "founders", "effective_date": "2020-02-01"}'
            )
        )[:2],
    )
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    command, key, _ = parse_command(loads(json.dumps(PAY).replace('"40.00"', "1e999999999")))
    result = ledger.execute(command, key)
    assert (result.error.field, result.error.rule) == ("amount", "maximum")


def test_parsed_commands_replay_as_duplicates_whatever_the_amount_spelling(ledger):
    """A retry may spell the amount as a JSON number (40.0) or as text ("40.00")."""
    ok(ledger, found_association())
    ok(
        ledger,
        parse_command(
            loads(
                json.dumps(
                    {
                        "command": "AdmitMember",
                        "idempotency_key": "a",
                        "coop": "demo",
                        "member_id": "alice",
                        "name": "Alice",
                        "kind": "person",
                        "college": "founders",
                        "effective_date": "2020-02-01",
                    }
                )
            )
        )[0],
    )
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    first = ledger.execute(*parse_command(loads(json.dumps(PAY).replace('"40.00"', "40.0")))[:2])
    again = ledger.execute(*parse_command(loads(json.dumps(PAY)))[:2])
    assert first.accepted and not first.duplicate
    assert again.duplicate and again.position == first.position
    assert ledger.cooperative("demo").fee_calls[("alice", 2020)].paid_cents == 4000


@pytest.mark.parametrize(
    "text",
    [
        '{"amount": 12.5, "n": 3}',  # a float: read again, exact
        '{"amount": 1e5}',
        '{"n": 123456789012345678901234567890}',  # past 64 bits: orjson would read a float
        '{"items": [{"amount": 0.1}]}',  # nested
        '{"a": "\\ud800"}',  # a lone surrogate: orjson refuses it, the standard parser reads it
        '{"a": NaN}',
        '{"a": 1, "a": 2}',
        '{"key": "x", "amount": "40.00", "year": 2020, "ok": true, "none": null}',
    ],
)
def test_loads_reads_like_the_standard_parser_with_exact_decimals(text):
    assert repr(loads(text)) == repr(json.loads(text, parse_float=Decimal))
    assert repr(loads(text.encode("utf-8", "surrogatepass"))) == repr(json.loads(text, parse_float=Decimal))


def test_loads_refuses_what_the_standard_parser_refuses():
    for bad in ('{"a": 1', "\ufeff{}", "{'a': 1}", ""):
        with pytest.raises(json.JSONDecodeError) as ours:
            loads(bad)
        with pytest.raises(json.JSONDecodeError) as theirs:
            json.loads(bad, parse_float=Decimal)
        assert (ours.value.msg, ours.value.pos) == (theirs.value.msg, theirs.value.pos)


def test_a_fingerprint_never_changes_across_versions():
    # Stored receipts keep the fingerprint of the command they took; a retry after an upgrade is
    # compared with it. If the canonical text changed, every retry of an old command would be
    # refused as "same key, different content". These values were computed by earlier versions.
    pay = PayFee("demo", "alice", 2020, Decimal("12.5"), date(2020, 3, 1))
    assert fingerprint(pay) == "77338f8aa480d57b097595fdc31309cdea5da134419d0dec4231e74290bee716"
    colleges = [CollegeSpec("a", "A", "50"), CollegeSpec("b", "B", "50")]
    found = FoundCooperative("demo", "Démo é", "association", date(2020, 1, 1), colleges, [FeeBracket(1, None, Decimal("10"))])
    assert fingerprint(found) == "26da28fba0ec2b6949fa3146006f3a67297eb86a8730943ce560ea2426f24a15"
