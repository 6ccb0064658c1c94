"""Demo commands for SEPA direct debit: the SCIC collects its 2026 fees still due by direct debit.
`add(command, **fields)` appends one command with a fixed idempotency key (see ledger/demo.py).

The SCIC declares its creditor identifier (ICS) and its account at the Crédit Coopératif; two
members sign mandates (Lucie Garnier, whose 2026 fee is due, and Inès Moreau, paid up, for next
year) and a batch is issued for the 2026 fees. It is NOT collected: its due date is after the day
the demo runs (the SEPA lead time), and nothing can be credited before it. The Fondation Lien
Numérique signs its mandate after the batch, so the README's `coopledger sepa batch` has one fee
left to collect.

The dates the rules judge against the clock are relative to the day the demo runs: signatures a
few weeks ago (a mandate unused for 36 months lapses), the due date the first one the lead time
allows, with a day of margin (the ledger's clock is UTC, the demo's may be a day ahead or behind).
The IBANs are invented, with valid check digits and real banks' codes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from domain.sepa_rules import earliest_collection

DEMO_BATCH = "PRLV-2026-01"
CREDITOR_ID = "FR72ZZZ123456"


def commands(add: Callable[..., None], *, scic: str) -> None:
    today = date.today()
    signed = (today - timedelta(days=30)).isoformat()
    add(
        "SetCreditorIdentifier",
        coop=scic,
        creditor_id=CREDITOR_ID,
        iban="FR7642559100000800123456771",
        bic="CCOPFRPPXXX",
        name="MedNum Gironde SCIC",
    )
    for member_id, mandate_id, iban, bic in [
        ("BEN-03", "MNG-RUM-BEN03-1", "FR7620041010050500013026052", "PSSTFRPPXXX"),
        ("SAL-01", "MNG-RUM-SAL01-1", "FR7630004000311234567890111", "BNPAFRPP"),
    ]:
        add("RecordMandate", coop=scic, member_id=member_id, mandate_id=mandate_id, iban=iban, bic=bic, signed_on=signed,
            sequence="first")  # fmt: skip
    due = earliest_collection(today + timedelta(days=1))
    add("IssueDirectDebits", coop=scic, batch_id=DEMO_BATCH, year=2026, collection_date=due.isoformat())
    add(
        "RecordMandate",
        coop=scic,
        member_id="PAR-02",
        mandate_id="MNG-RUM-PAR02-1",
        iban="FR7610278022000012345670195",
        bic="CMCIFR2A",
        signed_on=(today - timedelta(days=2)).isoformat(),
        sequence="first",
    )
