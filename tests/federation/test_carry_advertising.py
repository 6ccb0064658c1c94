"""A federation carries its founders' advertising contracts (both stores; domain/advertising_carry.py):
unpaid invoices arrive on 4117 with the opening entry and the contract with its invoices is rebuilt
in the federation, so PayAdvertisingInvoice collects them there and refuses overpayment, a running
contract is invoiced for its later periods and can be ended; the read side shows the same; a clash
of advertiser or contract ids between founders is refused, writing nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain.advertising import EndAdvertisingContract, InvoiceAdvertising, PayAdvertisingInvoice, advertising_state
from ledger.commands import loads, parse_envelope
from ledger.founder_books import read_founder_books
from projections.advertising import advertising_contracts, advertising_invoices, advertising_revenue_by_month
from projections.journal import journal

from .conftest import demo_lines, refused, run

DAY = date(2025, 7, 1)
FEE = [{"min_headcount": 1, "max_headcount": None, "amount": "50"}]
MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]


def _lines(name: str, build: Any) -> list[dict[str, Any]]:
    def part(add: Any) -> None:
        build(add)

    part.__name__ = name  # the idempotency keys' prefix
    return demo_lines(part)


def _found(add: Any, slug: str) -> None:
    add(
        "FoundCooperative",
        coop=slug,
        name=f"Coop {slug}",
        legal_form="association",
        founded_on="2025-01-01",
        colleges=[{"code": "membres", "name": "Membres"}],
        fee_schedule=FEE,
    )


def _sign(add: Any, slug: str, contract: str, advertiser: str, price: str, starts: str, ends: str, period: str = "month") -> None:
    add(
        "SignAdvertisingContract",
        coop=slug,
        contract_id=contract,
        advertiser_id=advertiser,
        advertiser_name=advertiser.title(),
        advertiser_kind="bank",
        placement="Bannière",
        price_per_period=price,
        starts_on=starts,
        ends_on=ends,
        effective_date="2025-01-01",
        period=period,
    )


def _founder_a(add: Any) -> None:
    """pub-a: AD-A1, 100 a month for 2025, January to June invoiced, April paid in full, May half
    (50 due), June not at all (100 due): 150 due, running after the federation date. AD-A2, one
    quarter, invoiced and paid: nothing open, over before the federation date."""
    _found(add, "pub-a")
    _sign(add, "pub-a", "AD-A1", "bpi", "100", "2025-01-01", "2025-12-31")
    for month in MONTHS:
        add("InvoiceAdvertising", coop="pub-a", contract_id="AD-A1", period=month, effective_date=f"{month}-01")
    for month, amount in zip(MONTHS[:5], ["100", "100", "100", "100", "50"], strict=True):
        add("PayAdvertisingInvoice", coop="pub-a", contract_id="AD-A1", period=month, amount=amount, effective_date=f"{month}-20")
    _sign(add, "pub-a", "AD-A2", "incub", "300", "2025-01-01", "2025-03-31", "quarter")
    add("InvoiceAdvertising", coop="pub-a", contract_id="AD-A2", period="2025-Q1", effective_date="2025-01-02")
    add("PayAdvertisingInvoice", coop="pub-a", contract_id="AD-A2", period="2025-Q1", amount="300", effective_date="2025-02-01")


def _founder_b(add: Any) -> None:
    """pub-b: AD-B1, 600 a quarter for the first half of 2025, over before the federation date but
    400 due on Q1 and 600 on Q2."""
    _found(add, "pub-b")
    _sign(add, "pub-b", "AD-B1", "credit-coop", "600", "2025-01-01", "2025-06-30", "quarter")
    add("InvoiceAdvertising", coop="pub-b", contract_id="AD-B1", period="2025-Q1", effective_date="2025-01-05")
    add("InvoiceAdvertising", coop="pub-b", contract_id="AD-B1", period="2025-Q2", effective_date="2025-04-05")
    add("PayAdvertisingInvoice", coop="pub-b", contract_id="AD-B1", period="2025-Q1", amount="200", effective_date="2025-03-01")


def _federate(ledger: Any, slug: str, founders: list[str]) -> Any:
    (line,) = _lines(
        slug,
        lambda add: add(
            "FederateCooperatives",
            coop=slug,
            name="Fédération",
            legal_form="association",
            effective_date=DAY.isoformat(),
            founders=founders,
            fee_schedule=FEE,
        ),
    )
    envelope = parse_envelope(loads(json.dumps(line)))
    return ledger.execute(envelope.command, envelope.idempotency_key, "test")


def _due(ledger: Any, slug: str) -> dict[str, int]:
    """Write side: what the contracts say is due, per advertiser."""
    due: dict[str, int] = defaultdict(int)
    for contract in advertising_state(ledger.cooperative(slug)).contracts.values():
        due[contract.advertiser_id] += sum(i.due_cents for i in contract.invoices.values())
    return {a: d for a, d in due.items() if d}


def _receivable_in_books(ledger: Any, slug: str) -> dict[str, int]:
    books = read_founder_books(ledger, ledger.cooperative(slug)).balances  # the write side's journal, replayed
    return {party: amount for (account, party, _unit), amount in books.items() if account == "4117" and amount}


def test_unpaid_invoices_are_collected_and_running_contracts_go_on_in_the_federation(ledger, runner):
    run(ledger, _lines("a", _founder_a) + _lines("b", _founder_b))
    result = _federate(ledger, "pub-fed", ["pub-a", "pub-b"])
    assert result.accepted, result.error and result.error.as_dict()

    # Write side: the contract with invoices due and the running one, with every invoice as it stood.
    contracts = advertising_state(ledger.cooperative("pub-fed")).contracts
    assert set(contracts) == {"AD-A1", "AD-B1"}  # AD-A2 is over and paid: nothing open
    assert {p: (i.amount_cents, i.paid_cents) for p, i in contracts["AD-A1"].invoices.items()} == {
        **{m: (100_00, 100_00) for m in MONTHS[:4]},
        "2025-05": (100_00, 50_00),
        "2025-06": (100_00, 0),
    }
    assert (contracts["AD-A1"].advertiser_kind, contracts["AD-A1"].signed_on) == ("bank", date(2025, 1, 1))
    assert _due(ledger, "pub-fed") == {"bpi": 150_00, "credit-coop": 1000_00} == _receivable_in_books(ledger, "pub-fed")

    # What the founder would have refused, the federation refuses, writing nothing.
    pay = lambda contract, period, amount: PayAdvertisingInvoice("pub-fed", contract, period, Decimal(amount), date(2025, 7, 2))  # noqa: E731
    assert refused(ledger, pay("AD-A1", "2025-05", "50.01"), "r1").rule == "no_overpayment"
    assert refused(ledger, pay("AD-B1", "2025-Q2", "600.01"), "r2").rule == "no_overpayment"
    assert refused(ledger, pay("AD-A1", "2025-07", "1"), "r3").rule == "invoiced"
    assert refused(ledger, pay("AD-A2", "2025-Q1", "1"), "r4").rule == "known_contract"
    assert refused(ledger, InvoiceAdvertising("pub-fed", "AD-A1", "2025-06", date(2025, 7, 2)), "r5").rule == "invoiced_once"
    assert refused(ledger, InvoiceAdvertising("pub-fed", "AD-B1", "2025-Q3", date(2025, 7, 2)), "r6").rule == "within_contract"

    # ... and accepts what it would have accepted: payments in full, later periods, an early end.
    for i, command in enumerate(
        [
            pay("AD-A1", "2025-05", "50"),
            pay("AD-A1", "2025-06", "100"),
            pay("AD-B1", "2025-Q1", "400"),
            pay("AD-B1", "2025-Q2", "250"),
            InvoiceAdvertising("pub-fed", "AD-A1", "2025-07", date(2025, 7, 3)),
            EndAdvertisingContract("pub-fed", "AD-A1", date(2025, 9, 30), "Fin de campagne", date(2025, 7, 4)),
        ]
    ):
        outcome = ledger.execute(command, f"ok-{i}")
        assert outcome.accepted, outcome.error and outcome.error.as_dict()
    assert refused(ledger, InvoiceAdvertising("pub-fed", "AD-A1", "2025-10", date(2025, 7, 5)), "r7").rule == "within_contract"
    assert _due(ledger, "pub-fed") == {"bpi": 100_00, "credit-coop": 350_00} == _receivable_in_books(ledger, "pub-fed")
    runner.catch_up()

    # Read side = write side.
    contracts = advertising_state(ledger.cooperative("pub-fed")).contracts
    listed = {c["contract_id"]: c for c in advertising_contracts(ledger.db, "pub-fed")}
    assert set(listed) == set(contracts)
    for contract_id, contract in contracts.items():
        row = listed[contract_id]
        assert (row["advertiser_id"], row["ends_on"], row["signed_on"], row["advertiser_kind"]) == (
            contract.advertiser_id,
            contract.ends_on.isoformat(),
            contract.signed_on.isoformat(),
            contract.advertiser_kind,
        )
        assert {
            i["period"]: (i["amount_cents"], i["paid_cents"], i["invoiced_on"])
            for i in advertising_invoices(ledger.db, "pub-fed", contract_id)
        } == {p: (i.amount_cents, i.paid_cents, i.invoiced_on.isoformat()) for p, i in contract.invoices.items()}
    assert listed["AD-A1"]["due_cents"] == 100_00 and listed["AD-B1"]["due_cents"] == 350_00
    # Revenue by month is the federation's journal: its own July invoice; the carried ones are the founders'.
    with ledger.db.read() as tx:
        revenue = advertising_revenue_by_month(tx, "pub-fed")
    income: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    for entry in journal(ledger.db, "pub-fed"):
        for posting in entry["postings"]:
            if posting["account"] == "7065":
                income[entry["effective_date"][:7]] -= posting["amount"]
            if posting["account"] == "512" and entry["kind"] == "AdvertisingInvoicePaid":
                received[entry["effective_date"][:7]] += posting["amount"]
    assert (
        [(r["month"], r["invoiced_cents"], r["received_cents"]) for r in revenue]
        == [(m, income[m], received[m]) for m in sorted(set(income) | set(received))]
        == [("2025-07", 100_00, 800_00)]
    )


def test_advertiser_or_contract_ids_shared_by_two_founders_arerefused(ledger, runner):
    def founder_c(add: Any) -> None:  # another founder's advertiser named "bpi"
        _found(add, "pub-c")
        _sign(add, "pub-c", "AD-C1", "bpi", "80", "2025-01-01", "2025-12-31")

    def founder_d(add: Any) -> None:  # another founder's contract named "AD-A1"
        _found(add, "pub-d")
        _sign(add, "pub-d", "AD-A1", "ville", "80", "2025-01-01", "2025-12-31")

    run(ledger, _lines("a", _founder_a) + _lines("c", founder_c) + _lines("d", founder_d))
    position = ledger.position()
    for slug, other, rule in (("pub-fed-c", "pub-c", "unique_advertiser"), ("pub-fed-d", "pub-d", "unique_contract")):
        refused = _federate(ledger, slug, ["pub-a", other])
        assert not refused.accepted
        assert (refused.error.field, refused.error.rule, refused.error.kind) == ("founders[1]", rule, "conflict"), (
            refused.error.as_dict()
        )
    assert ledger.position() == position
    assert all(ledger.cooperative(s).sealed_by_federation is None for s in ("pub-a", "pub-c", "pub-d"))
    # Without the clash, pub-c's running contract (nothing due) is carried, so its later periods can be invoiced.
    assert _federate(ledger, "pub-fed-cd", ["pub-c", "pub-d"]).accepted
    assert set(advertising_state(ledger.cooperative("pub-fed-cd")).contracts) == {"AD-C1", "AD-A1"}
    assert ledger.execute(InvoiceAdvertising("pub-fed-cd", "AD-C1", "2025-07", date(2025, 7, 1)), "inv-c").accepted
    runner.catch_up()
    assert {c["contract_id"]: c["invoiced_cents"] for c in advertising_contracts(ledger.db, "pub-fed-cd")} == {
        "AD-A1": 0,
        "AD-C1": 80_00,
    }
