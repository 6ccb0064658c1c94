"""Subscriptions, pure rules: rates, rounding, period labels, plans, billing once, payments.

Books are built in memory from the domain's deciders (no store). Figures are computed by hand:
the monthly provider plan is 49.00 EUR + 3% of the declared revenue.
`Books` is reused by the certification and levy domain tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from domain import membership
from domain.corrections import ReverseEntry
from domain.errors import Conflict, DomainError, InvalidCommand, NotFound
from domain.subscriptions import (
    BillSubscription,
    CancelSubscription,
    DefineSubscriptionPlan,
    PaySubscription,
    StartSubscription,
    parse_rate,
    period_range,
    share_half_up,
)
from tests import builders
from tests.builders import admit

D = Decimal


class Books(builders.Books):
    def admit(self, member_id: str, day: date = date(2020, 2, 1), college: str | None = None) -> None:
        self.do(admit(self.slug, member_id, college or self.member_college(), day))


def rule(error: DomainError) -> tuple[str, str]:
    return error.field, error.rule


# ---------------------------------------------------------------- rates and rounding


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.03", Fraction(3, 100)),
        ("7/200", Fraction(7, 200)),
        (" 1/3", Fraction(1, 3)),
        (D("0.0500000000000000"), Fraction(1, 20)),
        (0, Fraction(0)),
        (1, Fraction(1)),
        ("1", Fraction(1)),
        (D("0E-999999"), Fraction(0)),
    ],
)
def test_rates_are_exact_fractions(value, expected):
    assert parse_rate(value, "rate") == expected


@pytest.mark.parametrize(
    ("value", "expected_rule"),
    [
        (0.03, "decimal"),
        ("abc", "decimal"),
        ("1/0", "rate"),
        ("x/3", "rate"),
        ("1.01", "rate_range"),
        ("-0.01", "rate_range"),
        ("-1/3", "rate_range"),
        ("3/2", "rate_range"),
        (D("1E-999999"), "rate_range"),
        (D("1E+999999"), "rate_range"),
        ("1/" + "3" * 40, "rate"),
        ("1/10000000000000", "rate_range"),
        (None, "decimal"),
    ],
)
def test_bad_rates_are_refused(value, expected_rule):
    with pytest.raises(InvalidCommand) as exc:
        parse_rate(value, "revenue_rate")
    assert rule(exc.value) == ("revenue_rate", expected_rule)


@pytest.mark.parametrize(
    ("cents", "rate", "expected"),
    [
        (415050, Fraction(3, 100), 12452),  # 124.515 -> 124.52: a half goes up
        (2431010, Fraction(25, 1000), 60775),  # 607.7525 -> 607.75
        (1, Fraction(1, 2), 1),  # 0.5 cent -> 1
        (1, Fraction(49, 100), 0),  # 0.49 cent -> 0
        (10000, Fraction(1, 3), 3333),  # 33.3333 -> 33.33
        (20000, Fraction(1, 3), 6667),  # 66.6666 -> 66.67
        (12345, Fraction(1), 12345),
        (12345, Fraction(0), 0),
        (0, Fraction(1, 7), 0),
    ],
)
def test_revenue_share_is_rounded_to_the_nearest_cent_halves_up(cents, rate, expected):
    assert share_half_up(cents, rate) == expected


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("period", "label", "first", "after"),
    [
        ("monthly", "2026-03", date(2026, 3, 1), date(2026, 4, 1)),
        ("monthly", "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("monthly", "2024-02", date(2024, 2, 1), date(2024, 3, 1)),
        ("quarterly", "2026-Q1", date(2026, 1, 1), date(2026, 4, 1)),
        ("quarterly", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("yearly", "2026", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_period_labels_name_calendar_periods(period, label, first, after):
    assert period_range(period, label) == (first, after)


@pytest.mark.parametrize(
    ("period", "label"),
    [
        ("monthly", "2026-13"),
        ("monthly", "2026-3"),
        ("monthly", "2026-Q1"),
        ("quarterly", "2026-Q5"),
        ("quarterly", "2026-03"),
        ("yearly", "26"),
        ("yearly", 2026),
        ("yearly", "1900"),
        ("monthly", "2200-01"),
        ("yearly", "2026 "),
    ],
)
def test_bad_period_labels_are_refused(period, label):
    with pytest.raises(InvalidCommand) as exc:
        period_range(period, label)
    assert rule(exc.value) == ("period", "period_label")


# ---------------------------------------------------------------- plans and subscriptions


def plan(
    plan_id: str = "PM",
    kind: str = "provider",
    period: str = "monthly",
    fixed: Any = D("49"),
    rate: Any = "0.03",
    day: date = date(2020, 1, 15),
) -> DefineSubscriptionPlan:
    return DefineSubscriptionPlan("c", plan_id, f"Plan {plan_id}", kind, period, fixed, day, rate)


@pytest.fixture
def books() -> Books:
    """Plans PM (provider, monthly, 49 + 3%), PQ (provider, quarterly, revenue share 1/8 only),
    HY (project holder, yearly, 240); prov subscribed to PM from 2020-03-15, holder to HY."""
    b = Books()
    for member_id in ("prov", "holder"):
        b.admit(member_id)
    b.do(plan())
    b.do(plan("PQ", period="quarterly", fixed=D("0"), rate="1/8"))
    b.do(plan("HY", kind="project_holder", period="yearly", fixed=D("240"), rate="0"))
    b.do(StartSubscription("c", "S1", "prov", "PM", date(2020, 3, 15)))
    b.do(StartSubscription("c", "H1", "holder", "HY", date(2020, 2, 1)))
    return b


@pytest.mark.parametrize(
    ("command", "field", "expected_rule", "kind"),
    [
        (plan("PM"), "plan_id", "unique_plan", Conflict),
        (plan("X", kind="member"), "kind", "plan_kind", InvalidCommand),
        (plan("X", period="weekly"), "period", "plan_period", InvalidCommand),
        (plan("X", fixed=D("-1")), "fixed_amount", "non_negative", InvalidCommand),
        (plan("X", fixed=49.0), "fixed_amount", "decimal", InvalidCommand),
        (plan("X", fixed=D("49.001")), "fixed_amount", "precision", InvalidCommand),
        (plan("X", rate=0.03), "revenue_rate", "decimal", InvalidCommand),
        (plan("X", kind="project_holder", rate="0.01"), "revenue_rate", "flat_rate_plan", InvalidCommand),
        (plan("X", fixed=D("0"), rate="0"), "fixed_amount", "something_to_bill", InvalidCommand),
        (plan("X", day=date(2019, 12, 31)), "effective_date", "not_before_founding", InvalidCommand),
        (plan("bad id"), "plan_id", "identifier", InvalidCommand),
        (StartSubscription("c", "S1", "holder", "PQ", date(2020, 5, 1)), "subscription_id", "unique_subscription", Conflict),
        (StartSubscription("c", "S9", "ghost", "PQ", date(2020, 5, 1)), "member_id", "known_member", NotFound),
        (StartSubscription("c", "S9", "prov", "NOPE", date(2020, 5, 1)), "plan_id", "known_plan", NotFound),
        (StartSubscription("c", "S9", "prov", "PQ", date(2020, 1, 31)), "member_id", "member_on_date", InvalidCommand),
        (StartSubscription("c", "S9", "prov", "PQ", date(2020, 1, 10)), "member_id", "member_on_date", InvalidCommand),
        (StartSubscription("c", "S9", "prov", "PM", date(2020, 5, 1)), "plan_id", "one_subscription_per_plan", Conflict),
        (StartSubscription("c", "S9", "prov", "PM", date(2020, 2, 1)), "plan_id", "one_subscription_per_plan", Conflict),
    ],
)
def test_plan_and_subscription_refusals_name_field_and_rule(books, command, field, expected_rule, kind):
    error = books.refused(command)
    assert isinstance(error, kind) and rule(error) == (field, expected_rule), error.message


def test_a_subscription_needs_a_plan_defined_by_its_start(books):
    books.do(plan("LATE", day=date(2020, 6, 1)))
    error = books.refused(StartSubscription("c", "S9", "prov", "LATE", date(2020, 5, 31)))
    assert rule(error) == ("effective_date", "not_before")
    books.do(StartSubscription("c", "S9", "prov", "LATE", date(2020, 6, 1)))


def test_a_member_who_left_can_have_a_back_dated_subscription_but_not_one_after(books):
    books.admit("gone")
    books.do(membership.ResignMember("c", "gone", date(2020, 6, 30)))
    assert rule(books.refused(StartSubscription("c", "G1", "gone", "PM", date(2020, 6, 30)))) == ("member_id", "member_on_date")
    books.do(StartSubscription("c", "G1", "gone", "PM", date(2020, 4, 1)))
    books.do(BillSubscription("c", "G1", "2020-06", date(2020, 7, 1), D("0")))
    assert rule(books.refused(BillSubscription("c", "G1", "2020-07", date(2020, 8, 1), D("0")))) == ("period", "member_left")


# ---------------------------------------------------------------- billing


def test_a_provider_bill_is_the_fixed_part_plus_the_rounded_revenue_share(books):
    # March 2020 overlaps the subscription (from the 15th): billed in full, no pro rata.
    (event,) = books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("4150.50")))
    # 3% of 4,150.50 = 124.515 -> 124.52; + 49.00 = 173.52
    assert (event.fixed_cents, event.revenue_share_cents, event.amount_cents) == (4900, 12452, 17352)
    assert event.declared_revenue_cents == 415050 and event.journal_number == 1
    assert event.postings == [["411", "prov", "EUR", 17352], ["706", None, "EUR", -17352]]
    assert books.coop.subscriptions.subscriptions["S1"].bills["2020-03"].amount_cents == 17352


def test_a_flat_plan_bills_its_fixed_part_and_may_bill_from_the_first_day(books):
    (event,) = books.do(BillSubscription("c", "H1", "2020", date(2020, 2, 1)))
    assert (event.amount_cents, event.revenue_share_cents, event.declared_revenue_cents) == (24000, 0, None)
    assert event.postings == [["411", "holder", "EUR", 24000], ["706", None, "EUR", -24000]]


def test_a_scic_posts_subscriptions_to_706_too():
    b = Books("scic")
    b.admit("prov")
    b.do(plan())
    b.do(StartSubscription("c", "S1", "prov", "PM", date(2020, 2, 1)))
    (event,) = b.do(BillSubscription("c", "S1", "2020-02", date(2020, 3, 1), D("100")))
    assert event.postings == [["411", "prov", "EUR", 5200], ["706", None, "EUR", -5200]]


def test_a_share_only_plan_rounds_half_a_cent_up_and_refuses_a_zero_bill(books):
    books.do(StartSubscription("c", "Q1", "prov", "PQ", date(2020, 2, 1)))
    (event,) = books.do(BillSubscription("c", "Q1", "2020-Q1", date(2020, 4, 1), D("0.04")))  # 0.005 -> 0.01
    assert event.amount_cents == 1
    error = books.refused(BillSubscription("c", "Q1", "2020-Q2", date(2020, 7, 1), D("0.03")))  # 0.00375 -> 0.00
    assert rule(error) == ("declared_revenue", "nothing_to_bill")


@pytest.mark.parametrize(
    ("command", "field", "expected_rule", "kind"),
    [
        (BillSubscription("c", "NOPE", "2020-04", date(2020, 5, 1), D("1")), "subscription_id", "known_subscription", NotFound),
        (BillSubscription("c", "S1", "2020-Q2", date(2020, 7, 1), D("1")), "period", "period_label", InvalidCommand),
        (BillSubscription("c", "S1", "2020-02", date(2020, 5, 1), D("1")), "period", "period_in_subscription", InvalidCommand),
        (BillSubscription("c", "S1", "2020-04", date(2020, 5, 1), None), "declared_revenue", "required", InvalidCommand),
        (BillSubscription("c", "S1", "2020-04", date(2020, 5, 1), D("-1")), "declared_revenue", "non_negative", InvalidCommand),
        (BillSubscription("c", "S1", "2020-04", date(2020, 5, 1), 10.5), "declared_revenue", "decimal", InvalidCommand),
        (BillSubscription("c", "S1", "2020-04", date(2020, 4, 30), D("1")), "effective_date", "period_ended", InvalidCommand),
        (BillSubscription("c", "H1", "2021", date(2020, 12, 31)), "effective_date", "not_before", InvalidCommand),
        (BillSubscription("c", "H1", "2020", date(2020, 3, 1), D("10")), "declared_revenue", "not_applicable", InvalidCommand),
        (BillSubscription("c", "H1", "2019", date(2020, 3, 1)), "period", "period_in_subscription", InvalidCommand),
        (BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("1")), "period", "period_billed_once", Conflict),
        (PaySubscription("c", "S1", "2020-04", D("1"), date(2020, 5, 1)), "period", "period_billed", NotFound),
        (PaySubscription("c", "NOPE", "2020-03", D("1"), date(2020, 5, 1)), "subscription_id", "known_subscription", NotFound),
        (PaySubscription("c", "S1", "2020-03", D("0"), date(2020, 5, 1)), "amount", "positive", InvalidCommand),
        (PaySubscription("c", "S1", "2020-03", D("52.01"), date(2020, 5, 1)), "amount", "no_overpayment", InvalidCommand),
        (PaySubscription("c", "S1", "2020-03", D("1"), date(2020, 4, 1)), "effective_date", "not_before", InvalidCommand),
    ],
)
def test_billing_and_payment_refusals_name_field_and_rule(books, command, field, expected_rule, kind):
    books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("100")))  # 49 + 3 = 52.00
    error = books.refused(command)
    assert isinstance(error, kind) and rule(error) == (field, expected_rule), error.message


def test_payments_reach_the_bill_exactly_and_never_beyond(books):
    books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("100")))  # 52.00
    (first,) = books.do(PaySubscription("c", "S1", "2020-03", D("30"), date(2020, 4, 10)))
    assert first.postings == [["512", None, "EUR", 3000], ["411", "prov", "EUR", -3000]]
    error = books.refused(PaySubscription("c", "S1", "2020-03", D("22.01"), date(2020, 4, 11)))
    assert rule(error) == ("amount", "no_overpayment") and "22.00" in error.message
    books.do(PaySubscription("c", "S1", "2020-03", D("22.00"), date(2020, 4, 11)))
    assert rule(books.refused(PaySubscription("c", "S1", "2020-03", D("0.01"), date(2020, 4, 12)))) == (
        "amount",
        "no_overpayment",
    )
    assert books.coop.subscriptions.subscriptions["S1"].bills["2020-03"].paid_cents == 5200


# ---------------------------------------------------------------- cancellation


def test_cancellation_ends_the_periods_that_can_be_billed(books):
    books.do(BillSubscription("c", "S1", "2020-04", date(2020, 5, 1), D("0")))
    # Ending on 1 April would leave April, already billed, outside the subscription.
    assert rule(books.refused(CancelSubscription("c", "S1", date(2020, 4, 1), "x"))) == ("effective_date", "billed_after_end")
    assert rule(books.refused(CancelSubscription("c", "S1", date(2020, 3, 14), "x"))) == ("effective_date", "not_before")
    assert rule(books.refused(CancelSubscription("c", "S1", date(2020, 5, 1), " "))) == ("reason", "required")
    books.do(CancelSubscription("c", "S1", date(2020, 5, 1), "leaves the platform"))
    assert rule(books.refused(CancelSubscription("c", "S1", date(2020, 6, 1), "again"))) == ("subscription_id", "cancelled_once")
    assert rule(books.refused(BillSubscription("c", "S1", "2020-05", date(2020, 6, 1), D("1")))) == (
        "period",
        "period_in_subscription",
    )
    # The same member may subscribe to the plan again from the end date on, not before.
    error = books.refused(StartSubscription("c", "S2", "prov", "PM", date(2020, 4, 30)))
    assert rule(error) == ("plan_id", "one_subscription_per_plan")
    books.do(StartSubscription("c", "S2", "prov", "PM", date(2020, 5, 1)))


def test_a_subscription_cancelled_on_its_start_covers_nothing(books):
    books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("1")))
    error = books.refused(CancelSubscription("c", "S1", date(2020, 3, 15), "entered by mistake"))
    assert rule(error) == ("effective_date", "billed_after_end") and "2020-03" in error.message
    books.do(ReverseEntry("c", 1, "entered by mistake", date(2020, 4, 3)))
    books.do(CancelSubscription("c", "S1", date(2020, 3, 15), "entered by mistake"))
    error = books.refused(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("1")))
    assert rule(error) == ("period", "period_in_subscription")


# ---------------------------------------------------------------- reversal


def test_a_bill_is_reversed_after_its_payments_and_can_then_be_billed_again(books):
    books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 2), D("100")))  # entry 1: 52.00
    books.do(PaySubscription("c", "S1", "2020-03", D("52"), date(2020, 4, 10)))  # entry 2
    assert rule(books.refused(ReverseEntry("c", 1, "wrong revenue", date(2020, 4, 20)))) == ("entry_number", "bill_unpaid")
    books.do(ReverseEntry("c", 2, "cheque bounced", date(2020, 4, 20)))  # entry 3
    assert books.coop.subscriptions.subscriptions["S1"].bills["2020-03"].paid_cents == 0
    (reversal,) = books.do(ReverseEntry("c", 1, "wrong revenue", date(2020, 4, 20)))  # entry 4
    assert reversal.postings == [["411", "prov", "EUR", -5200], ["706", None, "EUR", 5200]]
    assert "2020-03" not in books.coop.subscriptions.subscriptions["S1"].bills
    (rebilled,) = books.do(BillSubscription("c", "S1", "2020-03", date(2020, 4, 21), D("200")))  # 49 + 6
    assert (rebilled.journal_number, rebilled.amount_cents) == (5, 5500)
