"""Calls for projects and grants through the ledger, on SQLite and PostgreSQL.

History of `demo` (hand-computed; EUR):
  #1  2021-02-01 alice pays her 2020 contribution: 10% of 200,000 = 20,000 into the fund
  #2  2021-01-10 Région grants subsidy S1: 40,000      #3 2021-02-01 S1 tranche: 10,000
  C1  fund, envelope 10,000, awards 2,000-5,000, 3 laureates (A1 alice, A2 bob, A3 Collectif, A4 Radio)
  C2  S1,   envelope 30,000, awards 5,000-10,000, 5 laureates (B1 Asso X, B2 alice)
  C3  fund, members only, envelope 4,000, awards 1,000-2,000, 1 laureate (M1 alice, M2 bob)
  C4  fund, envelope 1,000, awards 500-1,000, closed at once (gives its 1,000 back)
  #4 award A1 5,000   #5 award A2 4,000   #6 award M1 1,000   #7 award B1 10,000
  #8 pay B1 8,000     #9 award B2 6,000   #10 pay A1 2,000
Fund: received 20,000; awarded 10,000; paid 2,000; reserved 1,000 (C1) + 3,000 (C3) = 4,000;
balance 18,000; committed 8,000 + 4,000 = 12,000; available 6,000; unspent (195) 10,000.
S1: granted 40,000; received 10,000; awarded 16,000; paid 8,000; reserved 14,000; unspent 24,000;
available 10,000; cash 2,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import AwardGrant, CloseCall, OpenCall, PayGrant, RecordApplication, WithdrawGrant
from domain.membership import ResignMember
from domain.subsidies import ReceiveSubsidy, RecordSubsidy
from ledger.service import Ledger
from projections.balances import account_balance
from projections.grants import calls_for_projects, cooperation_fund
from projections.subsidies import subsidies_overview
from tests.builders import admit, dump_projections, found_association, ok, stored_financial_events
from tests.ledger.test_contributions import assert_refused
from tests.views import call_applications

D = Decimal
MAR1, MAR5, APR1, MAY1 = date(2021, 3, 1), date(2021, 3, 5), date(2021, 4, 1), date(2021, 5, 1)


def call(call_id: str, envelope: str, lo: str, hi: str, laureates: int, **kw: Any) -> OpenCall:
    return OpenCall("demo", call_id, f"Appel {call_id}", D(envelope), D(lo), D(hi), laureates, MAR1, **kw)


def apply(call_id: str, app: str, member: str | None = None, applicant: str | None = None) -> RecordApplication:
    return RecordApplication("demo", call_id, app, f"Projet {app}", MAR5, member_id=member, applicant=applicant)


@pytest.fixture
def books(ledger: Ledger, runner) -> Ledger:
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, admit("demo", "bob", "users", date(2020, 2, 1)))
    ok(ledger, PledgeContribution("demo", "P1", "alice", "10", 2020, date(2020, 3, 1)))
    ok(ledger, DeclareContributionResult("demo", "P1", 2020, D("200000"), date(2021, 1, 15)))
    ok(ledger, PayContribution("demo", "P1", 2020, D("20000"), date(2021, 2, 1)))
    ok(ledger, RecordSubsidy("demo", "S1", "Région", "Médias de proximité", D("40000"), date(2021, 1, 10)))
    ok(ledger, ReceiveSubsidy("demo", "S1", D("10000"), date(2021, 2, 1)))
    ok(ledger, call("C1", "10000", "2000", "5000", 3))
    ok(ledger, call("C2", "30000", "5000", "10000", 5, subsidy_id="S1"))
    ok(ledger, call("C3", "4000", "1000", "2000", 1, members_only=True))
    ok(ledger, call("C4", "1000", "500", "1000", 1))
    ok(ledger, CloseCall("demo", "C4", MAR1))
    for command in (
        apply("C1", "A1", "alice"),
        apply("C1", "A2", "bob"),
        apply("C1", "A3", applicant="Collectif"),
        apply("C1", "A4", applicant="Radio"),
        apply("C2", "B1", applicant="Asso X"),
        apply("C2", "B2", "alice"),
        apply("C3", "M1", "alice"),
        apply("C3", "M2", "bob"),
    ):
        ok(ledger, command)
    for command in (
        AwardGrant("demo", "A1", D("5000"), APR1),
        AwardGrant("demo", "A2", D("4000"), APR1),
        AwardGrant("demo", "M1", D("1000"), APR1),
        AwardGrant("demo", "B1", D("10000"), APR1),
        PayGrant("demo", "B1", D("8000"), MAY1),
        AwardGrant("demo", "B2", D("6000"), APR1),
        PayGrant("demo", "A1", D("2000"), MAY1),
    ):
        ok(ledger, command)
    runner.catch_up()
    return ledger


def test_entries_of_awards_and_payments(books):
    entries = stored_financial_events(books, "demo")
    assert [e.kind for e in entries] == [
        "ContributionPaid",
        "SubsidyGranted",
        "SubsidyReceived",
        "GrantAwarded",
        "GrantAwarded",
        "GrantAwarded",
        "GrantAwarded",
        "GrantPaid",
        "GrantAwarded",
        "GrantPaid",
    ]
    assert entries[3].postings == [
        ["6571", None, "EUR", 500_000],
        ["4686", "A1", "EUR", -500_000],
        ["195", None, "EUR", 500_000],
        ["7895", None, "EUR", -500_000],
    ]
    assert entries[6].postings == [
        ["6571", None, "EUR", 1_000_000],
        ["4686", "B1", "EUR", -1_000_000],
        ["194", "S1", "EUR", 1_000_000],
        ["7894", None, "EUR", -1_000_000],
    ]
    assert entries[7].postings == [["4686", "B1", "EUR", 800_000], ["512", None, "EUR", -800_000]]


def test_the_fund_figures_are_exact_and_agree_with_the_books(books):
    fund = cooperation_fund(books.db, "demo")
    assert {
        k: fund[k]
        for k in (
            "received_cents",
            "awarded_cents",
            "paid_cents",
            "reserved_cents",
            "balance_cents",
            "committed_cents",
            "available_cents",
            "unspent_cents",
        )
    } == {
        "received_cents": 2_000_000,
        "awarded_cents": 1_000_000,
        "paid_cents": 200_000,
        "reserved_cents": 400_000,
        "balance_cents": 1_800_000,
        "committed_cents": 1_200_000,
        "available_cents": 600_000,
        "unspent_cents": 1_000_000,
    }
    assert account_balance(books.db, "demo", "195") == -1_000_000
    assert account_balance(books.db, "demo", "194", party="S1") == -2_400_000
    # 4686: awarded 26,000 - paid 10,000, one party per grant.
    assert account_balance(books.db, "demo", "4686") == -1_600_000
    assert account_balance(books.db, "demo", "4686", party="A1") == -300_000
    (s1,) = subsidies_overview(books.db, "demo")
    assert {
        k: s1[k]
        for k in (
            "granted_cents",
            "received_cents",
            "awarded_cents",
            "grants_paid_cents",
            "reserved_cents",
            "unspent_cents",
            "available_cents",
        )
    } == {
        "granted_cents": 4_000_000,
        "received_cents": 1_000_000,
        "awarded_cents": 1_600_000,
        "grants_paid_cents": 800_000,
        "reserved_cents": 1_400_000,
        "unspent_cents": 2_400_000,
        "available_cents": 1_000_000,
    }
    aggregate = books.cooperative("demo").grants.pots["fund"].totals
    assert (aggregate.cash_cents, aggregate.committed_cents, aggregate.available_cents) == (1_800_000, 1_200_000, 600_000)


def test_the_fund_as_of_earlier_dates(books):
    feb = cooperation_fund(books.db, "demo", as_of=date(2021, 2, 28))  # money in, no call yet
    assert (feb["balance_cents"], feb["committed_cents"], feb["available_cents"]) == (2_000_000, 0, 2_000_000)
    # 1 March: C1 10,000 + C3 4,000 + C4 1,000 reserved, C4 closed the same day.
    mar = cooperation_fund(books.db, "demo", as_of=MAR1)
    assert (mar["reserved_cents"], mar["available_cents"]) == (1_400_000, 600_000)
    assert cooperation_fund(books.db, "demo", as_of=date(2021, 1, 31))["received_cents"] == 0


def test_open_calls_with_envelope_awarded_paid_remaining_and_laureates(books):
    calls = calls_for_projects(books.db, "demo")
    assert [c["call_id"] for c in calls] == ["C1", "C2", "C3"]
    figures = {
        c["call_id"]: (
            c["envelope_cents"],
            c["awarded_cents"],
            c["paid_cents"],
            c["remaining_cents"],
            c["outstanding_cents"],
            c["laureates"],
            c["applications"],
        )
        for c in calls
    }
    assert figures == {
        "C1": (1_000_000, 900_000, 200_000, 100_000, 700_000, 2, 4),
        "C2": (3_000_000, 1_600_000, 800_000, 1_400_000, 800_000, 2, 2),
        "C3": (400_000, 100_000, 0, 300_000, 100_000, 1, 2),
    }
    assert calls[1]["source"] == "subsidy:S1" and calls[2]["members_only"] is True
    everything = calls_for_projects(books.db, "demo", include_closed=True)
    assert [(c["call_id"], c["status"], c["closed_on"], c["remaining_cents"]) for c in everything][-1] == (
        "C4",
        "closed",
        "2021-03-01",
        100_000,
    )
    assert [c["call_id"] for c in calls_for_projects(books.db, "demo", after="C1", limit=1)] == ["C2"]
    apps = call_applications(books.db, "demo", "C1")
    assert [
        (a["application_id"], a["member_id"], a["applicant"], a["net_awarded_cents"], a["paid_cents"], a["outstanding_cents"])
        for a in apps
    ] == [
        ("A1", "alice", "Member alice", 500_000, 200_000, 300_000),
        ("A2", "bob", "Member bob", 400_000, 0, 400_000),
        ("A3", None, "Collectif", 0, 0, 0),
        ("A4", None, "Radio", 0, 0, 0),
    ]
    assert apps[0]["awarded_on"] == "2021-04-01" and apps[2]["awarded_on"] is None


def test_withdraw_settle_and_close_a_call(books, runner):
    ok(books, WithdrawGrant("demo", "A2", "project dropped", date(2021, 5, 2)))  # #11: 4,000 back into C1
    ok(books, PayGrant("demo", "A1", D("3000"), date(2021, 5, 3)))  # #12
    ok(books, CloseCall("demo", "C1", date(2021, 5, 4)))  # gives back 10,000 - 5,000 = 5,000
    assert_refused(books, PayGrant("demo", "A1", D("1"), date(2021, 5, 5)), "application_id", "call_open", InvalidCommand)
    assert_refused(books, ReverseEntry("demo", 12, "oops", date(2021, 5, 5)), "entry_number", "call_open", InvalidCommand)
    runner.catch_up()
    fund = cooperation_fund(books.db, "demo")
    # Received 20,000; awarded 5,000 (A1) + 1,000 (M1); paid 5,000; reserved 3,000 (C3).
    assert (fund["awarded_cents"], fund["paid_cents"], fund["reserved_cents"]) == (600_000, 500_000, 300_000)
    assert (fund["balance_cents"], fund["committed_cents"], fund["available_cents"]) == (1_500_000, 400_000, 1_100_000)
    assert [c["call_id"] for c in calls_for_projects(books.db, "demo")] == ["C2", "C3"]
    before = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == before


def test_reversing_a_payment_and_an_award(books, runner):
    ok(books, ReverseEntry("demo", 10, "paid twice", MAY1))  # #11: A1's 2,000 back
    assert_refused(books, ReverseEntry("demo", 7, "wrong", MAY1), "entry_number", "grant_untouched", InvalidCommand)
    ok(books, ReverseEntry("demo", 6, "wrong laureate", MAY1))  # #12: M1 un-awarded, C3 has room again
    ok(books, AwardGrant("demo", "M2", D("2000"), MAY1))  # #13
    runner.catch_up()
    apps = {a["application_id"]: a for a in call_applications(books.db, "demo", "C3")}
    assert (apps["M1"]["awarded_cents"], apps["M1"]["awarded_on"], apps["M2"]["awarded_cents"]) == (0, None, 200_000)
    assert call_applications(books.db, "demo", "C1")[0]["paid_cents"] == 0
    fund = cooperation_fund(books.db, "demo")
    assert (fund["paid_cents"], fund["awarded_cents"], fund["balance_cents"]) == (0, 1_100_000, 2_000_000)
    before = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == before


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    ("call twice", call("C1", "100", "10", "100", 1), "call_id", "unique_call", Conflict),
    ("max below min", call("C9", "100", "60", "50", 1), "max_award", "award_bounds", InvalidCommand),
    ("max above envelope", call("C9", "100", "10", "100.01", 1), "max_award", "within_envelope", InvalidCommand),
    ("no laureates", call("C9", "100", "10", "100", 0), "max_laureates", "range", InvalidCommand),
    ("envelope beyond the fund", call("C9", "6000.01", "10", "100", 1), "envelope", "envelope_available", InvalidCommand),
    (
        "envelope beyond the subsidy",
        call("C9", "10000.01", "10", "100", 1, subsidy_id="S1"),
        "envelope",
        "envelope_available",
        InvalidCommand,
    ),
    ("unknown subsidy", call("C9", "100", "10", "100", 1, subsidy_id="S9"), "subsidy_id", "known_subsidy", NotFound),
    ("unknown call", apply("C9", "X1", applicant="X"), "call_id", "known_call", NotFound),
    ("closed call", apply("C4", "X1", applicant="X"), "call_id", "call_open", InvalidCommand),
    ("application twice", apply("C1", "A1", applicant="X"), "application_id", "unique_application", Conflict),
    ("non-member on a members-only call", apply("C3", "X1", applicant="X"), "member_id", "members_only", InvalidCommand),
    ("nameless non-member", apply("C1", "X1"), "applicant", "required", InvalidCommand),
    (
        "application before the call",
        RecordApplication("demo", "C1", "X1", "P", date(2021, 2, 28), applicant="X"),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("award below the bounds", AwardGrant("demo", "A3", D("1999.99"), APR1), "amount", "award_bounds", InvalidCommand),
    ("award above the bounds", AwardGrant("demo", "A3", D("5000.01"), APR1), "amount", "award_bounds", InvalidCommand),
    ("award beyond the envelope", AwardGrant("demo", "A3", D("2000"), APR1), "amount", "envelope", InvalidCommand),
    ("award beyond the laureates", AwardGrant("demo", "M2", D("1000"), APR1), "application_id", "max_laureates", InvalidCommand),
    ("award twice", AwardGrant("demo", "A1", D("2000"), APR1), "application_id", "awarded_once", Conflict),
    (
        "award of an unknown application",
        AwardGrant("demo", "X1", D("2000"), APR1),
        "application_id",
        "known_application",
        NotFound,
    ),
    ("payment without an award", PayGrant("demo", "A3", D("1"), MAY1), "application_id", "grant_awarded", NotFound),
    ("payment beyond the award", PayGrant("demo", "A1", D("3000.01"), MAY1), "amount", "within_award", InvalidCommand),
    ("payment the subsidy cannot cover", PayGrant("demo", "B2", D("2000.01"), MAY1), "amount", "fund_covers", InvalidCommand),
    (
        "payment before the award",
        PayGrant("demo", "A2", D("1"), date(2021, 3, 31)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("nothing to withdraw", WithdrawGrant("demo", "A3", "x", MAY1), "application_id", "grant_awarded", NotFound),
    ("closing with grants unpaid", CloseCall("demo", "C1", MAY1), "call_id", "grants_settled", InvalidCommand),
    ("reversing a paid award", ReverseEntry("demo", 4, "x", MAY1), "entry_number", "grant_untouched", InvalidCommand),
]


def test_every_rule_refuses_naming_field_and_rule_and_writes_nothing(books):
    for name, command, field, rule, kind in REFUSALS:  # one set of books: each refusal writes nothing
        try:
            assert_refused(books, command, field, rule, kind)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_a_fully_paid_grant_has_nothing_to_withdraw_and_leavers_cannot_apply(books):
    ok(books, PayGrant("demo", "A1", D("3000"), MAY1))
    assert_refused(books, WithdrawGrant("demo", "A1", "x", MAY1), "application_id", "nothing_to_withdraw", InvalidCommand)
    ok(books, ResignMember("demo", "bob", date(2021, 3, 31)))
    ok(books, call("C9", "100", "10", "100", 1))
    assert_refused(
        books, RecordApplication("demo", "C9", "X1", "P", APR1, member_id="bob"), "member_id", "member_on_date", InvalidCommand
    )
