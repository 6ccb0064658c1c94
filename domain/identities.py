"""Identities: the persons a cooperative has named, and forgetting one of them (GDPR article 17).

A person is one id across the roles they hold in a cooperative (a member who gives is a donor
under the same id). Events that name a person declare which of their fields identify them
(`PERSONAL`, domain/personal.py); the store seals those fields under a key of that person alone.
`ForgetPerson` records `PersonForgotten` (when, by whom, why); the store then deletes the key, and
every state replaces the person's identity with `erased_value` (Cooperative.forget and each family
state's `forget` hook), as a replay reads it from then on (docs/decisions/0013-forgetting-a-person.md).

Forgetting is refused while the law still needs the identity (docs/rules.md, "Personal data"): a
member (the membership contract), money owed by or to them, a gift within the six years its tax
receipt must stay justifiable, an advertising invoice within the ten years the books' supporting
documents are kept; and when the person was recorded before identities were sealed (their name
is in clear in events the chain hashes: no erasure can reach it). A forgotten id is never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.advertising_state import advertising_state
from domain.donations_state import donations_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, Meta, persons_named
from domain.family import Fact, Family, Handler, register
from domain.money import Unit, format_minor
from domain.roles import STATUTES
from domain.rules import identifier, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

# Years a gift's tax receipt must stay justifiable after the year of the gift (Livre des
# procédures fiscales, article L102 E), and years the books' supporting documents (an invoice) are
# kept after the year they are dated (Code de commerce, article L123-22).
GIFT_RECEIPT_YEARS = 6
INVOICE_YEARS = 10


# ---------------------------------------------------------------- state


@dataclass
class IdentitiesState:
    """Who this cooperative has named, in which roles, and who is forgotten. What the holds need
    beyond this (gifts, invoices, balances, membership) is read from the states that keep it."""

    forgotten: dict[str, date] = field(default_factory=dict)  # person id -> the day they were forgotten
    # person id -> the roles they were named in, in order of first appearance ("member", "donor"...)
    known: dict[str, list[str]] = field(default_factory=dict)
    # Persons an event names in clear, stored before identities were sealed: they cannot be forgotten.
    in_clear: set[str] = field(default_factory=set)
    # person id -> other ids found to be theirs (a bank line's counterparty matched to a member):
    # forgetting the person forgets those too.
    linked: dict[str, list[str]] = field(default_factory=dict)

    def link(self, person: str, other: str) -> None:
        """`other` (an id sealed for before anyone knew who it was) is `person`: called by the apply
        of the event that establishes it. Bounded by the events that name persons."""
        if other != person and other not in self.linked.get(person, ()):
            self.linked.setdefault(person, []).append(other)

    def note(self, event: CoopEvent) -> None:
        """Records the persons an applied event names (CoopEvent.mutate calls it for every event
        that declares PERSONAL). The store marks an event it decoded from clear identity fields
        with the attribute `identity_in_clear`."""
        in_clear = getattr(event, "identity_in_clear", False)
        for path, person in event.persons():
            roles = self.known.setdefault(person, [])
            role = path.rpartition(".")[2].removesuffix("_id")
            if role not in roles:
                roles.append(role)
            if in_clear:
                self.in_clear.add(person)

    def check_not_forgotten(self, event_class: type[CoopEvent], fields: dict[str, Any]) -> None:
        """A forgotten id is never given an identity again (a new gift, contract, engagement...):
        whatever is recorded under it would read as someone who was erased. Cooperative.record
        asks before recording any event that names persons."""
        if not event_class.PERSONAL or not self.forgotten:
            return
        for path, person in persons_named(event_class.PERSONAL, fields):
            if person in self.forgotten:
                raise InvalidCommand(
                    path,
                    "forgotten_person",
                    f"{person} was forgotten on {self.forgotten[person]}: a forgotten id is never reused, give another",
                )


def identities_state(coop: Cooperative) -> IdentitiesState:
    """The family's state on the aggregate (made by its declaration, FAMILY below)."""
    state: IdentitiesState = coop.identities  # type: ignore[attr-defined]
    return state


# ---------------------------------------------------------------- command and event


@dataclass(frozen=True)
class ForgetPerson:
    coop: str
    person_id: str
    reason: str  # why (the person's request, a court order...): an act, never a name
    effective_date: date


class PersonForgotten(CoopEvent):
    """`person_id` was forgotten: the store deleted their key; every identity field sealed under it
    reads as `erased_value` from now on. No entry."""

    person_id: str
    reason: str  # required: the request this answers (CoopEvent's reason is optional)
    roles: list[str]  # what the person was in this cooperative, for the audit ("member", "donor"...)
    linked: list[str]  # other ids found to be theirs (bank lines' counterparties): forgotten with them

    @property
    def forgotten_ids(self) -> list[str]:
        """Every id whose key the store deletes and whose identity the views replace."""
        return [self.person_id, *self.linked]

    def apply(self, coop: Cooperative) -> None:
        for person in self.forgotten_ids:
            identities_state(coop).forgotten[person] = self.effective_date
            coop.forget(person)


