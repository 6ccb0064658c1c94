"""Reversals are judged against the history from the reversal's date on, not the current state.

A reversal dated D undoes its entry's effect from D on (domain/corrections.py passes D to
`check_reversible`). It is accepted only if the family's state stays valid on D and on every later
date already recorded: shares never negative, a fee never paid beyond what is called, a pot never
below zero, a gift never used beyond what was given... Each family below has a case the current
state accepted wrongly (a movement made after D and reversed since) and a back-dated reversal
that is legitimately accepted. Contributions, subsidy tranches and the levy judged from the
original entry's date, which refused more than needed: their cases are accepted now.

Certifications, subscriptions, sensor credits and shared hours keep dated movements too (fees
billed and paid, a bill's payments, a host's balance, the minutes still to rebill per structure):
their back-dated payments, redemptions and rebillings are judged from their date on as well.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.advertising import InvoiceAdvertising, PayAdvertisingInvoice, SignAdvertisingContract
from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.corrections import ReverseEntry
from domain.donations import RecordDonation, UseEarmarkedDonation, donations_state
from domain.errors import DomainError
from domain.events import FinancialEvent
from domain.fees import CallFee, PayFee
from domain.grants import AwardGrant, CloseCall, OpenCall, PayGrant, RecordApplication, WithdrawGrant
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor
from domain.membership import RedeemShares, SubscribeShares
from domain.pots import FUND
from domain.subsidies import ReceiveSubsidy, RecordSubsidy
from tests import builders
from tests.builders import admit

D, d = Decimal, date


def rule(error: DomainError) -> tuple[str, str]:
    return error.field, error.rule


def books(legal_form: str = "association", *members: str) -> builders.Books:
    b = builders.Books(legal_form)
    for member_id in members:
        b.do(admit("c", member_id, b.member_college(), d(2020, 1, 1)))
    return b


@pytest.mark.parametrize(
    ("moves", "day", "expected"),
    [
        ([], d(2020, 1, 1), (0, d(2020, 1, 1))),
        ([(d(2020, 1, 1), 5), (d(2020, 3, 1), -5), (d(2020, 5, 1), 5)], d(2020, 2, 1), (0, d(2020, 3, 1))),
        ([(d(2020, 1, 1), 5), (d(2020, 3, 1), -5), (d(2020, 5, 1), 5)], d(2020, 5, 1), (5, d(2020, 5, 1))),
        (
            [(d(2020, 3, 1), -5), (d(2020, 1, 1), 5), (d(2020, 3, 1), 5)],
            d(2020, 2, 1),
            (5, d(2020, 2, 1)),
        ),  # a day's moves together
        ([(d(2020, 1, 1), 2), (d(2020, 4, 1), -1), (d(2020, 6, 1), -3), (d(2020, 9, 1), 4)], d(2020, 1, 1), (-2, d(2020, 6, 1))),
    ],
)
def test_lowest_from_is_the_lowest_running_total_on_and_after_a_day(moves, day, expected):
    assert FinancialEvent.lowest_from(moves, day) == expected


# ---------------------------------------------------------------- shares (domain/membership.py)


def test_a_subscription_reversed_before_a_redemption_is_refused():
    """5 subscribed on 1 Jan, redeemed on 1 Mar, subscribed again on 1 May: the current holding (5)
    covers cancelling the 1 Jan subscription, but from 1 Feb it would leave -5 from 1 Mar to 1 May."""
    b = books("scic", "emma")
    b.do(SubscribeShares("c", "emma", 5, d(2020, 1, 1)))  # entry 1
    b.do(RedeemShares("c", "emma", 5, d(2020, 3, 1)))  # entry 2
    b.do(SubscribeShares("c", "emma", 5, d(2020, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "never paid", d(2020, 2, 1)))
    assert rule(error) == ("entry_number", "shares_still_held")
    assert "holds 0 share(s) on 2020-03-01" in error.message
    emma = b.coop.members["emma"]
    assert [emma.shares_on(day) for day in (d(2020, 2, 1), d(2020, 3, 1), d(2020, 5, 1))] == [5, 0, 5]
    # Dated once the shares are held again, the same reversal is right: 5 held until then, 0 after.
    b.do(ReverseEntry("c", 1, "never paid", d(2020, 5, 1)))
    assert [emma.shares_on(day) for day in (d(2020, 4, 30), d(2020, 5, 1))] == [0, 0]


def test_a_back_dated_subscription_reversal_that_leaves_enough_shares_is_accepted():
    b = books("scic", "emma")
    b.do(SubscribeShares("c", "emma", 5, d(2020, 1, 1)))  # entry 1
    b.do(SubscribeShares("c", "emma", 3, d(2020, 2, 1)))  # entry 2
    b.do(RedeemShares("c", "emma", 4, d(2020, 3, 1)))  # entry 3
    b.do(SubscribeShares("c", "emma", 1, d(2020, 6, 1)))  # entry 4
    assert rule(b.refused(ReverseEntry("c", 1, "error", d(2020, 2, 15)))) == ("entry_number", "shares_still_held")  # 4 on 1 Mar
    (reversal,) = b.do(ReverseEntry("c", 2, "cheque bounced", d(2020, 2, 15)))  # before entries 3 and 4: 5, 1, 2 left
    emma = b.coop.members["emma"]
    assert reversal.effective_date == d(2020, 2, 15)
    assert [emma.shares_on(day) for day in (d(2020, 2, 1), d(2020, 2, 15), d(2020, 3, 1), d(2020, 6, 1))] == [8, 5, 1, 2]


# ---------------------------------------------------------------- fees (domain/fees.py)


def test_a_fee_call_reversed_before_a_payment_that_stood_is_refused():
    """Paid on 1 Mar, the payment reversed on 1 May: nothing is paid now, but cancelling the call
    from 1 Feb would leave 100 EUR paid on nothing called from 1 Mar to 1 May."""
    b = books("association", "alice")
    b.do(CallFee("c", "alice", 2020, d(2020, 1, 10)))  # entry 1: 100 EUR
    b.do(PayFee("c", "alice", 2020, D("100"), d(2020, 3, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "cheque bounced", d(2020, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "called by mistake", d(2020, 2, 1)))
    assert rule(error) == ("entry_number", "fee_unpaid") and "100.00 EUR paid on 2020-03-01" in error.message
    b.do(ReverseEntry("c", 1, "called by mistake", d(2020, 5, 1)))
    call = b.coop.fee_calls[("alice", 2020)]
    assert (call.called_by(d(2020, 4, 30)), call.paid_by(d(2020, 4, 30)), call.called_cents, call.paid_cents) == (
        10_000,
        10_000,
        0,
        0,
    )


def test_a_fee_call_reversed_before_a_payment_undone_the_same_day_is_accepted():
    b = books("association", "alice")
    b.do(CallFee("c", "alice", 2020, d(2020, 1, 10)))  # entry 1
    b.do(PayFee("c", "alice", 2020, D("100"), d(2020, 3, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "cheque bounced", d(2020, 3, 1)))  # entry 3: never paid on any date
    b.do(ReverseEntry("c", 1, "called by mistake", d(2020, 2, 1)))  # back-dated before entries 2 and 3
    call = b.coop.fee_calls[("alice", 2020)]
    assert [(call.called_by(day), call.paid_by(day)) for day in (d(2020, 1, 10), d(2020, 2, 1), d(2020, 3, 1))] == [
        (10_000, 0),
        (0, 0),
        (0, 0),
    ]


def test_a_payment_dated_before_a_later_payment_s_reversal_is_refused():
    """Paid 100 on 1 Mar, refunded on 1 May: 100 is due now, but paying it on 1 Apr would make
    200 paid on a 100 call from 1 Apr to 1 May."""
    b = books("association", "alice")
    b.do(CallFee("c", "alice", 2020, d(2020, 1, 10)))  # entry 1: 100 EUR
    b.do(PayFee("c", "alice", 2020, D("100"), d(2020, 3, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "cheque bounced", d(2020, 5, 1)))  # entry 3
    error = b.refused(PayFee("c", "alice", 2020, D("100"), d(2020, 4, 1)))
    assert rule(error) == ("amount", "no_overpayment") and "the 0.00 EUR still due on the 2020 fee" in error.message
    b.do(PayFee("c", "alice", 2020, D("100"), d(2020, 5, 1)))  # from the refund on, it is due again
    b.do(ReverseEntry("c", 4, "paid twice", d(2020, 5, 2)))
    ahead = b.refused(PayFee("c", "alice", 2020, D("100"), d(2020, 1, 5)))  # would stand beside the 1 Mar payment
    assert rule(ahead) == ("amount", "no_overpayment") and "still due on 2020-03-01" in ahead.message
    call = b.coop.fee_calls[("alice", 2020)]
    assert max(call.paid_by(day) for day in (d(2020, 1, 5), d(2020, 3, 1), d(2020, 4, 1), d(2020, 5, 1))) == 10_000
    early = books("association", "bob")
    early.do(CallFee("c", "bob", 2020, d(2020, 1, 10)))
    early.do(PayFee("c", "bob", 2020, D("100"), d(2020, 1, 5)))  # paid ahead of its call, as before: accepted


# ---------------------------------------------------------------- advertising (domain/advertising.py)


def advertising() -> builders.Books:
    b = books()
    b.do(
        SignAdvertisingContract(
            "c",
            "AD1",
            "bpi",
            "Bpifrance",
            "bank",
            "Bannière",
            D("1200"),
            d(2021, 1, 1),
            d(2021, 6, 30),
            d(2020, 12, 15),
            period="month",
        )
    )
    return b


def test_an_invoice_reversed_before_a_payment_that_stood_is_refused():
    b = advertising()
    b.do(InvoiceAdvertising("c", "AD1", "2021-01", d(2021, 1, 1)))  # entry 1
    b.do(PayAdvertisingInvoice("c", "AD1", "2021-01", D("100"), d(2021, 1, 20)))  # entry 2
    b.do(ReverseEntry("c", 2, "transfer rejected", d(2021, 3, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "wrong invoice", d(2021, 2, 1)))
    assert rule(error) == ("entry_number", "later_payments") and "2021-03-01" in error.message
    b.do(ReverseEntry("c", 1, "wrong invoice", d(2021, 3, 1)))
    assert "2021-01" not in b.coop.advertising.contracts["AD1"].invoices


def test_an_unpaid_invoice_reversed_before_later_entries_is_accepted():
    b = advertising()
    b.do(InvoiceAdvertising("c", "AD1", "2021-01", d(2021, 1, 1)))  # entry 1
    b.do(InvoiceAdvertising("c", "AD1", "2021-02", d(2021, 2, 1)))  # entry 2
    b.do(PayAdvertisingInvoice("c", "AD1", "2021-02", D("1200"), d(2021, 2, 20)))  # entry 3
    b.do(ReverseEntry("c", 1, "wrong invoice", d(2021, 1, 15)))  # before entries 2 and 3
    assert sorted(b.coop.advertising.contracts["AD1"].invoices) == ["2021-02"]


def test_an_invoice_payment_dated_before_a_later_payment_s_refund_is_refused():
    b = advertising()
    b.do(InvoiceAdvertising("c", "AD1", "2021-01", d(2021, 1, 1)))  # entry 1
    due = b.coop.advertising.contracts["AD1"].invoices["2021-01"].amount_cents
    b.do(PayAdvertisingInvoice("c", "AD1", "2021-01", D(due) / 100, d(2021, 1, 20)))  # entry 2
    b.do(ReverseEntry("c", 2, "transfer rejected", d(2021, 3, 1)))  # entry 3: due again from 1 Mar
    error = b.refused(PayAdvertisingInvoice("c", "AD1", "2021-01", D(due) / 100, d(2021, 2, 1)))  # paid twice in Feb
    assert rule(error) == ("amount", "no_overpayment") and "0.00 EUR still due" in error.message
    b.do(PayAdvertisingInvoice("c", "AD1", "2021-01", D(due) / 100, d(2021, 3, 1)))
    invoice = b.coop.advertising.contracts["AD1"].invoices["2021-01"]
    assert invoice.due_cents == 0 and sum(cents for _day, cents in invoice.payments) == due


# ---------------------------------------------------------------- contributions (domain/contributions.py)


def funded(amount: str = "10000") -> builders.Books:
    """alice pledges 10% from 2020; 2020's result calls 20,000; `amount` paid in on 2021-04-01 (entry 1)."""
    b = books("association", "alice")
    b.do(PledgeContribution("c", "P1", "alice", "10", 2020, d(2020, 3, 1)))
    b.do(DeclareContributionResult("c", "P1", 2020, D("200000"), d(2021, 1, 15)))
    b.do(PayContribution("c", "P1", 2020, D(amount), d(2021, 4, 1)))
    return b


