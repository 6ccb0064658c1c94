"""What the bank routes answer (api/routes_bank.py): the bank accounts and their statements, the
lines with their matches, what is still owed, the proposals and the reconciliation. Every amount is
in euros, written `..._eur` as the wire's decimal string (api/wire.py); a line's amount is signed
(money in is positive, money out negative).

The reads of projections/bank_reads.py give cents and, beside some of them, a pre-formatted amount
(`amount`, `open`, `bank_balance`): the converters below keep only the wire's `_eur` form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from api.wire import Amount, WireModel, eur


class BankCsvLayout(WireModel):
    """How the bank's CSV statements of this account are read (SetCsvMapping)."""

    separator: str = Field(description="The column separator.")
    encoding: str = Field(description="The file's text encoding, e.g. utf-8 or latin-1.")
    date_format: str = Field(description="How dates are written, as a strptime format, e.g. %d/%m/%Y.")
    decimal: str = Field(description="The decimal mark of amounts.")
    thousands: str = Field(description="The thousands separator of amounts (empty for none).")
    skip_lines: int = Field(description="Header lines skipped before the first line.")
    columns: dict[str, int] = Field(description="The column number (from 0) of each field the file holds, by field name.")


class ImportedBankStatement(WireModel):
    """A statement imported on the account, with the balances the bank gave."""

    statement_id: str
    source: str = Field(description="Where it came from: camt053, ofx, csv, or manual (ImportBankStatement sent by hand).")
    first_day: str = Field(description="The first line's booking date (YYYY-MM-DD).")
    closing_date: str = Field(description="The statement's closing date (YYYY-MM-DD).")
    opening_balance_eur: Amount = Field(description="The bank's balance before the statement's first line.")
    closing_balance_eur: Amount = Field(description="The bank's balance on the closing date.")


class BankAccount(WireModel):
    """One of the cooperative's bank accounts (OpenBankAccount)."""

    bank_account_id: str
    iban: str
    bic: str | None = Field(None, description="The bank's BIC, when given.")
    ledger_account: str = Field(description="The chart's account the bank's money is kept on (512...).")
    label: str
    opened_on: str = Field(description="YYYY-MM-DD.")
    csv_mapping: BankCsvLayout | None = Field(None, description="How its CSV statements are read; none set yet: null.")
    statements: list[ImportedBankStatement] = Field(description="The statements imported, in the order they came.")


class OpenItem(WireModel):
    """Something a member or an advertiser still owes, with the creditor reference printed on its call."""

    item: str = Field(description='The item\'s name, e.g. "fee:MED-01:2026": what a bank match pays.')
    kind: str = Field(description="fee, advertising, subscription, certification, pledge...")
    person_id: str = Field(description="Who owes it: a member or an advertiser.")
    open_eur: Amount = Field(description="Still due now.")
    since: str = Field(description="Called, billed or invoiced on (YYYY-MM-DD): no payment counts before.")
    what: str = Field(description="The item in words.")
    reference: str = Field(description="Its ISO 11649 creditor reference (RF...), carried back by the payer's bank.")


class BankLineAllocation(WireModel):
    """A part of a bank line matched to what it paid, and the payment entry it recorded."""

    item: str = Field(description='The item paid ("fee:MED-01:2026"), or "entry:N" for an entry tied to the line.')
    amount_eur: Amount = Field(description="The part of the line's size this allocation covers.")
    entry_number: int = Field(description="The journal entry of the payment.")


class BankLine(WireModel):
    """A line of a bank statement, and how much of it is matched."""

    line_id: str
    bank_account_id: str
    statement_id: str
    booked_on: str = Field(description="YYYY-MM-DD.")
    value_date: str | None = Field(None, description="YYYY-MM-DD, when the bank gave one.")
    amount_eur: Amount = Field(description="Signed: money in is positive, money out negative.")
    label: str
    counterparty_name: str | None = Field(None, description="The payer or payee as the bank names them.")
    counterparty_iban: str | None = None
    reference: str | None = Field(None, description="The structured creditor reference the line carries (RF...).")
    end_to_end_id: str | None = Field(None, description="The SEPA end-to-end id, for a direct debit or its return.")
    return_reason: str | None = Field(None, description="A returned payment's ISO 20022 reason code (AM04...).")
    allocated_eur: Amount = Field(description="What the standing allocations cover of the line's size (never negative).")
    status: Literal["unmatched", "partly matched", "matched"]
    allocations: list[BankLineAllocation] = Field(description="The standing allocations (a reversed payment frees its part).")


class UnmatchedBankLine(BankLine):
    """A line the reconciliation finds not fully matched, with the entries that could be tied to it."""

    candidate_entries: list[int] = Field(
        description="Entries not tied to any line that moved exactly what is left of it: LinkBankLine ties them."
    )


class ProposedBankAllocation(WireModel):
    item: str = Field(description="The open item the line would pay.")
    amount_eur: Amount = Field(description="The part of the line that would pay it.")
    what: str = Field(description="The item in words.")


class MatchProposal(WireModel):
    """What a line may pay, why, and how sure: confirm it with ConfirmBankMatch."""

    person_id: str = Field(description="Who would have paid.")
    allocations: list[ProposedBankAllocation]
    reason: str = Field(description="Why, in words.")
    confidence: Literal["sure", "likely", "possible"]


class BankLineProposals(WireModel):
    """A credit line not fully matched, and its proposals, most certain first (maybe none)."""

    line: BankLine
    proposals: list[MatchProposal]


class UnmatchedLedgerMovement(WireModel):
    """A posting on the bank's ledger account that no bank line is tied to."""

    effective_date: str = Field(description="YYYY-MM-DD.")
    entry_number: int
    label: str
    amount_eur: Amount = Field(description="Signed: a debit of the bank account (money in) is positive.")


class BankReconciliation(WireModel):
    """The bank's balance beside the books' on a date, and what is not matched on either side."""

    coop: str
    bank_account_id: str
    iban: str
    ledger_account: str
    on: str = Field(description="The date asked (YYYY-MM-DD).")
    statement_id: str | None = Field(None, description="The statement the bank's balance is read from.")
    statement_date: str = Field(description="That statement's closing date (YYYY-MM-DD).")
    bank_balance_eur: Amount = Field(description="The bank's balance on the date, from its statements.")
    ledger_balance_eur: Amount = Field(description="The ledger account's balance on the date.")
    difference_eur: Amount = Field(description="The bank's balance minus the books'.")
    since: str = Field(description="The first statement's first day (YYYY-MM-DD): movements are compared from it.")
    unmatched_bank_lines: list[UnmatchedBankLine]
    unmatched_ledger_movements: list[UnmatchedLedgerMovement]


def bank_account(row: dict[str, Any]) -> dict[str, Any]:
    statements = [
        {
            **{k: v for k, v in s.items() if k not in ("opening_cents", "closing_cents")},
            "opening_balance_eur": eur(s["opening_cents"]),
            "closing_balance_eur": eur(s["closing_cents"]),
        }
        for s in row["statements"]
    ]
    return {**row, "statements": statements}


def open_item(row: dict[str, Any]) -> dict[str, Any]:
    answer = {k: v for k, v in row.items() if k not in ("open", "open_cents")}
    return {**answer, "open_eur": eur(row["open_cents"])}


def _with_amount_eur(row: dict[str, Any]) -> dict[str, Any]:
    """A row with `amount_cents` (and its pre-formatted `amount`) as `amount_eur`."""
    answer = {k: v for k, v in row.items() if k not in ("amount", "amount_cents")}
    return {**answer, "amount_eur": eur(row["amount_cents"])}


def bank_line(view: dict[str, Any]) -> dict[str, Any]:
    """A line's view (domain/bank_matching.line_view), also with the reconciliation's candidate_entries."""
    answer = {k: v for k, v in view.items() if k not in ("amount", "amount_cents", "allocated_cents")}
    answer.update(
        amount_eur=eur(view["amount_cents"]),
        allocated_eur=eur(view["allocated_cents"]),
        allocations=[_with_amount_eur(a) for a in view["allocations"]],
    )
    return answer


def line_proposals(row: dict[str, Any]) -> dict[str, Any]:
    proposals = [{**p, "allocations": [_with_amount_eur(a) for a in p["allocations"]]} for p in row["proposals"]]
    return {"line": bank_line(row["line"]), "proposals": proposals}


def _cents(text: str) -> int:
    """Cents of a signed decimal the reconciliation wrote ("-12.50"): exact, no float."""
    cents = Decimal(text) * 100
    assert cents == cents.to_integral_value(), f"{text!r} is not a whole number of cents"
    return int(cents)


def reconciliation(report: dict[str, Any]) -> dict[str, Any]:
    cents = ("bank_balance", "ledger_balance", "difference", "difference_cents")
    answer = {k: v for k, v in report.items() if k not in cents}
    answer.update(
        bank_balance_eur=eur(_cents(report["bank_balance"])),
        ledger_balance_eur=eur(_cents(report["ledger_balance"])),
        difference_eur=eur(report["difference_cents"]),
        unmatched_bank_lines=[bank_line(v) for v in report["unmatched_bank_lines"]],
        unmatched_ledger_movements=[_with_amount_eur(m) for m in report["unmatched_ledger_movements"]],
    )
    return answer
