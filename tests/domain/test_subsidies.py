"""Subsidies received, pure rules (no store).

S1: the Région grants 40,000.00 EUR on 2021-01-10 for local media; tranches of 24,000 and
16,000 make exactly 40,000. Dedicated funds: unspent = granted - used - awarded; available
also deducts the unawarded envelopes of the calls it funds.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import AwardGrant, OpenCall, PayGrant, RecordApplication
from domain.subsidies import ReceiveSubsidy, RecordSubsidy, SubsidyGranted, SubsidyReceived, UseSubsidy
from tests.domain.test_contributions import Books, rule

D = Decimal
JAN10 = date(2021, 1, 10)


@pytest.fixture
def books() -> Books:
    b = Books()
    b.do(RecordSubsidy("c", "S1", "Région Occitanie", "Médias de proximité", D("40000"), JAN10))  # entry 1
    return b


def receive(amount: str, day: date = date(2021, 2, 1), subsidy: str = "S1") -> ReceiveSubsidy:
    return ReceiveSubsidy("c", subsidy, D(amount), day)


def use(amount: str, day: date = date(2021, 6, 30), subsidy: str = "S1") -> UseSubsidy:
    return UseSubsidy("c", subsidy, D(amount), "Ateliers", day, piece_ref="BILAN-1")


def pot(books: Books, subsidy: str = "S1"):
    return books.coop.grants.pots[f"subsidy:{subsidy}"].totals


def test_a_granted_subsidy_is_income_carried_to_fonds_dedies(books):
    (event,) = books.entries
    assert event.kind == "SubsidyGranted" and event.amount_cents == 4_000_000
    assert event.postings == [
        ["441", "S1", "EUR", 4_000_000],
        ["741", None, "EUR", -4_000_000],
        ["6894", None, "EUR", 4_000_000],
        ["194", "S1", "EUR", -4_000_000],
    ]
    subsidy = books.coop.subsidies.subsidies["S1"]
    assert (subsidy.funder, subsidy.purpose, subsidy.granted_cents, subsidy.granted_on) == (
        "Région Occitanie",
        "Médias de proximité",
        4_000_000,
        JAN10,
    )
    assert (pot(books).unspent_cents, pot(books).available_cents, pot(books).cash_cents) == (4_000_000, 4_000_000, 0)


def test_tranches_settle_the_receivable_and_never_exceed_what_was_granted(books):
    (first,) = books.do(receive("24000"))
    assert first.postings == [["512", None, "EUR", 2_400_000], ["441", "S1", "EUR", -2_400_000]]
    error = books.refused(receive("16000.01"))
    assert rule(error) == ("amount", "within_granted") and "16000.00" in error.message
    books.do(receive("16000"))
    assert books.coop.subsidies.subsidies["S1"].received_cents == 4_000_000
    assert rule(books.refused(receive("0.01"))) == ("amount", "within_granted")


def test_a_general_plan_defers_the_subsidy_until_used():
    b = Books("scic")
    (granted,) = b.do(RecordSubsidy("c", "S1", "Département", "Médiation", D("40000"), JAN10))
    assert granted.postings == [["441", "S1", "EUR", 4_000_000], ["4876", "S1", "EUR", -4_000_000]]
    (used,) = b.do(use("15000"))
    assert used.postings == [["4876", "S1", "EUR", 1_500_000], ["741", None, "EUR", -1_500_000]]


def test_uses_move_dedicated_funds_back_to_income_within_what_is_available(books):
    (event,) = books.do(use("15000"))
    assert event.postings == [["194", "S1", "EUR", 1_500_000], ["7894", None, "EUR", -1_500_000]]
    assert event.piece_ref == "BILAN-1"
    # A call reserves 20,000: 40,000 - 15,000 - 20,000 = 5,000 left to use.
    books.do(OpenCall("c", "C1", "Appel", D("20000"), D("5000"), D("10000"), 4, date(2021, 7, 1), subsidy_id="S1"))
    assert rule(books.refused(use("5000.01", day=date(2021, 7, 2)))) == ("amount", "subsidy_available")
    books.do(use("5000", day=date(2021, 7, 2)))
    f = pot(books)
    assert (f.used_cents, f.reserved_cents, f.unspent_cents, f.available_cents) == (2_000_000, 2_000_000, 2_000_000, 0)


def test_a_use_dated_before_a_later_call_must_fit_that_call_too(books):
    books.do(OpenCall("c", "C1", "Appel", D("30000"), D("5000"), D("10000"), 4, date(2021, 7, 1), subsidy_id="S1"))
    # In June 40,000 were available, but from July only 10,000 are.
    assert rule(books.refused(use("10000.01", day=date(2021, 6, 1)))) == ("amount", "subsidy_available")
    books.do(use("10000", day=date(2021, 6, 1)))


@pytest.mark.parametrize(
    ("command", "expected", "kind"),
    [
        (RecordSubsidy("c", "S1", "Ville", "Autre", D("10"), JAN10), ("subsidy_id", "unique_subsidy"), Conflict),
        (RecordSubsidy("c", "S2", " ", "Autre", D("10"), JAN10), ("funder", "required"), InvalidCommand),
        (RecordSubsidy("c", "S2", "Ville", "Autre", D("0"), JAN10), ("amount", "positive"), InvalidCommand),
        (
            RecordSubsidy("c", "S2", "Ville", "Autre", D("10"), date(2019, 6, 1)),
            ("effective_date", "not_before_founding"),
            InvalidCommand,
        ),
        (RecordSubsidy("c", "S 2", "Ville", "Autre", D("10"), JAN10), ("subsidy_id", "identifier"), InvalidCommand),
        (receive("10", subsidy="S9"), ("subsidy_id", "known_subsidy"), NotFound),
        (receive("10", day=date(2021, 1, 9)), ("effective_date", "not_before"), InvalidCommand),
        (receive("10.001"), ("amount", "precision"), InvalidCommand),
        (use("10", subsidy="S9"), ("subsidy_id", "known_subsidy"), NotFound),
        (use("40000.01"), ("amount", "subsidy_available"), InvalidCommand),
        (use("10", day=date(2021, 1, 9)), ("effective_date", "not_before"), InvalidCommand),
        (UseSubsidy("c", "S1", D("10"), "", JAN10), ("label", "required"), InvalidCommand),
    ],
)
def test_refusals(books, command, expected, kind):
    error = books.refused(command)
    assert rule(error) == expected and isinstance(error, kind)


def test_a_granted_subsidy_is_cancelled_only_while_nothing_refers_to_it(books):
    books.do(receive("1000"))  # entry 2
    with pytest.raises(InvalidCommand) as exc:
        SubsidyGranted.check_reversible(books.coop, books.entries[0].effect(), date(2021, 2, 2))
    assert rule(exc.value) == ("entry_number", "subsidy_untouched")
    books.do(ReverseEntry("c", 2, "wrong account", date(2021, 2, 2)))  # entry 3
    books.do(ReverseEntry("c", 1, "convention withdrawn", date(2021, 2, 2)))  # entry 4
    assert "S1" not in books.coop.subsidies.subsidies and "subsidy:S1" not in books.coop.grants.pots
    books.do(RecordSubsidy("c", "S1", "Région", "Nouvelle convention", D("30000"), date(2021, 3, 1)))


def test_a_subsidy_that_funds_a_call_cannot_be_cancelled(books):
    books.do(OpenCall("c", "C1", "Appel", D("1000"), D("500"), D("1000"), 2, date(2021, 2, 1), subsidy_id="S1"))
    assert rule(books.refused(ReverseEntry("c", 1, "oops", date(2021, 2, 2)))) == ("entry_number", "subsidy_untouched")


def test_a_tranche_that_paid_grants_cannot_be_reversed_but_a_later_one_can(books):
    books.do(receive("5000"))  # entry 2, 2021-02-01
    books.do(OpenCall("c", "C1", "Appel", D("5000"), D("1000"), D("5000"), 2, date(2021, 2, 1), subsidy_id="S1"))
    books.do(RecordApplication("c", "C1", "A1", "P", date(2021, 2, 2), applicant="X"))
    books.do(AwardGrant("c", "A1", D("4000"), date(2021, 2, 3)))  # entry 3
    books.do(PayGrant("c", "A1", D("4000"), date(2021, 2, 4)))  # entry 4: cash 1,000 from 2021-02-04
    books.do(receive("5000", day=date(2021, 2, 10)))  # entry 5: cash 6,000 from 2021-02-10
    with pytest.raises(InvalidCommand) as exc:
        SubsidyReceived.check_reversible(books.coop, books.entries[1].effect(), date(2021, 2, 5))
    assert rule(exc.value) == ("entry_number", "fund_covers")
    # From 5 February the grant paid needs this tranche (cash 1,000); from 10 February the next one covers it.
    assert rule(books.refused(ReverseEntry("c", 2, "cheque bounced", date(2021, 2, 5)))) == ("entry_number", "fund_covers")
    books.do(ReverseEntry("c", 5, "cheque bounced", date(2021, 2, 11)))  # entry 6
    assert books.coop.subsidies.subsidies["S1"].received_cents == 500_000
    assert (pot(books).received_cents, pot(books).cash_cents) == (500_000, 100_000)
