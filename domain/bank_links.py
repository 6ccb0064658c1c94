"""Tying a bank line to entries already in the books, without recording a payment: a payment
recorded by hand before the statement came (PayFee...), the bank's fees booked with a manual entry,
a line of a second bank account kept on 5121 (docs/rules.md "Bank statements and reconciliation").

`LinkBankLine` needs the entries' postings, which the aggregate does not keep in memory (the
journal keeps numbers and versions only): the ledger loads them from the store and hands them to
`link_bank_line`, as it does for a reversal (ledger/decision.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.bank_state import BankLineMatched, bank_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import FinancialEvent, Meta
from domain.money import Unit, format_minor
from domain.personal import PERSON_ID_FIELDS
from domain.rules import whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_LINKED_ENTRIES = 20


@dataclass(frozen=True)
class LinkBankLine:
    coop: str
    line_id: str
    entry_numbers: list[int]  # entries already recorded that this line is


def entry_versions(coop: Cooperative, cmd: LinkBankLine) -> dict[int, int]:
    """Entry number -> the aggregate version of its event, for the ledger to load them."""
    numbers = cmd.entry_numbers if isinstance(cmd.entry_numbers, list) else []
    if not 1 <= len(numbers) <= MAX_LINKED_ENTRIES:
        raise InvalidCommand("entry_numbers", "entries_count", f"give 1 to {MAX_LINKED_ENTRIES} entry numbers")
    versions = {}
    for i, value in enumerate(numbers):
        number = whole_number(value, f"entry_numbers[{i}]", minimum=1, maximum=2**62)
        if number > coop.journal.last_number:
            raise NotFound(f"entry_numbers[{i}]", "known_entry", f"{coop.slug} has no entry {number}")
        if number in versions:
            raise InvalidCommand(f"entry_numbers[{i}]", "distinct_entries", f"entry {number} is given twice")
        versions[number] = coop.journal.versions[number - 1]
    return versions


def _person(entries: list[FinancialEvent]) -> str | None:
    """The one person the entries name (a payment names its payer), else None (bank fees name no one)."""
    named = {getattr(e, f) for e in entries for f in PERSON_ID_FIELDS if isinstance(getattr(e, f, None), str)}
    return named.pop() if len(named) == 1 else None


def link_bank_line(coop: Cooperative, cmd: LinkBankLine, meta: Meta, entries: dict[int, FinancialEvent]) -> dict[str, Any]:
    state = bank_state(coop)
    line = state.line(cmd.line_id)
    account = state.accounts[line.bank_account_id]
    tied = {n for other in state.lines.values() for n in other.entry_numbers() if n not in coop.journal.reversed_by}
    sign = 1 if line.amount_cents > 0 else -1
    left = abs(line.amount_cents) - line.allocated_cents(coop.journal)
    allocations = []
    for i, (number, entry) in enumerate(entries.items()):
        where = f"entry_numbers[{i}]"
        if number in coop.journal.reversed_by or number in coop.journal.reversals:
            raise InvalidCommand(
                where, "standing_entry", f"entry {number} is reversed or a reversal: it moved nothing in the end"
            )
        if number in tied:
            raise Conflict(where, "tied_once", f"entry {number} is already tied to a bank line")
        moved = sum(p[3] for p in entry.postings if p[0] == account.ledger_account and p[2] == Unit.EUR.value)
        if moved * sign <= 0:
            raise InvalidCommand(
                where, "same_direction", f"entry {number} does not move {account.ledger_account} the way the line does"
            )
        allocations.append({"item": f"entry:{number}", "amount_cents": abs(moved), "entry_number": number})
    total = sum(a["amount_cents"] for a in allocations)
    if total > left:
        raise InvalidCommand(
            "entry_numbers",
            "within_line",
            f"the entries move {format_minor(total, Unit.EUR)} EUR, the line has {format_minor(left, Unit.EUR)} EUR left",
        )
    day = coop.check_effective_date(line.booked_on, "line_id")
    person = _person(list(entries.values()))
    coop.record(
        BankLineMatched,
        effective_date=day,
        meta=meta,
        line_id=line.line_id,
        counterparty_id=line.counterparty_id,
        person_id=person,
        allocations=allocations,
    )
    return {"line_id": line.line_id, "person_id": person, "allocations": allocations}
