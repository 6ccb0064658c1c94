"""Corrections: an entry is never edited; a reversal entry cancels it and says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import EVENT_CLASSES, FinancialEvent, Meta
from domain.family import JOURNAL_OF_REVERSED, Fact, Family, Handler, register
from domain.roles import FINANCIAL
from domain.rules import not_before, text, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True)
class ReverseEntry:
    coop: str
    entry_number: int
    reason: str
    effective_date: date


class EntryReversed(FinancialEvent):
    reverses: int
    reversed_kind: str
    reversed_effect: dict[str, Any]
    reason: str

    def apply(self, coop: Cooperative) -> None:
        coop.journal.append(self, coop.slug)
        coop.journal.reversed_by[self.reverses] = self.journal_number
        coop.journal.reversals.add(self.journal_number)
        EVENT_CLASSES[self.reversed_kind].apply_effect(  # type: ignore[attr-defined]
            coop, self.reversed_effect, -1, self.effective_date
        )


def entry_version(coop: Cooperative, cmd: ReverseEntry) -> int:
    """The aggregate version of the entry to reverse, so the ledger can load that event."""
    number = whole_number(cmd.entry_number, "entry_number", minimum=1, maximum=2**62)
    if number > coop.journal.last_number:
        raise NotFound("entry_number", "known_entry", f"{coop.slug} has no entry {number} (last is {coop.journal.last_number})")
    return coop.journal.versions[number - 1]


def reverse_entry(coop: Cooperative, cmd: ReverseEntry, meta: Meta, original: FinancialEvent) -> None:
    number = original.journal_number
    assert number == cmd.entry_number, "the ledger loaded the wrong entry"
    if number in coop.journal.reversals:
        raise InvalidCommand(
            "entry_number", "not_a_reversal", f"entry {number} is itself a reversal; record the operation again instead"
        )
    if number in coop.journal.reversed_by:
        raise Conflict(
            "entry_number", "reversed_once", f"entry {number} was already reversed by entry {coop.journal.reversed_by[number]}"
        )
    reason = text(cmd.reason, "reason")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, original.effective_date, "effective_date", f"the date of entry {number}")
    effect = original.effect()
    # Judged from the reversal's date on: it may be back-dated before movements recorded since.
    type(original).check_reversible(coop, effect, day)
    coop.record_entry(
        EntryReversed,
        effective_date=day,
        meta=meta,
        label=f"Annulation de l'écriture {number} : {reason}"[:500],
        postings=[[acc, party, unit, -amount] for acc, party, unit, amount in original.postings],
        reverses=number,
        reversed_kind=original.kind,
        reversed_effect=effect,
        reason=reason,
    )


FAMILY = register(
    Family(
        name="corrections",
        commands={
            ReverseEntry: Handler(None, FINANCIAL)  # decided by the ledger: see Handler
        },
        events={"EntryReversed": Fact("entry.reversed", "entries", journal=JOURNAL_OF_REVERSED)},
    )
)
