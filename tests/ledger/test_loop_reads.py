"""ledger/loop_reads.py: a one-statement read awaited on the event loop that opened the pool (on
PostgreSQL), else run by Database.query in a worker thread; a dead pooled connection is replaced."""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from ledger.db import Database
from ledger.loop_reads import LoopReads


def _reading_threads(db: Database, reads: LoopReads, target: Database) -> tuple[list, set[str]]:
    """The rows of a read through `reads`, and the threads Database.query ran in meanwhile."""
    threads: set[str] = set()
    query = target.query

    def spied(sql, params=()):
        threads.add(threading.current_thread().name)
        return query(sql, params)

    target.query = spied  # type: ignore[method-assign]
    try:

        async def read() -> list:
            await reads.open()
            try:
                return await reads.query(target, "SELECT v FROM t WHERE k = ?", ("b",))
            finally:
                await reads.close()

        return asyncio.run(read()), threads
    finally:
        del target.query


def test_a_read_answers_on_either_store(db):
    rows, threads = _reading_threads(db, LoopReads(db), db)
    assert rows == [(2,)]
    if db.dialect == "postgres":
        assert threads == set()  # awaited on the loop: Database.query never ran
    else:
        assert threads and threading.main_thread().name not in threads  # SQLite: in a worker thread


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_another_database_or_loop_reads_in_a_thread(db):
    other = Database(db.config)  # a standby's, say: not the database of the pool
    try:
        rows, threads = _reading_threads(db, LoopReads(db), other)
        assert rows == [(2,)] and threads
    finally:
        other.close()
    reads = LoopReads(db)

    async def open_here() -> None:
        await reads.open()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(open_here())
        # A request served by another loop (a test client without the lifespan) may not use that pool.
        assert asyncio.run(reads.query(db, "SELECT v FROM t WHERE k = ?", ("a",))) == [(1,)]
    finally:
        loop.run_until_complete(reads.close())
        loop.close()


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_a_read_survives_its_pooled_connection_being_killed(db):
    reads = LoopReads(db)

    async def scenario() -> list:
        await reads.open()
        try:
            pid = (await reads.query(db, "SELECT pg_backend_pid()"))[0][0]
            with psycopg.connect(db.conninfo(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            return await reads.query(db, "SELECT v FROM t WHERE k = 'a'")
        finally:
            await reads.close()

    assert asyncio.run(scenario()) == [(1,)]
