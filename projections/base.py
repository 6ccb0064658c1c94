"""What a projection is: a name, the tables it owns, and what it does with a batch of events.

A projection never swallows an error: if a handler raises, the whole batch's transaction
rolls back (rows and position together) and the runner reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from domain.personal import erased_value
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
    # Rows holding a person's identity: (table, column of the person's id, columns of their
    # identity). When the projection reaches PersonForgotten those columns take `erased_value`
    # (docs/decisions/0013-forgetting-a-person.md); a rebuild gives the same rows.
    identity_columns: ClassVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = ()

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        """Applies a batch of (position, event). Subclasses may aggregate before writing."""
        for position, event in batch:
            method = self.handlers.get(type(event))
            if method is not None:
                getattr(self, method)(tx, event, position)

    @property
    def identity_tables(self) -> tuple[str, ...]:
        """The tables `forget` writes (an override of `forget` names its own)."""
        return tuple(table for table, _person, _columns in self.identity_columns)

    def forget(self, tx: Tx, coop: str, person_id: str) -> None:
        """Replaces the person's identity in this projection's rows (called by the runner after the
        batch that holds PersonForgotten is processed). Override for rows `identity_columns` cannot say."""
        for table, person_column, columns in self.identity_columns:
            sets = ", ".join(f"{column} = ?" for column in columns)
            tx.execute(
                f"UPDATE {table} SET {sets} WHERE coop = ? AND {person_column} = ?",  # noqa: S608 (names are constants)
                [*(erased_value(column, person_id) for column in columns), coop, person_id],
            )

    def clear(self, tx: Tx) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")  # noqa: S608 (table names are constants)
