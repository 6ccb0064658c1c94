"""The handler map, derived from the families' declarations (domain/family.py).

Every family declares its commands once, with their deciders and roles; this module only reads
that registry for the ledger. FoundCooperative, ReverseEntry and FederateCooperatives need more
than one aggregate (there is no aggregate yet; the original event; the founders) and are decided
by ledger/decision.py, in the same write path as the others: their handlers have no `decide`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from domain.bank_links import LinkBankLine
from domain.cooperative import Cooperative, FoundCooperative
from domain.corrections import ReverseEntry
from domain.events import Meta
from domain.family import commands, families, handler_of
from domain.federation import FederateCooperatives

Decider = Callable[[Cooperative, Any, Meta], None]

SPECIAL_COMMANDS: tuple[type, ...] = (FoundCooperative, ReverseEntry, FederateCooperatives, LinkBankLine)


class _Deciders(Mapping[type, Decider]):
    """Command class -> decider, for the commands a single cooperative decides; read live from
    the registry, so a family registered after this import is included."""

    def __getitem__(self, command: type) -> Decider:
        handler = handler_of(command)
        if handler is None or handler.decide is None:
            raise KeyError(command)
        return handler.decide

    def __iter__(self) -> Iterator[type]:
        return (cls for cls in commands().values() if self.get(cls) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


HANDLERS: Mapping[type, Decider] = _Deciders()
COMMANDS: Mapping[str, type] = commands()  # command name -> class, every family's (live)


assert families(), "no family registered"  # importing the ledger loads every shipped family
