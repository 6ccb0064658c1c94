"""A thin, dialect-neutral access to the SQL database that holds the events and the views.

SQL is written once with '?' placeholders and portable types; the PostgreSQL side rewrites
them to '%s'. Projection rows and their tracking position go through one `transaction()`.

Reads are what the API serves most, so on PostgreSQL each costs as few round trips as it can:
`query()` runs one statement alone in autocommit (one round trip, the statement its own snapshot);
`read()` sends its BEGIN with its first statement (two round trips for a one-statement snapshot:
that and the COMMIT); `read_all()` sends BEGIN, statements that do not depend on each other, and
COMMIT in one pipeline (one round trip). Connections are lent from the pool unchecked (a check is one more round trip):
a read that finds its connection dead (PostgreSQL restarted, the connection was cut) has the pool
check its idle connections and runs again on another; `transaction()` still checks first.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from psycopg_pool.base import AttemptWithBackoff

from ledger.store import LOCK_TIMEOUT_S, StoreConfig

# When PostgreSQL is away, a caller waits at most this long for a connection, then gets
# psycopg_pool.PoolTimeout (an OperationalError: the API answers 503), instead of hanging.
CONNECT_TIMEOUT_S = 5
POOL_WAIT_S = 3.0
# Connections for side transactions (Database.side_transaction): one per batch saving at once in
# this process; past that a batch waits POOL_WAIT_S for one, then fails (the API answers 503).
SIDE_POOL_SIZE = 8
# psycopg_pool retries a lost connection after 1, 2, 4, 8... s: after an outage of a minute the
# service would stay down up to another minute once PostgreSQL is back. Every pool of this process
# (ours, and eventsourcing's, which has no option for it) retries about every second instead:
# back within a second or two, for one connection attempt per second per pool while it is down.
AttemptWithBackoff.DELAY_BACKOFF = 1.0
# eventsourcing retries a failed call 10 times, 0.2 s apart, each attempt waiting for a pooled
# connection up to POSTGRES_CONNECT_TIMEOUT (whole seconds, at least 1): 12 s, twice that for a
# request that makes two calls, before an outage is reported. Half a second per attempt: about 7 s.
EVENT_STORE_POOL_WAIT_S = 0.5
# A read's snapshot: every statement of one `read()` sees the same state.
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ"

T = TypeVar("T")


def bound_event_store_waits(recorder: Any) -> None:
    """Shortens the wait for a connection in eventsourcing's own pool (it has no option for it)."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    if pool is not None:
        pool.timeout = EVENT_STORE_POOL_WAIT_S


class Tx:
    """One open transaction. `execute` returns rows as tuples."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(self._sql(sql), tuple(params))
        if self._cursor.description is None:
            return []
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Executes a statement and returns how many rows it changed (for the caller to assert)."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def execute_one(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Executes a statement that must change exactly one row (asserted: a projection
        updating a row that is not there means it missed an event)."""
        self._cursor.execute(self._sql(sql), tuple(params))
        assert self._cursor.rowcount == 1, f"expected one row changed, got {self._cursor.rowcount}: {sql} {params}"

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def script(self, sql: str) -> None:
        for statement in split_statements(sql):
            self._cursor.execute(statement)


