"""Whose turn it is to write a cooperative, across processes (PostgreSQL).

A writer decides on its cached aggregate, then saves; a save that finds the versions taken
(another process saved first) evicts the aggregates and is retried: reload, decide again, save.
Two server processes writing the same cooperatives kept colliding: each retry reloaded its
cooperatives cold while the other process saved again, and again (measured with
`coopledger serve --workers 2` and 32 connections of single commands: retries up to the 8th
attempt, a p99 of 5.6 s, commands refused with 503).

So every save on PostgreSQL first takes its cooperatives' turns: one transaction-scoped advisory
lock per cooperative, taken in one order (two writers cannot deadlock), held while the writer
fast-forwards its aggregates, decides and saves, released when that transaction ends, whatever
happens. The next writer of a cooperative then reads what the last one saved before it decides:
processes no longer collide (a conflict is left only with a writer that takes no turns, such as an
older version of the program). Turns only on retries were tried first and were not enough: a
retrier holding them kept losing to the other process's first attempts, up to the 8th attempt.
They cost one transaction per save (a group of commands, or a batch), beside the save's own, on
a connection of a small pool of their own (Database.side_transaction): held in the main pool, 8 or
more concurrent batches ran it dry. The wait is bounded (`timeout_s`); past it the writer gives up
with TimeoutError, which the API answers 503. Turns are taken before eventsourcing's table lock,
always: no cycle.

SQLite takes no turns: its store is meant for one process (two processes on one SQLite file still
collide and retry, as before).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog

from domain.cooperative import coop_id
from ledger.db import Database

log = structlog.get_logger("coopledger.ledger")

# The first key of the two-key advisory locks: these locks are coopledger's cooperative turns,
# whatever else takes advisory locks on the same database ('ct', the ASCII of "cooperative turn").
TURN_LOCK_CLASS = 0x6374


def turn_keys(slugs: Sequence[str], store: str) -> list[int]:
    """Each cooperative's second key, sorted: the order every writer takes them in. Advisory locks
    belong to the whole database, and several stores (schemas) may share one: the key is 32 bits of
    a digest of the store's name and the cooperative's id (two stores' demo cooperatives waited for
    each other's turns, up to the timeout, under the test suite's parallel workers). Two
    cooperatives sharing a key only take turns together."""
    return sorted(
        {int.from_bytes(hashlib.sha256(f"{store}:{coop_id(slug)}".encode()).digest()[:4], "big", signed=True) for slug in slugs}
    )


@contextmanager
def turns(db: Database, slugs: Sequence[str], *, timeout_s: float) -> Iterator[None]:
    """Holds the turns of `slugs` for the block (PostgreSQL; nothing to take on SQLite)."""
    if db.dialect != "postgres" or not slugs:
        yield
        return
    import psycopg

    done = False
    try:
        # A pool of its own: the block borrows from the main pool while the turns are held.
        with db.side_transaction() as tx:
            wait = f"{max(1, int(timeout_s * 1000))}ms"
            tx.execute("SELECT set_config('lock_timeout', ?, true)", (wait,))  # for this transaction only
            try:
                # The subquery's ORDER BY fixes the order the locks are taken in.
                tx.execute(
                    "SELECT pg_advisory_xact_lock(?, k) FROM (SELECT k FROM unnest(?::int[]) AS k ORDER BY k) AS turn",
                    (TURN_LOCK_CLASS, turn_keys(slugs, db.config.pg_schema)),
                )
            except psycopg.errors.LockNotAvailable:
                raise TimeoutError(f"cooperatives {list(slugs)} stayed busy with another writer for {timeout_s} s") from None
            yield
            done = True
    except psycopg.Error as exc:
        if not done:
            raise
        # The block saved; only ending the turns' transaction failed (the connection lost just
        # after). It wrote nothing, and the server releases its locks with it: the save stands,
        # and its commands are not to be reported as failed.
        log.warning("turns_end_failed", coops=list(slugs), error=f"{type(exc).__name__}: {exc}")