def test_a_contribution_is_taken_back_from_the_reversal_date_not_the_payment_date():
    """A call reserved 6,000 of the fund from 1 May to its closing on 1 Jun. Judged from the
    payment's date (as before), the contribution could never be taken back; from 1 Jul it can."""
    b = funded()
    b.do(OpenCall("c", "C1", "Appel", D("6000"), D("1000"), D("3000"), 2, d(2021, 5, 1)))
    b.do(CloseCall("c", "C1", d(2021, 6, 1)))
    error = b.refused(ReverseEntry("c", 1, "bounced", d(2021, 5, 15)))
    assert rule(error) == ("entry_number", "fund_covers") and "4000.00" in error.message
    b.do(ReverseEntry("c", 1, "bounced", d(2021, 7, 1)))
    fund = b.coop.grants.pots[FUND]
    assert (fund.totals.available_cents, fund.lowest_from(d(2021, 4, 1), lambda f: f.available_cents)) == (0, 0)


# ---------------------------------------------------------------- subsidies (domain/subsidies.py)


def subsidy() -> builders.Books:
    b = books("association", "alice")
    b.do(RecordSubsidy("c", "S1", "Région", "Médias", D("40000"), d(2021, 1, 10)))  # entry 1
    return b


def test_a_subsidy_cancelled_before_a_tranche_that_stood_is_refused():
    b = subsidy()
    b.do(ReceiveSubsidy("c", "S1", D("1000"), d(2021, 2, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "wrong account", d(2021, 3, 1)))  # entry 3
    assert rule(b.refused(ReverseEntry("c", 1, "convention withdrawn", d(2021, 1, 20)))) == ("entry_number", "subsidy_untouched")
    assert rule(b.refused(ReverseEntry("c", 1, "convention withdrawn", d(2021, 2, 15)))) == ("entry_number", "subsidy_untouched")
    b.do(ReverseEntry("c", 1, "convention withdrawn", d(2021, 3, 1)))
    assert "S1" not in b.coop.subsidies.subsidies


def test_a_tranche_is_taken_back_from_the_reversal_date_once_a_later_one_covers_the_grants():
    b = subsidy()
    b.do(ReceiveSubsidy("c", "S1", D("5000"), d(2021, 2, 1)))  # entry 2
    b.do(OpenCall("c", "C1", "Appel", D("5000"), D("1000"), D("5000"), 2, d(2021, 2, 1), subsidy_id="S1"))
    b.do(RecordApplication("c", "C1", "A1", "P", d(2021, 2, 2), applicant="X"))
    b.do(AwardGrant("c", "A1", D("4000"), d(2021, 2, 3)))  # entry 3
    b.do(PayGrant("c", "A1", D("4000"), d(2021, 2, 4)))  # entry 4: cash 1,000 from 4 Feb
    b.do(ReceiveSubsidy("c", "S1", D("5000"), d(2021, 2, 10)))  # entry 5: cash 6,000 from 10 Feb
    assert rule(b.refused(ReverseEntry("c", 2, "bounced", d(2021, 2, 5)))) == ("entry_number", "fund_covers")
    b.do(ReverseEntry("c", 2, "bounced", d(2021, 2, 11)))  # refused before: judged from 1 Feb
    pot = b.coop.grants.pots["subsidy:S1"]
    assert (pot.totals.cash_cents, pot.lowest_from(d(2021, 2, 1), lambda f: f.cash_cents)) == (100_000, 100_000)


# ---------------------------------------------------------------- grants (domain/grants.py)


def call_with_applications(envelope: str = "10000") -> builders.Books:
    b = funded("20000")
    b.do(OpenCall("c", "C1", "Appel", D(envelope), D("2000"), D("5000"), 3, d(2021, 4, 1)))
    for app in ("A1", "A2"):
        b.do(RecordApplication("c", "C1", app, f"Projet {app}", d(2021, 4, 2), applicant=f"Collectif {app}"))
    return b


def test_an_award_reversed_before_a_payment_that_stood_is_refused():
    b = call_with_applications()
    b.do(AwardGrant("c", "A1", D("4000"), d(2021, 4, 5)))  # entry 2
    b.do(PayGrant("c", "A1", D("1000"), d(2021, 5, 1)))  # entry 3
    b.do(ReverseEntry("c", 3, "paid twice", d(2021, 6, 1)))  # entry 4
    error = b.refused(ReverseEntry("c", 2, "wrong laureate", d(2021, 5, 15)))
    assert rule(error) == ("entry_number", "later_movements") and "2021-06-01" in error.message
    b.do(ReverseEntry("c", 2, "wrong laureate", d(2021, 6, 1)))
    assert b.coop.grants.grants["A1"].awarded_cents == 0


def test_a_withdrawal_reversed_under_a_later_award_of_its_envelope_is_refused():
    """A1's 5,000 is withdrawn on 10 Apr and awarded to A2 on 1 May, that award reversed on 1 Jul:
    the envelope is free now, but bringing A1's award back from 20 Apr would promise 10,000 of a
    5,000 envelope from 1 May to 1 Jul."""
    b = call_with_applications("5000")
    b.do(AwardGrant("c", "A1", D("5000"), d(2021, 4, 5)))  # entry 2
    b.do(WithdrawGrant("c", "A1", "declined", d(2021, 4, 10)))  # entry 3
    b.do(AwardGrant("c", "A2", D("5000"), d(2021, 5, 1)))  # entry 4
    b.do(ReverseEntry("c", 4, "wrong laureate", d(2021, 7, 1)))  # entry 5
    assert rule(b.refused(ReverseEntry("c", 3, "not declined", d(2021, 4, 20)))) == ("entry_number", "later_movements")
    b.do(ReverseEntry("c", 3, "not declined", d(2021, 7, 1)))
    assert (b.coop.grants.grants["A1"].net_cents, b.coop.grants.calls["C1"].awarded_cents) == (500_000, 500_000)


def test_a_back_dated_withdrawal_reversal_is_accepted_when_no_grant_moved_since():
    b = call_with_applications()
    b.do(AwardGrant("c", "A1", D("5000"), d(2021, 4, 5)))  # entry 2
    b.do(WithdrawGrant("c", "A1", "declined", d(2021, 4, 10)))  # entry 3
    b.do(ReverseEntry("c", 3, "not declined", d(2021, 4, 10)))  # same day as the withdrawal
    assert b.coop.grants.grants["A1"].net_cents == 500_000


# ---------------------------------------------------------------- donations (domain/donations.py)


def test_a_gift_cancelled_before_a_use_that_stood_is_refused():
    b = books()
    b.do(RecordDonation("c", "D2", "acme", "Acme", "company", D("5000"), d(2021, 2, 5), project="atelier"))  # entry 1
    b.do(UseEarmarkedDonation("c", "D2", D("1000"), "Matériel", d(2021, 4, 1), project="atelier"))  # entry 2
    b.do(ReverseEntry("c", 2, "wrong gift", d(2021, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "cheque bounced", d(2021, 3, 1)))
    assert rule(error) == ("entry_number", "donation_unused") and "1000.00" in error.message
    b.do(ReverseEntry("c", 1, "cheque bounced", d(2021, 5, 1)))
    assert "D2" not in donations_state(b.coop).gifts


def test_a_gift_cancelled_before_later_gifts_is_accepted():
    b = books()
    b.do(RecordDonation("c", "D2", "acme", "Acme", "company", D("5000"), d(2021, 2, 5), project="atelier"))  # entry 1
    b.do(RecordDonation("c", "D3", "acme", "Acme", "company", D("700"), d(2021, 3, 5), project="atelier"))  # entry 2
    b.do(UseEarmarkedDonation("c", "D3", D("700"), "Matériel", d(2021, 4, 1), project="atelier"))  # entry 3
    b.do(ReverseEntry("c", 1, "cheque bounced", d(2021, 2, 20)))
    assert sorted(donations_state(b.coop).gifts) == ["D3"]


# ---------------------------------------------------------------- levy (domain/levy.py)


def test_a_share_paid_out_then_refunded_is_reversed_from_the_reversal_date():
    """Judged from the collection date (as before corrections.py passed the reversal's date), the
    share could never be reversed once paid out, even after the payout was cancelled."""
    b = books("association", "author")
    b.do(DeclareCourse("c", "K1", "Cours", "author", "0.15", d(2020, 3, 1)))
    b.do(CollectCourseContribution("c", "K1", "P-1", D("35.50"), d(2020, 3, 10)))  # entry 1: 30.17 owed
    b.do(PayAuthor("c", "author", D("10"), d(2020, 3, 20)))  # entry 2
    b.do(ReverseEntry("c", 2, "payout cancelled", d(2020, 4, 1)))  # entry 3
    assert rule(b.refused(ReverseEntry("c", 1, "refunded", d(2020, 3, 25)))) == ("entry_number", "author_share_unpaid")
    b.do(ReverseEntry("c", 1, "refunded", d(2020, 4, 1)))
    assert b.coop.levy.owed_from("author", d(2020, 3, 10)) == 0


# ---------------------------------------------------------------- property: dated shares


@st.composite
def share_commands(draw: Any) -> list[tuple[str, int, int]]:
    """(kind, amount or entry number, days) commands. Subscriptions and redemptions are dated
    anywhere in the first 200 days, so many are back-dated; reversals pick any entry and any date
    from 10 days before it."""
    return draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("subscribe"), st.integers(1, 6), st.integers(0, 200)),
                st.tuples(st.just("redeem"), st.integers(1, 3), st.integers(0, 200)),
                st.tuples(st.just("reverse"), st.integers(1, 40), st.integers(-10, 200)),
            ),
            min_size=8,
            max_size=40,
        )
    )


