"""Subscriptions through the ledger, on SQLite and PostgreSQL: every rule refused with its
field and rule and nothing written, bills and payments with hand-computed entries, reversal,
and the read model's answers against hand-computed figures and against a rebuild.

Plans: PM (provider, monthly) 49.00 EUR + 3% of the declared revenue; HY (project holder,
yearly) 240.00 EUR. prov is subscribed to PM from 2020-03-15, holder to HY from 2020-02-01.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.membership import ResignMember
from domain.subscriptions import BillSubscription, CancelSubscription, DefineSubscriptionPlan, PaySubscription, StartSubscription
from ledger.service import Ledger
from projections.balances import account_balance
from tests import views as read
from tests.builders import admit, dump_projections, found_association, new_key, ok, stored_event_count, stored_financial_events

D = Decimal


def check_refusals(ledger: Ledger, refusals: list[tuple[str, Any, str, str, type]]) -> None:
    """Each command is refused naming its field and rule, and writes nothing."""
    for name, command, field, rule, kind in refusals:
        before = (ledger.position(), stored_event_count(ledger))
        result = ledger.execute(command, new_key())
        assert not result.accepted and result.position is None and result.journal_numbers == (), name
        assert isinstance(result.error, kind) and (result.error.field, result.error.rule) == (field, rule), (name, result.error)
        assert (ledger.position(), stored_event_count(ledger)) == before, name


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """Entries: 1 bills S1 2020-03 (revenue 4,150.50 -> 49.00 + 124.52 = 173.52), 2 bills S1
    2020-04 (no revenue: 49.00), 3 bills H1 2020 (240.00), 4 pays 100.00 on S1 2020-03, 5 pays H1."""
    ok(ledger, found_association())
    for member_id in ("prov", "holder", "gone"):
        ok(ledger, admit("demo", member_id, "users", date(2020, 2, 1)))
    ok(
        ledger,
        DefineSubscriptionPlan("demo", "PM", "Prestataire mensuel", "provider", "monthly", D("49"), date(2020, 1, 15), "0.03"),
    )
    ok(ledger, DefineSubscriptionPlan("demo", "HY", "Porteur annuel", "project_holder", "yearly", D("240"), date(2020, 1, 15)))
    ok(ledger, StartSubscription("demo", "S1", "prov", "PM", date(2020, 3, 15)))
    ok(ledger, StartSubscription("demo", "H1", "holder", "HY", date(2020, 2, 1)))
    ok(ledger, StartSubscription("demo", "G1", "gone", "PM", date(2020, 2, 1)))
    ok(ledger, ResignMember("demo", "gone", date(2020, 5, 31)))
    numbers = [
        ok(ledger, BillSubscription("demo", "S1", "2020-03", date(2020, 4, 2), D("4150.50"))).journal_numbers,
        ok(ledger, BillSubscription("demo", "S1", "2020-04", date(2020, 5, 4), D("0"))).journal_numbers,
        ok(ledger, BillSubscription("demo", "H1", "2020", date(2020, 2, 1))).journal_numbers,
        ok(ledger, PaySubscription("demo", "S1", "2020-03", D("100"), date(2020, 4, 10))).journal_numbers,
        ok(ledger, PaySubscription("demo", "H1", "2020", D("240"), date(2020, 2, 20))).journal_numbers,
    ]
    assert numbers == [(1,), (2,), (3,), (4,), (5,)]
    return ledger


def test_every_rule_is_refused_with_its_field_and_writes_nothing(books):
    day = date(2020, 6, 1)
    check_refusals(
        books,
        [
            (
                "plan defined twice",
                DefineSubscriptionPlan("demo", "PM", "x", "provider", "monthly", D("1"), day),
                "plan_id",
                "unique_plan",
                Conflict,
            ),
            (
                "unknown plan kind",
                DefineSubscriptionPlan("demo", "X", "x", "seller", "monthly", D("1"), day),
                "kind",
                "plan_kind",
                InvalidCommand,
            ),
            (
                "unknown period",
                DefineSubscriptionPlan("demo", "X", "x", "provider", "daily", D("1"), day),
                "period",
                "plan_period",
                InvalidCommand,
            ),
            (
                "float fixed amount",
                DefineSubscriptionPlan("demo", "X", "x", "provider", "monthly", 1.5, day),
                "fixed_amount",
                "decimal",
                InvalidCommand,
            ),
            (
                "rate above 1",
                DefineSubscriptionPlan("demo", "X", "x", "provider", "monthly", D("1"), day, "2"),
                "revenue_rate",
                "rate_range",
                InvalidCommand,
            ),
            (
                "rate on a flat plan",
                DefineSubscriptionPlan("demo", "X", "x", "project_holder", "yearly", D("1"), day, "0.1"),
                "revenue_rate",
                "flat_rate_plan",
                InvalidCommand,
            ),
            (
                "plan billing nothing",
                DefineSubscriptionPlan("demo", "X", "x", "provider", "monthly", D("0"), day, "0"),
                "fixed_amount",
                "something_to_bill",
                InvalidCommand,
            ),
            (
                "plan before founding",
                DefineSubscriptionPlan("demo", "X", "x", "provider", "monthly", D("1"), date(2019, 1, 1)),
                "effective_date",
                "not_before_founding",
                InvalidCommand,
            ),
            (
                "subscription id taken",
                StartSubscription("demo", "S1", "holder", "PM", day),
                "subscription_id",
                "unique_subscription",
                Conflict,
            ),
            ("unknown member", StartSubscription("demo", "S9", "ghost", "PM", day), "member_id", "known_member", NotFound),
            ("unknown plan", StartSubscription("demo", "S9", "holder", "NOPE", day), "plan_id", "known_plan", NotFound),
            (
                "not a member yet",
                StartSubscription("demo", "S9", "holder", "PM", date(2020, 1, 20)),
                "member_id",
                "member_on_date",
                InvalidCommand,
            ),
            (
                "member has left",
                StartSubscription("demo", "S9", "gone", "HY", day),
                "member_id",
                "member_on_date",
                InvalidCommand,
            ),
            (
                "two subscriptions to a plan",
                StartSubscription("demo", "S9", "prov", "PM", day),
                "plan_id",
                "one_subscription_per_plan",
                Conflict,
            ),
            (
                "unknown subscription",
                BillSubscription("demo", "NOPE", "2020-05", day, D("1")),
                "subscription_id",
                "known_subscription",
                NotFound,
            ),
            (
                "label of another period",
                BillSubscription("demo", "S1", "2020-Q2", day, D("1")),
                "period",
                "period_label",
                InvalidCommand,
            ),
            (
                "period before the start",
                BillSubscription("demo", "S1", "2020-02", day, D("1")),
                "period",
                "period_in_subscription",
                InvalidCommand,
            ),
            (
                "period after the member left",
                BillSubscription("demo", "G1", "2020-06", date(2020, 7, 1), D("1")),
                "period",
                "member_left",
                InvalidCommand,
            ),
            (
                "period billed twice",
                BillSubscription("demo", "S1", "2020-03", day, D("1")),
                "period",
                "period_billed_once",
                Conflict,
            ),
            (
                "billed before the period",
                BillSubscription("demo", "H1", "2021", date(2020, 12, 31)),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "revenue not yet known",
                BillSubscription("demo", "S1", "2020-05", date(2020, 5, 31), D("1")),
                "effective_date",
                "period_ended",
                InvalidCommand,
            ),
            ("revenue missing", BillSubscription("demo", "S1", "2020-05", day), "declared_revenue", "required", InvalidCommand),
            (
                "revenue on a flat plan",
                BillSubscription("demo", "H1", "2021", date(2021, 1, 2), D("5")),
                "declared_revenue",
                "not_applicable",
                InvalidCommand,
            ),
        ],
    )
    # A plan billing revenue only refuses a period whose share rounds to 0.00; a second cancellation is a conflict.
    ok(books, DefineSubscriptionPlan("demo", "PS", "Part seule", "provider", "quarterly", D("0"), date(2020, 1, 15), "1/8"))
    ok(books, StartSubscription("demo", "Q1", "prov", "PS", date(2020, 2, 1)))
    ok(books, CancelSubscription("demo", "H1", date(2021, 1, 1), "project ended"))
    check_refusals(
        books,
        [
            (
                "nothing to bill",
                BillSubscription("demo", "Q1", "2020-Q1", date(2020, 4, 1), D("0.03")),
                "declared_revenue",
                "nothing_to_bill",
                InvalidCommand,
            ),
            (
                "payment of a period not billed",
                PaySubscription("demo", "S1", "2020-05", D("1"), day),
                "period",
                "period_billed",
                NotFound,
            ),
            (
                "overpayment by a cent",
                PaySubscription("demo", "S1", "2020-03", D("73.53"), day),
                "amount",
                "no_overpayment",
                InvalidCommand,
            ),
            (
                "payment before the bill",
                PaySubscription("demo", "S1", "2020-04", D("1"), date(2020, 5, 3)),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "cancelled before the start",
                CancelSubscription("demo", "S1", date(2020, 3, 14), "x"),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "cancelled before a billed period",
                CancelSubscription("demo", "S1", date(2020, 4, 1), "x"),
                "effective_date",
                "billed_after_end",
                InvalidCommand,
            ),
            ("cancellation without reason", CancelSubscription("demo", "S1", day, ""), "reason", "required", InvalidCommand),
            (
                "cancelled twice",
                CancelSubscription("demo", "H1", date(2021, 6, 1), "again"),
                "subscription_id",
                "cancelled_once",
                Conflict,
            ),
            (
                "period after the end",
                BillSubscription("demo", "H1", "2021", date(2021, 1, 2)),
                "period",
                "period_in_subscription",
                InvalidCommand,
            ),
            ("bill with payments reversed", ReverseEntry("demo", 1, "x", day), "entry_number", "bill_unpaid", InvalidCommand),
        ],
    )


def test_bills_and_payments_carry_hand_computed_entries(books):
    entries = stored_financial_events(books, "demo")
    assert [e.kind for e in entries] == ["SubscriptionBilled"] * 3 + ["SubscriptionPaid"] * 2
    assert entries[0].postings == [["411", "prov", "EUR", 17352], ["706", None, "EUR", -17352]]
    assert (entries[0].declared_revenue_cents, entries[0].fixed_cents, entries[0].revenue_share_cents) == (415050, 4900, 12452)
    assert entries[1].postings == [["411", "prov", "EUR", 4900], ["706", None, "EUR", -4900]]
    assert entries[2].postings == [["411", "holder", "EUR", 24000], ["706", None, "EUR", -24000]]
    assert entries[3].postings == [["512", None, "EUR", 10000], ["411", "prov", "EUR", -10000]]
    coop = books.cooperative("demo")
    assert {p: (b.amount_cents, b.paid_cents) for p, b in coop.subscriptions.subscriptions["S1"].bills.items()} == {
        "2020-03": (17352, 10000),
        "2020-04": (4900, 0),
    }


def test_the_read_model_answers_what_is_owed_as_of_any_date(books, runner):
    runner.catch_up()
    db = books.db
    assert [p["plan_id"] for p in read.plans(db, "demo")] == ["HY", "PM"]
    # prov: 173.52 + 49.00 billed, 100.00 paid; holder: 240.00 billed and paid; gone: nothing billed.
    assert read.amounts_owed(db, "demo") == [
        {"coop": "demo", "member_id": "holder", "billed_cents": 24000, "paid_cents": 24000, "owed_cents": 0},
        {"coop": "demo", "member_id": "prov", "billed_cents": 22252, "paid_cents": 10000, "owed_cents": 12252},
    ]
    assert [(r["member_id"], r["owed_cents"]) for r in read.amounts_owed(db, "demo", as_of=date(2020, 4, 5))] == [
        ("holder", 0),
        ("prov", 17352),
    ]
    assert [(r["member_id"], r["owed_cents"]) for r in read.amounts_owed(db, "demo", as_of=date(2020, 2, 10))] == [
        ("holder", 24000)
    ]
    # The member's receivable in the books says the same (no fee was called in these books).
    assert account_balance(db, "demo", "411", party="prov") == 12252
    assert account_balance(db, "demo", "411", party="prov", as_of=date(2020, 4, 5)) == 17352
    s1 = read.subscriptions(db, "demo", member_id="prov")
    assert [(s["subscription_id"], s["periods_billed"], s["billed_cents"], s["paid_cents"], s["due_cents"]) for s in s1] == [
        ("S1", 2, 22252, 10000, 12252)
    ]
    bills = read.bills(db, "demo", "S1")
    assert [
        (b["period"], b["period_start"], b["period_end"], b["amount_cents"], b["paid_cents"], b["due_cents"]) for b in bills
    ] == [("2020-03", "2020-03-01", "2020-04-01", 17352, 10000, 7352), ("2020-04", "2020-04-01", "2020-05-01", 4900, 0, 4900)]
    assert bills[0]["declared_revenue_cents"] == 415050 and bills[0]["revenue_share_cents"] == 12452


def test_reversals_reopen_a_period_and_the_projection_follows(books, runner):
    ok(books, ReverseEntry("demo", 4, "cheque returned", date(2020, 5, 10)))  # 6
    ok(books, ReverseEntry("demo", 1, "revenue declared wrong", date(2020, 5, 10)))  # 7
    rebilled = ok(books, BillSubscription("demo", "S1", "2020-03", date(2020, 5, 11), D("5000")))  # 8: 49.00 + 150.00
    assert rebilled.journal_numbers == (8,)
    assert stored_financial_events(books, "demo")[-1].postings == [["411", "prov", "EUR", 19900], ["706", None, "EUR", -19900]]
    ok(books, CancelSubscription("demo", "S1", date(2020, 5, 1), "leaves the platform"))
    runner.catch_up()
    db = books.db
    assert [(b["period"], b["amount_cents"], b["paid_cents"]) for b in read.bills(db, "demo", "S1")] == [
        ("2020-03", 19900, 0),
        ("2020-04", 4900, 0),
    ]
    owed = {r["member_id"]: r["owed_cents"] for r in read.amounts_owed(db, "demo")}
    assert owed == {"holder": 0, "prov": 24800}
    # As of 2020-05-09 the first bill and payment still stood: 173.52 + 49.00 - 100.00.
    assert {r["member_id"]: r["owed_cents"] for r in read.amounts_owed(db, "demo", as_of=date(2020, 5, 9))}["prov"] == 12252
    assert account_balance(db, "demo", "411", party="prov") == 24800
    assert account_balance(db, "demo", "706") == -(24000 + 4900 + 19900)
    (s1,) = read.subscriptions(db, "demo", member_id="prov")
    assert (s1["ends_on"], s1["cancel_reason"]) == ("2020-05-01", "leaves the platform")

    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental


def test_a_period_is_billed_once_even_inside_one_batch(books):
    results = books.execute_batch(
        [
            (BillSubscription("demo", "S1", "2020-05", date(2020, 6, 2), D("100")), new_key(), "t"),
            (BillSubscription("demo", "S1", "2020-05", date(2020, 6, 3), D("200")), new_key(), "t"),
            (PaySubscription("demo", "S1", "2020-05", D("52"), date(2020, 6, 4)), new_key(), "t"),
        ]
    )
    assert [r.accepted for r in results] == [True, False, True]
    assert (results[1].error.field, results[1].error.rule) == ("period", "period_billed_once")
    bill = books.cooperative("demo").subscriptions.subscriptions["S1"].bills["2020-05"]
    assert (bill.amount_cents, bill.paid_cents) == (5200, 5200)
