"""A federation carries its founders' earmarked gifts (both stores; domain/donations_carry.py): the
unspent part of each gift arrives on the dedicated account with the opening entry, and the gift is
rebuilt in the federation, so UseEarmarkedDonation spends it there on its purpose only and up to
what was unspent; the read side shows the same; the federation's donor yearly list does not count
the carried gifts (the founder received them and issues the receipts)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from domain.donations import RecordDonation, UseEarmarkedDonation, donations_state
from domain.donations_carry import EarmarkedGiftCarried
from domain.grants import OpenCall
from ledger.commands import loads, parse_envelope
from ledger.founder_books import read_founder_books
from projections.balances import account_balance
from projections.donations import dedicated_funds, donor_receipts, gifts_received
from projections.journal import journal

from .conftest import demo_lines, refused, run

DAY = date(2025, 7, 1)
FEE = [{"min_headcount": 1, "max_headcount": None, "amount": "50"}]


def _lines(name: str, build: Any) -> list[dict[str, Any]]:
    def part(add: Any) -> None:
        build(add)

    part.__name__ = name  # the idempotency keys' prefix
    return demo_lines(part)


def _found(add: Any, slug: str, legal_form: str = "association") -> None:
    extra = {"siren": "123456782", "share_value": "50"} if legal_form != "association" else {}
    colleges = [{"code": "membres", "name": "Membres"}] + (
        [{"code": "salaries", "name": "Salariés"}, {"code": "soutiens", "name": "Soutiens"}] if extra else []
    )
    add(
        "FoundCooperative",
        coop=slug,
        name=f"Coop {slug}",
        legal_form=legal_form,
        founded_on="2025-01-01",
        colleges=colleges,
        fee_schedule=FEE,
        **extra,
    )


def _founder_a(add: Any) -> None:
    """dons-a: a gift for a project, partly used (700 left); an unrestricted gift and a spent one
    (nothing to carry); a company's gift for its call for projects C1 (2,000 left), the call then
    closed and its subsidy used up (nothing left on the subsidy's dedicated account)."""
    _found(add, "dons-a")
    add(
        "AdmitMember",
        coop="dons-a",
        member_id="A-01",
        name="Atelier",
        kind="organisation",
        college="membres",
        headcount=3,
        effective_date="2025-01-05",
    )
    add(
        "RecordSubsidy",
        coop="dons-a",
        subsidy_id="S1",
        funder="Région",
        purpose="Appel",
        amount="1000",
        effective_date="2025-01-10",
    )
    add(
        "OpenCall",
        coop="dons-a",
        call_id="C1",
        title="Appel 2025",
        envelope="1000",
        min_award="100",
        max_award="1000",
        max_laureates=1,
        effective_date="2025-01-15",
        subsidy_id="S1",
    )
    add(
        "RecordDonation",
        coop="dons-a",
        donation_id="G-A1",
        donor_id="alice",
        donor_name="Alice Martin",
        donor_kind="individual",
        amount="1000",
        effective_date="2025-02-01",
        donor_address="1 rue des Lilas",
        project="atelier",
    )
    add(
        "RecordDonation",
        coop="dons-a",
        donation_id="G-A2",
        donor_id="bob",
        donor_name="Bob",
        donor_kind="individual",
        amount="200",
        effective_date="2025-02-02",
    )
    add(
        "RecordDonation",
        coop="dons-a",
        donation_id="G-A3",
        donor_id="acme",
        donor_name="Acme SA",
        donor_kind="company",
        amount="100",
        effective_date="2025-02-03",
        project="studio",
    )
    add(
        "RecordDonation",
        coop="dons-a",
        donation_id="G-A4",
        donor_id="fondation",
        donor_name="Fondation X",
        donor_kind="company",
        amount="2000",
        effective_date="2025-02-10",
        call_id="C1",
    )
    add(
        "UseEarmarkedDonation",
        coop="dons-a",
        donation_id="G-A1",
        amount="300",
        label="Outils",
        effective_date="2025-03-01",
        project="atelier",
    )
    add(
        "UseEarmarkedDonation",
        coop="dons-a",
        donation_id="G-A3",
        amount="100",
        label="Micros",
        effective_date="2025-03-02",
        project="studio",
    )
    add("CloseCall", coop="dons-a", call_id="C1", effective_date="2025-04-01")
    add("UseSubsidy", coop="dons-a", subsidy_id="S1", amount="1000", label="Ateliers", effective_date="2025-04-02")


def _founder_b(add: Any) -> None:
    """dons-b: a crowdfunding payout for the studio, 5,000 gross less a 250 fee, two itemised
    backers (3,500 anonymous); 750 used, 4,000 left."""
    _found(add, "dons-b")
    add(
        "AdmitMember",
        coop="dons-b",
        member_id="B-01",
        name="Radio",
        kind="organisation",
        college="membres",
        headcount=4,
        effective_date="2025-01-05",
    )
    add(
        "RecordCrowdfundingPayout",
        coop="dons-b",
        payout_id="P-B1",
        platform="HelloAsso",
        campaign="Studio",
        gross="5000",
        fee="250",
        effective_date="2025-03-10",
        project="studio",
        backers=[
            {"donor_id": "carol", "donor_name": "Carol", "amount": "1000"},
            {"donor_id": "dave", "donor_name": "Dave", "amount": "500", "donor_address": "2 place du Marché"},
        ],
    )
    add(
        "UseEarmarkedDonation",
        coop="dons-b",
        donation_id="P-B1",
        amount="750",
        label="Câbles",
        effective_date="2025-04-10",
        project="studio",
    )


def _federation(slug: str, founders: list[str], legal_form: str = "association", key: str = "fed") -> list[dict[str, Any]]:
    extra: dict[str, Any] = {}
    if legal_form != "association":  # a SCIC has capital and at least 3 colleges
        extra = {
            "share_value": "50",
            "colleges": [
                {"code": f"c{i}", "name": f"Collège {i}", "founders": founders[i : i + 1]} for i in range(max(3, len(founders)))
            ],
        }
    return _lines(
        key,
        lambda add: add(
            "FederateCooperatives",
            coop=slug,
            name="Fédération",
            legal_form=legal_form,
            effective_date=DAY.isoformat(),
            founders=founders,
            fee_schedule=FEE,
            **extra,
        ),
    )


def _attempt(ledger: Any, line: dict[str, Any]) -> Any:
    envelope = parse_envelope(loads(json.dumps(line)))
    return ledger.execute(envelope.command, envelope.idempotency_key, "test")


def _unspent(ledger: Any, slug: str) -> dict[str, int]:
    return {
        g: gift.pot.totals.unspent_cents
        for g, gift in donations_state(ledger.cooperative(slug)).gifts.items()
        if gift.purpose is not None
    }


def _dedicated_in_books(ledger: Any, slug: str, account: str) -> dict[str, int]:
    books = read_founder_books(ledger, ledger.cooperative(slug)).balances  # the write side's journal, replayed
    return {party: -amount for (acc, party, _unit), amount in books.items() if acc == account and amount}


def test_earmarked_gifts_are_used_in_the_federation_for_their_purpose_only(ledger, runner):
    run(ledger, _lines("a", _founder_a) + _lines("b", _founder_b))
    runner.catch_up()
    founder_receipts = donor_receipts(ledger.db, "dons-a", 2025)
    result = _attempt(ledger, _federation("dons-fed", ["dons-a", "dons-b"])[0])
    assert result.accepted, result.error and result.error.as_dict()
    fed = ledger.cooperative("dons-fed")
    openings = {ref["coop"]: ref["opening_journal_number"] for ref in fed.federated_from}

    # Write side: exactly the gifts with something unspent, for what was unspent, on 196 as the books.
    carried = {"G-A1": 700_00, "G-A4": 2000_00, "P-B1": 4000_00}
    assert _unspent(ledger, "dons-fed") == carried == _dedicated_in_books(ledger, "dons-fed", "196")
    report = {f["coop"]: f["open_items"] for f in result.report["founders"]}
    assert {i["party"]: -i["amount_minor"] for i in report["dons-a"] if i["account"] == "196"} == {
        "G-A1": 700_00,
        "G-A4": 2000_00,
    }
    gifts = donations_state(fed).gifts
    # C1 was closed: it stayed in the founder's books, and the gift is earmarked for dons-a's C1 by name.
    assert (gifts["G-A4"].purpose, gifts["P-B1"].purpose) == ("call:dons-a.C1", "project:studio")
    assert "C1" not in fed.grants.calls
    receipt = gifts["P-B1"].receipt  # the donors as the founder recorded them, for the trail
    assert (
        isinstance(receipt, EarmarkedGiftCarried)
        and receipt.founder == "dons-b"
        and receipt.opening_journal_number == openings["dons-b"]
    )
    assert [(d["donor_id"], d["amount_cents"]) for d in receipt.donors] == [("carol", 1000_00), ("dave", 500_00)]
    assert (receipt.anonymous_cents, receipt.fee_cents, receipt.method) == (3500_00, 250_00, "platform")
    assert gifts["G-A1"].receipt.donors[0]["donor_address"] == "1 rue des Lilas"

    # What the founder would have refused, the federation refuses, writing nothing.
    def use(gift: str, amount: str, **purpose: str) -> UseEarmarkedDonation:
        return UseEarmarkedDonation("dons-fed", gift, Decimal(amount), "Dépense", date(2025, 7, 2), **purpose)

    assert refused(ledger, use("G-A1", "10", project="studio"), "r1").rule == "earmarked_purpose"
    assert refused(ledger, use("G-A1", "700.01", project="atelier"), "r2").rule == "donation_unspent"
    assert refused(ledger, use("G-A4", "10", project="C1"), "r3").rule == "earmarked_purpose"
    assert (
        refused(ledger, use("G-A4", "10", call_id="C1"), "r3b").rule == "earmarked_purpose"
    )  # a C1 of the federation is not dons-a's
    taken = refused(
        ledger, OpenCall("dons-fed", "dons-a.C1", "Appel", Decimal(100), Decimal(10), Decimal(100), 1, date(2025, 7, 2)), "r3c"
    )
    assert (taken.field, taken.rule) == ("call_id", "earmarked_elsewhere")
    assert refused(ledger, use("G-A4", "10", call_id="C2"), "r4").rule == "earmarked_purpose"
    assert refused(ledger, use("P-B1", "4000.01", project="studio"), "r5").rule == "donation_unspent"
    assert refused(ledger, use("G-A2", "10", project="atelier"), "r6").rule == "known_donation"  # unrestricted: not carried
    assert refused(ledger, use("G-A3", "1", project="studio"), "r7").rule == "known_donation"  # spent: not carried
    clash = refused(
        ledger, RecordDonation("dons-fed", "G-A1", "alice", "Alice", "individual", Decimal(5), date(2025, 7, 2)), "r8"
    )
    assert (clash.field, clash.rule) == ("donation_id", "unique_gift")

    # ... and accepts the uses the founder would have accepted.
    for i, command in enumerate(
        [use("G-A1", "700", project="atelier"), use("G-A4", "500", call_id="dons-a.C1"), use("P-B1", "1500", project="studio")]
    ):
        assert ledger.execute(command, f"use-{i}").accepted
    after = {"G-A1": 0, "G-A4": 1500_00, "P-B1": 2500_00}
    assert _unspent(ledger, "dons-fed") == after
    assert {g: a for g, a in _dedicated_in_books(ledger, "dons-fed", "196").items()} == {g: a for g, a in after.items() if a}

    # A new gift in the federation: its receipts count it, and only it.
    new_gift = RecordDonation("dons-fed", "G-F1", "alice", "Alice Martin", "individual", Decimal(50), date(2025, 7, 3))
    assert ledger.execute(new_gift, "new-gift").accepted
    runner.catch_up()

    # Read side = write side.
    funds = dedicated_funds(ledger.db, "dons-fed")
    assert {f["gift_id"]: f["unspent_cents"] for f in funds["gifts"]} == after
    assert {p["purpose"]: p["unspent_cents"] for p in funds["by_purpose"]} == {
        "project:atelier": 0,
        "call:dons-a.C1": 1500_00,
        "project:studio": 2500_00,
    }
    listed = {g["gift_id"]: g for g in gifts_received(ledger.db, "dons-fed")}
    assert set(listed) == {"G-A1", "G-A4", "P-B1", "G-F1"}
    assert (listed["P-B1"]["gross_cents"], listed["P-B1"]["fee_cents"], listed["P-B1"]["received_on"]) == (
        5000_00,
        250_00,
        "2025-03-10",
    )
    assert listed["G-A1"]["journal_number"] == openings["dons-a"] and listed["P-B1"]["journal_number"] == openings["dons-b"]

    # Donor yearly totals of the federation = its journal's gifts: the new gift only.
    receipts = donor_receipts(ledger.db, "dons-fed", 2025)
    gifts_in_journal = sum(
        p["amount"]
        for e in journal(ledger.db, "dons-fed")
        if e["kind"] == "DonationReceived"
        for p in e["postings"]
        if p["account"] == "512"
    )
    assert receipts["total_cents"] == gifts_in_journal == 50_00
    assert {d["donor_id"]: d["total_cents"] for d in receipts["donors"]} == {"alice": 50_00}
    assert -account_balance(ledger.db, "dons-fed", "7541") == 50_00  # gifts received by the federation
    assert -account_balance(ledger.db, "dons-fed", "7896") == 700_00 + 500_00 + 1500_00  # the carried gifts' uses
    # The founder's receipts are untouched: it received the gifts.
    assert donor_receipts(ledger.db, "dons-a", 2025) == founder_receipts


def test_the_plans_dedicated_accounts_must_agree_and_gift_ids_must_not_clash(ledger, runner):
    """An association's 196 cannot carry into a SCIC (whose gifts live on 4877), and two founders'
    gifts with one id cannot both be carried: refused, nothing written. SCIC into SCIC works (4877)."""

    def founder_c(add: Any) -> None:  # another association with a gift named like dons-a's
        _found(add, "dons-c")
        add(
            "RecordDonation",
            coop="dons-c",
            donation_id="G-A1",
            donor_id="eve",
            donor_name="Eve",
            donor_kind="individual",
            amount="80",
            effective_date="2025-02-01",
            project="jardin",
        )

    def scics(add: Any) -> None:
        for slug in ("scic-a", "scic-b"):
            _found(add, slug, "scic")
        add(
            "RecordDonation",
            coop="scic-a",
            donation_id="S-G1",
            donor_id="zoe",
            donor_name="Zoé",
            donor_kind="individual",
            amount="600",
            effective_date="2025-02-01",
            project="fablab",
        )
        add(
            "UseEarmarkedDonation",
            coop="scic-a",
            donation_id="S-G1",
            amount="100",
            label="Filament",
            effective_date="2025-03-01",
            project="fablab",
        )

    run(ledger, _lines("a", _founder_a) + _lines("c", founder_c) + _lines("s", scics))
    position = ledger.position()
    into_scic = _attempt(ledger, _federation("dons-scic", ["dons-a"], "scic", key="fed-scic")[0])
    assert not into_scic.accepted
    assert (into_scic.error.field, into_scic.error.rule) == ("legal_form", "same_dedicated_account")
    assert "196" in into_scic.error.message and "4877" in into_scic.error.message
    clash = _attempt(ledger, _federation("dons-both", ["dons-a", "dons-c"], key="fed-both")[0])
    assert not clash.accepted
    assert (clash.error.field, clash.error.rule, clash.error.kind) == ("founders[1]", "unique_gift", "conflict"), (
        clash.error.as_dict()
    )
    assert ledger.position() == position
    assert ledger.cooperative("dons-a").sealed_by_federation is None and ledger.cooperative("dons-c").sealed_by_federation is None

    # General plan into general plan: the gift goes on living on 4877.
    ok = _attempt(ledger, _federation("scic-fed", ["scic-a", "scic-b"], "scic", key="fed-scics")[0])
    assert ok.accepted, ok.error and ok.error.as_dict()
    assert _unspent(ledger, "scic-fed") == {"S-G1": 500_00} == _dedicated_in_books(ledger, "scic-fed", "4877")
    over = refused(
        ledger,
        UseEarmarkedDonation("scic-fed", "S-G1", Decimal("500.01"), "Trop", date(2025, 7, 2), project="fablab"),
        "scic-over",
    )
    assert over.rule == "donation_unspent"
    assert ledger.execute(
        UseEarmarkedDonation("scic-fed", "S-G1", Decimal(500), "Imprimante", date(2025, 7, 2), project="fablab"), "scic-use"
    ).accepted
    runner.catch_up()
    assert dedicated_funds(ledger.db, "scic-fed")["unspent_cents"] == 0 == sum(_unspent(ledger, "scic-fed").values())
    assert -account_balance(ledger.db, "scic-fed", "4877", party="S-G1") == 0
    assert donor_receipts(ledger.db, "scic-fed", 2025)["total_cents"] == 0  # no gift received by the federation


def test_a_gift_for_an_open_call_funds_that_call_in_the_federation_and_no_other(ledger):
    """The call is carried under its id (domain/funds_carry.py) and the gift keeps "call:<id>";
    another founder's closed call of the same id leaves its gift named after that founder."""

    def founder_c(add: Any) -> None:
        _found(add, "dons-c")
        add(
            "RecordSubsidy",
            coop="dons-c",
            subsidy_id="S9",
            funder="Ville",
            purpose="Appel",
            amount="500",
            effective_date="2025-01-10",
        )
        add(
            "OpenCall",
            coop="dons-c",
            call_id="C1",
            title="Appel ouvert",
            envelope="500",
            min_award="100",
            max_award="500",
            max_laureates=1,
            effective_date="2025-01-15",
            subsidy_id="S9",
        )
        add(
            "RecordDonation",
            coop="dons-c",
            donation_id="G-C1",
            donor_id="eve",
            donor_name="Eve",
            donor_kind="individual",
            amount="300",
            effective_date="2025-02-01",
            call_id="C1",
        )

    run(ledger, _lines("a", _founder_a) + _lines("c", founder_c))
    result = _attempt(ledger, _federation("dons-fed2", ["dons-a", "dons-c"], key="fed2")[0])
    assert result.accepted, result.error and result.error.as_dict()
    fed = ledger.cooperative("dons-fed2")
    gifts = donations_state(fed).gifts
    assert "C1" in fed.grants.calls and fed.grants.calls["C1"].closed_on is None  # dons-c's open call, carried
    assert (gifts["G-C1"].purpose, gifts["G-A4"].purpose) == ("call:C1", "call:dons-a.C1")
    use = lambda gift, **purpose: UseEarmarkedDonation("dons-fed2", gift, Decimal(10), "Dépense", date(2025, 7, 2), **purpose)  # noqa: E731
    assert refused(ledger, use("G-A4", call_id="C1"), "x1").rule == "earmarked_purpose"  # dons-a's C1 is not dons-c's
    assert ledger.execute(use("G-C1", call_id="C1"), "x2").accepted
    assert ledger.execute(use("G-A4", call_id="dons-a.C1"), "x3").accepted
