"""Donations and crowdfunding, pure rules (no store).

Hand-computed case: Alice gives 100.00 (unrestricted); ACME SA gives 5,000.00 for project
"atelier" (mécénat, earmarked); a HelloAsso campaign for project "studio" collects 10,000.00,
the platform keeps 800.00 and pays 9,200.00; Bob backed it with 50.00, the rest is anonymous.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.donations import Backer, RecordCrowdfundingPayout, RecordDonation, UseEarmarkedDonation, donations_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import OpenCall
from domain.subsidies import RecordSubsidy
from tests.builders import Books
from tests.domain.test_contributions import rule

D = Decimal
JAN5, FEB5, MAR1, APR1 = date(2021, 1, 5), date(2021, 2, 5), date(2021, 3, 1), date(2021, 4, 1)


def donation(gift: str = "D1", donor: str = "alice", kind: str = "individual", amount: str = "100", day: date = JAN5, **kw):
    return RecordDonation("c", gift, donor, donor.capitalize(), kind, D(amount), day, **kw)


def payout(gift: str = "P1", gross: str = "10000", fee: str = "800", backers=None, day: date = MAR1, **kw):
    backers = [Backer("bob", "Bob", D("50"))] if backers is None else backers
    return RecordCrowdfundingPayout("c", gift, "HelloAsso", "Studio mobile", D(gross), D(fee), backers, day, **kw)


def use(gift: str, amount: str, day: date = APR1, **purpose):
    return UseEarmarkedDonation("c", gift, D(amount), "Matériel", day, **purpose)


@pytest.fixture
def books() -> Books:
    b = Books()
    b.do(donation())  # entry 1
    b.do(donation("D2", "acme", "company", "5000", FEB5, project="atelier"))  # entry 2
    b.do(payout(project="studio"))  # entry 3
    return b


def unspent(books: Books, gift: str) -> int:
    return donations_state(books.coop).gifts[gift].pot.totals.unspent_cents


def test_gifts_are_income_and_earmarked_ones_go_to_fonds_dedies(books):
    alice, acme, crowd = books.entries
    assert alice.postings == [["512", None, "EUR", 10_000], ["7541", None, "EUR", -10_000]]
    assert acme.postings == [
        ["512", None, "EUR", 500_000],
        ["7542", None, "EUR", -500_000],
        ["6896", None, "EUR", 500_000],
        ["196", "D2", "EUR", -500_000],
    ]
    # Gross income, the fee an expense, net in the bank; the fee is the first use of the gift.
    assert crowd.postings == [
        ["512", None, "EUR", 920_000],
        ["622", None, "EUR", 80_000],
        ["7541", None, "EUR", -1_000_000],
        ["6896", None, "EUR", 1_000_000],
        ["196", "P1", "EUR", -1_000_000],
        ["196", "P1", "EUR", 80_000],
        ["7896", None, "EUR", -80_000],
    ]
    assert (crowd.net_cents, crowd.anonymous_cents) == (920_000, 995_000)
    assert (unspent(books, "D2"), unspent(books, "P1")) == (500_000, 920_000)
    assert donations_state(books.coop).gifts["D1"].purpose is None


def test_cash_gifts_go_to_the_till_and_unearmarked_payouts_have_no_dedicated_funds():
    b = Books()
    (cash,) = b.do(donation(method="cash"))
    assert cash.postings == [["530", None, "EUR", 10_000], ["7541", None, "EUR", -10_000]]
    (crowd,) = b.do(payout(fee="0", backers=[]))
    assert crowd.postings == [["512", None, "EUR", 1_000_000], ["7541", None, "EUR", -1_000_000]]


def test_the_general_plan_defers_earmarked_gifts_until_used():
    b = Books("scic")
    (gift,) = b.do(donation("D1", "acme", "company", "5000", project="atelier"))
    assert gift.postings == [["512", None, "EUR", 500_000], ["4877", "D1", "EUR", -500_000]]
    (free,) = b.do(donation("D2", "alice"))
    assert free.postings == [["512", None, "EUR", 10_000], ["7582", None, "EUR", -10_000]]
    (crowd,) = b.do(payout(project="studio"))
    assert crowd.postings == [
        ["512", None, "EUR", 920_000],
        ["622", None, "EUR", 80_000],
        ["4877", "P1", "EUR", -1_000_000],
        ["4877", "P1", "EUR", 80_000],
        ["7582", None, "EUR", -80_000],
    ]
    (used,) = b.do(use("D1", "1200", project="atelier"))
    assert used.postings == [["4877", "D1", "EUR", 120_000], ["7582", None, "EUR", -120_000]]


def test_earmarked_money_funds_its_purpose_only(books):
    (used,) = books.do(use("D2", "1200.50", project="atelier", piece_ref="F-12"))
    assert used.postings == [["196", "D2", "EUR", 120_050], ["7896", None, "EUR", -120_050]]
    assert (used.purpose, used.piece_ref, unspent(books, "D2")) == ("project:atelier", "F-12", 379_950)
    error = books.refused(use("D2", "10", project="studio"))
    assert rule(error) == ("project", "earmarked_purpose") and "project:atelier" in error.message
    assert rule(books.refused(use("P1", "10", project="atelier"))) == ("project", "earmarked_purpose")
    assert rule(books.refused(use("D1", "10", project="atelier"))) == ("donation_id", "earmarked")
    assert rule(books.refused(use("D2", "3799.51", project="atelier"))) == ("amount", "donation_unspent")
    books.do(use("D2", "3799.50", project="atelier"))
    assert unspent(books, "D2") == 0


def test_a_back_dated_use_must_leave_room_for_later_uses(books):
    books.do(use("P1", "9000", day=date(2021, 6, 1), project="studio"))
    # On 2021-04-01 the whole 9,200 was unspent, but from June only 200 is.
    assert rule(books.refused(use("P1", "200.01", project="studio"))) == ("amount", "donation_unspent")
    books.do(use("P1", "200", project="studio"))
    assert rule(books.refused(use("P1", "10", day=date(2021, 2, 28), project="studio"))) == ("effective_date", "not_before")


def test_a_gift_for_a_call_for_projects_is_used_on_that_call_only():
    b = Books()
    b.do(RecordSubsidy("c", "S1", "Région", "Médias", D("20000"), JAN5))
    for call in ("C1", "C2"):
        b.do(OpenCall("c", call, f"Appel {call}", D("5000"), D("1000"), D("5000"), 3, FEB5, subsidy_id="S1"))
    assert rule(b.refused(donation(call_id="C9"))) == ("call_id", "known_call")
    (gift,) = b.do(donation("D1", "fondation", "company", "3000", MAR1, call_id="C1"))
    assert gift.purpose == "call:C1"
    assert rule(b.refused(use("D1", "100", call_id="C2"))) == ("call_id", "earmarked_purpose")
    assert rule(b.refused(use("D1", "100", project="C1"))) == ("project", "earmarked_purpose")
    b.do(use("D1", "3000", call_id="C1"))


@pytest.mark.parametrize(
    ("command", "expected", "kind"),
    [
        (donation("D1"), ("donation_id", "unique_gift"), Conflict),
        (payout("D1"), ("payout_id", "unique_gift"), Conflict),
        (donation("D9", kind="association"), ("donor_kind", "known_donor_kind"), InvalidCommand),
        (donation("D9", "acme", "individual"), ("donor_kind", "same_donor_kind"), InvalidCommand),
        (donation("D9", method="bitcoin"), ("method", "known_method"), InvalidCommand),
        (donation("D9", amount="0"), ("amount", "positive"), InvalidCommand),
        (donation("D9", amount="10.001"), ("amount", "precision"), InvalidCommand),
        (donation("D9", day=date(2019, 12, 31)), ("effective_date", "not_before_founding"), InvalidCommand),
        (donation("D9", project="x", call_id="y"), ("call_id", "one_purpose"), InvalidCommand),
        (donation("D9", project="un projet"), ("project", "identifier"), InvalidCommand),
        (RecordDonation("c", "D9", "zoe", " ", "individual", D("10"), JAN5), ("donor_name", "required"), InvalidCommand),
        (payout("P9", fee="10000"), ("fee", "below_gross"), InvalidCommand),
        (payout("P9", backers=[Backer("bob", "Bob", D("10000.01"))]), ("backers", "within_gross"), InvalidCommand),
        (
            payout("P9", backers=[Backer("bob", "Bob", D("1")), Backer("bob", "Bob", D("2"))]),
            ("backers[1].donor_id", "unique_backer"),
            InvalidCommand,
        ),
        (payout("P9", backers=[Backer("acme", "ACME", D("1"))]), ("backers[0].donor_kind", "same_donor_kind"), InvalidCommand),
        (use("D9", "1", project="atelier"), ("donation_id", "known_donation"), NotFound),
        (use("D2", "1"), ("project", "required"), InvalidCommand),
        (use("D2", "1", project="atelier", call_id="C1"), ("call_id", "one_purpose"), InvalidCommand),
        (UseEarmarkedDonation("c", "D2", D("1"), "", APR1, project="atelier"), ("label", "required"), InvalidCommand),
    ],
)
def test_refusals(books, command, expected, kind):
    error = books.refused(command)
    assert rule(error) == expected and isinstance(error, kind)


def test_a_gift_is_reversed_only_while_unused_and_its_id_is_never_reused(books):
    books.do(use("D2", "100", project="atelier"))  # entry 4
    assert rule(books.refused(ReverseEntry("c", 2, "chèque sans provision", APR1))) == ("entry_number", "donation_unused")
    books.do(ReverseEntry("c", 4, "mauvaise imputation", APR1))  # entry 5
    assert unspent(books, "D2") == 500_000
    (reversal,) = books.do(ReverseEntry("c", 2, "chèque sans provision", APR1))  # entry 6
    assert reversal.postings == [[a, p, u, -x] for a, p, u, x in books.entries[1].postings]
    assert "D2" not in donations_state(books.coop).gifts
    assert rule(books.refused(donation("D2", "acme", "company"))) == ("donation_id", "unique_gift")
    # A payout whose only use is the platform's fee can be reversed.
    books.do(ReverseEntry("c", 3, "versement annulé par la plateforme", APR1))
    assert "P1" not in donations_state(books.coop).gifts
