"""Reads awaited on the event loop, for the API's most frequent reads (a balance, governance...).

A `def` route runs in a worker thread: the hop there and back, and the threads taking turns on the
GIL, cost a read about as much CPU as FastAPI's whole handling of a trivial request, and most of
its worst latencies. On PostgreSQL a route may instead `await LoopReads.query(db, sql, params)`:
the statement runs on a connection of an asyncio pool opened in the server's event loop, in
autocommit (its own snapshot), as `Database.query` runs it. (Several statements pipelined in one
snapshot cost the client about three times the CPU of one statement doing their work, measured on
governance's read: a read awaited here is one statement.)

Everywhere else the read runs as before, `Database.query` in a worker thread: on SQLite, on a
standby's database, before `open()` or after `close()`, and on an event loop other than the one
that opened the pool (a pool belongs to its loop; a test client without its lifespan runs its
own). A connection found dead is discarded and the statement runs once more on another, as
`Database.borrow` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from anyio import to_thread

from ledger.db import Database, _psycopg_errors

T = TypeVar("T")


class LoopReads:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pool: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        """Opens the pool in the running loop (the server's lifespan); nothing to do on SQLite."""
        if self.db.dialect != "postgres" or self._pool is not None:
            return
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            conninfo=self.db.conninfo(),
            min_size=1,
            max_size=8,
            open=False,
            timeout=self.db.pool_wait_s,
            kwargs=self.db.connection_kwargs,
        )
        await pool.open(wait=False)  # PostgreSQL down at start-up: reads answer 503 until it is back
        self._pool, self._loop = pool, asyncio.get_running_loop()

    async def close(self) -> None:
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            await pool.close()

    async def query(self, db: Database, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """`db.query(sql, params)`, awaited on the loop when it can be (see the module's docstring)."""
        if not self._usable(db):
            return await to_thread.run_sync(db.query, sql, params)

        async def one(conn: Any) -> list[tuple[Any, ...]]:
            cursor = await conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(row) for row in await cursor.fetchall()] if cursor.description is not None else []

        return await self._on_a_connection(one)

    def _usable(self, db: Database) -> bool:
        return self._pool is not None and db is self.db and asyncio.get_running_loop() is self._loop

    async def _on_a_connection(self, read: Callable[[Any], Awaitable[T]]) -> T:
        """`read(conn)` on a pooled connection; a connection found dead is replaced once."""
        pool = self._pool
        for attempt in (1, 2):
            conn = await pool.getconn()
            try:
                result = await read(conn)
            except BaseException as exc:  # a cancellation too: the connection goes back
                dead = conn.broken or conn.closed
                await pool.putconn(conn)  # a dead one is discarded, a live one rolled back
                if attempt == 2 or not dead or not isinstance(exc, _psycopg_errors()):
                    raise
                await pool.check()
                continue
            await pool.putconn(conn)
            return result
        raise AssertionError("unreachable")
