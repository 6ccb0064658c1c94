"""The store's mapper, sealing each person's identity fields on the way in and opening them on the
way out (docs/decisions/0013-forgetting-a-person.md).

In memory an event always holds the values: the domain decides on them, projections show them.
Only the stored JSON holds them sealed. A value whose key is gone reads as `erased_value` (the
pseudonym for a name, nothing for an address); a value stored before sealing existed reads as it
is, and the event is marked `identity_in_clear` so the domain knows that person cannot be forgotten.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent

from domain.personal import erased_value, personal_of
from ledger.identity_keys import FORGOTTEN_TOPIC, KeyRing, is_sealed


class SealingMapper(Mapper):
    keyring: KeyRing | None = None  # set by the Ledger once its database is open

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if self.keyring is not None and getattr(type(domain_event), "TOPIC", None) == FORGOTTEN_TOPIC:
            # The recorder deletes the key in this event's transaction: read it again from the store
            # (reading this event back, once committed, marks the person forgotten).
            for person in domain_event.forgotten_ids:
                self.keyring.drop(domain_event.coop, person)
        declared = personal_of(type(domain_event))
        if not declared:
            return super().to_stored_event(domain_event)
        assert self.keyring is not None, "the Ledger gives the mapper its keyring before any event is stored"
        # The event in memory keeps its values (the aggregate already holds it): seal a copy.
        sealed = object.__new__(type(domain_event))
        state = copy.deepcopy(vars(domain_event))
        coop = state["coop"]
        for personal in declared:
            for holder, person, field in personal.places(state):
                value = holder[field]
                if isinstance(value, str):
                    holder[field] = self.keyring.seal(coop, person, field, value)
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.opened(stored_event.topic, super().to_domain_event(stored_event))

    def prefetch_keys(self, events: Sequence[Any]) -> None:
        """Reads at once the keys `opened` will need for these decoded events (one read per
        person otherwise: a round trip each on PostgreSQL)."""
        if self.keyring is None:
            return
        pairs = []
        for event in events:
            declared = personal_of(type(event))
            if declared:
                state = vars(event)
                for personal in declared:
                    pairs += [
                        (state["coop"], person) for holder, person, field in personal.places(state) if is_sealed(holder[field])
                    ]
        if pairs:
            self.keyring.prefetch(pairs)

    def opened(self, topic: str, event: Any) -> Any:
        """The event `Mapper.to_domain_event` decoded, its identity fields opened (what
        `to_domain_event` returns; projections/log_reader.py decodes pages itself, then calls this)."""
        if topic == FORGOTTEN_TOPIC and self.keyring is not None:
            for person in event.forgotten_ids:
                self.keyring.forget(event.coop, person)
        declared = personal_of(type(event))
        if declared:
            self._open(event, declared)
        return event

    def _open(self, event: Any, declared: Any) -> None:
        state = vars(event)
        coop = state["coop"]
        in_clear = False
        for personal in declared:
            for holder, person, field in personal.places(state):
                value = holder[field]
                if is_sealed(value):
                    assert self.keyring is not None
                    opened = self.keyring.open(coop, person, field, value)
                    holder[field] = erased_value(field, person) if opened is None else opened
                elif value is not None:
                    in_clear = True
        if in_clear:
            state["identity_in_clear"] = True
