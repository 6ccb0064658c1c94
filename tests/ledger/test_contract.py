"""The ledger's contract, run against SQLite and PostgreSQL (through the `store_url` fixture).

Amounts below are computed by hand from the demo schedule: a person's fee is 100.00 EUR
(bracket 1-9), a 12-person organisation's 250.50 EUR (bracket 10-49); a SCIC share is 50.00 EUR.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.fees import CallFee, PayFee, in_good_standing
from domain.membership import RedeemShares, SubscribeShares, TransferMember
from ledger.service import Ledger
from tests.builders import (
    admit,
    found_association,
    found_scic,
    new_key,
    ok,
    stored_event_count,
    stored_financial_events,
    unbalanced_units,
)

D = Decimal
FEB1, MAR1, MAR2 = date(2020, 2, 1), date(2020, 3, 1), date(2020, 3, 2)


def fee(ledger: Ledger, coop: str, member_id: str, year: int) -> tuple[int, int] | None:
    """(called, paid) cents of a member's fee for a year; None when no fee stands called
    (never called, or its call reversed: the aggregate may keep a zeroed record)."""
    call = ledger.cooperative(coop).fee_calls.get((member_id, year))
    if call is None or (call.called_cents, call.paid_cents) == (0, 0):
        return None
    return (call.called_cents, call.paid_cents)


def balances(ledger: Ledger, coop: str) -> dict[tuple[str, str | None], int]:
    """Sum of the stored postings per (account, party), from the event store itself."""
    totals: dict[tuple[str, str | None], int] = {}
    for event in stored_financial_events(ledger, coop):
        for account, party, _unit, amount in event.postings:
            totals[(account, party)] = totals.get((account, party), 0) + amount
    return {k: v for k, v in totals.items() if v}


# ---------------------------------------------------------------- accepted path


def test_accepted_path_records_events_entries_and_state(ledger):
    founded = ok(ledger, found_association())
    assert founded.events == ("CooperativeFounded",) and founded.journal_numbers == ()
    assert founded.duplicate is False and founded.error is None
    a = ok(ledger, admit("demo", "alice", "founders", FEB1))
    b = ok(ledger, admit("demo", "coop-b", "users", FEB1, headcount=12))
    assert a.events == ("MemberAdmitted",)
    call_a = ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    call_b = ok(ledger, CallFee("demo", "coop-b", 2020, FEB1))
    pay_1 = ok(ledger, PayFee("demo", "alice", 2020, D("40"), MAR1))
    pay_2 = ok(ledger, PayFee("demo", "alice", 2020, D("60.00"), MAR2))

    assert [r.journal_numbers for r in (call_a, call_b, pay_1, pay_2)] == [(1,), (2,), (3,), (4,)]
    assert call_a.events == ("FeeCalled",) and pay_1.events == ("FeePaid",)
    positions = [r.position for r in (founded, a, b, call_a, call_b, pay_1, pay_2)]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert ledger.position() == pay_2.position

    coop = ledger.cooperative("demo")
    assert fee(ledger, "demo", "alice", 2020) == (10000, 10000)
    assert fee(ledger, "demo", "coop-b", 2020) == (25050, 0)
    assert in_good_standing(coop, "alice", 2020) and not in_good_standing(coop, "coop-b", 2020)
    assert coop.members["coop-b"].college == "users" and coop.members["coop-b"].headcount == 12

    entries = stored_financial_events(ledger, "demo")
    assert [e.journal_number for e in entries] == [1, 2, 3, 4]
    assert entries[0].postings == [["411", "alice", "EUR", 10000], ["7561", None, "EUR", -10000]]
    assert entries[1].postings == [["411", "coop-b", "EUR", 25050], ["7561", None, "EUR", -25050]]
    assert entries[2].postings == [["512", None, "EUR", 4000], ["411", "alice", "EUR", -4000]]
    assert all(unbalanced_units(e.postings) == {} for e in entries)
    assert balances(ledger, "demo") == {
        ("411", "coop-b"): 25050,  # alice's receivable is settled
        ("7561", None): -35050,
        ("512", None): 10000,
    }


def test_scic_capital_shares_are_posted_to_bank_and_1013(ledger):
    ok(ledger, found_scic())
    ok(ledger, admit("scic", "emma", "employees", FEB1))
    sub = ok(ledger, SubscribeShares("scic", "emma", 3, FEB1))
    red = ok(ledger, RedeemShares("scic", "emma", 1, MAR1))
    assert sub.events == ("SharesSubscribed",) and sub.journal_numbers == (1,)
    assert red.journal_numbers == (2,)
    first, second = stored_financial_events(ledger, "scic")
    assert first.postings == [["512", None, "EUR", 15000], ["1013", "emma", "EUR", -15000]]
    assert second.postings == [["1013", "emma", "EUR", 5000], ["512", None, "EUR", -5000]]
    assert ledger.cooperative("scic").members["emma"].shares == 2
    # A SCIC calls fees into 758 (general plan), never 756 (exchange gains there).
    ok(ledger, CallFee("scic", "emma", 2020, FEB1))
    assert stored_financial_events(ledger, "scic")[-1].postings[1][0] == "758"
    refused = ledger.execute(RedeemShares("scic", "emma", 3, MAR2), new_key())
    assert (refused.error.field, refused.error.rule) == ("shares", "shares_held")


# ---------------------------------------------------------------- idempotency


def test_same_key_same_content_is_a_duplicate_that_writes_nothing(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    first = ok(ledger, CallFee("demo", "alice", 2020, FEB1), "call-1")
    count, position = stored_event_count(ledger), ledger.position()
    again = ledger.execute(CallFee("demo", "alice", 2020, FEB1), "call-1")
    assert again.accepted and again.duplicate
    assert (again.position, again.journal_numbers, again.events) == (first.position, (1,), ("FeeCalled",))
    assert (stored_event_count(ledger), ledger.position()) == (count, position)
    assert ledger.cooperative("demo").journal.last_number == 1


def test_same_amount_written_differently_is_the_same_content(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    first = ok(ledger, PayFee("demo", "alice", 2020, D("12.5"), MAR1), "pay")
    again = ledger.execute(PayFee("demo", "alice", 2020, D("12.50"), MAR1), "pay")
    assert again.duplicate and again.position == first.position
    assert fee(ledger, "demo", "alice", 2020) == (10000, 1250)


def test_same_key_other_content_is_refused_and_writes_nothing(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    ok(ledger, PayFee("demo", "alice", 2020, D("10"), MAR1), "pay")
    count, version = stored_event_count(ledger), ledger.cooperative("demo").version
    other = ledger.execute(PayFee("demo", "alice", 2020, D("20"), MAR1), "pay")
    assert not other.accepted and not other.duplicate and other.position is None
    assert isinstance(other.error, Conflict)
    assert (other.error.field, other.error.rule, other.error.kind) == ("idempotency_key", "same_key_same_content", "conflict")
    assert stored_event_count(ledger) == count and ledger.cooperative("demo").version == version
    assert fee(ledger, "demo", "alice", 2020) == (10000, 1000)


def test_a_refused_command_does_not_consume_its_key(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    refused = ledger.execute(CallFee("demo", "alice", 2020, date(2019, 6, 1)), "call")
    assert refused.error.rule == "not_before_founding"
    accepted = ledger.execute(CallFee("demo", "alice", 2020, FEB1), "call")
    assert accepted.accepted and not accepted.duplicate and accepted.journal_numbers == (1,)


def test_duplicates_are_recognised_by_another_ledger_instance(ledger, make_ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    first = ok(ledger, CallFee("demo", "alice", 2020, FEB1), "call")
    other = make_ledger()
    again = other.execute(CallFee("demo", "alice", 2020, FEB1), "call")
    assert again.duplicate and again.position == first.position and again.journal_numbers == (1,)
    conflict = other.execute(CallFee("demo", "alice", 2021, FEB1), "call")
    assert conflict.error.rule == "same_key_same_content"


# ---------------------------------------------------------------- refusals


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """demo with alice; entry 1 calls her 2020 fee, entry 2 pays 30 EUR, entry 3 reverses entry 2."""
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    ok(ledger, PayFee("demo", "alice", 2020, D("30"), MAR1))
    ok(ledger, ReverseEntry("demo", 2, "wrong member", MAR2))
    assert fee(ledger, "demo", "alice", 2020) == (10000, 0)
    return ledger


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    ("unknown cooperative", CallFee("nowhere", "alice", 2020, FEB1), "coop", "known_cooperative", NotFound),
    ("malformed cooperative", CallFee("no where", "alice", 2020, FEB1), "coop", "identifier", InvalidCommand),
    ("unknown member", CallFee("demo", "bob", 2020, FEB1), "member_id", "known_member", NotFound),
    ("member admitted twice", admit("demo", "alice", "users", MAR1), "member_id", "unique_member", Conflict),
    ("unknown college", admit("demo", "bob", "nope", MAR1), "college", "known_college", NotFound),
    ("negative amount", PayFee("demo", "alice", 2020, D("-10"), MAR2), "amount", "positive", InvalidCommand),
    ("zero amount", PayFee("demo", "alice", 2020, D("0"), MAR2), "amount", "positive", InvalidCommand),
    ("over-precise amount", PayFee("demo", "alice", 2020, D("10.001"), MAR2), "amount", "precision", InvalidCommand),
    ("float amount", PayFee("demo", "alice", 2020, 10.5, MAR2), "amount", "decimal", InvalidCommand),
    ("huge amount", PayFee("demo", "alice", 2020, D("1E+999999999"), MAR2), "amount", "maximum", InvalidCommand),
    (
        "date before founding",
        admit("demo", "bob", "users", date(2019, 12, 31)),
        "effective_date",
        "not_before_founding",
        InvalidCommand,
    ),
    (
        "payment before admission",
        PayFee("demo", "alice", 2020, D("10"), date(2020, 1, 15)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("overpayment by one cent", PayFee("demo", "alice", 2020, D("100.01"), MAR2), "amount", "no_overpayment", InvalidCommand),
    ("payment of a fee never called", PayFee("demo", "alice", 2021, D("10"), MAR2), "year", "fee_called", NotFound),
    ("duplicate fee call", CallFee("demo", "alice", 2020, MAR2), "year", "fee_called_once", Conflict),
    ("fee called two years ahead", CallFee("demo", "alice", 2022, MAR2), "year", "not_too_early", InvalidCommand),
    ("fee for a year before admission", CallFee("demo", "alice", 2019, MAR2), "year", "member_year", InvalidCommand),
    ("shares in an association", SubscribeShares("demo", "alice", 1, MAR2), "coop", "has_capital", InvalidCommand),
    ("reversing twice", ReverseEntry("demo", 2, "again", MAR2), "entry_number", "reversed_once", Conflict),
    ("reversing a reversal", ReverseEntry("demo", 3, "undo the undo", MAR2), "entry_number", "not_a_reversal", InvalidCommand),
    ("unknown entry", ReverseEntry("demo", 4, "?", MAR2), "entry_number", "known_entry", NotFound),
    (
        "reversal dated before the entry",
        ReverseEntry("demo", 1, "late", date(2020, 1, 31)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("reversal without a reason", ReverseEntry("demo", 1, "  ", MAR2), "reason", "required", InvalidCommand),
    (
        "transfer to the same college",
        TransferMember("demo", "alice", "founders", MAR2),
        "college",
        "different_college",
        InvalidCommand,
    ),
    (
        "transfer back in time",
        TransferMember("demo", "alice", "users", date(2020, 1, 20)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
]


@pytest.mark.parametrize(("command", "field", "rule", "error_type"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_bad_input_is_refused_naming_field_and_rule_and_writes_nothing(books, command, field, rule, error_type):
    coop = books.cooperative("demo")
    before = (books.position(), stored_event_count(books), coop.version, coop.journal.last_number)
    state = (fee(books, "demo", "alice", 2020), fee(books, "demo", "alice", 2021), set(coop.members))

    result = books.execute(command, new_key())

    assert not result.accepted and result.position is None and result.journal_numbers == ()
    assert isinstance(result.error, error_type), result.error
    assert (result.error.field, result.error.rule) == (field, rule), result.error.message
    assert result.error.message and result.as_dict()["error"]["rule"] == rule
    coop = books.cooperative("demo")
    assert (books.position(), stored_event_count(books), coop.version, coop.journal.last_number) == before
    assert (fee(books, "demo", "alice", 2020), fee(books, "demo", "alice", 2021), set(coop.members)) == state


def test_the_same_refusal_replayed_gives_the_same_answer(books):
    for _ in range(2):
        result = books.execute(PayFee("demo", "alice", 2020, D("100.01"), MAR2), "over")
        assert (result.error.field, result.error.rule) == ("amount", "no_overpayment")
    assert "100.00" in result.error.message  # says how much is still due


def test_exactly_the_due_amount_is_accepted_after_a_refused_overpayment(books):
    assert books.execute(PayFee("demo", "alice", 2020, D("100.01"), MAR2), new_key()).error.rule == "no_overpayment"
    assert ok(books, PayFee("demo", "alice", 2020, D("100.00"), MAR2)).journal_numbers == (4,)
    assert books.execute(PayFee("demo", "alice", 2020, D("0.01"), MAR2), new_key()).error.rule == "no_overpayment"


def test_a_resigned_member_cannot_be_called_nor_transferred(books):
    from domain.membership import ResignMember

    ok(books, ResignMember("demo", "alice", MAR2))
    for command in (
        CallFee("demo", "alice", 2021, MAR2),
        TransferMember("demo", "alice", "users", MAR2),
        ResignMember("demo", "alice", MAR2),
    ):
        result = books.execute(command, new_key())
        assert (result.error.field, result.error.rule) == ("member_id", "active_member")


# ---------------------------------------------------------------- reversals


def test_reversing_a_payment_restores_the_fee_so_it_can_be_paid_again(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))  # 1
    ok(ledger, PayFee("demo", "alice", 2020, D("100"), MAR1))  # 2
    assert in_good_standing(ledger.cooperative("demo"), "alice", 2020)

    # A fee call with payments cannot be reversed before its payments.
    blocked = ledger.execute(ReverseEntry("demo", 1, "wrong year", MAR2), new_key())
    assert (blocked.error.field, blocked.error.rule) == ("entry_number", "fee_unpaid")

    rev = ok(ledger, ReverseEntry("demo", 2, "cheque bounced", MAR2))  # 3
    assert rev.journal_numbers == (3,) and rev.events == ("EntryReversed",)
    assert fee(ledger, "demo", "alice", 2020) == (10000, 0)
    assert not in_good_standing(ledger.cooperative("demo"), "alice", 2020)
    assert ok(ledger, PayFee("demo", "alice", 2020, D("100"), MAR2)).journal_numbers == (4,)
    assert in_good_standing(ledger.cooperative("demo"), "alice", 2020)

    # Reverse the second payment, then the call: the year can be called again.
    ok(ledger, ReverseEntry("demo", 4, "refund", MAR2))  # 5
    ok(ledger, ReverseEntry("demo", 1, "called by mistake", MAR2))  # 6
    assert fee(ledger, "demo", "alice", 2020) is None
    assert ok(ledger, CallFee("demo", "alice", 2020, MAR2)).journal_numbers == (7,)

    entries = stored_financial_events(ledger, "demo")
    assert [e.journal_number for e in entries] == list(range(1, 8))
    assert entries[2].reverses == 2 and entries[2].postings == [["512", None, "EUR", -10000], ["411", "alice", "EUR", 10000]]
    # 411/alice: +100 -100 +100 -100 +100 -100 +100; bank: +100 -100 +100 -100; income: -100 +100 -100.
    assert balances(ledger, "demo") == {("411", "alice"): 10000, ("7561", None): -10000}


def test_reversing_shares_checks_what_the_member_still_holds(ledger):
    ok(ledger, found_scic())
    ok(ledger, admit("scic", "emma", "employees", FEB1))
    ok(ledger, SubscribeShares("scic", "emma", 3, FEB1))  # 1
    ok(ledger, RedeemShares("scic", "emma", 2, MAR1))  # 2
    blocked = ledger.execute(ReverseEntry("scic", 1, "never paid", MAR2), new_key())
    assert (blocked.error.field, blocked.error.rule) == ("entry_number", "shares_still_held")
    ok(ledger, ReverseEntry("scic", 2, "redemption refused by the board", MAR2))  # 3
    assert ledger.cooperative("scic").members["emma"].shares == 3
    ok(ledger, ReverseEntry("scic", 1, "never paid", MAR2))  # 4
    assert ledger.cooperative("scic").members["emma"].shares == 0
    assert balances(ledger, "scic") == {}


# ---------------------------------------------------------------- separation


def test_two_cooperatives_are_fully_separated(ledger):
    ok(ledger, found_association("demo"))
    ok(ledger, found_association("other"))
    # Same member ids and the same idempotency keys in both: receipts are per cooperative.
    for slug in ("demo", "other"):
        r = ledger.execute(admit(slug, "alice", "founders", FEB1), "admit-alice")
        assert r.accepted and not r.duplicate
        r = ledger.execute(CallFee(slug, "alice", 2020, FEB1), "call-alice")
        assert r.accepted and not r.duplicate and r.journal_numbers == (1,)
    ok(ledger, admit("other", "bob", "users", FEB1))
    ok(ledger, PayFee("demo", "alice", 2020, D("100"), MAR1))

    assert fee(ledger, "demo", "alice", 2020) == (10000, 10000)
    assert fee(ledger, "other", "alice", 2020) == (10000, 0)
    assert [e.journal_number for e in stored_financial_events(ledger, "demo")] == [1, 2]
    assert [e.journal_number for e in stored_financial_events(ledger, "other")] == [1]
    assert all(e.coop == "other" for e in stored_financial_events(ledger, "other"))
    assert ledger.execute(CallFee("demo", "bob", 2020, FEB1), new_key()).error.rule == "known_member"
    assert ledger.execute(ReverseEntry("other", 2, "not ours", MAR2), new_key()).error.rule == "known_entry"
    assert set(ledger.cooperative("demo").members) == {"alice"}
    assert set(ledger.cooperative("other").members) == {"alice", "bob"}
    # The chains are separate too: same content, different cooperative, different hash.
    assert stored_financial_events(ledger, "demo")[0].chain_hash != stored_financial_events(ledger, "other")[0].chain_hash


# ---------------------------------------------------------------- batches


def test_batch_mixes_accepted_refused_and_duplicates(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    count, position = stored_event_count(ledger), ledger.position()
    items = [
        (CallFee("demo", "alice", 2020, FEB1), "b0", "treasurer"),  # accepted: entry 1
        (PayFee("demo", "alice", 2020, D("100.01"), MAR1), "b1", "treasurer"),  # sees entry 1: overpayment
        (PayFee("demo", "alice", 2020, D("40"), MAR1), "b2", "treasurer"),  # accepted: entry 2
        (PayFee("demo", "alice", 2020, D("40.0"), MAR1), "b2", "treasurer"),  # duplicate within the batch
        (PayFee("demo", "alice", 2020, D("50"), MAR1), "b2", "treasurer"),  # same key, other content
        (admit("demo", "bob", "users", MAR1), "b5", "treasurer"),  # accepted, no entry
        (ReverseEntry("demo", 2, "typo", MAR2), "b6", "treasurer"),  # reverses an entry of this batch: entry 3
        (CallFee("demo", "ghost", 2020, MAR2), "b7", "treasurer"),  # unknown member
        (PayFee("demo", "alice", 2020, D("100"), MAR2), "b8", "treasurer"),  # due is 100 again: entry 4
    ]
    results = ledger.execute_batch(items)

    assert [r.accepted for r in results] == [True, False, True, True, False, True, True, False, True]
    assert [r.duplicate for r in results] == [False, False, False, True, False, False, False, False, False]
    assert [r.journal_numbers for r in results] == [(1,), (), (2,), (2,), (), (), (3,), (), (4,)]
    assert [r.error.rule if r.error else None for r in results] == [
        None,
        "no_overpayment",
        None,
        None,
        "same_key_same_content",
        None,
        None,
        "known_member",
        None,
    ]
    assert results[3].position == results[2].position
    accepted_positions = [results[i].position for i in (0, 2, 5, 6, 8)]
    assert accepted_positions == sorted(accepted_positions) and len(set(accepted_positions)) == 5
    assert min(accepted_positions) > position and ledger.position() == max(accepted_positions)
    # Five new commands: one event and one receipt each.
    assert stored_event_count(ledger) == count + 10
    assert fee(ledger, "demo", "alice", 2020) == (10000, 10000)
    assert ledger.cooperative("demo").journal.reversed_by == {2: 3}

    # The same batch again: every accepted command is a duplicate with its original position.
    replay = ledger.execute_batch(items)
    assert stored_event_count(ledger) == count + 10
    for first, again in zip(results, replay, strict=True):
        if first.accepted:
            assert again.duplicate and (again.position, again.journal_numbers) == (first.position, first.journal_numbers)
        else:
            assert not again.accepted
    assert replay[4].error.rule == "same_key_same_content"


def test_a_batch_of_refusals_writes_nothing(ledger):
    ok(ledger, found_association())
    count, position = stored_event_count(ledger), ledger.position()
    results = ledger.execute_batch(
        [
            (CallFee("demo", "ghost", 2020, FEB1), new_key(), "t"),
            (admit("demo", "bob", "nope", FEB1), new_key(), "t"),
            (CallFee("nowhere", "bob", 2020, FEB1), new_key(), "t"),
            (CallFee("demo", "bob", 2020, FEB1), "", "t"),
        ]
    )
    assert [r.error.rule for r in results] == ["known_member", "known_college", "known_cooperative", "required"]
    assert results[3].error.field == "idempotency_key"
    assert (stored_event_count(ledger), ledger.position()) == (count, position)


def test_a_batch_can_found_a_cooperative_and_use_it(ledger):
    results = ledger.execute_batch(
        [
            (found_association("fresh"), "f1", "t"),
            (admit("fresh", "alice", "staff", FEB1), "f2", "t"),
            (CallFee("fresh", "alice", 2020, FEB1), "f3", "t"),
            (found_association("fresh"), "f4", "t"),  # founding twice: refused
        ]
    )
    assert [r.accepted for r in results] == [True, True, True, False]
    assert (results[3].error.field, results[3].error.rule) == ("coop", "unique_cooperative")
    assert results[2].journal_numbers == (1,)
    assert fee(ledger, "fresh", "alice", 2020) == (10000, 0)


def test_actor_and_key_are_recorded_on_the_events(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ledger.execute(CallFee("demo", "alice", 2020, FEB1), "call-k", actor="treasurer@demo")
    (entry,) = stored_financial_events(ledger, "demo")
    assert (entry.actor, entry.idempotency_key, entry.coop) == ("treasurer@demo", "call-k", "demo")
    assert entry.effective_date == FEB1