# ---------------------------------------------------------------- the holds


def _today() -> date:
    """Today, by the clock every event's timestamp is taken from (UTC), as closing.py does."""
    return PersonForgotten.create_timestamp().date()


def _check_not_a_member(coop: Cooperative, person: str, day: date) -> None:
    """The membership contract needs the identity (GDPR article 6(1)(b)) while it runs: a member
    on `day`, or admitted and not yet left, resigns or is excluded first."""
    member = coop.members.get(person)
    if member is not None and (member.left_on is None or member.left_on > day):
        still = f"until {member.left_on}" if member.left_on else "and has not left"
        raise InvalidCommand(
            "person_id",
            "not_a_member",
            f"{person} is a member of {coop.slug} (admitted on {member.admitted_on}, {still}): "
            "the membership needs their identity; they resign or are excluded first",
        )


def _check_no_open_balance(coop: Cooperative, person: str) -> None:
    """Money owed by or to the person (fees, shares, credits...) must be settled first: the books
    need to say whom it is owed by or to."""
    balances = coop.journal.open_balances(person)
    if balances:
        (account, unit), amount = next(iter(balances.items()))
        side = "owed by" if amount > 0 else "owed to"
        raise InvalidCommand(
            "person_id",
            "no_open_balance",
            f"{format_minor(abs(amount), Unit[unit])} {unit} is {side} {person} on account {account}"
            f"{f' (and {len(balances) - 1} more account(s))' if len(balances) > 1 else ''}: settle it first",
        )


def _gift_years(coop: Cooperative, person: str) -> list[int]:
    """The years of the gifts the person made (donations, crowdfunding backings, carried gifts)."""
    years = []
    for gift in donations_state(coop).gifts.values():
        receipt = gift.receipt
        if receipt is not None and any(p == person for _path, p in receipt.persons()):
            years.append(gift.received_on.year)
    return years


def _invoice_years(coop: Cooperative, person: str) -> list[int]:
    """The years the person was invoiced as an advertiser (carried invoices included)."""
    return [
        invoice.invoiced_on.year
        for contract in advertising_state(coop).contracts.values()
        if contract.advertiser_id == person
        for invoice in contract.invoices.values()
    ]


def _check_retention(years: list[int], keep: int, day: date, rule: str, what: str) -> None:
    """Refuses on or before 31 December of the latest year + `keep`."""
    if years and day.year <= max(years) + keep:
        last = max(years)
        raise InvalidCommand(
            "effective_date",
            rule,
            f"{what} dated {last} must be kept until 31 December {last + keep}: forget from {date(last + keep + 1, 1, 1)} on",
        )


# ---------------------------------------------------------------- decider


def _person(coop: Cooperative, value: Any) -> str:
    person = identifier(value, "person_id")
    state = identities_state(coop)
    if person not in state.known:
        raise NotFound("person_id", "known_person", f"no event of {coop.slug} names a person {person!r}")
    if person in state.forgotten:
        raise Conflict("person_id", "not_forgotten", f"{person} was already forgotten on {state.forgotten[person]}")
    if person in state.in_clear:
        raise InvalidCommand(
            "person_id",
            "identity_sealed",
            f"{person} was recorded before identities were sealed: their name is in clear in events the chain "
            "hashes, and erasing it would break the chain",
        )
    return person


def forget_person(coop: Cooperative, cmd: ForgetPerson, meta: Meta) -> None:
    person = _person(coop, cmd.person_id)
    reason = text(cmd.reason, "reason")
    day = coop.check_effective_date(cmd.effective_date)
    today = _today()
    if day > today:
        raise InvalidCommand(
            "effective_date", "not_in_future", f"{day} is after today ({today}): a person is forgotten when asked"
        )
    _check_not_a_member(coop, person, day)
    _check_no_open_balance(coop, person)
    _check_retention(
        _gift_years(coop, person), GIFT_RECEIPT_YEARS, day, "gift_receipt_retention", f"the tax receipt of {person}'s gift"
    )
    _check_retention(
        _invoice_years(coop, person), INVOICE_YEARS, day, "invoice_retention", f"the advertising invoice of {person}"
    )
    state = identities_state(coop)
    roles, linked = list(state.known[person]), list(state.linked.get(person, ()))
    coop.record(PersonForgotten, effective_date=day, meta=meta, person_id=person, reason=reason, roles=roles, linked=linked)


FAMILY = register(
    Family(
        name="identities",
        commands={ForgetPerson: Handler(forget_person, STATUTES)},
        events={"PersonForgotten": Fact("person.forgotten", "restricted")},
        state=IdentitiesState,
    )
)
