"""The demo's bank: the cluster's account at the Crédit Coopératif and three statements of November
and early December 2026, one per format (CAMT.053, OFX, CSV), paying calls the demo leaves open.

Why open calls: the demo's earlier payments are recorded directly (PayFee...), as a cooperative
without bank import would have; the statements start after the last of them (2026-10-01), their
opening balance is the books' bank balance the day before (given by the caller, who reads the
journal view), and every line pays something still owed, so once confirmed the reconciliation is
zero. The files are made by ledger/bank_writers.py and read back by the same parsers as a bank's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from domain.bank import line_id_of
from ledger.bank_writers import CSV_DEBIT_CREDIT_MAPPING, Line, camt053, csv_debit_credit, ofx

ACCOUNT = "BQ-CCOOP"
IBAN = "FR7642559000000008123456771"  # a made-up account number at the Crédit Coopératif (bank code 42559)
OPENING_DAY = date(2026, 11, 2)  # the statements start here: the opening balance is the books' on the day before
LAST_DAY = date(2026, 12, 5)  # `coopledger bank reconcile ... --on 2026-12-05` is zero on the demo
D = Decimal

CAMT_LINES = [
    Line(
        date(2026, 11, 3),
        D("100.00"),
        "COTISATION 2026",
        "CC2611030001",
        "RADIO GARRIGUE",
        "FR7610278000000002001234516",
        "RF60F7YNM17J0W90JRD7X",
    ),
    Line(date(2026, 11, 5), D("300.00"), "Cotisation 2026", "CC2611050002", "Studio Pixel Sud", "FR7630004000000001234567845"),
    Line(
        date(2026, 11, 6),
        D("250.00"),
        "Certification",
        "CC2611060003",
        "Studio Pixel Sud",
        "FR7630004000000001234567845",
        "RF36C5VU7X9GMUE6U8B3Q",
    ),
]
OFX_LINES = [
    Line(date(2026, 11, 18), D("150.00"), "VIR REC-01 COTISATION 2026", "OFX2611180001", "LAB USAGES MEDIAS"),
    Line(date(2026, 11, 20), D("450.00"), "VIR COTISATIONS 2025 ET 2026", "OFX2611200002", "MEDIATHEQUE INTERCOMMUNALE"),
]
CSV_LINES = [
    Line(date(2026, 12, 1), D("1200.00"), "VIR CREDIT COOPERATIF PUB-CCOOP-2026 T3", reference="RF02A8V6F4GOOQO2JI6O6"),
    Line(date(2026, 12, 2), D("60.00"), "VIR JOURNAL DES ETANGS ABONNEMENT ACOMPTE"),
]
# The lines no sure proposal covers, confirmed by hand: (line, allocations as the command takes them).
BY_HAND = [
    (OFX_LINES[0], [{"item": "fee:REC-01:2026"}]),  # the label names REC-01: likely
    (OFX_LINES[1], [{"item": "fee:PUB-02:2025"}, {"item": "fee:PUB-02:2026"}]),  # one transfer, two calls
    (CSV_LINES[1], [{"item": "subscription:SUB-MED05:2025", "amount": "60.00"}]),  # a part: 60.00 stays open
]


def line_id(line: Line) -> str:
    """The id the import gives the line (domain/bank.py): from its bank id, else its content (rank 1)."""
    cents = int(line.amount * 100)
    return line_id_of(ACCOUNT, line.bank_ref, line.booked_on, cents, line.label, 1)


def files(opening_cents: int) -> dict[str, bytes]:
    """The three statement files by name, each opening where the one before closed."""
    opening = D(opening_cents).scaleb(-2)
    after_camt = opening + sum(line.amount for line in CAMT_LINES)
    return {
        "cluster-2026-11-a.camt053.xml": camt053("CCOOP-2026-11-A", IBAN, opening, CAMT_LINES, date(2026, 11, 15)),
        "cluster-2026-11-b.ofx": ofx(IBAN, after_camt, OFX_LINES, date(2026, 11, 16), date(2026, 11, 30)),
        "cluster-2026-12-a.csv": csv_debit_credit(CSV_LINES),
    }


def setup_commands(add: Callable[..., None], *, cluster: str) -> None:
    """The account and its CSV layout (plain commands of the demo's list)."""
    add(
        "OpenBankAccount",
        coop=cluster,
        bank_account_id=ACCOUNT,
        iban=IBAN,
        label="Compte courant Crédit Coopératif",
        effective_date="2025-01-15",
    )
    add("SetCsvMapping", coop=cluster, bank_account_id=ACCOUNT, mapping=CSV_DEBIT_CREDIT_MAPPING, effective_date="2025-01-15")


def confirmations(cluster: str) -> list[dict[str, Any]]:
    """The demo treasurer's confirmations, as JSON commands with fixed keys: by hand first, then every sure one."""
    commands = [
        {
            "command": "ConfirmBankMatch",
            "idempotency_key": f"demo-bank-confirm-{i}",
            "actor": "demo",
            "coop": cluster,
            "line_id": line_id(line),
            "allocations": allocations,
        }
        for i, (line, allocations) in enumerate(BY_HAND, start=1)
    ]
    commands.append(
        {
            "command": "ConfirmSureBankMatches",
            "idempotency_key": "demo-bank-confirm-sure",
            "actor": "demo",
            "coop": cluster,
            "bank_account_id": ACCOUNT,
        }
    )
    return commands
