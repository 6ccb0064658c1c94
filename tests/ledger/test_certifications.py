"""Certifications through the ledger, on SQLite and PostgreSQL: every rule refused with its
field and rule and nothing written; grants, renewals, revocations and fee payments with
hand-computed entries; "who is certified on D", "when does X's certification expire" and the
deferred-fee cut-off against hand-computed figures and against a rebuild.

Terms from 2020-01-15: 450.00 EUR for 24 months, renewable in the last 90 days; from
2021-06-01: 480.00 EUR for 12 months, renewable in the last 60 days.
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
)
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.membership import ResignMember
from ledger.service import Ledger
from projections import certifications as read
from projections.balances import account_balance
from tests.builders import admit, dump_projections, found_association, ok, stored_financial_events
from tests.ledger.test_subscriptions import check_refusals
from tests.views import certification_of

D = Decimal


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """Entries: 1 grants C1 to prov on 2020-03-01 (to 2022-03-01), 2 grants C2 to other on
    2020-06-15 (to 2022-06-15), 3 pays C1, C2 revoked on 2021-01-10, 4 grants C3 to other on
    2021-02-01 (to 2023-02-01), 5 renews C1 on 2022-01-15 at 480.00 (to 2023-03-01)."""
    ok(ledger, found_association())
    ok(ledger, admit("demo", "early", "users", date(2020, 1, 2)))
    for member_id in ("prov", "other", "gone"):
        ok(ledger, admit("demo", member_id, "users", date(2020, 2, 1)))
    ok(ledger, SetCertificationTerms("demo", D("450"), date(2020, 1, 15)))
    assert ok(ledger, GrantCertification("demo", "C1", "prov", date(2020, 3, 1))).journal_numbers == (1,)
    assert ok(ledger, GrantCertification("demo", "C2", "other", date(2020, 6, 15))).journal_numbers == (2,)
    assert ok(ledger, PayCertificationFee("demo", "C1", D("450"), date(2020, 3, 10))).journal_numbers == (3,)
    ok(ledger, RevokeCertification("demo", "C2", date(2021, 1, 10), "audit failed"))
    assert ok(ledger, GrantCertification("demo", "C3", "other", date(2021, 2, 1))).journal_numbers == (4,)
    ok(ledger, SetCertificationTerms("demo", D("480"), date(2021, 6, 1), validity_months=12, renewal_window_days=60))
    assert ok(ledger, RenewCertification("demo", "C1", date(2022, 1, 15))).journal_numbers == (5,)
    return ledger


def test_every_rule_is_refused_with_its_field_and_writes_nothing(books):
    ok(books, GrantCertification("demo", "CG", "gone", date(2020, 3, 1)))  # 6, expires 2022-03-01
    ok(books, ResignMember("demo", "gone", date(2021, 12, 31)))
    check_refusals(
        books,
        [
            ("zero fee", SetCertificationTerms("demo", D("0"), date(2022, 6, 1)), "fee", "positive", InvalidCommand),
            (
                "validity too long",
                SetCertificationTerms("demo", D("1"), date(2022, 6, 1), validity_months=121),
                "validity_months",
                "range",
                InvalidCommand,
            ),
            (
                "no renewal window",
                SetCertificationTerms("demo", D("1"), date(2022, 6, 1), renewal_window_days=0),
                "renewal_window_days",
                "range",
                InvalidCommand,
            ),
            (
                "terms back-dated",
                SetCertificationTerms("demo", D("1"), date(2021, 6, 1)),
                "effective_date",
                "after_previous_terms",
                InvalidCommand,
            ),
            (
                "terms before founding",
                SetCertificationTerms("demo", D("1"), date(2019, 6, 1)),
                "effective_date",
                "not_before_founding",
                InvalidCommand,
            ),
            (
                "id taken",
                GrantCertification("demo", "C1", "early", date(2022, 6, 1)),
                "certification_id",
                "unique_certification",
                Conflict,
            ),
            (
                "unknown member",
                GrantCertification("demo", "C9", "ghost", date(2022, 6, 1)),
                "member_id",
                "known_member",
                NotFound,
            ),
            (
                "not yet a member",
                GrantCertification("demo", "C9", "prov", date(2020, 1, 20)),
                "member_id",
                "member_on_date",
                InvalidCommand,
            ),
            (
                "no terms yet",
                GrantCertification("demo", "C9", "early", date(2020, 1, 10)),
                "effective_date",
                "terms_defined",
                InvalidCommand,
            ),
            (
                "already certified",
                GrantCertification("demo", "C9", "prov", date(2022, 6, 1)),
                "member_id",
                "one_certification_at_a_time",
                Conflict,
            ),
            (
                "unknown certification",
                RenewCertification("demo", "C9", date(2022, 6, 1)),
                "certification_id",
                "known_certification",
                NotFound,
            ),
            (
                "renewing a revoked one",
                RenewCertification("demo", "C2", date(2022, 5, 1)),
                "certification_id",
                "not_revoked",
                InvalidCommand,
            ),
            (
                "renewal back in time",
                RenewCertification("demo", "C1", date(2022, 1, 14)),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "renewal too early",
                RenewCertification("demo", "C3", date(2022, 12, 2)),
                "effective_date",
                "renewal_window",
                InvalidCommand,
            ),
            (
                "renewal after expiry",
                RenewCertification("demo", "C3", date(2023, 2, 1)),
                "effective_date",
                "not_expired",
                InvalidCommand,
            ),
            (
                "renewing a member who left",
                RenewCertification("demo", "CG", date(2022, 1, 15)),
                "member_id",
                "member_on_date",
                InvalidCommand,
            ),
            (
                "revoked twice",
                RevokeCertification("demo", "C2", date(2021, 3, 1), "again"),
                "certification_id",
                "revoked_once",
                Conflict,
            ),
            (
                "revocation without reason",
                RevokeCertification("demo", "C1", date(2022, 6, 1), "  "),
                "reason",
                "required",
                InvalidCommand,
            ),
            (
                "revocation back in time",
                RevokeCertification("demo", "C1", date(2022, 1, 14), "x"),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "revoking an expired one",
                RevokeCertification("demo", "C3", date(2023, 2, 1), "x"),
                "effective_date",
                "in_force",
                InvalidCommand,
            ),
            (
                "overpaid fee",
                PayCertificationFee("demo", "C1", D("480.01"), date(2022, 2, 1)),
                "amount",
                "no_overpayment",
                InvalidCommand,
            ),
            (
                "fee paid before the grant",
                PayCertificationFee("demo", "C3", D("1"), date(2021, 1, 31)),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "payment of no certification",
                PayCertificationFee("demo", "C9", D("1"), date(2022, 2, 1)),
                "certification_id",
                "known_certification",
                NotFound,
            ),
            (
                "grant reversed before its renewal",
                ReverseEntry("demo", 1, "x", date(2022, 2, 1)),
                "entry_number",
                "latest_certification_change",
                InvalidCommand,
            ),
            (
                "older certification reversed",
                ReverseEntry("demo", 2, "x", date(2022, 2, 1)),
                "entry_number",
                "latest_certification_change",
                InvalidCommand,
            ),
        ],
    )
    ok(books, RevokeCertification("demo", "CG", date(2021, 12, 31), "left the cooperative"))
    ok(books, PayCertificationFee("demo", "C3", D("10"), date(2021, 2, 2)))  # 7
    ok(books, PayCertificationFee("demo", "C1", D("100"), date(2022, 2, 1)))  # 8: 550.00 paid, more than the grant's 450.00
    check_refusals(
        books,
        [
            (
                "revoked grant reversed",
                ReverseEntry("demo", 6, "x", date(2022, 2, 1)),
                "entry_number",
                "latest_certification_change",
                InvalidCommand,
            ),
            (
                "grant reversed with its fee paid",
                ReverseEntry("demo", 4, "x", date(2022, 2, 1)),
                "entry_number",
                "fee_unpaid",
                InvalidCommand,
            ),
            (
                "renewal reversed under its payments",
                ReverseEntry("demo", 5, "x", date(2022, 2, 1)),
                "entry_number",
                "fee_unpaid",
                InvalidCommand,
            ),
        ],
    )


def test_grants_renewals_and_payments_carry_hand_computed_entries(books):
    entries = stored_financial_events(books, "demo")
    assert [e.kind for e in entries] == [
        "CertificationGranted",
        "CertificationGranted",
        "CertificationFeePaid",
        "CertificationGranted",
        "CertificationRenewed",
    ]
    assert entries[0].postings == [["411", "prov", "EUR", 45000], ["706", None, "EUR", -45000]]
    assert entries[2].postings == [["512", None, "EUR", 45000], ["411", "prov", "EUR", -45000]]
    assert entries[4].postings == [["411", "prov", "EUR", 48000], ["706", None, "EUR", -48000]]
    assert (entries[0].expires_on, entries[3].expires_on) == (date(2022, 3, 1), date(2023, 2, 1))
    # Renewed on 2022-01-15, 45 days before expiry: 12 more months from 2022-03-01, at the 2021 terms.
    assert (entries[4].previous_expires_on, entries[4].expires_on, entries[4].validity_months) == (
        date(2022, 3, 1),
        date(2023, 3, 1),
        12,
    )


def test_who_is_certified_on_a_date_and_when_it_expires(books, runner):
    runner.catch_up()
    db = books.db

    def certified(day: date) -> list[tuple[str, str]]:
        return [(r["member_id"], r["certification_id"]) for r in read.certified_on(db, "demo", day)]

    assert certified(date(2020, 2, 29)) == []
    assert certified(date(2020, 7, 1)) == [("other", "C2"), ("prov", "C1")]
    assert certified(date(2021, 1, 9)) == [("other", "C2"), ("prov", "C1")]
    assert certified(date(2021, 1, 10)) == [("prov", "C1")]  # C2 revoked that day, C3 from 2021-02-01
    assert certified(date(2022, 3, 1)) == [("other", "C3"), ("prov", "C1")]  # C1 renewed before its first expiry
    assert certified(date(2023, 2, 1)) == [("prov", "C1")]  # C3 expired
    assert certified(date(2023, 3, 1)) == []

    c1 = certification_of(db, "demo", "prov", date(2022, 6, 1))
    assert {k: c1[k] for k in ("certification_id", "status", "granted_on", "expires_on", "valid_until", "renewals")} == {
        "certification_id": "C1",
        "status": "certified",
        "granted_on": "2020-03-01",
        "expires_on": "2023-03-01",
        "valid_until": "2023-02-28",
        "renewals": 1,
    }
    assert (c1["billed_cents"], c1["paid_cents"], c1["due_cents"]) == (93000, 45000, 48000)
    c2 = certification_of(db, "demo", "other", date(2021, 1, 20))
    assert (c2["certification_id"], c2["status"], c2["ends_on"], c2["revocation_reason"]) == (
        "C2",
        "revoked",
        "2021-01-10",
        "audit failed",
    )
    assert certification_of(db, "demo", "other", date(2021, 1, 9))["status"] == "certified"
    assert certification_of(db, "demo", "other", date(2023, 6, 1))["status"] == "expired"
    assert certification_of(db, "demo", "prov", date(2020, 2, 29)) is None
    assert certification_of(db, "demo", "gone", date(2022, 6, 1)) is None

    # Last valid days: C3 2023-01-31, C1 2023-02-28.
    assert [r["certification_id"] for r in read.expiring_between(db, "demo", date(2023, 1, 1), date(2023, 3, 31))] == ["C3", "C1"]
    assert read.expiring_between(db, "demo", date(2023, 2, 1), date(2023, 2, 27)) == []
    assert [r["certification_id"] for r in read.expiring_between(db, "demo", date(2023, 1, 31), date(2023, 1, 31))] == ["C3"]


def test_the_deferred_part_of_fees_at_a_cut_off(books, runner):
    runner.catch_up()
    db = books.db
    # Each 24-month fee covers 730 days. On 2020-12-31: C1 has 424 days left (2021-01-01 ..
    # 2022-02-28), C2 530 (2021-01-01 .. 2022-06-14): its revocation comes later.
    cut = read.deferred_fees(db, "demo", date(2020, 12, 31))
    assert [(f["certification_id"], f["days_after"], f["deferred_cents"]) for f in cut["fees"]] == [
        ("C1", 424, 45000 * 424 // 730),
        ("C2", 530, 45000 * 530 // 730),
    ]
    assert cut["deferred_cents"] == 26136 + 32671
    # On 2021-12-31: C1 59 days left; C2 revoked, nothing deferred; C3 396 of 730 days;
    # the renewal is billed later (2022-01-15).
    cut = read.deferred_fees(db, "demo", date(2021, 12, 31))
    assert [(f["certification_id"], f["deferred_cents"]) for f in cut["fees"]] == [
        ("C1", 45000 * 59 // 730),
        ("C3", 45000 * 396 // 730),
    ]
    # On 2022-12-31: C1's renewal (480.00 for 365 days) has 59 days left, C3 31.
    cut = read.deferred_fees(db, "demo", date(2022, 12, 31))
    assert [(f["certification_id"], f["fee_cents"], f["deferred_cents"]) for f in cut["fees"]] == [
        ("C3", 45000, 45000 * 31 // 730),
        ("C1", 48000, 48000 * 59 // 365),
    ]
    assert cut["deferred_cents"] == 1910 + 7758


def test_reversals_undo_renewals_and_grants_in_the_read_model(books, runner):
    ok(books, ReverseEntry("demo", 5, "renewed by mistake", date(2022, 1, 20)))  # 6
    ok(books, ReverseEntry("demo", 4, "granted to the wrong member", date(2022, 1, 20)))  # 7
    runner.catch_up()
    db = books.db
    c1 = certification_of(db, "demo", "prov", date(2022, 1, 20))
    assert (c1["expires_on"], c1["renewals"], c1["billed_cents"], c1["due_cents"]) == ("2022-03-01", 0, 45000, 0)
    assert read.certified_on(db, "demo", date(2022, 3, 1)) == []
    assert certification_of(db, "demo", "other", date(2022, 1, 20))["certification_id"] == "C2"
    # As of 2021-12-31 the reversed grant still stood; from 2022-01-20 on it is gone.
    assert [f["certification_id"] for f in read.deferred_fees(db, "demo", date(2021, 12, 31))["fees"]] == ["C1", "C3"]
    assert [f["certification_id"] for f in read.deferred_fees(db, "demo", date(2022, 1, 20))["fees"]] == ["C1"]
    assert account_balance(db, "demo", "706") == -(45000 + 45000)  # C1 and C2 (revoked, not refunded)
    assert account_balance(db, "demo", "411", party="other") == 45000  # C2's fee, never paid
    # The member and the id are free again.
    ok(books, GrantCertification("demo", "C3", "other", date(2022, 2, 1)))
    ok(books, RenewCertification("demo", "C1", date(2022, 2, 1)))
    runner.catch_up()
    assert [r["member_id"] for r in read.certified_on(db, "demo", date(2022, 6, 1))] == ["other", "prov"]

    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental
