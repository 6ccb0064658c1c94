"""The reconciliation of a bank account on a date: what the bank says beside what the books say.

The bank's balance on `on` is the closing balance of the account's latest statement closed on or
before it, plus the lines booked after that closing up to `on` (or, before any closing, the first
statement's opening plus its lines up to `on`). The books' balance is the account's in the journal
(given by the caller, from the journal view). Listed: the bank lines not (fully) matched, and the
movements of the ledger account since the first statement's first day not tied to a bank line
(an entry a confirmation recorded is tied to its line). A pure function over the aggregate and the
movements, so the CLI and the API give the same report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.bank_matching import line_view
from domain.bank_state import bank_state
from domain.errors import NotFound
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True)
class Movement:
    """One posting on the ledger account, from the journal."""

    effective_date: date
    entry_number: int
    label: str
    amount_cents: int  # debit (money in) positive


def signed(cents: int) -> str:
    return format_minor(cents, Unit.EUR) if cents >= 0 else "-" + format_minor(-cents, Unit.EUR)


def bank_balance_on(coop: Cooperative, bank_account_id: str, on: date) -> tuple[int, str | None, date]:
    """(the bank's balance on `on`, the statement it starts from, that statement's date)."""
    state = bank_state(coop)
    account = state.account(bank_account_id)
    closed = [s for s in account.statements.values() if s.closing_date <= on]
    lines = [line for line in state.lines.values() if line.bank_account_id == account.bank_account_id]
    if closed:
        last = max(closed, key=lambda s: s.closing_date)
        later = sum(line.amount_cents for line in lines if last.closing_date < line.booked_on <= on)
        return last.closing_cents + later, last.statement_id, last.closing_date
    started = [s for s in account.statements.values() if s.first_day <= on]
    if not started:
        raise NotFound("on", "statement_covers", f"no statement of {account.bank_account_id} covers {on}: import one first")
    first = min(started, key=lambda s: s.first_day)
    within = sum(line.amount_cents for line in lines if first.first_day <= line.booked_on <= on)
    return first.opening_cents + within, first.statement_id, first.first_day


def reconciliation(coop: Cooperative, bank_account_id: str, on: date, movements: Iterable[Movement]) -> dict[str, Any]:
    """The report; `movements`: every posting on the account's ledger account dated on or before `on`."""
    state = bank_state(coop)
    account = state.account(bank_account_id)
    bank, statement_id, statement_day = bank_balance_on(coop, account.bank_account_id, on)
    start = min(s.first_day for s in account.statements.values())
    lines = [line for line in state.lines.values() if line.bank_account_id == account.bank_account_id and line.booked_on <= on]
    tied = {number for line in lines for number in line.entry_numbers()}
    books, untied = 0, []
    for move in movements:  # bounded by the journal's postings on the account
        books += move.amount_cents
        if start <= move.effective_date <= on and move.entry_number not in tied:
            untied.append(
                {
                    "effective_date": move.effective_date.isoformat(),
                    "entry_number": move.entry_number,
                    "label": move.label,
                    "amount": signed(move.amount_cents),
                    "amount_cents": move.amount_cents,
                }
            )
    unmatched = [line_view(coop, line) for line in lines if line.open_cents(coop.journal)]
    for view in unmatched:  # an entry not tied that moved what the line has left: LinkBankLine ties them
        left = abs(view["amount_cents"]) - view["allocated_cents"]
        signed_left = left if view["amount_cents"] > 0 else -left
        view["candidate_entries"] = [m["entry_number"] for m in untied if m["amount_cents"] == signed_left]
    return {
        "coop": coop.slug,
        "bank_account_id": account.bank_account_id,
        "iban": account.iban,
        "ledger_account": account.ledger_account,
        "on": on.isoformat(),
        "statement_id": statement_id,
        "statement_date": statement_day.isoformat(),
        "bank_balance": signed(bank),
        "ledger_balance": signed(books),
        "difference": signed(bank - books),
        "difference_cents": bank - books,
        "since": start.isoformat(),
        "unmatched_bank_lines": unmatched,
        "unmatched_ledger_movements": untied,
    }