@settings(max_examples=10, deadline=None)
@given(share_commands())
@example([("subscribe", 5, 0), ("redeem", 5, 60), ("subscribe", 5, 61), ("reverse", 1, 31)])  # the bug this fixed
def test_accepted_reversals_never_leave_negative_shares_and_refused_ones_change_nothing(commands):
    b = books("scic", "emma")
    emma, start = b.coop.members["emma"], d(2020, 1, 1)
    latest = start
    for kind, amount, days in commands:
        if kind == "reverse":
            if not b.entries:
                continue
            number = (amount - 1) % len(b.entries) + 1
            day = b.entries[number - 1].effective_date + timedelta(days=days)
            command: Any = ReverseEntry("c", number, "property", day)
        else:
            day = start + timedelta(days=days)
            command = (SubscribeShares if kind == "subscribe" else RedeemShares)("c", "emma", amount, day)
        before = (b.coop.version, b.coop.journal.last_number, list(emma.share_moves), emma.shares, len(b.entries))
        try:
            b.do(command)
        except DomainError:
            assert not b.coop.pending_events
            assert (b.coop.version, b.coop.journal.last_number, emma.share_moves, emma.shares, len(b.entries)) == before
            continue
        latest = max(latest, day)
        assert all(emma.shares_on(moved_on) >= 0 for moved_on, _ in emma.share_moves), emma.share_moves
        assert emma.shares == emma.shares_on(latest) >= 0


