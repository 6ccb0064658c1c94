"""`verify`'s check of sealed identities (docs/decisions/0013-forgetting-a-person.md).

The event chain covers the sealed bytes, not the keys. So for each sealed value: the person's key
in the store must open it (AES-GCM fails on a key or a value that was changed), or the person must
have been forgotten by a PersonForgotten event of the same cooperative (then no key is right).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cryptography.exceptions import InvalidTag

from domain.events import EVENT_CLASSES, TOPIC_PREFIX
from domain.personal import personal_of
from ledger.identity_keys import FORGOTTEN_TOPIC, KeyRing, is_sealed


class IdentityCheck:
    """Watches a cooperative's stored rows go by (`rows`), then says what is wrong (`problem`)."""

    def __init__(self, keys: KeyRing, coop: str) -> None:
        self.coop = coop
        self.keys = keys
        self.forgotten: set[str] = set()
        self.keyless: dict[str, int] = {}  # person -> first version sealed for them with no key stored
        self.broken: tuple[int, str] | None = None

    def rows(self, records: Iterable[Any]) -> Iterator[Any]:
        for row in records:
            if isinstance(row.state, dict) and self.broken is None:
                self._check(row.version, row.topic, row.state)
            yield row

    def _check(self, version: int, topic: str, state: dict[str, Any]) -> None:
        if topic == FORGOTTEN_TOPIC:
            self.forgotten.update([state.get("person_id", ""), *state.get("linked", ())])
            return
        cls = EVENT_CLASSES.get(topic.removeprefix(TOPIC_PREFIX))
        for declared in personal_of(cls) if cls is not None else ():
            for holder, person, field in declared.places(state):
                if not is_sealed(holder[field]):
                    continue
                try:
                    opened = self.keys.open(self.coop, person, field, holder[field])
                except (InvalidTag, AssertionError, ValueError) as exc:
                    self.broken = (version, f"version {version}: {person}'s {field} does not open with their key ({exc!r})")
                    return
                if opened is None:
                    self.keyless.setdefault(person, version)

    def problem(self) -> tuple[str, int, str] | None:
        """(kind, version, message) of the first thing wrong, or None."""
        if self.broken is not None:
            return "identity_unreadable", self.broken[0], self.broken[1]
        for person, version in sorted(self.keyless.items(), key=lambda kv: kv[1]):
            if person not in self.forgotten:
                return (
                    "identity_key_missing",
                    version,
                    f"version {version}: {person}'s identity is sealed, their key is gone, and no PersonForgotten records why",
                )
        return None
