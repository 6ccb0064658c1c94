"""Base classes of the cooperative's events, and the registry of their stable names.

Every event is a past-tense fact about one cooperative. Its stored name (topic) is
"coopledger:<ClassName>", independent of the module that defines it, so code can move
without breaking history. `tests/domain/test_event_names.py` freezes the list of names.

Decoding skips `__init__`: events hold no validation; rules live in the deciders.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.personal import Personal, erased_value

TOPIC_PREFIX = "coopledger:"
EVENT_CLASSES: dict[str, type[CoopEvent]] = {}


@dataclass(frozen=True)
class Meta:
    """Who asked for a change, under which idempotency key, and why (optional). Carried by every event."""

    actor: str
    idempotency_key: str
    reason: str | None = None


class CoopEvent(Aggregate.Event):
    """A fact about one cooperative, with the date it counts from and who recorded it.

    `timestamp` (from eventsourcing) is when it was recorded; `effective_date` is when it
    counts in the books.
    """

    TOPIC: ClassVar[str] = TOPIC_PREFIX + "CoopEvent"
    coop: str  # the cooperative's slug, so every reader knows whose fact this is
    effective_date: date
    actor: str
    idempotency_key: str
    # Why the command was sent (the envelope's optional reason), for the audit trail. Added after
    # events were stored: class_version 2, and upcast_v1_v2 gives older events reason None
    # (docs/decisions/0007-audit-reason-on-every-event.md). Keyword-only, so subclasses' own fields
    # need no defaults; events whose command has a reason of its own (EntryReversed, MemberExcluded,
    # StatutesAmended...) redeclare it as required text.
    reason: str | None = field(kw_only=True)
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("reason", None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TOPIC" not in cls.__dict__:
            cls.TOPIC = TOPIC_PREFIX + cls.__name__
        if not cls.__dict__.get("abstract", False):
            assert cls.__name__ not in EVENT_CLASSES, f"two events are named {cls.__name__}"
            EVENT_CLASSES[cls.__name__] = cls
        register_topic(cls.TOPIC, cls)

    @property
    def kind(self) -> str:
        return type(self).__name__

    # The fields that identify a person, each with the field holding the person's id
    # (domain/personal.py); most events name nobody.
    PERSONAL: ClassVar[tuple[Personal, ...]] = ()

    def mutate(self, aggregate: Any) -> Any:
        """eventsourcing's mutate (checks the version, calls `apply`), then, for an event that names
        persons, tells the cooperative's identities who they are: here once for every event, rather
        than in each `apply` (domain/identities.py keeps them to judge ForgetPerson)."""
        aggregate = super().mutate(aggregate)
        if self.PERSONAL:
            aggregate.identities.note(self)
        return aggregate

    def persons(self) -> list[tuple[str, str]]:
        """(field path, person id) of every person this event names in a PERSONAL role."""
        return persons_named(self.PERSONAL, self.__dict__)

    def forgotten_copy(self, person_id: str) -> CoopEvent:
        """This event as it reads once `person_id` is forgotten: their identity fields hold
        `erased_value` (the store reads them so, their key deleted). A copy, with copies of the
        lists of dicts it changes: the event itself never changes. For states that keep an event
        (a gift's receipt), so that a state that lived through the erasure equals a replayed one."""
        fields = dict(self.__dict__)
        for personal in self.PERSONAL:
            if personal.within is not None:
                fields[personal.within] = [dict(h) for h in fields.get(personal.within) or []]
            for holder, person, name in personal.places(fields):
                if person == person_id:
                    holder[name] = erased_value(name, person_id)
        erased = copy.copy(self)
        erased.__dict__.update(fields)
        return erased


register_topic(CoopEvent.TOPIC, CoopEvent)


def persons_named(personals: tuple[Personal, ...], fields: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, person id) of every person `fields` (an event's, or those a decider is about to
    record) name in the roles `personals` declare, in order: "donor_id", or "backers[2].donor_id"
    for a person in a list of dicts."""
    found = []
    for personal in personals:
        if personal.within is None:
            holders: list[tuple[str, Any]] = [("", fields)]
        else:
            holders = [(f"{personal.within}[{i}].", h) for i, h in enumerate(fields.get(personal.within) or [])]
        for path, holder in holders:
            person = holder.get(personal.person)
            if isinstance(person, str):
                found.append((path + personal.person, person))
    return found


class FinancialEvent(CoopEvent):
    """A fact that moves value: it carries its own journal entry, computed when accepted.

    postings: [[account, party or None, unit, signed amount in minor units], ...];
    debit is positive, credit negative; the entry balances per unit.
    """

    abstract: ClassVar[bool] = True  # a base class, never recorded itself

    journal_number: int
    label: str
    postings: list[list[Any]]
    chain_hash: str

    def apply(self, coop: Any) -> None:
        coop.journal.append(self, coop.slug)
        self.apply_effect(coop, self.effect(), +1, self.effective_date)

    def effect(self) -> dict[str, Any]:
        """The domain facts a reversal must undo (see EntryReversed)."""
        return {}

    @classmethod
    def apply_effect(cls, coop: Any, effect: dict[str, Any], sign: int, day: date) -> None:
        """Changes the cooperative's state by this event's effect, dated `day`; sign -1 undoes it."""

    @classmethod
    def check_reversible(cls, coop: Any, effect: dict[str, Any], day: date) -> None:
        """Raises a DomainError when undoing this effect from `day` (the reversal's effective date)
        on would break a rule on `day` or on any later date already recorded: a reversal may be
        back-dated before movements recorded since, so the current state is not enough. Families
        judge with their dated histories (see `lowest_from`); one that keeps none says so and
        judges its current state."""

    @staticmethod
    def lowest_from(moves: Iterable[tuple[date, int]], day: date) -> tuple[int, date]:
        """The lowest running total of dated `moves` on `day` and on every later date one of them
        has, and the first of those dates where it is reached.

        Taking X away from `day` on keeps the total >= 0 on every recorded date when the lowest is
        >= X (domain.pots.Pot.lowest_from does the same for pots). Bounded by the moves."""
        total, later = 0, []
        for moved_on, delta in moves:
            if moved_on <= day:
                total += delta
            else:
                later.append((moved_on, delta))
        lowest, lowest_on = total, day
        later.sort(key=lambda move: move[0])
        for i, (moved_on, delta) in enumerate(later):
            total += delta
            if (i + 1 == len(later) or later[i + 1][0] != moved_on) and total < lowest:  # a date's moves count together
                lowest, lowest_on = total, moved_on
        return lowest, lowest_on
