"""The state of the calls-for-projects family (domain/grants.py), kept on the Cooperative
aggregate, and the events that build it: the calls with their applications and grants, and the
pots they draw on (domain/pots.py).

The events are here, beside the state, because they are its only writers: each `apply` (or
`apply_effect`, which a reversal runs with sign -1) moves a call, a grant and its pot together, and
`check_reversible` says when undoing one would break a rule on a date already recorded. The
commands and the deciders that record these events are in domain/grants.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand
from domain.events import CoopEvent, FinancialEvent
from domain.personal import Personal, pseudonym
from domain.pots import FUND, Figures, Pot, move_pot

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


# ---------------------------------------------------------------- state


@dataclass
class Grant:
    """An application, and the grant awarded on it (ids are unique in the cooperative)."""

    application_id: str
    call_id: str
    applicant: str
    member_id: str | None
    applied_on: date
    awarded_cents: int = 0
    withdrawn_cents: int = 0
    paid_cents: int = 0
    awarded_on: date | None = None
    last_on: date | None = None  # its latest award, payment or withdrawal
    project: str = ""  # what it is for (kept so a federation can carry the application)

    @property
    def net_cents(self) -> int:
        return self.awarded_cents - self.withdrawn_cents

    @property
    def outstanding_cents(self) -> int:
        return self.net_cents - self.paid_cents


@dataclass
class Call:
    call_id: str
    title: str
    source: str
    envelope_cents: int
    min_award_cents: int
    max_award_cents: int
    max_laureates: int
    members_only: bool
    opened_on: date
    last_on: date
    closed_on: date | None = None
    grants: dict[str, Grant] = field(default_factory=dict)

    @property
    def awarded_cents(self) -> int:
        return sum(g.net_cents for g in self.grants.values())  # bounded: MAX_APPLICATIONS_PER_CALL (domain/grants.py)

    @property
    def laureates(self) -> int:
        return sum(1 for g in self.grants.values() if g.net_cents > 0)


@dataclass
class GrantsState:
    pots: dict[str, Pot] = field(default_factory=lambda: {FUND: Pot()})
    calls: dict[str, Call] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)  # application_id -> its call's Grant

    def forget(self, person_id: str) -> None:
        """A forgotten member's applications read as erased (Cooperative.forget); each Grant is
        also its call's, so one pass changes both."""
        for grant in self.grants.values():
            if grant.member_id == person_id:
                grant.applicant = pseudonym(person_id)


# ---------------------------------------------------------------- events


class CallOpened(CoopEvent):
    call_id: str
    title: str
    source: str
    envelope_cents: int
    min_award_cents: int
    max_award_cents: int
    max_laureates: int
    members_only: bool

    def apply(self, coop: Cooperative) -> None:
        coop.grants.calls[self.call_id] = Call(
            self.call_id,
            self.title,
            self.source,
            self.envelope_cents,
            self.min_award_cents,
            self.max_award_cents,
            self.max_laureates,
            self.members_only,
            opened_on=self.effective_date,
            last_on=self.effective_date,
        )
        coop.grants.pots[self.source].calls_opened += 1
        move_pot(coop, self.source, self.pot_movement(), +1, self.effective_date)

    def pot_movement(self) -> Figures:
        return Figures(reserved_cents=self.envelope_cents)


class GrantApplicationRecorded(CoopEvent):
    # An applicant with no member id (not a member) has no id to seal under: their name stays in clear.
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("member_id", ("applicant",)),)
    call_id: str
    application_id: str
    applicant: str
    member_id: str | None
    project: str

    def apply(self, coop: Cooperative) -> None:
        grant = Grant(
            self.application_id, self.call_id, self.applicant, self.member_id, self.effective_date, project=self.project
        )
        coop.grants.calls[self.call_id].grants[self.application_id] = grant
        coop.grants.grants[self.application_id] = grant
        _touch(coop.grants.calls[self.call_id], self.effective_date)


class CallClosed(CoopEvent):
    call_id: str
    released_cents: int  # the unawarded envelope, given back to the pot

    def apply(self, coop: Cooperative) -> None:
        call = coop.grants.calls[self.call_id]
        call.closed_on = self.effective_date
        move_pot(coop, call.source, self.pot_movement(), +1, self.effective_date)

    def pot_movement(self) -> Figures:
        return Figures(reserved_cents=-self.released_cents)


