"""A direct debit returned by the bank, taken from the statement line that shows it.

A return or reject (an R-transaction) comes back in the next CAMT.053 as a debit line carrying the
original end-to-end id and the reason code (domain/bank_state.py keeps both). Confirming that line
records the return of the item it names (RecordDirectDebitReturn's own rules and entry: the fee is
due again, MD01 revokes the mandate) and ties the line to that entry, so the reconciliation sees it
matched and the line's payer is linked to the member. One command, one transaction: the return and
the line's match are never recorded one without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.bank_state import BankLineMatched, bank_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Family, Handler, register
from domain.money import Unit, format_minor
from domain.roles import FINANCIAL
from domain.sepa import RecordDirectDebitReturn, record_direct_debit_return
from domain.sepa_state import find_item, sepa_state

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True)
class ConfirmDirectDebitReturn:
    coop: str
    line_id: str  # a debit line of a statement with a return reason and the original end-to-end id


def returned_item(coop: Cooperative, line_id: Any) -> dict[str, Any]:
    """The batch and item a return line names, with its reason; raises the refusal otherwise."""
    line = bank_state(coop).line(line_id)
    if line.amount_cents >= 0 or not line.return_reason or not line.end_to_end_id:
        raise InvalidCommand(
            "line_id",
            "return_line",
            f"line {line.line_id} is not a returned direct debit (a debit with a return reason and the original end-to-end id)",
        )
    if line.open_cents(coop.journal) <= 0:
        raise Conflict("line_id", "matched_once", f"line {line.line_id} is already matched")
    found = find_item(sepa_state(coop), line.end_to_end_id)
    if found is None:
        raise NotFound("line_id", "known_item", f"no direct-debit item {line.end_to_end_id!r} was issued")
    batch, item = found
    if -line.amount_cents != item.amount_cents:
        raise InvalidCommand(
            "line_id",
            "return_amount",
            f"the line returns {format_minor(-line.amount_cents, Unit.EUR)} EUR, item {item.end_to_end_id} was "
            f"{format_minor(item.amount_cents, Unit.EUR)} EUR",
        )
    return {"line": line, "batch_id": batch.batch_id, "item": item}


def confirm_direct_debit_return(coop: Cooperative, cmd: ConfirmDirectDebitReturn, meta: Meta) -> dict[str, Any]:
    found = returned_item(coop, cmd.line_id)
    line, item = found["line"], found["item"]
    record_direct_debit_return(
        coop, RecordDirectDebitReturn(coop.slug, found["batch_id"], item.end_to_end_id, line.return_reason, line.booked_on), meta
    )
    allocation = {
        "item": f"direct_debit_return:{found['batch_id']}:{item.end_to_end_id}",
        "amount_cents": item.amount_cents,
        "entry_number": coop.journal.last_number,
    }
    coop.record(
        BankLineMatched,
        effective_date=line.booked_on,
        meta=meta,
        line_id=line.line_id,
        counterparty_id=line.counterparty_id,
        person_id=item.member_id,
        allocations=[allocation],
    )
    return {"line_id": line.line_id, "person_id": item.member_id, "reason_code": line.return_reason, **allocation}


FAMILY = register(
    Family(name="sepa_bank", commands={ConfirmDirectDebitReturn: Handler(confirm_direct_debit_return, FINANCIAL)}, events={})
)
