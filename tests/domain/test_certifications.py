"""Certifications, pure rules: validity dates, renewal before expiry, revocation, one at a
time, fees and their payments, reversal from the end of a member's history.

Terms by default: 450.00 EUR for 24 months, renewable in the 90 days before expiry.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.certifications import (
    GrantCertification,
    PayCertificationFee,
    RenewCertification,
    RevokeCertification,
    SetCertificationTerms,
    add_months,
)
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.membership import ResignMember
from tests.domain.test_subscriptions import Books, rule

D = Decimal
GRANTED = date(2020, 3, 1)
EXPIRES = date(2022, 3, 1)  # 24 months later: the first day no longer certified


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2020, 3, 1), 24, date(2022, 3, 1)),
        (date(2020, 1, 31), 1, date(2020, 3, 1)),  # no 31 February: the first of the month after
        (date(2020, 2, 29), 12, date(2021, 3, 1)),  # no 29 February 2021
        (date(2020, 2, 29), 48, date(2024, 2, 29)),
        (date(2020, 12, 31), 11, date(2021, 12, 1)),  # no 31 November
        (date(2020, 11, 30), 1, date(2020, 12, 30)),
        (date(2020, 12, 15), 1, date(2021, 1, 15)),
        (date(2020, 11, 30), 3, date(2021, 3, 1)),  # no 30 February
        (date(2020, 5, 31), 7, date(2020, 12, 31)),
    ],
)
def test_validity_ends_the_same_day_n_months_later_or_the_first_of_the_month_after(day, months, expected):
    assert add_months(day, months) == expected


@pytest.fixture
def books() -> Books:
    b = Books()
    b.admit("prov")
    b.admit("other")
    b.do(SetCertificationTerms("c", D("450"), date(2020, 1, 15)))
    b.do(GrantCertification("c", "C1", "prov", GRANTED))  # entry 1
    return b


def test_a_grant_bills_the_fee_and_certifies_for_24_months(books):
    (event,) = books.entries
    assert (event.kind, event.fee_cents, event.validity_months, event.expires_on) == ("CertificationGranted", 45000, 24, EXPIRES)
    assert event.postings == [["411", "prov", "EUR", 45000], ["706", None, "EUR", -45000]]
    state = books.coop.certifications
    for day, expected in [(date(2020, 2, 29), False), (GRANTED, True), (date(2022, 2, 28), True), (EXPIRES, False)]:
        assert state.certified_on("prov", day) is expected, day
    assert not state.certified_on("other", GRANTED)


@pytest.mark.parametrize(
    ("command", "field", "expected_rule", "kind"),
    [
        (SetCertificationTerms("c", D("0"), date(2020, 6, 1)), "fee", "positive", InvalidCommand),
        (SetCertificationTerms("c", 450.0, date(2020, 6, 1)), "fee", "decimal", InvalidCommand),
        (SetCertificationTerms("c", D("450"), date(2020, 6, 1), validity_months=0), "validity_months", "range", InvalidCommand),
        (SetCertificationTerms("c", D("450"), date(2020, 6, 1), validity_months=121), "validity_months", "range", InvalidCommand),
        (
            SetCertificationTerms("c", D("450"), date(2020, 6, 1), validity_months="24"),
            "validity_months",
            "integer",
            InvalidCommand,
        ),
        (
            SetCertificationTerms("c", D("450"), date(2020, 6, 1), renewal_window_days=0),
            "renewal_window_days",
            "range",
            InvalidCommand,
        ),
        (
            SetCertificationTerms("c", D("450"), date(2020, 6, 1), renewal_window_days=367),
            "renewal_window_days",
            "range",
            InvalidCommand,
        ),
        (SetCertificationTerms("c", D("450"), date(2020, 1, 15)), "effective_date", "after_previous_terms", InvalidCommand),
        (GrantCertification("c", "C1", "other", GRANTED), "certification_id", "unique_certification", Conflict),
        (GrantCertification("c", "bad id", "other", GRANTED), "certification_id", "identifier", InvalidCommand),
        (GrantCertification("c", "C2", "ghost", GRANTED), "member_id", "known_member", NotFound),
        (GrantCertification("c", "C2", "other", date(2020, 1, 31)), "member_id", "member_on_date", InvalidCommand),
        (GrantCertification("c", "C2", "prov", date(2021, 6, 1)), "member_id", "one_certification_at_a_time", Conflict),
        (GrantCertification("c", "C2", "prov", date(2020, 2, 1)), "member_id", "one_certification_at_a_time", Conflict),
        (RenewCertification("c", "NOPE", date(2022, 1, 1)), "certification_id", "known_certification", NotFound),
        (
            RenewCertification("c", "C1", date(2021, 11, 30)),
            "effective_date",
            "renewal_window",
            InvalidCommand,
        ),  # opens 2021-12-01
        (RenewCertification("c", "C1", EXPIRES), "effective_date", "not_expired", InvalidCommand),
        (RevokeCertification("c", "C1", EXPIRES, "too late"), "effective_date", "in_force", InvalidCommand),
        (RevokeCertification("c", "C1", date(2020, 2, 29), "before the grant"), "effective_date", "not_before", InvalidCommand),
        (RevokeCertification("c", "C1", date(2020, 6, 1), ""), "reason", "required", InvalidCommand),
        (PayCertificationFee("c", "C1", D("450.01"), date(2020, 3, 2)), "amount", "no_overpayment", InvalidCommand),
        (PayCertificationFee("c", "C1", D("10"), date(2020, 2, 29)), "effective_date", "not_before", InvalidCommand),
        (PayCertificationFee("c", "C1", D("-10"), date(2020, 3, 2)), "amount", "positive", InvalidCommand),
        (PayCertificationFee("c", "NOPE", D("10"), date(2020, 3, 2)), "certification_id", "known_certification", NotFound),
    ],
)
def test_refusals_name_field_and_rule(books, command, field, expected_rule, kind):
    error = books.refused(command)
    assert isinstance(error, kind) and rule(error) == (field, expected_rule), error.message


def test_no_grant_without_terms_in_force():
    b = Books()
    b.admit("prov")
    assert rule(b.refused(GrantCertification("c", "C1", "prov", GRANTED))) == ("effective_date", "terms_defined")
    b.do(SetCertificationTerms("c", D("100"), date(2020, 4, 1)))
    assert rule(b.refused(GrantCertification("c", "C1", "prov", GRANTED))) == ("effective_date", "terms_defined")
    b.do(GrantCertification("c", "C1", "prov", date(2020, 4, 1)))


def test_renewal_in_the_window_extends_from_the_expiry_at_the_terms_of_its_day(books):
    books.do(SetCertificationTerms("c", D("480"), date(2021, 1, 1), validity_months=12, renewal_window_days=30))
    # 30 days before 2022-03-01 is 2022-01-30: the window opens then.
    assert rule(books.refused(RenewCertification("c", "C1", date(2022, 1, 29)))) == ("effective_date", "renewal_window")
    (event,) = books.do(RenewCertification("c", "C1", date(2022, 1, 30)))
    assert (event.previous_expires_on, event.expires_on, event.fee_cents) == (EXPIRES, date(2023, 3, 1), 48000)
    assert event.postings == [["411", "prov", "EUR", 48000], ["706", None, "EUR", -48000]]
    cert = books.coop.certifications.certifications["C1"]
    assert (cert.expires_on, cert.billed_cents, cert.last_change_on) == (date(2023, 3, 1), 93000, date(2022, 1, 30))
    assert books.coop.certifications.certified_on("prov", date(2023, 2, 28))
    # The next renewal waits for the next window.
    assert rule(books.refused(RenewCertification("c", "C1", date(2022, 2, 1)))) == ("effective_date", "renewal_window")


def test_after_expiry_a_new_grant_is_needed(books):
    assert rule(books.refused(RenewCertification("c", "C1", date(2022, 3, 2)))) == ("effective_date", "not_expired")
    books.do(GrantCertification("c", "C2", "prov", date(2022, 4, 1)))
    state = books.coop.certifications
    assert not state.certified_on("prov", date(2022, 3, 15))  # the gap
    assert state.certified_on("prov", date(2022, 4, 1)) and state.latest("prov").certification_id == "C2"


def test_revocation_is_dated_and_final(books):
    books.do(RevokeCertification("c", "C1", date(2021, 1, 10), "audit failed"))
    state = books.coop.certifications
    assert state.certified_on("prov", date(2021, 1, 9)) and not state.certified_on("prov", date(2021, 1, 10))
    assert rule(books.refused(RevokeCertification("c", "C1", date(2021, 2, 1), "again"))) == ("certification_id", "revoked_once")
    assert rule(books.refused(RenewCertification("c", "C1", date(2022, 1, 1)))) == ("certification_id", "not_revoked")
    assert rule(books.refused(GrantCertification("c", "C2", "prov", date(2021, 1, 9)))) == (
        "member_id",
        "one_certification_at_a_time",
    )
    books.do(GrantCertification("c", "C2", "prov", date(2021, 1, 10)))  # certified again from the revocation date on
    assert state.certified_on("prov", date(2021, 1, 10))


def test_a_member_who_left_is_not_renewed(books):
    books.do(ResignMember("c", "prov", date(2021, 12, 31)))
    assert rule(books.refused(RenewCertification("c", "C1", date(2022, 1, 15)))) == ("member_id", "member_on_date")


def test_fee_payments_cover_grant_and_renewal_and_never_more(books):
    books.do(RenewCertification("c", "C1", date(2022, 2, 1)))  # entry 2: billed 900.00 in all
    (pay,) = books.do(PayCertificationFee("c", "C1", D("600"), date(2022, 2, 2)))
    assert pay.postings == [["512", None, "EUR", 60000], ["411", "prov", "EUR", -60000]]
    error = books.refused(PayCertificationFee("c", "C1", D("300.01"), date(2022, 2, 3)))
    assert rule(error) == ("amount", "no_overpayment") and "300.00" in error.message
    books.do(PayCertificationFee("c", "C1", D("300"), date(2022, 2, 3)))
    assert books.coop.certifications.certifications["C1"].paid_cents == 90000


def test_reversals_undo_a_members_history_from_its_end(books):
    books.do(PayCertificationFee("c", "C1", D("450"), date(2020, 3, 2)))  # entry 2
    books.do(RenewCertification("c", "C1", date(2022, 2, 1)))  # entry 3
    books.do(PayCertificationFee("c", "C1", D("100"), date(2022, 2, 2)))  # entry 4
    day = date(2022, 2, 10)
    assert rule(books.refused(ReverseEntry("c", 1, "x", day))) == ("entry_number", "latest_certification_change")
    # Without the renewal, 450.00 billed would be less than the 550.00 paid.
    assert rule(books.refused(ReverseEntry("c", 3, "x", day))) == ("entry_number", "fee_unpaid")
    books.do(ReverseEntry("c", 4, "refund", day))  # entry 5
    (reversal,) = books.do(ReverseEntry("c", 3, "renewed by mistake", day))  # entry 6
    assert reversal.postings == [["411", "prov", "EUR", -45000], ["706", None, "EUR", 45000]]
    cert = books.coop.certifications.certifications["C1"]
    assert (cert.expires_on, cert.billed_cents, cert.renewals) == (EXPIRES, 45000, [])
    assert rule(books.refused(ReverseEntry("c", 1, "x", day))) == ("entry_number", "fee_unpaid")
    books.do(ReverseEntry("c", 2, "refund", day))  # entry 7
    books.do(ReverseEntry("c", 1, "granted by mistake", day))  # entry 8
    assert "C1" not in books.coop.certifications.certifications
    assert not books.coop.certifications.certified_on("prov", date(2021, 1, 1))
    books.do(GrantCertification("c", "C1", "prov", date(2022, 2, 10)))  # the id and the member are free again


def test_a_revoked_certification_or_an_older_one_keeps_its_entries(books):
    books.do(RevokeCertification("c", "C1", date(2021, 1, 10), "audit failed"))
    assert rule(books.refused(ReverseEntry("c", 1, "x", date(2021, 2, 1)))) == ("entry_number", "latest_certification_change")
    b = Books()
    b.admit("prov")
    b.do(SetCertificationTerms("c", D("100"), date(2020, 1, 15), validity_months=1))
    b.do(GrantCertification("c", "A", "prov", date(2020, 2, 1)))  # entry 1, expires 2020-03-01
    b.do(GrantCertification("c", "B", "prov", date(2020, 3, 1)))  # entry 2
    assert rule(b.refused(ReverseEntry("c", 1, "x", date(2020, 3, 2)))) == ("entry_number", "latest_certification_change")
    b.do(ReverseEntry("c", 2, "x", date(2020, 3, 2)))
    b.do(ReverseEntry("c", 1, "x", date(2020, 3, 2)))
    assert b.coop.certifications.by_member == {} and b.coop.certifications.certifications == {}
