"""What a projection is: a name, the tables it owns, and what it does with a batch of events.

A projection never swallows an error: if a handler raises, the whole batch's transaction
rolls back (rows and position together) and the runner reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ledger.db import Tx


class Projection:
    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]  # rows it owns; a rebuild deletes them
    handlers: ClassVar[dict[type, str]] = {}  # event class -> method name
    # Projections whose rows this one reads while it processes a batch: they process it first
    # (projections/catalog.py).
    after: ClassVar[tuple[str, ...]] = ()
    # Statements creating its tables, if it brings them itself (CREATE TABLE IF NOT EXISTS ...),
    # run when a runner starts. Shipped projections have theirs in migrations/ instead, where a
    # table's later changes are numbered; this is for a projection outside the package.
    schema: ClassVar[str] = ""

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        """Applies a batch of (position, event). Subclasses may aggregate before writing."""
        for position, event in batch:
            method = self.handlers.get(type(event))
            if method is not None:
                getattr(self, method)(tx, event, position)

    def clear(self, tx: Tx) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")  # noqa: S608 (table names are constants)
