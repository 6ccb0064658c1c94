"""Tax receipts through the ledger and its view, on SQLite and PostgreSQL: eligibility by legal
basis and legal form, one receipt per donor numbered without gaps, never two for one gift, a gift
reversed after its receipt flagged and the receipt corrected or cancelled, the donor forgotten in
the view, and the routes and roles. Figures: tests/receipts/helpers.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.donations import RecordDonation
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.identities import ForgetPerson
from domain.tax_receipts import CorrectTaxReceipt, DeclareReceiptEligibility, IssueTaxReceipts, flagged, tax_receipts_state
from ledger.service import Ledger
from projections.runner import ProjectionRunner
from projections.tax_receipts import TaxReceiptsProjection, receipt_pdf, tax_receipt, tax_receipts
from tests.builders import dump_projections, found_association, found_scic, ok
from tests.ledger.test_contributions import assert_refused
from tests.receipts.helpers import COOP, ELIGIBLE, ISSUED_ON, books, issue

D = Decimal


def _numbers(view: dict) -> list[tuple[str, str, int, str, str]]:
    return [(r["receipt_number"], r["donor_id"], r["total_cents"], r["article"], r["status"]) for r in view["receipts"]]


# ---------------------------------------------------------------- eligibility


def test_a_cooperative_not_eligible_is_refused_receipts(ledger: Ledger):
    books(ledger, eligible=False)
    assert_refused(ledger, IssueTaxReceipts(COOP, 2025, ISSUED_ON), "coop", "receipt_eligibility", InvalidCommand)
    # Eligible from 2026 only: still refused for the gifts of 2025.
    ok(ledger, DeclareReceiptEligibility(COOP, True, date(2026, 1, 1), "general_interest", "Objet", "Adresse"))
    assert_refused(ledger, IssueTaxReceipts(COOP, 2025, ISSUED_ON), "coop", "receipt_eligibility", InvalidCommand)


def test_a_withdrawn_eligibility_covers_only_the_gifts_received_while_eligible(ledger: Ledger):
    books(ledger)
    # No longer eligible from 1 April 2025: the payout of 15 April and alice's gift of November get none.
    ok(ledger, DeclareReceiptEligibility(COOP, False, date(2025, 4, 1)))
    issue(ledger)
    state = tax_receipts_state(ledger.cooperative(COOP))
    assert {n: (r.donor_id, r.total_cents) for n, r in state.receipts.items()} == {
        "2025-0001": ("acme", 200_000),
        "2025-0002": ("alice", 15_000),
    }


def test_the_basis_must_fit_the_legal_form(ledger: Ledger):
    ok(ledger, found_scic("scic"))
    for basis in ("general_interest", "public_utility", "aid_to_persons_in_difficulty"):
        command = DeclareReceiptEligibility("scic", True, date(2025, 1, 1), basis, "Objet", "Adresse", reference="décret")
        assert_refused(ledger, command, "basis", "basis_fits_legal_form", InvalidCommand, coop="scic")
    refused = DeclareReceiptEligibility("scic", True, date(2025, 1, 1), "general_interest", "Objet", "Adresse")
    result = ledger.execute(refused, "x")
    assert "commercial company" in result.error.message and "tax_ruling" in result.error.message
    # A SCIC may rest only on a ruling (rescrit) naming it, whose reference is required.
    ruling = DeclareReceiptEligibility("scic", True, date(2025, 1, 1), "tax_ruling", "Objet", "Adresse")
    assert_refused(ledger, ruling, "reference", "required", InvalidCommand, coop="scic")
    ok(ledger, DeclareReceiptEligibility("scic", True, date(2025, 1, 1), "tax_ruling", "Objet", "Adresse",
                                         reference="Rescrit DGFiP n° 2025-0042 du 3 mars 2025"))  # fmt: skip


def test_a_declaration_is_checked(ledger: Ledger):
    ok(ledger, found_association(COOP))
    for command, field, rule in [
        (DeclareReceiptEligibility(COOP, True, date(2025, 1, 1), "charity", "Objet", "Adresse"), "basis", "known_basis"),
        (DeclareReceiptEligibility(COOP, True, date(2025, 1, 1), "general_interest", None, "Adresse"), "mission", "required"),
        (DeclareReceiptEligibility(COOP, True, date(2025, 1, 1), "public_utility", "Objet", "Adresse"), "reference", "required"),
        (DeclareReceiptEligibility(COOP, False, date(2025, 1, 1), "general_interest"), "basis", "no_basis"),
    ]:
        assert_refused(ledger, command, field, rule, InvalidCommand)
    ok(ledger, ELIGIBLE)
    earlier = DeclareReceiptEligibility(COOP, False, date(2019, 12, 1))
    assert_refused(ledger, earlier, "effective_date", "not_before_founding", InvalidCommand)
    ok(ledger, DeclareReceiptEligibility(COOP, False, date(2025, 6, 1)))
    back = DeclareReceiptEligibility(COOP, True, date(2025, 3, 1), "general_interest", "Objet", "Adresse")
    assert_refused(ledger, back, "effective_date", "not_before", InvalidCommand)


# ---------------------------------------------------------------- issuing


def test_one_receipt_per_donor_numbered_without_gaps_and_never_twice_for_a_gift(ledger: Ledger, runner: ProjectionRunner):
    books(ledger)
    first = issue(ledger)
    assert first.events == ("TaxReceiptIssued",) * 3
    runner.catch_up()
    view = tax_receipts(ledger.db, COOP, 2025)
    assert _numbers(view) == [
        ("2025-0001", "acme", 200_000, "238 bis", "issued"),
        ("2025-0002", "alice", 45_000, "200", "issued"),
        ("2025-0003", "bob", 10_000, "200", "issued"),
    ]
    assert view["issued_cents"] == 255_000 and view["flagged"] == []  # the 650 anonymous get no receipt
    alice = view["receipts"][1]
    assert [(g["gift_id"], g["received_on"], g["amount_cents"], g["method"]) for g in alice["gifts"]] == [
        ("D1", "2025-02-10", 15_000, "transfer"),
        ("P1", "2025-04-15", 25_000, "platform"),
        ("D3", "2025-11-02", 5_000, "cash"),
    ]
    assert alice["donor_address"] == "1 rue des Lilas, 34000 Montpellier"  # the latest address given
    assert alice["issuer"]["basis"] == "general_interest" and alice["issuer"]["siren"] is None

    # Again: nothing new, nothing issued (accepted, no event); the same key answers the same result.
    again = issue(ledger)
    assert again.events == () and again.accepted
    # A gift recorded since (back-dated into 2025) gets the next number; a 2026 gift is not 2025's.
    ok(ledger, RecordDonation(COOP, "D4", "bob", "Bob Durand", "individual", D("30"), date(2025, 12, 20)))
    ok(ledger, RecordDonation(COOP, "D5", "bob", "Bob Durand", "individual", D("40"), date(2026, 1, 5)))
    assert issue(ledger, on=date(2026, 1, 20)).events == ("TaxReceiptIssued",)
    runner.catch_up()
    assert _numbers(tax_receipts(ledger.db, COOP, 2025))[-1] == ("2025-0004", "bob", 3_000, "200", "issued")
    # 2026 has its own series; D5 was received before the issue date, so it is receipted.
    issue(ledger, year=2026, on=date(2026, 2, 1))
    runner.catch_up()
    assert _numbers(tax_receipts(ledger.db, COOP, 2026)) == [("2026-0001", "bob", 4_000, "200", "issued")]
    state = tax_receipts_state(ledger.cooperative(COOP))
    assert state.last_sequence == {2025: 4, 2026: 1}
    assert sorted(state.receipted) == sorted(
        [("D1", "alice"), ("D2", "acme"), ("P1", "bob"), ("P1", "alice"), ("D3", "alice"), ("D4", "bob"), ("D5", "bob")]
    )


def test_a_run_issues_a_bounded_number_of_receipts_and_the_next_run_the_rest(ledger: Ledger, monkeypatch):
    import domain.tax_receipts

    monkeypatch.setattr(domain.tax_receipts, "MAX_PER_RUN", 2)
    books(ledger)
    assert len(issue(ledger).events) == 2 and len(issue(ledger).events) == 1 and issue(ledger).events == ()
    state = tax_receipts_state(ledger.cooperative(COOP))
    assert [(n, r.donor_id) for n, r in sorted(state.receipts.items())] == [
        ("2025-0001", "acme"),
        ("2025-0002", "alice"),
        ("2025-0003", "bob"),
    ]


def test_issuing_is_checked(ledger: Ledger):
    books(ledger)
    assert_refused(ledger, IssueTaxReceipts(COOP, 2025, date(2024, 12, 31)), "issued_on", "not_before", InvalidCommand)
    # Gifts after the issue date wait for the next run.
    assert issue(ledger, on=date(2025, 3, 31)).events == ("TaxReceiptIssued",) * 2
    assert issue(ledger, on=date(2025, 12, 31)).events == ("TaxReceiptIssued",) * 2  # alice again (P1, D3), bob


def test_a_reversed_gift_is_flagged_then_its_receipt_corrected(ledger: Ledger, runner: ProjectionRunner):
    books(ledger)
    issue(ledger)
    # A gift reversed before any receipt gets none; here D1 (entry 1) is reversed after alice's receipt.
    ok(ledger, ReverseEntry(COOP, 1, "Virement rejeté", date(2026, 2, 3)))
    coop = ledger.cooperative(COOP)
    assert flagged(coop) == [{"receipt_number": "2025-0002", "gift_id": "D1", "reversed_on": date(2026, 2, 3)}]
    runner.catch_up()
    view = tax_receipts(ledger.db, COOP, 2025)
    assert view["flagged"] == [{"receipt_number": "2025-0002", "gift_id": "D1", "reversed_on": "2026-02-03"}]
    assert issue(ledger, on=date(2026, 2, 4)).events == ()  # a reversed gift is no new gift

    no_reversal = CorrectTaxReceipt(COOP, "2025-0001", date(2026, 2, 10))
    assert_refused(ledger, no_reversal, "receipt_number", "receipt_flagged", InvalidCommand)
    assert_refused(ledger, CorrectTaxReceipt(COOP, "2025-0099", date(2026, 2, 10)), "receipt_number", "known_receipt", NotFound)
    too_early = CorrectTaxReceipt(COOP, "2025-0002", date(2026, 1, 10))
    assert_refused(ledger, too_early, "issued_on", "not_before", InvalidCommand)

    assert ok(ledger, CorrectTaxReceipt(COOP, "2025-0002", date(2026, 2, 10))).events == ("TaxReceiptIssued",)
    runner.catch_up()
    view = tax_receipts(ledger.db, COOP, 2025)
    assert _numbers(view) == [
        ("2025-0001", "acme", 200_000, "238 bis", "issued"),
        ("2025-0002", "alice", 45_000, "200", "replaced"),
        ("2025-0003", "bob", 10_000, "200", "issued"),
        ("2025-0004", "alice", 30_000, "200", "issued"),  # P1 250 + D3 50: D1 is gone
    ]
    corrected = view["receipts"][3]
    assert corrected["corrects"] == "2025-0002" and view["receipts"][1]["replaced_by"] == "2025-0004"
    assert [g["gift_id"] for g in corrected["gifts"]] == ["P1", "D3"]
    assert view["flagged"] == [] and flagged(ledger.cooperative(COOP)) == [] and view["issued_cents"] == 240_000
    again = CorrectTaxReceipt(COOP, "2025-0002", date(2026, 2, 11))
    assert_refused(ledger, again, "receipt_number", "corrected_once", Conflict)

    # Every gift of bob's receipt reversed (the payout, entry 3): cancelled, and its number stays used.
    ok(ledger, ReverseEntry(COOP, 3, "Campagne remboursée", date(2026, 3, 1)))
    runner.catch_up()
    assert [f["receipt_number"] for f in tax_receipts(ledger.db, COOP, 2025)["flagged"]] == ["2025-0003", "2025-0004"]
    assert ok(ledger, CorrectTaxReceipt(COOP, "2025-0003", date(2026, 3, 2))).events == ("TaxReceiptCancelled",)
    ok(ledger, CorrectTaxReceipt(COOP, "2025-0004", date(2026, 3, 2)))
    runner.catch_up()
    view = tax_receipts(ledger.db, COOP, 2025)
    assert [(n, s) for n, _d, _t, _a, s in _numbers(view)] == [
        ("2025-0001", "issued"),
        ("2025-0002", "replaced"),
        ("2025-0003", "cancelled"),
        ("2025-0004", "replaced"),
        ("2025-0005", "issued"),  # alice: D3 alone
    ]
    assert view["issued_cents"] == 205_000 and view["standing"] == 2 and view["flagged"] == []

    # The view rebuilt from the log is the one built as events came.
    ours = ProjectionRunner(ledger, projections=(TaxReceiptsProjection,))
    incremental = dump_projections(ours)
    ours.rebuild()
    assert dump_projections(ours) == incremental


def test_a_forgotten_donor_reads_as_erased_in_the_receipts(ledger: Ledger, runner: ProjectionRunner):
    """A gift of 2018 must stay justifiable until the end of 2024 (LPF art. L102 E): forgotten after that."""
    ok(ledger, found_association(COOP, founded_on=date(2018, 1, 1)))
    ok(ledger, DeclareReceiptEligibility(COOP, True, date(2018, 1, 1), "general_interest", "Objet", "Adresse"))
    ok(ledger, RecordDonation(COOP, "D1", "carol", "Carol Petit", "individual", D("80"), date(2018, 5, 1),
                              donor_address="5 rue Haute, 30000 Nîmes"))  # fmt: skip
    ok(ledger, IssueTaxReceipts(COOP, 2018, date(2019, 1, 10)))
    runner.catch_up()
    assert tax_receipt(ledger.db, COOP, "2018-0001")["donor_name"] == "Carol Petit"
    ok(ledger, ForgetPerson(COOP, "carol", "Demande du 2 janvier 2026", date(2026, 1, 2)))
    runner.catch_up()
    receipt = tax_receipt(ledger.db, COOP, "2018-0001")
    assert (receipt["donor_name"], receipt["donor_address"], receipt["total_cents"]) == ("carol (identité effacée)", None, 8_000)
    assert b"Carol" not in receipt_pdf(ledger.db, COOP, "2018-0001")  # the PDF is the view's
    ours = ProjectionRunner(ledger, projections=(TaxReceiptsProjection,))
    incremental = dump_projections(ours)
    ours.rebuild()
    assert dump_projections(ours) == incremental


def test_the_pdf_of_a_receipt_is_a_pdf(ledger: Ledger, runner: ProjectionRunner):
    books(ledger)
    issue(ledger)
    runner.catch_up()
    pdf = receipt_pdf(ledger.db, COOP, "2025-0002")
    assert pdf is not None and pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert receipt_pdf(ledger.db, COOP, "2025-0042") is None


@pytest.mark.parametrize("year", [2025])
def test_the_receipts_follow_the_journal(ledger: Ledger, runner: ProjectionRunner, year: int):
    """What the standing receipts attest = the year's named gifts in the donations view."""
    from projections.donations import donor_receipts

    books(ledger)
    issue(ledger)
    runner.catch_up()
    donors = donor_receipts(ledger.db, COOP, year)
    assert tax_receipts(ledger.db, COOP, year)["issued_cents"] == donors["named_cents"] == 255_000
