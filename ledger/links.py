"""The event chain's links as stored (ledger/chain.py writes them), read back for `coopledger
verify`, the heads and backups: plain SQL through the views' database access (ledger/db.py), the
same on both stores; nothing here is trusted, it is compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ledger.chain import ADOPTIONS_TABLE, CHAIN_TABLE
from ledger.db import Database

LINK_QUERY_IDS = 500  # ids per query reading links back: under SQLite's bound on parameters


class StoredLinks:
    """The links as stored, for `coopledger verify` and the heads: plain SQL through the views'
    database access (ledger/db.py), the same on both stores; nothing here is trusted, it is compared."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _id(self, originator: UUID) -> Any:
        return originator.hex if self.db.dialect == "sqlite" else originator  # as each store keeps it

    def between(self, originator: UUID, gt: int, lte: int) -> dict[int, str]:
        """{version: stored link} of one aggregate's versions gt < v <= lte."""
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT originator_version, event_hash FROM {CHAIN_TABLE} WHERE originator_id = ?"  # noqa: S608
                " AND originator_version > ? AND originator_version <= ?",
                (self._id(originator), gt, lte),
            )
        return {int(v): h for v, h in rows}

    def last(self, originator: UUID) -> tuple[int, str] | None:
        """(version, link) of the aggregate's highest linked version, or None."""
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT originator_version, event_hash FROM {CHAIN_TABLE} WHERE originator_id = ?"  # noqa: S608
                " ORDER BY originator_version DESC LIMIT 1",
                (self._id(originator),),
            )
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def first_of(self, originators: Sequence[UUID]) -> dict[UUID, str]:
        """{originator: link of its version 1} (a command receipt is a one-event stream)."""
        found: dict[UUID, str] = {}
        with self.db.read() as tx:
            for start in range(0, len(originators), LINK_QUERY_IDS):
                chunk = originators[start : start + LINK_QUERY_IDS]
                rows = tx.execute(
                    f"SELECT originator_id, event_hash FROM {CHAIN_TABLE} WHERE originator_version = 1"  # noqa: S608
                    f" AND originator_id IN ({', '.join('?' for _ in chunk)})",
                    [self._id(o) for o in chunk],
                )
                found.update(((raw if isinstance(raw, UUID) else UUID(str(raw))), h) for raw, h in rows)
        return found

    def adoptions(self) -> list[tuple[str, int]]:
        """When the chain was adopted over events stored before it, and over how many."""
        with self.db.read() as tx:
            rows = tx.execute(f"SELECT adopted_at, events FROM {ADOPTIONS_TABLE} ORDER BY adopted_at")  # noqa: S608
        return [(at, int(n)) for at, n in rows]
