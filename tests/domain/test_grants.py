"""Calls for projects and grants, pure rules (no store).

The fund receives 20,000.00 EUR on 2021-02-01 (10% of alice's 2020 result of 200,000.00).
Call C1 opens 2021-03-01 on the fund: envelope 10,000, awards 2,000 to 5,000, at most 3
laureates. Applications A1 (alice), A2 (bob), A3 (carol), A4 (non-member "Collectif"), all 2021-03-05.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import (
    AwardGrant,
    CloseCall,
    GrantAwarded,
    GrantWithdrawn,
    OpenCall,
    PayGrant,
    RecordApplication,
    WithdrawGrant,
)
from domain.membership import ResignMember
from domain.pots import FUND, Figures
from domain.subsidies import ReceiveSubsidy, RecordSubsidy
from tests.domain.test_contributions import Books, rule

D = Decimal
MAR1, MAR5, APR1, MAY1 = date(2021, 3, 1), date(2021, 3, 5), date(2021, 4, 1), date(2021, 5, 1)


def open_call(
    call_id: str = "C1", envelope: str = "10000", lo: str = "2000", hi: str = "5000", laureates: int = 3, day: date = MAR1, **kw
) -> OpenCall:
    return OpenCall("c", call_id, f"Appel {call_id}", D(envelope), D(lo), D(hi), laureates, day, **kw)


def award(app: str, amount: str, day: date = APR1) -> AwardGrant:
    return AwardGrant("c", app, D(amount), day)


def pay(app: str, amount: str, day: date = MAY1) -> PayGrant:
    return PayGrant("c", app, D(amount), day)


@pytest.fixture
def books() -> Books:
    b = Books()
    for member_id in ("alice", "bob", "carol"):
        b.admit(member_id)
    b.do(PledgeContribution("c", "P1", "alice", "10", 2020, date(2020, 3, 1)))
    b.do(DeclareContributionResult("c", "P1", 2020, D("200000"), date(2021, 1, 15)))
    b.do(PayContribution("c", "P1", 2020, D("20000"), date(2021, 2, 1)))  # entry 1
    b.do(open_call())
    for app, member in (("A1", "alice"), ("A2", "bob"), ("A3", "carol")):
        b.do(RecordApplication("c", "C1", app, f"Projet {app}", MAR5, member_id=member))
    b.do(RecordApplication("c", "C1", "A4", "Projet A4", MAR5, applicant="Collectif"))
    return b


def fund(books: Books) -> Figures:
    return books.coop.grants.pots[FUND].totals


# ---------------------------------------------------------------- opening


def test_opening_reserves_the_envelope_on_the_fund(books):
    f = fund(books)
    assert (f.received_cents, f.reserved_cents, f.available_cents, f.committed_cents) == (
        2_000_000,
        1_000_000,
        1_000_000,
        1_000_000,
    )
    call = books.coop.grants.calls["C1"]
    assert (call.envelope_cents, call.min_award_cents, call.max_award_cents, call.max_laureates) == (
        1_000_000,
        200_000,
        500_000,
        3,
    )
    assert call.source == FUND and not call.members_only


def test_an_envelope_never_commits_more_than_the_fund_holds(books):
    # 10,000 left available: a second call of 10,000.01 is refused, 10,000.00 fits exactly.
    assert rule(books.refused(open_call("C2", envelope="10000.01", hi="5000"))) == ("envelope", "envelope_available")
    books.do(open_call("C2", envelope="10000"))
    assert fund(books).available_cents == 0
    assert rule(books.refused(open_call("C3", envelope="2000", hi="2000"))) == ("envelope", "envelope_available")


def test_a_call_back_dated_before_the_money_arrived_is_refused(books):
    # On 2021-01-31 the fund held nothing yet.
    error = books.refused(open_call("C2", envelope="2000", hi="2000", day=date(2021, 1, 31)))
    assert rule(error) == ("envelope", "envelope_available") and "0.00 EUR" in error.message


def test_a_back_dated_call_must_fit_on_every_later_date_too(books):
    # Available: 20,000 from 2021-02-01, 10,000 from 2021-03-01 (C1). A call dated 2021-02-15
    # would see 20,000 that day but only 10,000 from March on.
    assert rule(books.refused(open_call("C2", envelope="10000.01", day=date(2021, 2, 15)))) == ("envelope", "envelope_available")
    books.do(open_call("C2", envelope="10000", day=date(2021, 2, 15)))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (open_call("C1"), ("call_id", "unique_call")),
        (open_call("C2", lo="5000", hi="4999.99"), ("max_award", "award_bounds")),
        (open_call("C2", envelope="4000", hi="5000"), ("max_award", "within_envelope")),
        (open_call("C2", laureates=0), ("max_laureates", "range")),
        (open_call("C2", laureates=1001), ("max_laureates", "range")),
        (open_call("C2", envelope="0"), ("envelope", "positive")),
        (open_call("C2", lo="0"), ("min_award", "positive")),
        (open_call("C2", day=date(2019, 12, 31)), ("effective_date", "not_before_founding")),
        (open_call("C2", subsidy_id="S9"), ("subsidy_id", "known_subsidy")),
        (open_call("C2", members_only="yes"), ("members_only", "boolean")),
    ],
)
def test_opening_refusals(books, command, expected):
    assert rule(books.refused(command)) == expected


def test_a_call_on_a_subsidy_opens_from_the_grant_date_within_what_it_granted(books):
    books.do(RecordSubsidy("c", "S1", "Région", "Médias", D("40000"), date(2021, 2, 10)))
    assert rule(books.refused(open_call("C2", envelope="1000", hi="1000", lo="500", day=date(2021, 2, 9), subsidy_id="S1"))) == (
        "effective_date",
        "not_before",
    )
    assert rule(books.refused(open_call("C2", envelope="40000.01", day=date(2021, 3, 1), subsidy_id="S1"))) == (
        "envelope",
        "envelope_available",
    )
    books.do(open_call("C2", envelope="40000", day=date(2021, 3, 1), subsidy_id="S1"))
    assert books.coop.grants.pots["subsidy:S1"].totals.available_cents == 0
    assert fund(books).available_cents == 1_000_000  # the fund is untouched


# ---------------------------------------------------------------- applications


def test_applications_from_members_and_non_members(books):
    grants = books.coop.grants.grants
    assert (grants["A1"].member_id, grants["A1"].applicant) == ("alice", "Member alice")
    assert (grants["A4"].member_id, grants["A4"].applicant) == (None, "Collectif")
    books.do(open_call("C2", envelope="2000", hi="2000", members_only=True))
    assert rule(books.refused(RecordApplication("c", "C2", "B1", "P", MAR5, applicant="Collectif"))) == (
        "member_id",
        "members_only",
    )
    books.do(RecordApplication("c", "C2", "B1", "P", MAR5, member_id="bob", applicant="Bob's cooperative"))
    assert books.coop.grants.grants["B1"].applicant == "Bob's cooperative"


def test_application_refusals(books):
    assert rule(books.refused(RecordApplication("c", "C9", "B1", "P", MAR5, applicant="X"))) == ("call_id", "known_call")
    assert rule(books.refused(RecordApplication("c", "C1", "A1", "P", MAR5, applicant="X"))) == (
        "application_id",
        "unique_application",
    )
    assert rule(books.refused(RecordApplication("c", "C1", "B1", "P", MAR5))) == ("applicant", "required")
    assert rule(books.refused(RecordApplication("c", "C1", "B1", "P", date(2021, 2, 28), applicant="X"))) == (
        "effective_date",
        "not_before",
    )
    assert rule(books.refused(RecordApplication("c", "C1", "B1", "P", MAR5, member_id="zoe"))) == ("member_id", "known_member")
    assert rule(books.refused(RecordApplication("c", "C1", "B1", " ", MAR5, applicant="X"))) == ("project", "required")
    books.do(ResignMember("c", "carol", date(2021, 3, 10)))
    assert rule(books.refused(RecordApplication("c", "C1", "B1", "P", date(2021, 3, 10), member_id="carol"))) == (
        "member_id",
        "member_on_date",
    )


# ---------------------------------------------------------------- awards


def test_an_award_is_an_expense_owed_to_the_laureate_and_uses_the_fund(books):
    (event,) = books.do(award("A1", "5000"))
    assert event.kind == "GrantAwarded" and event.amount_cents == 500_000
    assert event.postings == [
        ["6571", None, "EUR", 500_000],
        ["4686", "A1", "EUR", -500_000],
        ["195", None, "EUR", 500_000],
        ["7895", None, "EUR", -500_000],
    ]
    f = fund(books)
    # Reservation becomes award: available unchanged, unspent (195) down by 5,000.
    assert (f.awarded_cents, f.reserved_cents, f.available_cents, f.unspent_cents) == (500_000, 500_000, 1_000_000, 1_500_000)


@pytest.mark.parametrize(("amount", "expected"), [("1999.99", "award_bounds"), ("5000.01", "award_bounds"), ("0", "positive")])
def test_awards_stay_within_the_bounds(books, amount, expected):
    assert rule(books.refused(award("A1", amount))) == ("amount", expected)
    books.do(award("A1", "2000"))


def test_awards_never_exceed_the_envelope_nor_the_laureate_count(books):
    books.do(award("A1", "5000"))
    books.do(award("A2", "4000"))  # 9,000 awarded: 1,000 left, under the minimum award
    assert rule(books.refused(award("A3", "2000"))) == ("amount", "envelope")
    books.do(WithdrawGrant("c", "A2", "project dropped", APR1))  # 4,000 back in the envelope
    books.do(award("A3", "2500"))
    books.do(award("A4", "2500"))  # 10,000 awarded to A1, A3, A4: 3 laureates
    books.do(RecordApplication("c", "C1", "A5", "P", MAR5, applicant="Late"))
    assert rule(books.refused(award("A5", "2000"))) == ("amount", "envelope")
    call = books.coop.grants.calls["C1"]
    assert (call.awarded_cents, call.laureates) == (1_000_000, 3)


def test_the_laureate_count_is_refused_before_the_envelope_runs_out(books):
    books.do(open_call("C2", envelope="10000", laureates=2))
    for app in ("B1", "B2", "B3"):
        books.do(RecordApplication("c", "C2", app, "P", MAR5, applicant=app))
    books.do(award("B1", "2000"))
    books.do(award("B2", "2000"))
    assert rule(books.refused(award("B3", "2000"))) == ("application_id", "max_laureates")


def test_award_refusals(books):
    books.do(award("A1", "3000"))
    assert rule(books.refused(award("A1", "3000"))) == ("application_id", "awarded_once")
    assert isinstance(books.refused(award("A1", "3000")), Conflict)
    assert rule(books.refused(award("A9", "3000"))) == ("application_id", "known_application")
    assert isinstance(books.refused(award("A9", "3000")), NotFound)
    assert rule(books.refused(award("A2", "3000", day=date(2021, 3, 4)))) == ("effective_date", "not_before")


# ---------------------------------------------------------------- payments and withdrawals


def test_grants_are_paid_in_tranches_never_beyond_the_award(books):
    books.do(award("A1", "5000"))
    (first,) = books.do(pay("A1", "2000"))
    assert first.postings == [["4686", "A1", "EUR", 200_000], ["512", None, "EUR", -200_000]]
    assert rule(books.refused(pay("A1", "3000.01"))) == ("amount", "within_award")
    books.do(pay("A1", "3000"))
    assert rule(books.refused(pay("A1", "0.01"))) == ("amount", "within_award")
    f = fund(books)
    # Balance 20,000 - 5,000 paid; committed = 0 outstanding + 5,000 unawarded in C1.
    assert (f.cash_cents, f.committed_cents, f.available_cents) == (1_500_000, 500_000, 1_000_000)


def test_payment_refusals(books):
    assert rule(books.refused(pay("A9", "10"))) == ("application_id", "known_application")
    assert rule(books.refused(pay("A1", "10"))) == ("application_id", "grant_awarded")
    books.do(award("A1", "2000"))
    assert rule(books.refused(pay("A1", "10", day=date(2021, 3, 31)))) == ("effective_date", "not_before")


def test_a_payment_the_subsidy_cannot_cover_is_refused():
    b = Books()
    b.do(RecordSubsidy("c", "S1", "Région", "Médias", D("40000"), date(2021, 1, 10)))
    b.do(ReceiveSubsidy("c", "S1", D("5000"), date(2021, 1, 20)))
    b.do(open_call("C1", envelope="20000", lo="5000", hi="10000", subsidy_id="S1"))
    b.do(RecordApplication("c", "C1", "A1", "P", MAR5, applicant="X"))
    b.do(RecordApplication("c", "C1", "A2", "P", MAR5, applicant="Y"))
    b.do(award("A1", "8000"))
    b.do(award("A2", "6000"))
    b.do(pay("A1", "4000"))
    # Received 5,000, paid 4,000: 1,000 left in cash although 10,000 are still owed.
    error = b.refused(pay("A2", "1000.01"))
    assert rule(error) == ("amount", "fund_covers") and "1000.00" in error.message
    b.do(pay("A2", "1000"))
    b.do(ReceiveSubsidy("c", "S1", D("10000"), date(2021, 6, 1)))
    # Cash 10,000 from June only: a payment dated in May still sees nothing left.
    assert rule(b.refused(pay("A2", "5000", day=date(2021, 5, 15)))) == ("amount", "fund_covers")
    b.do(pay("A2", "5000", day=date(2021, 6, 1)))


def test_withdrawing_takes_back_the_unpaid_part_into_the_envelope(books):
    books.do(award("A1", "5000"))
    books.do(pay("A1", "1500"))
    (event,) = books.do(WithdrawGrant("c", "A1", "project finished under budget", date(2021, 6, 1)))
    assert event.amount_cents == 350_000
    assert event.postings == [
        ["4686", "A1", "EUR", 350_000],
        ["6571", None, "EUR", -350_000],
        ["195", None, "EUR", -350_000],
        ["7895", None, "EUR", 350_000],
    ]
    grant, call = books.coop.grants.grants["A1"], books.coop.grants.calls["C1"]
    assert (grant.net_cents, grant.outstanding_cents, call.awarded_cents, call.laureates) == (150_000, 0, 150_000, 1)
    assert rule(books.refused(WithdrawGrant("c", "A1", "again", date(2021, 6, 2)))) == ("application_id", "nothing_to_withdraw")
    assert rule(books.refused(pay("A1", "0.01", day=date(2021, 6, 2)))) == ("amount", "within_award")


def test_a_fully_withdrawn_grant_frees_its_laureate_place(books):
    books.do(open_call("C2", envelope="10000", laureates=1))
    books.do(RecordApplication("c", "C2", "B1", "P", MAR5, applicant="X"))
    books.do(RecordApplication("c", "C2", "B2", "P", MAR5, applicant="Y"))
    books.do(award("B1", "2000"))
    assert rule(books.refused(award("B2", "2000"))) == ("application_id", "max_laureates")
    books.do(WithdrawGrant("c", "B1", "declined", APR1))
    books.do(award("B2", "2000"))
    assert books.coop.grants.calls["C2"].laureates == 1


# ---------------------------------------------------------------- closing


def test_a_call_closes_once_settled_and_gives_back_its_unawarded_envelope(books):
    books.do(award("A1", "5000"))
    books.do(pay("A1", "2000"))
    close = CloseCall("c", "C1", date(2021, 7, 1))
    assert rule(books.refused(close)) == ("call_id", "grants_settled")
    books.do(pay("A1", "3000"))
    assert rule(books.refused(CloseCall("c", "C1", date(2021, 4, 30)))) == ("effective_date", "not_before")
    (event,) = books.do(close)
    assert (event.kind, event.released_cents) == ("CallClosed", 500_000)
    f = fund(books)
    assert (f.reserved_cents, f.committed_cents, f.available_cents, f.cash_cents) == (0, 0, 1_500_000, 1_500_000)


def test_after_closing_nothing_is_awarded_paid_or_withdrawn(books):
    books.do(award("A1", "2000"))
    books.do(pay("A1", "2000"))
    books.do(CloseCall("c", "C1", date(2021, 7, 1)))
    assert rule(books.refused(award("A2", "2000", day=date(2021, 7, 2)))) == ("call_id", "call_open")
    assert rule(books.refused(pay("A1", "1", day=date(2021, 7, 2)))) == ("application_id", "call_open")
    assert rule(books.refused(WithdrawGrant("c", "A1", "late", date(2021, 7, 2)))) == ("application_id", "call_open")
    assert rule(books.refused(RecordApplication("c", "C1", "B1", "P", date(2021, 7, 2), applicant="X"))) == (
        "call_id",
        "call_open",
    )
    assert rule(books.refused(CloseCall("c", "C1", date(2021, 7, 2)))) == ("call_id", "call_open")
    payment = books.entries[-1]  # entry 3 pays A1: closed calls' grants are final
    assert rule(books.refused(ReverseEntry("c", payment.journal_number, "oops", date(2021, 7, 2)))) == (
        "entry_number",
        "call_open",
    )


# ---------------------------------------------------------------- reversals and the general plan


def test_reversals_of_awards_payments_and_withdrawals(books):
    books.do(award("A1", "5000"))  # entry 2
    books.do(pay("A1", "1000"))  # entry 3
    with pytest.raises(InvalidCommand) as exc:
        GrantAwarded.check_reversible(books.coop, books.entries[1].effect(), MAY1)
    assert rule(exc.value) == ("entry_number", "grant_untouched")
    books.do(ReverseEntry("c", 3, "paid twice", MAY1))  # entry 4
    books.do(ReverseEntry("c", 2, "wrong laureate", MAY1))  # entry 5
    assert books.coop.grants.grants["A1"].awarded_cents == 0
    assert fund(books) == Figures(inflow_cents=2_000_000, received_cents=2_000_000, reserved_cents=1_000_000)
    books.do(award("A2", "5000", day=MAY1))  # entry 6
    books.do(award("A1", "5000", day=MAY1))  # entry 7: A1 may be awarded again
    books.do(WithdrawGrant("c", "A1", "declined", MAY1))  # entry 8
    books.do(award("A3", "5000", day=MAY1))  # entry 9: the envelope is full again
    with pytest.raises(InvalidCommand) as exc:
        GrantWithdrawn.check_reversible(books.coop, books.entries[7].effect(), MAY1)
    assert rule(exc.value) == ("entry_number", "envelope")


def test_a_scic_awards_on_658x_and_releases_deferred_income():
    b = Books("scic")
    b.do(RecordSubsidy("c", "S1", "Département", "Médiation", D("10000"), date(2021, 1, 10)))
    b.do(open_call("C1", envelope="3000", lo="1000", hi="3000", subsidy_id="S1"))
    b.do(RecordApplication("c", "C1", "A1", "P", MAR5, applicant="X"))
    (event,) = b.do(award("A1", "1500"))
    assert event.postings == [
        ["6586", None, "EUR", 150_000],
        ["4686", "A1", "EUR", -150_000],
        ["4876", "S1", "EUR", 150_000],
        ["741", None, "EUR", -150_000],
    ]
