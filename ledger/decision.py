"""How the write path decides one command: which cooperatives it needs, and what its decider gets.

Every command names its own cooperative (`coop`). A command that changes or reads others too says
so in NEEDS (a federation: its founders). The write path (ledger/service.py) locks and loads all of
them before deciding, then hands the decider a Decision: the command, its Meta, and `load(slug)` for
each cooperative it declared, as the commands before it in the batch left them. The decider returns
an Outcome: the aggregates it changed, their new events pending, and optionally a report kept in the
receipt (a retry under the same key answers it again). The path saves every changed aggregate and
the receipt in one transaction, so a command over several cooperatives is all or nothing.

Plain commands (ledger/handlers.py's HANDLERS) change their own cooperative only. The commands of
SPECIAL_COMMANDS need more and are decided here: FoundCooperative has no aggregate yet,
ReverseEntry needs the event it reverses, FederateCooperatives its founders and their books,
LinkBankLine the entries it ties a bank line to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.bank_links import LinkBankLine, entry_versions, link_bank_line
from domain.cooperative import Cooperative, FoundCooperative, found_cooperative
from domain.corrections import ReverseEntry, entry_version, reverse_entry
from domain.errors import InvalidCommand, NotFound
from domain.events import FinancialEvent, Meta
from domain.federation import FederateCooperatives, FounderBooks, federate, founder_slugs
from ledger.founder_books import read_founder_books
from ledger.handlers import HANDLERS, SPECIAL_COMMANDS

if TYPE_CHECKING:
    from ledger.service import Ledger

# Events decided earlier in the batch and not saved yet: cooperative -> version -> event.
Decided = Mapping[str, Mapping[int, Any]]


@dataclass(frozen=True)
class Outcome:
    """What a decider did: the aggregates it changed (events pending), and what to report."""

    changed: list[Cooperative]
    report: dict[str, Any] | None = None


class Decision:
    """What a decider gets: the command, its Meta, and the cooperatives it declared."""

    def __init__(
        self, command: Any, meta: Meta, coops: Mapping[str, Cooperative | None], decided: Decided, ledger: Ledger
    ) -> None:
        self.command, self.meta = command, meta
        self._coops, self._decided, self._ledger = coops, decided, ledger

    def load(self, slug: str) -> Cooperative | None:
        """A cooperative the command declared (its own or one of NEEDS), None if it does not exist."""
        assert slug in self._coops, f"{type(self.command).__name__} reads {slug} without declaring it"
        return self._coops[slug]

    def existing(self) -> Cooperative:
        """The command's own cooperative, which must exist."""
        coop = self.load(self.command.coop)
        if coop is None:
            raise NotFound("coop", "known_cooperative", f"no cooperative {self.command.coop!r}")
        return coop

    def event_at(self, coop: Cooperative, version: int) -> Any:
        """One of a cooperative's events, decided earlier in the batch or stored."""
        event = self._decided.get(coop.slug, {}).get(version)
        if event is not None:
            return event
        events = list(self._ledger.app.events.get(coop.id, gt=version - 1, lte=version))
        assert len(events) == 1, f"{coop.slug}: no event at version {version}"
        return events[0]

    def books(self, founder: Cooperative) -> FounderBooks:
        """A cooperative's balances, replayed from its events (stored, then decided in the batch)."""
        return read_founder_books(self._ledger, founder, list(self._decided.get(founder.slug, {}).values()))


def needs(command: Any) -> list[str]:
    """The cooperatives a command needs besides its own, checked (raises DomainError)."""
    declared = NEEDS.get(type(command))
    return declared(command) if declared is not None else []


def decide(decision: Decision) -> Outcome:
    """Decides one command in memory. Raises DomainError for a refusal, before changing anything."""
    special = SPECIAL.get(type(decision.command))
    if special is not None:
        return special(decision)
    handler = HANDLERS.get(type(decision.command))
    if handler is None:
        raise InvalidCommand("command", "known_command", f"{type(decision.command).__name__} has no handler")
    coop = decision.existing()
    # A decider may return a report (a dict): what it did beyond its events, kept in the receipt
    # (ImportBankStatement says how many lines were new, even when none was and nothing is recorded).
    report = handler(coop, decision.command, decision.meta)
    return Outcome([coop], report if isinstance(report, dict) else None)


def _found(d: Decision) -> Outcome:
    return Outcome([found_cooperative(d.load(d.command.coop), d.command, d.meta)])


def _reverse(d: Decision) -> Outcome:
    coop = d.existing()
    original = d.event_at(coop, entry_version(coop, d.command))
    assert isinstance(original, FinancialEvent), f"{coop.slug}: entry {d.command.entry_number} is not an entry"
    reverse_entry(coop, d.command, d.meta, original)
    return Outcome([coop])


def _link_bank_line(d: Decision) -> Outcome:
    coop = d.existing()
    entries = {number: d.event_at(coop, version) for number, version in entry_versions(coop, d.command).items()}
    assert all(isinstance(e, FinancialEvent) and e.journal_number == n for n, e in entries.items()), "loaded the wrong entries"
    return Outcome([coop], link_bank_line(coop, d.command, d.meta, entries))


def _federate(d: Decision) -> Outcome:
    founders = {slug: d.load(slug) for slug in founder_slugs(d.command)}
    books = {slug: d.books(coop) for slug, coop in founders.items() if coop is not None}
    new, sealed, report = federate(d.load(d.command.coop), founders, books, d.command, d.meta)
    return Outcome([new, *sealed], report)


NEEDS: dict[type, Callable[[Any], list[str]]] = {FederateCooperatives: founder_slugs}
SPECIAL: dict[type, Callable[[Decision], Outcome]] = {
    FoundCooperative: _found,
    ReverseEntry: _reverse,
    FederateCooperatives: _federate,
    LinkBankLine: _link_bank_line,
}
assert set(SPECIAL) == set(SPECIAL_COMMANDS), "ledger/handlers.py lists the commands decided here"
