"""Personal data inside events: which fields identify a person, and what stands for them once forgotten.

Events are kept forever (the chain of docs/decisions/0009-event-chain.md hashes them as stored),
yet some of their fields identify a person: a member's name, a donor's name and address, an
advertiser's name. Such an event declares them in `PERSONAL`, each with the field that holds the
person's id (the pseudonym: the id the cooperative gave them, never their name). The store keeps
those fields sealed with a key of that person alone (ledger/identity_keys.py); forgetting the
person deletes the key, and from then on every reader gets `erased_value` in their place
(docs/decisions/0013-forgetting-a-person.md).

A person is one id across the roles they have in one cooperative: a member who gives is a donor
under the same id (docs/rules.md, "Personal data").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Every field that may hold a person's id, in the order a dict is searched for one. A
# `counterparty_id` names whoever a bank line came from before anyone knows who they are (the line's
# own pseudonym); once the line is matched to a person, that id is linked to theirs
# (IdentitiesState.link) and forgetting the person forgets it too.
PERSON_ID_FIELDS = ("member_id", "donor_id", "advertiser_id", "employee_id", "author_id", "host_id", "counterparty_id")


@dataclass(frozen=True)
class Personal:
    """Fields of an event (or of each dict in its list field `within`) that identify the person
    whose id is in field `person`."""

    person: str
    fields: tuple[str, ...]
    within: str | None = None

    def __post_init__(self) -> None:
        assert self.person in PERSON_ID_FIELDS, f"{self.person!r} is not a person id field ({PERSON_ID_FIELDS})"
        assert self.fields and self.person not in self.fields, "name the identity fields, not the id"

    def places(self, state: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
        """(the dict holding them, person id, field) for every identity field present in `state`
        (an event's state, or the dict of its fields). Bounded by the list `within`."""
        holders = state.get(self.within) or [] if self.within is not None else [state]
        for holder in holders:
            person = holder.get(self.person)
            if not isinstance(person, str):
                continue
            for name in self.fields:
                if name in holder:
                    yield holder, person, name


def personal_of(event_class: type) -> tuple[Personal, ...]:
    """What the event class declares (nothing for most events)."""
    return getattr(event_class, "PERSONAL", ())


def pseudonym(person_id: str) -> str:
    """What stands for a forgotten person where their name was: their id, said to be erased."""
    return f"{person_id} (identité effacée)"


def erased_value(field: str, person_id: str) -> str | None:
    """A forgotten person's value for `field`: the pseudonym for names and other required text,
    nothing for addresses and other optional details."""
    if field.endswith(("_address", "_email", "_iban", "_bic")) or field in ("address", "email", "iban", "bic"):
        return None
    return pseudonym(person_id)
