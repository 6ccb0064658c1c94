"""Manual journal entries: what no other family records (bank charges, purchases, grants...).

Each line is a debit or a credit on an account of the chart; the entry balances per unit;
accounts that other families manage per member (receivables, capital) are refused, so the
members' fee and share figures never drift from the books.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidCommand
from domain.events import FinancialEvent, Meta
from domain.family import Fact, Family, Handler, managed_roles, register
from domain.money import AmountIn, Unit, format_minor, to_minor
from domain.roles import FINANCIAL
from domain.rules import identifier, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_LINES = 200


@dataclass(frozen=True)
class EntryLine:
    account: str
    debit: AmountIn | None = None  # in `unit`: euros, credits or hours; exactly one of debit, credit
    credit: AmountIn | None = None
    party: str | None = None
    unit: str = "EUR"


@dataclass(frozen=True)
class RecordEntry:
    coop: str
    label: str
    lines: list[EntryLine]
    effective_date: date
    piece_ref: str | None = None  # the supporting document: invoice, bank statement line...


class EntryRecorded(FinancialEvent):
    piece_ref: str | None


def record_entry(coop: Cooperative, cmd: RecordEntry, meta: Meta) -> None:
    label = text(cmd.label, "label")
    piece_ref = text(cmd.piece_ref, "piece_ref", max_chars=100) if cmd.piece_ref is not None else None
    day = coop.check_effective_date(cmd.effective_date)
    if not isinstance(cmd.lines, list) or len(cmd.lines) < 2:
        raise InvalidCommand("lines", "min_lines", "an entry needs at least two lines")
    if len(cmd.lines) > MAX_LINES:
        raise InvalidCommand("lines", "max_lines", f"an entry has at most {MAX_LINES} lines")
    # Accounts that other families keep per party (their declarations' `managed`).
    managed = {coop.chart.role(role): commands for role, commands in managed_roles().items()}
    postings: list[list[Any]] = []
    totals: dict[str, int] = defaultdict(int)
    for i, line in enumerate(cmd.lines):
        where = f"lines[{i}]"
        account = coop.chart.account(line.account, f"{where}.account").number
        if account in managed:
            raise InvalidCommand(
                f"{where}.account",
                "managed_account",
                f"account {account} is kept per member by {managed[account]}; use those commands",
            )
        try:
            unit = Unit(line.unit)
        except ValueError:
            raise InvalidCommand(
                f"{where}.unit", "known_unit", f"{line.unit!r} is not one of {', '.join(u.value for u in Unit)}"
            ) from None
        party = identifier(line.party, f"{where}.party") if line.party is not None else None
        if (line.debit is None) == (line.credit is None):
            raise InvalidCommand(where, "debit_or_credit", "give exactly one of debit or credit")
        if line.debit is not None:
            amount_minor = to_minor(line.debit, unit, f"{where}.debit")
        else:
            amount_minor = -to_minor(line.credit, unit, f"{where}.credit")
        totals[unit.value] += amount_minor
        postings.append([account, party, unit.value, amount_minor])
    for unit_name, total in totals.items():
        if total != 0:
            side = "debits exceed credits" if total > 0 else "credits exceed debits"
            raise InvalidCommand(
                "lines",
                "balanced",
                f"the entry does not balance in {unit_name}: {side} by {format_minor(abs(total), Unit(unit_name))}",
            )
    coop.record_entry(EntryRecorded, effective_date=day, meta=meta, label=label, postings=postings, piece_ref=piece_ref)


FAMILY = register(
    Family(
        name="entries",
        commands={RecordEntry: Handler(record_entry, FINANCIAL)},
        events={"EntryRecorded": Fact("entry.recorded", "entries", journal="OD")},
    )
)