# ---------------------------------------------------------------- back-dated redemptions of shares


def test_a_back_dated_redemption_cannot_leave_negative_shares():
    b = books("scic", "emma")
    b.do(SubscribeShares("c", "emma", 5, d(2020, 1, 1)))  # entry 1
    b.do(RedeemShares("c", "emma", 5, d(2020, 2, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "not redeemed", d(2020, 12, 1)))  # 0 held from 1 Feb to 1 Dec
    b.refused(RedeemShares("c", "emma", 5, d(2020, 3, 1)))  # would hold -5 from 1 Mar to 1 Dec


# ---------------------------------------------------------------- certifications (domain/certifications.py)


def certified() -> builders.Books:
    """prov certified on 1 Feb 2020 for 450 EUR (entry 1), for 24 months (until 1 Feb 2022)."""
    from domain.certifications import GrantCertification, SetCertificationTerms

    b = books("association", "prov")
    b.do(SetCertificationTerms("c", D("450"), d(2020, 1, 15)))
    b.do(GrantCertification("c", "C1", "prov", d(2020, 2, 1)))  # entry 1
    return b


def test_a_certification_cancelled_before_a_refunded_payment_is_refused():
    """The fee paid on 1 Mar was refunded on 1 May: nothing is paid now, but cancelling the grant
    from 15 Feb would leave 450 EUR paid on nothing billed from 1 Mar to 1 May."""
    from domain.certifications import PayCertificationFee

    b = certified()
    b.do(PayCertificationFee("c", "C1", D("450"), d(2020, 3, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "bounced", d(2020, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "granted by mistake", d(2020, 2, 15)))
    assert rule(error) == ("entry_number", "fee_unpaid") and "450.00 EUR paid on 2020-03-01" in error.message
    # A payment back-dated into the same months would pay 900 of 450 from 1 Apr to 1 May.
    error = b.refused(PayCertificationFee("c", "C1", D("450"), d(2020, 4, 1)))
    assert rule(error) == ("amount", "no_overpayment") and "the 0.00 EUR still due" in error.message
    b.do(PayCertificationFee("c", "C1", D("450"), d(2020, 5, 1)))  # entry 4: on the refund, it is right
    assert b.coop.certifications.certifications["C1"].unpaid_from(d(2020, 3, 1)) == (0, d(2020, 3, 1))
    b.do(ReverseEntry("c", 4, "bounced again", d(2020, 6, 1)))  # entry 5
    b.do(ReverseEntry("c", 1, "granted by mistake", d(2020, 6, 1)))  # after every payment's refund
    assert "C1" not in b.coop.certifications.certifications


def test_a_renewal_cancelled_before_a_payment_it_leaves_covered_is_accepted():
    from domain.certifications import PayCertificationFee, RenewCertification

    b = certified()
    b.do(RenewCertification("c", "C1", d(2021, 12, 1)))  # entry 2: 900 billed, valid until 1 Feb 2024
    b.do(PayCertificationFee("c", "C1", D("300"), d(2022, 1, 10)))  # entry 3
    b.do(PayCertificationFee("c", "C1", D("100"), d(2021, 12, 10)))  # entry 4: back-dated, 500 still due from then on
    cert = b.coop.certifications.certifications["C1"]
    assert cert.unpaid_from(d(2021, 12, 10)) == (50_000, d(2022, 1, 10))  # 800 due from 10 Dec, 500 from 10 Jan
    b.do(ReverseEntry("c", 2, "renewed by mistake", d(2021, 12, 5)))  # before both payments: 400 paid of 450
    assert (cert.expires_on, cert.billed_cents, cert.paid_cents) == (d(2022, 2, 1), 45_000, 40_000)
    assert cert.unpaid_from(d(2021, 12, 1)) == (5_000, d(2022, 1, 10))
    assert rule(b.refused(PayCertificationFee("c", "C1", D("60"), d(2021, 12, 20)))) == ("amount", "no_overpayment")


# ---------------------------------------------------------------- subscriptions (domain/subscriptions.py)


def billed() -> builders.Books:
    """holder's yearly subscription H1 (240 EUR), 2020 billed on 1 Feb 2020 (entry 1)."""
    from domain.subscriptions import BillSubscription, DefineSubscriptionPlan, StartSubscription

    b = books("association", "holder")
    b.do(DefineSubscriptionPlan("c", "HY", "Porteurs", "project_holder", "yearly", D("240"), d(2020, 1, 1)))
    b.do(StartSubscription("c", "H1", "holder", "HY", d(2020, 2, 1)))
    b.do(BillSubscription("c", "H1", "2020", d(2020, 2, 1)))  # entry 1
    return b


def test_a_bill_cancelled_before_a_refunded_payment_is_refused():
    from domain.subscriptions import PaySubscription

    b = billed()
    b.do(PaySubscription("c", "H1", "2020", D("240"), d(2020, 3, 1)))  # entry 2
    b.do(ReverseEntry("c", 2, "bounced", d(2020, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "billed by mistake", d(2020, 2, 15)))
    assert rule(error) == ("entry_number", "bill_unpaid") and "240.00 EUR paid on 2020-03-01" in error.message
    error = b.refused(PaySubscription("c", "H1", "2020", D("0.01"), d(2020, 4, 1)))  # 240.01 paid of 240 until 1 May
    assert rule(error) == ("amount", "no_overpayment") and "the 0.00 EUR still due" in error.message
    b.do(ReverseEntry("c", 1, "billed by mistake", d(2020, 5, 1)))
    assert "2020" not in b.coop.subscriptions.subscriptions["H1"].bills


def test_a_back_dated_payment_and_bill_reversal_that_stay_covered_are_accepted():
    from domain.subscriptions import PaySubscription

    b = billed()
    b.do(PaySubscription("c", "H1", "2020", D("100"), d(2020, 3, 1)))  # entry 2
    b.do(PaySubscription("c", "H1", "2020", D("140"), d(2020, 2, 15)))  # entry 3: back-dated, 240 paid from 1 Mar
    bill = b.coop.subscriptions.subscriptions["H1"].bills["2020"]
    assert (bill.paid_cents, bill.unpaid_from(d(2020, 2, 15))) == (24_000, (0, d(2020, 3, 1)))
    b.do(ReverseEntry("c", 2, "bounced", d(2020, 3, 1)))  # entry 4: the 1 Mar payment never stood
    b.do(ReverseEntry("c", 3, "bounced", d(2020, 2, 15)))  # entry 5: nor the 15 Feb one
    b.do(ReverseEntry("c", 1, "billed by mistake", d(2020, 2, 10)))  # back-dated before all of them: never paid
    assert "2020" not in b.coop.subscriptions.subscriptions["H1"].bills


# ---------------------------------------------------------------- sensor credits (domain/sensors.py)


def credited() -> builders.Books:
    """alice hosts s1; 1.00 credit accepted on 4 Feb 2020 (entry 1), cap 2 credits a day, 0.50 EUR a credit."""
    from domain.sensors import AcceptReadings, RegisterSensor, SetSensorRewardTerms

    b = books("association", "alice")
    b.do(SetSensorRewardTerms("c", d(2020, 2, 1), "0.001", "2", "0.50", "0.80"))
    b.do(RegisterSensor("c", "s1", "alice", "pm10", d(2020, 2, 1)))
    b.do(AcceptReadings("c", "s1", d(2020, 2, 3), 1000, d(2020, 2, 4)))  # entry 1: 1.00 credit
    return b


def test_a_credit_cancelled_before_a_refunded_redemption_is_refused():
    from domain.sensors import RedeemCreditsForMoney, RedeemCreditsForService

    b = credited()
    b.do(RedeemCreditsForMoney("c", "alice", D("1"), d(2020, 2, 10)))  # entry 2
    b.do(ReverseEntry("c", 2, "not paid", d(2020, 6, 1)))  # entry 3: 0 credits from 10 Feb to 1 Jun
    error = b.refused(ReverseEntry("c", 1, "faulty sensor", d(2020, 3, 1)))
    assert rule(error) == ("entry_number", "credits_unspent") and "0.00 credits left on 2020-03-01" in error.message
    error = b.refused(RedeemCreditsForService("c", "alice", "Atelier", D("0.80"), d(2020, 3, 1)))  # 1.00 credit from 1 Mar
    assert rule(error) == ("price", "credits_available") and "has 0.00 credits," in error.message
    error = b.refused(RedeemCreditsForMoney("c", "alice", D("1"), d(2020, 2, 5)))  # -1.00 from 10 Feb to 1 Jun
    assert rule(error) == ("credits", "credits_available") and "0.00 credits on 2020-02-10" in error.message
    b.do(ReverseEntry("c", 1, "faulty sensor", d(2020, 6, 1)))
    host = b.coop.sensors.hosts["alice"]
    assert (host.balance_minor, host.balance_from(d(2020, 2, 1))) == (0, (0, d(2020, 2, 1)))


def test_a_back_dated_credit_reversal_and_redemption_that_stay_covered_are_accepted():
    from domain.sensors import AcceptReadings, RedeemCreditsForMoney

    b = credited()
    b.do(AcceptReadings("c", "s1", d(2020, 2, 5), 1000, d(2020, 2, 6)))  # entry 2: 2.00 credits from 6 Feb
    b.do(RedeemCreditsForMoney("c", "alice", D("1"), d(2020, 3, 1)))  # entry 3
    b.do(RedeemCreditsForMoney("c", "alice", D("0.50"), d(2020, 2, 20)))  # entry 4: back-dated, 0.50 left from 1 Mar
    host = b.coop.sensors.hosts["alice"]
    assert host.balance_from(d(2020, 2, 20)) == (50, d(2020, 3, 1))
    b.refused(ReverseEntry("c", 2, "faulty sensor", d(2020, 2, 8)))  # would leave -0.50 from 1 Mar
    b.do(ReverseEntry("c", 4, "not paid", d(2020, 2, 25)))  # entry 5
    b.do(ReverseEntry("c", 2, "faulty sensor", d(2020, 2, 8)))  # before both redemptions: 1.00 left, 0 from 1 Mar
    assert (host.balance_minor, host.balance_from(d(2020, 2, 4))) == (0, (0, d(2020, 3, 1)))


# ---------------------------------------------------------------- shared hours (domain/shared_hours.py)


def shared() -> builders.Books:
    """zoe shares her hours between org-a and org-b: 7.50 h for org-a on 3 Feb 2020 (entry 1)."""
    from domain.shared_hours import EngageSharedEmployee, LogSharedHours, SetEthicalMinimumRate

    b = books("association")
    for org in ("org-a", "org-b"):
        b.do(admit("c", org, b.member_college(), d(2020, 1, 1), headcount=12))
    b.do(SetEthicalMinimumRate("c", "12.00", d(2020, 2, 1)))
    b.do(EngageSharedEmployee("c", "zoe", "Zoé Martin", "14.00", d(2020, 2, 1)))
    b.do(LogSharedHours("c", "zoe", "org-a", d(2020, 2, 3), "7.5"))  # entry 1
    return b


def rebill(day: date) -> Any:
    from domain.shared_hours import RebillSharedHours

    return RebillSharedHours("c", "zoe", "2020-02", "300", "120", "0", day)


def test_hours_cancelled_under_a_rebilling_reversed_since_are_refused():
    """February was rebilled on 2 Mar and the rebilling reversed on 1 May: nothing is rebilled now,
    but cancelling the hours from 15 Feb or 1 Apr would leave their minutes rebilled without being
    logged (841 below zero for org-a) until 1 May; rebilling again from 1 Apr would bill them twice."""
    b = shared()
    b.do(rebill(d(2020, 3, 2)))  # entry 2
    b.do(ReverseEntry("c", 2, "wrong gross pay", d(2020, 5, 1)))  # entry 3
    error = b.refused(ReverseEntry("c", 1, "not worked", d(2020, 2, 15)))
    assert rule(error) == ("entry_number", "month_not_rebilled") and "stood rebilled on 2020-03-02" in error.message
    error = b.refused(ReverseEntry("c", 1, "not worked", d(2020, 4, 1)))
    assert rule(error) == ("entry_number", "month_not_rebilled") and "stood rebilled on 2020-04-01" in error.message
    error = b.refused(rebill(d(2020, 4, 1)))
    assert rule(error) == ("effective_date", "rebilled_once") and "stood rebilled on 2020-04-01" in error.message
    b.do(ReverseEntry("c", 1, "not worked", d(2020, 5, 1)))
    month = b.coop.shared_hours.employees["zoe"].months["2020-02"]
    assert (month.minutes, month.rebilled, month.to_rebill_from("org-a", d(2020, 2, 3))) == (0, False, (0, d(2020, 3, 2)))


def test_hours_cancelled_before_a_rebilling_undone_the_same_day_are_accepted():
    from domain.shared_hours import LogSharedHours

    b = shared()
    b.do(LogSharedHours("c", "zoe", "org-b", d(2020, 2, 4), "2"))  # entry 2
    b.do(rebill(d(2020, 3, 2)))  # entry 3
    b.do(ReverseEntry("c", 3, "wrong gross pay", d(2020, 3, 2)))  # entry 4: never rebilled on any date
    b.do(ReverseEntry("c", 2, "not worked", d(2020, 2, 10)))  # back-dated before the rebilling and its reversal
    (rebilled,) = [e for e in b.do(rebill(d(2020, 3, 2))) if e.kind == "SharedHoursRebilled"]  # again on 2 Mar: org-a only
    assert rebilled.shares == [["org-a", 450, 42_000]]
    month = b.coop.shared_hours.employees["zoe"].months["2020-02"]
    assert [month.to_rebill_from(s, d(2020, 3, 2)) for s in ("org-a", "org-b")] == [(0, d(2020, 3, 2)), (0, d(2020, 3, 2))]