class _Snapshot(Tx):
    """A PostgreSQL read: its connection is borrowed, and its transaction begun, with its first
    statement (one round trip for both); `end()` commits, or rolls back after an error."""

    def __init__(self, db: Database) -> None:
        super().__init__(None, "postgres")
        self._db = db
        self._conn: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._conn is not None:
            return super().execute(sql, params)

        def begin_with(conn: Any) -> Any:
            cursor = conn.cursor()
            with conn.pipeline():
                cursor.execute(BEGIN_SNAPSHOT)
                cursor.execute(self._sql(sql), tuple(params))
            return cursor

        self._conn, self._cursor = self._db.borrow(begin_with)
        if self._cursor.description is None:
            return []
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.execute(sql, params)
        return int(self._cursor.rowcount)

    def execute_one(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.execute(sql, params)
        assert self._cursor.rowcount == 1, f"expected one row changed, got {self._cursor.rowcount}: {sql} {params}"

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            for row in rows:
                self.execute(sql, row)

    def script(self, sql: str) -> None:
        for statement in split_statements(sql):
            self.execute(statement)

    def end(self, ok: bool) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            if ok:
                conn.execute("COMMIT")
            elif not conn.closed and not conn.broken:
                try:
                    conn.execute("ROLLBACK")
                except _psycopg_errors() as exc:  # the read failed already: its error is the one raised
                    structlog.get_logger("coopledger.db").warning("read_rollback_failed", error=str(exc))
        finally:
            self._db.give_back(conn)  # the pool discards a broken connection, rolls back a live one


def split_statements(sql: str) -> list[str]:
    """Splits a migration into statements: comment lines dropped, then split on ';'."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# Any number fits in a PostgreSQL advisory lock; this one says "coopledger event store start-up"
# (migrations hold another: ledger/migrate.py).
STARTUP_LOCK_KEY = 0x636C_6B73_7475_7031


class Database:
    def __init__(
        self, config: StoreConfig, *, pool_wait_s: float = POOL_WAIT_S, connect_timeout_s: int = CONNECT_TIMEOUT_S
    ) -> None:
        self.config = config
        self.connect_timeout_s = connect_timeout_s
        self.dialect = config.kind
        self._pool: Any = None
        self._side_pool: Any = None  # opened on first use (side_transaction)
        self._side_guard = threading.Lock()
        self._local = threading.local()
        if self.dialect == "postgres":
            from psycopg_pool import ConnectionPool

            self.pool_wait_s = pool_wait_s
            # Every connection of this store's pools (ledger/loop_reads.py opens one more, on the event loop).
            self.connection_kwargs = {
                "autocommit": True,
                "options": f"-c search_path={config.pg_schema} -c lock_timeout={LOCK_TIMEOUT_S}s",
            }
            self._pool = ConnectionPool(
                conninfo=self.conninfo(),
                min_size=1,
                max_size=8,
                open=True,
                timeout=pool_wait_s,
                # A pooled connection may have died with the server (restart, network cut,
                # pg_terminate_backend): recovery needs no restart of this process.
                # No check when lent (see the module's docstring): `borrow` recovers from a dead one.
                kwargs=self.connection_kwargs,
            )

    def conninfo(self) -> str:
        c = self.config
        parts = [
            f"host={c.pg_hosts()}",
            f"port={c.pg_ports()}",
            f"user={c.pg_user}",
            f"dbname={c.pg_dbname}",
            f"connect_timeout={self.connect_timeout_s}",
        ]
        if c.pg_password:
            parts.append(f"password={c.pg_password}")
        if c.pg_target_session_attrs:
            parts.append(f"target_session_attrs={c.pg_target_session_attrs}")
        return " ".join(parts)

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            assert self.config.sqlite_path is not None
            conn = sqlite3.connect(self.config.sqlite_path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Held while eventsourcing creates (or finds) its tables: its CREATE ... IF NOT EXISTS run by
        several processes starting at once on PostgreSQL fail with "tuple concurrently updated".
        A session-level advisory lock on its own connection serialises those few statements."""
        if self.dialect != "postgres":
            yield
            return
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK_KEY,))
            try:
                self._ensure_schema(conn)
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK_KEY,))

    def _ensure_schema(self, conn: Any) -> None:
        """The URL's schema, created when missing (a new store), or one clear line saying why not."""
        import psycopg
        from psycopg import sql

        schema = self.config.pg_schema
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        except psycopg.Error as exc:
            raise RuntimeError(
                f"schema {schema!r} does not exist in database {self.config.pg_dbname!r} and user "
                f"{self.config.pg_user!r} may not create it ({type(exc).__name__}: {str(exc).strip()}): "
                "create it, or name another schema in the URL (?schema=...)"
            ) from None

    def borrow(self, first: Callable[[Any], T]) -> tuple[Any, T]:
        """A pooled PostgreSQL connection and `first(conn)`, which must be safe to run twice: when it
        fails on a dead connection, the pool checks its idle connections and it runs once more on
        another. Return the connection with `give_back`."""
        for attempt in (1, 2):
            conn = self._pool.getconn()
            try:
                return conn, first(conn)
            except BaseException as exc:  # a KeyboardInterrupt too: the connection goes back
                dead = conn.broken or conn.closed
                self._pool.putconn(conn)  # a dead one is discarded, a live one rolled back
                if attempt == 2 or not dead or not isinstance(exc, _psycopg_errors()):
                    raise
                self._pool.check()
        raise AssertionError("unreachable")

    def give_back(self, conn: Any) -> None:
        self._pool.putconn(conn)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if self.dialect == "sqlite":
            conn = self._sqlite()
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
            try:
                yield Tx(cursor, "sqlite")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            else:
                cursor.execute("COMMIT")
        else:
            from psycopg_pool import ConnectionPool

            # Writes check their connection before they begin: a write is not run twice.
            conn, _ = self.borrow(ConnectionPool.check_connection)
            try:
                with conn.transaction(), conn.cursor() as cursor:
                    yield Tx(cursor, "postgres")
            finally:
                self.give_back(conn)

    @contextmanager
    def side_transaction(self) -> Iterator[Tx]:
        """A PostgreSQL transaction on a connection of a small pool of its own, for a holder that
        borrows from the main pool meanwhile (ledger/writer_turns.py holds its locks there while
        the ledger reads and saves). Held in the main pool, 8 or more concurrent batches each held one
        connection and waited for another: the pool ran dry and they failed after its wait."""
        assert self.dialect == "postgres", "a side transaction is PostgreSQL's"
        with self._side_guard:
            if self._side_pool is None:
                from psycopg_pool import ConnectionPool

                self._side_pool = ConnectionPool(
                    conninfo=self.conninfo(),
                    min_size=0,  # none until a writer needs one: most processes never do
                    max_size=SIDE_POOL_SIZE,
                    open=True,
                    timeout=self.pool_wait_s,
                    kwargs=self.connection_kwargs,
                    check=ConnectionPool.check_connection,  # one that died with the server is replaced
                )
            pool = self._side_pool
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield Tx(cursor, "postgres")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only snapshot: every query inside sees the same state."""
        if self.dialect == "sqlite":
            conn = self._sqlite()
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            try:
                yield Tx(cursor, "sqlite")
            finally:
                cursor.execute("ROLLBACK")
        else:
            tx = _Snapshot(self)
            ok = False
            try:
                yield tx
                ok = True
            finally:
                tx.end(ok)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement, alone (on PostgreSQL in autocommit: one round trip, its own snapshot).
        Statements whose answers must agree with each other go in one `read()` instead."""
        if self.dialect == "sqlite":
            with self.read() as tx:
                return tx.execute(sql, params)

        def run(conn: Any) -> list[tuple[Any, ...]]:
            cursor = conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []

        conn, rows = self.borrow(run)
        self.give_back(conn)
        return rows

    def read_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, all read in one snapshot. The statements must not depend on each
        other's answers: on PostgreSQL they are sent together with the BEGIN and the COMMIT, in one
        pipeline (one round trip, where `read()` takes one per statement and one more to commit)."""
        if self.dialect == "sqlite":
            with self.read() as tx:
                return [tx.execute(sql, params) for sql, params in statements]

        def run(conn: Any) -> list[list[tuple[Any, ...]]]:
            with conn.pipeline():
                conn.execute(BEGIN_SNAPSHOT)
                cursors = [conn.execute(sql.replace("?", "%s"), tuple(params)) for sql, params in statements]
                conn.execute("COMMIT")
            return [[tuple(row) for row in cursor.fetchall()] for cursor in cursors]

        conn, rows = self.borrow(run)  # on an error the pool rolls the connection back
        self.give_back(conn)
        return rows

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        with self._side_guard:
            if self._side_pool is not None:
                self._side_pool.close()
                self._side_pool = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _psycopg_errors() -> tuple[type[Exception], ...]:
    import psycopg

    return (psycopg.OperationalError, psycopg.InterfaceError)
