"""Success contributions and the cooperation fund, pure rules (no store).

Pledge P1: alice, 5% of her yearly result, 2020-2022 (3 years by default), pledged 2020-03-01.
Hand-computed calls: 5% of 100,000.07 EUR = 5,000.0035 -> 5,000.00 (rounded down to the cent);
a loss calls nothing.

`Books` (an in-memory cooperative driven through the deciders) is shared by the funds tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain import grants
from domain.contributions import (
    CancelContributionResult,
    ContributionPaid,
    DeclareContributionResult,
    PayContribution,
    PledgeContribution,
    contribution_due_cents,
)
from domain.corrections import ReverseEntry
from domain.errors import Conflict, DomainError, InvalidCommand, NotFound
from domain.events import FinancialEvent
from domain.membership import ResignMember
from domain.pots import FUND, Figures, Pot
from tests import builders
from tests.builders import admit

D = Decimal


class Books(builders.Books):
    def admit(self, member_id: str, day: date = date(2020, 2, 1)) -> None:
        self.do(admit(self.slug, member_id, self.member_college(), day))

    def fund(self) -> Figures:
        return self.coop.grants.pots[FUND].totals


def rule(error: DomainError) -> tuple[str, str]:
    return error.field, error.rule


@pytest.fixture
def books() -> Books:
    b = Books()
    b.admit("alice")
    b.do(PledgeContribution("c", "P1", "alice", "5", 2020, date(2020, 3, 1)))
    return b


def declare(year: int, result: str, day: date = date(2021, 3, 1), pledge: str = "P1") -> DeclareContributionResult:
    return DeclareContributionResult("c", pledge, year, D(result), day)


def pay(year: int, amount: str, day: date = date(2021, 4, 1), pledge: str = "P1") -> PayContribution:
    return PayContribution("c", pledge, year, D(amount), day)


# ---------------------------------------------------------------- the rounding rule


@pytest.mark.parametrize(
    ("rate", "result_cents", "called"),
    [
        (Fraction(5), 10_000_007, 500_000),  # 5,000.0035 -> 5,000.00
        (Fraction(3), 125_432_137, 3_762_964),  # 37,629.6411 -> 37,629.64
        (Fraction(10, 3), 10_000, 333),  # 3.3333 -> 3.33
        (Fraction(1), 99, 0),  # 0.0099 -> 0.00: rounds to nothing
        (Fraction(100), 12_345, 12_345),
        (Fraction(5, 2), 199, 4),  # 4.975 cents -> 4: down, never half up
        (Fraction(5), 0, 0),
        (Fraction(5), -1_250_000, 0),  # a loss calls nothing
    ],
)
def test_called_is_rate_times_result_rounded_down_and_nothing_on_a_loss(rate, result_cents, called):
    assert contribution_due_cents(rate, result_cents) == called


# ---------------------------------------------------------------- pledges


def test_a_pledge_lasts_three_years_by_default_and_keeps_the_rate_exact(books):
    pledge = books.coop.contributions.pledges["P1"]
    assert (pledge.first_year, pledge.years, pledge.rate_percent) == (2020, 3, Fraction(5))
    assert [y for y in range(2018, 2025) if pledge.covers(y)] == [2020, 2021, 2022]
    (event,) = books.do(PledgeContribution("c", "P2", "alice", "2.5", 2021, date(2020, 6, 1), years=1))
    assert (event.kind, event.rate_percent, event.years) == ("ContributionPledged", "5/2", 1)


@pytest.mark.parametrize(
    ("rate", "expected_rule"),
    [
        (2.5, "exact_rate"),
        ("abc", "exact_rate"),
        ("1e2", "exact_rate"),
        ("10/0", "exact_rate"),
        ("-5", "exact_rate"),
        ("0", "rate_range"),
        ("100.01", "rate_range"),
        ("0/7", "rate_range"),
        (None, "exact_rate"),
        (True, "exact_rate"),
    ],
)
def test_bad_rates_are_refused(books, rate, expected_rule):
    assert rule(books.refused(PledgeContribution("c", "P2", "alice", rate, 2020, date(2020, 3, 1)))) == (
        "rate_percent",
        expected_rule,
    )


@pytest.mark.parametrize(
    ("rate", "expected"), [("100", Fraction(100)), (D("2.5"), Fraction(5, 2)), (7, Fraction(7)), ("10/3", Fraction(10, 3))]
)
def test_rates_may_be_decimals_integers_or_fractions(books, rate, expected):
    books.do(PledgeContribution("c", "P2", "alice", rate, 2020, date(2020, 3, 1)))
    assert books.coop.contributions.pledges["P2"].rate_percent == expected


def test_pledge_refusals(books):
    assert rule(books.refused(PledgeContribution("c", "P1", "alice", "5", 2020, date(2020, 3, 1)))) == (
        "pledge_id",
        "unique_pledge",
    )
    assert isinstance(books.refused(PledgeContribution("c", "P1", "alice", "5", 2020, date(2020, 3, 1))), Conflict)
    assert rule(books.refused(PledgeContribution("c", "P2", "bob", "5", 2020, date(2020, 3, 1)))) == ("member_id", "known_member")
    assert rule(books.refused(PledgeContribution("c", "P2", "alice", "5", 2020, date(2020, 3, 1), years=0))) == ("years", "range")
    assert rule(books.refused(PledgeContribution("c", "P2", "alice", "5", 2020, date(2020, 3, 1), years=11))) == (
        "years",
        "range",
    )
    assert rule(books.refused(PledgeContribution("c", "P2", "alice", "5", 2020, date(2020, 1, 15)))) == (
        "effective_date",
        "not_before",
    )
    books.do(ResignMember("c", "alice", date(2020, 6, 30)))
    # Recorded late for a date she was still a member: accepted; after she left: refused.
    books.do(PledgeContribution("c", "P2", "alice", "5", 2020, date(2020, 6, 29)))
    assert rule(books.refused(PledgeContribution("c", "P3", "alice", "5", 2020, date(2020, 6, 30)))) == (
        "member_id",
        "member_on_date",
    )


# ---------------------------------------------------------------- declaring results


def test_declaring_a_profit_calls_rate_times_result_rounded_down(books):
    (event,) = books.do(declare(2020, "100000.07"))
    assert (event.kind, event.result_cents, event.called_cents) == ("ContributionResultDeclared", 10_000_007, 500_000)
    assert not isinstance(event, FinancialEvent)  # a voluntary pledge: no receivable
    declared = books.coop.contributions.pledges["P1"].declared[2020]
    assert (declared.called_cents, declared.paid_cents) == (500_000, 0)


def test_declaring_a_loss_calls_nothing_but_the_year_is_declared(books):
    (event,) = books.do(declare(2020, "-12500.00"))
    assert (event.result_cents, event.called_cents) == (-1_250_000, 0)
    assert rule(books.refused(declare(2020, "5000"))) == ("year", "declared_once")
    assert rule(books.refused(pay(2020, "0.01"))) == ("amount", "no_overpayment")


@pytest.mark.parametrize(("year", "expected"), [(2019, "pledge_year"), (2023, "pledge_year")])
def test_years_outside_the_pledge_are_refused(books, year, expected):
    error = books.refused(declare(year, "1000", day=date(2024, 1, 1)))
    assert rule(error) == ("year", expected) and isinstance(error, InvalidCommand)


def test_declaration_refusals(books):
    assert rule(books.refused(declare(2020, "1000", pledge="P9"))) == ("pledge_id", "known_pledge")
    assert isinstance(books.refused(declare(2020, "1000", pledge="P9")), NotFound)
    assert rule(books.refused(declare(2020, "1000", day=date(2020, 12, 31)))) == ("effective_date", "year_ended")
    assert rule(books.refused(declare(2020, "1000.001"))) == ("result", "precision")
    float_result = DeclareContributionResult("c", "P1", 2020, 1000.5, date(2021, 3, 1))
    assert rule(books.refused(float_result)) == ("result", "decimal")
    books.do(declare(2020, "1000", day=date(2021, 1, 1)))  # the first day after the year is fine
    assert isinstance(books.refused(declare(2020, "1000")), Conflict)


# ---------------------------------------------------------------- payments and the fund


def test_payments_go_into_the_fund_and_never_exceed_what_was_called(books):
    books.do(declare(2020, "100000.07"))
    assert rule(books.refused(pay(2020, "5000.01"))) == ("amount", "no_overpayment")
    (first,) = books.do(pay(2020, "3000"))
    assert first.postings == [
        ["512", None, "EUR", 300_000],
        ["7551", None, "EUR", -300_000],
        ["6895", None, "EUR", 300_000],
        ["195", None, "EUR", -300_000],
    ]
    assert rule(books.refused(pay(2020, "2000.01"))) == ("amount", "no_overpayment")
    books.do(pay(2020, "2000"))
    assert books.coop.contributions.pledges["P1"].declared[2020].paid_cents == 500_000
    assert (books.fund().received_cents, books.fund().cash_cents, books.fund().available_cents) == (500_000, 500_000, 500_000)


def test_payment_refusals(books):
    assert rule(books.refused(pay(2020, "10"))) == ("year", "declared_year")
    books.do(declare(2020, "1000", day=date(2021, 3, 1)))  # calls 50.00
    assert rule(books.refused(pay(2020, "10", day=date(2021, 2, 28)))) == ("effective_date", "not_before")
    assert rule(books.refused(pay(2020, "0"))) == ("amount", "positive")
    assert rule(books.refused(pay(2020, "-10"))) == ("amount", "positive")


def test_a_scic_defers_the_contribution_on_487_instead_of_fonds_dedies():
    b = Books("scic")
    b.admit("emma")
    b.do(PledgeContribution("c", "P1", "emma", "10", 2020, date(2020, 3, 1)))
    b.do(declare(2020, "1234.56"))  # 10% = 123.456 -> 123.45
    (event,) = b.do(pay(2020, "123.45"))
    assert event.postings == [["512", None, "EUR", 12_345], ["4875", None, "EUR", -12_345]]


def test_cancelling_a_declaration_needs_no_payments_and_frees_the_year(books):
    books.do(declare(2020, "1000"))
    books.do(pay(2020, "10"))  # entry 1
    cancel = CancelContributionResult("c", "P1", 2020, "accounts restated", date(2021, 5, 1))
    assert rule(books.refused(cancel)) == ("year", "contribution_unpaid")
    books.do(ReverseEntry("c", 1, "wrong pledge", date(2021, 5, 1)))
    (event,) = books.do(cancel)
    assert event.kind == "ContributionResultCancelled" and 2020 not in books.coop.contributions.pledges["P1"].declared
    assert rule(books.refused(cancel)) == ("year", "declared_year")
    (again,) = books.do(declare(2020, "2000", day=date(2021, 5, 2)))
    assert again.called_cents == 10_000
    assert books.fund() == Figures()  # +10 then -10 in received and inflow


def test_a_reversed_payment_must_not_take_back_what_the_fund_committed(books):
    books.do(declare(2020, "200000"))  # calls 10,000.00
    books.do(pay(2020, "10000", day=date(2021, 4, 1)))  # entry 1
    books.do(grants.OpenCall("c", "C1", "Call", D("6000"), D("1000"), D("3000"), 5, date(2021, 5, 1)))
    with pytest.raises(InvalidCommand) as exc:
        ContributionPaid.check_reversible(books.coop, books.entries[0].effect(), date(2021, 6, 1))
    assert rule(exc.value) == ("entry_number", "fund_covers") and "4000.00" in exc.value.message
    assert rule(books.refused(ReverseEntry("c", 1, "bounced", date(2021, 6, 1)))) == ("entry_number", "fund_covers")


# ---------------------------------------------------------------- pots, as of any date


def test_a_pot_reports_its_lowest_figure_from_a_date_on():
    pot = Pot(
        moves=[
            (date(2020, 1, 10), Figures(inflow_cents=100, received_cents=100)),
            (date(2020, 1, 20), Figures(reserved_cents=80)),
            (date(2020, 1, 5), Figures(inflow_cents=50, received_cents=50)),
        ]
    )
    available = lambda f: f.available_cents  # noqa: E731
    assert pot.lowest_from(date(2020, 1, 1), available) == 0  # nothing yet on the 1st
    assert pot.lowest_from(date(2020, 1, 5), available) == 50  # 50, 150, then 150 - 80 = 70
    assert pot.lowest_from(date(2020, 1, 15), available) == 70
    assert pot.lowest_from(date(2020, 2, 1), lambda f: f.cash_cents) == 150


def test_figures_add_and_derive_exactly():
    f = Figures(inflow_cents=1000, received_cents=700, used_cents=100, reserved_cents=200, awarded_cents=300, paid_cents=250)
    assert (f.unspent_cents, f.available_cents, f.cash_cents, f.committed_cents) == (600, 400, 450, 250)
    assert f + f.scaled(-1) == Figures()
    assert f.as_dict()["available_cents"] == 400