class _GrantEntry(FinancialEvent):
    """An award, payment or withdrawal of one grant. Each kind says which figure of the grant
    it moves and how it moves its pot (per cent of `amount_cents`)."""

    abstract: ClassVar[bool] = True
    GRANT_FIELD: ClassVar[str]
    POT_SIGNS: ClassVar[dict[str, int]]
    call_id: str
    application_id: str
    source: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "application_id": self.application_id,
            "source": self.source,
            "amount_cents": self.amount_cents,
        }

    @classmethod
    def pot_movement(cls, effect: dict[str, Any]) -> tuple[str, Figures]:
        return effect["source"], Figures(**{name: s * effect["amount_cents"] for name, s in cls.POT_SIGNS.items()})

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        grant = coop.grants.grants[effect["application_id"]]
        setattr(grant, cls.GRANT_FIELD, getattr(grant, cls.GRANT_FIELD) + sign * effect["amount_cents"])
        assert 0 <= grant.paid_cents <= grant.net_cents <= grant.awarded_cents, f"grant {grant} out of bounds"
        if cls is GrantAwarded:
            grant.awarded_on = day if grant.awarded_cents else None
        grant.last_on = max(day, grant.last_on or day)
        _touch(coop.grants.calls[effect["call_id"]], day)
        move_pot(coop, *cls.pot_movement(effect), sign, day)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """A closed call's grants are final, whatever the reversal's date (closing released its
        unawarded envelope as it stood). The pots need no check: an award or a withdrawal moves
        money between `reserved` and `awarded` (available is unchanged), and undoing a payment
        gives cash back. A grant keeps no dated movements, only `last_on`, the date of its latest
        award, payment or withdrawal, reversals included: the kinds that check the grant or its
        call (GrantAwarded, GrantWithdrawn) judge it from the current state only when no movement
        is dated after `day` (see `_check_settled_before`)."""
        call = coop.grants.calls[effect["call_id"]]
        if call.closed_on is not None:
            raise InvalidCommand(
                "entry_number", "call_open", f"call {call.call_id} closed on {call.closed_on}: its grants are final"
            )

    @classmethod
    def _check_settled_before(cls, grants: list[Grant], day: date, what: str) -> None:
        """Conservative, for want of dated history: refuses when one of `grants` moved after `day`
        (its figures on a date between `day` and that movement are not kept); otherwise their
        current figures are their figures on `day` and every later date, and exact."""
        later = max((g.last_on for g in grants if g.last_on is not None and g.last_on > day), default=None)
        if later is not None:
            raise InvalidCommand(
                "entry_number", "later_movements", f"{what} moved on {later}, after {day}: date this reversal on or after {later}"
            )


class GrantAwarded(_GrantEntry):
    GRANT_FIELD = "awarded_cents"
    POT_SIGNS = {"awarded_cents": 1, "reserved_cents": -1}  # the envelope's reservation becomes an award

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Nothing may be paid or withdrawn on the grant from `day` on."""
        super().check_reversible(coop, effect, day)
        grant = coop.grants.grants[effect["application_id"]]
        if grant.paid_cents or grant.withdrawn_cents:
            raise InvalidCommand(
                "entry_number",
                "grant_untouched",
                f"grant {grant.application_id} has payments or a withdrawal: reverse them first",
            )
        cls._check_settled_before([grant], day, f"grant {grant.application_id}")


class GrantPaid(_GrantEntry):
    GRANT_FIELD = "paid_cents"
    POT_SIGNS = {"paid_cents": 1}


class GrantWithdrawn(_GrantEntry):
    GRANT_FIELD = "withdrawn_cents"
    POT_SIGNS = {"awarded_cents": -1, "reserved_cents": 1}  # back into the call's envelope
    reason: str

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The award comes back from `day` on: the call's envelope and laureates must hold it on
        `day` and every later date, which the current figures tell once no grant of the call moved
        after `day` (awards made since may have used the envelope it freed, then been reversed)."""
        super().check_reversible(coop, effect, day)
        call, grant = coop.grants.calls[effect["call_id"]], coop.grants.grants[effect["application_id"]]
        if effect["amount_cents"] > call.envelope_cents - call.awarded_cents:
            raise InvalidCommand("entry_number", "envelope", f"the envelope of {call.call_id} was awarded again since")
        if grant.net_cents == 0 and call.laureates >= call.max_laureates:
            raise InvalidCommand("entry_number", "max_laureates", f"call {call.call_id} already has {call.laureates} laureates")
        cls._check_settled_before(list(call.grants.values()), day, f"a grant of call {call.call_id}")


def _touch(call: Call, day: date) -> None:
    call.last_on = max(call.last_on, day)
