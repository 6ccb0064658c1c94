"""The books the tax receipts' tests share: an association with gifts of 2025 worked out by hand.

Gifts (EUR):
  D1 2025-02-10 alice (individual)  150 by transfer, with her address
  D2 2025-03-01 acme (company)     2,000 by cheque
  P1 2025-04-15 a crowdfunding payout of 1,000 (fee 60): bob 100 and alice 250 itemised, 650 anonymous
  D3 2025-11-02 alice                 50 in cash, no address given
Receipts issued on 2026-01-15, by donor id: 2025-0001 acme 2,000 (art. 238 bis), 2025-0002 alice
450 (D1 + P1 + D3, art. 200), 2025-0003 bob 100 (art. 200); 2,550 in all, the 650 anonymous get none.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.donations import Backer, RecordCrowdfundingPayout, RecordDonation
from domain.tax_receipts import DeclareReceiptEligibility, IssueTaxReceipts
from ledger.service import Ledger
from tests.builders import found_association, ok

D = Decimal
COOP = "demo"
ISSUED_ON = date(2026, 1, 15)
ELIGIBLE = DeclareReceiptEligibility(
    COOP,
    True,
    date(2025, 1, 1),
    basis="general_interest",
    mission="Accompagner les médias de proximité",
    address="2 rue de la Loge, 34000 Montpellier",
    place="Montpellier",
)


def gifts(ledger: Ledger) -> None:
    ok(ledger, RecordDonation(COOP, "D1", "alice", "Alice Martin", "individual", D("150"), date(2025, 2, 10),
                              donor_address="1 rue des Lilas, 34000 Montpellier"))  # fmt: skip
    ok(ledger, RecordDonation(COOP, "D2", "acme", "ACME SA", "company", D("2000"), date(2025, 3, 1), method="cheque"))
    ok(
        ledger,
        RecordCrowdfundingPayout(
            COOP,
            "P1",
            "HelloAsso",
            "Studio",
            D("1000"),
            D("60"),
            [Backer("bob", "Bob Durand", D("100")), Backer("alice", "Alice Martin", D("250"))],
            date(2025, 4, 15),
        ),
    )
    ok(ledger, RecordDonation(COOP, "D3", "alice", "Alice Martin", "individual", D("50"), date(2025, 11, 2), method="cash"))


def books(ledger: Ledger, *, eligible: bool = True) -> None:
    ok(ledger, found_association(COOP))
    if eligible:
        ok(ledger, ELIGIBLE)
    gifts(ledger)


def issue(ledger: Ledger, year: int = 2025, on: date = ISSUED_ON) -> Any:
    return ok(ledger, IssueTaxReceipts(COOP, year, on))
