"""After a person is forgotten: nothing of them left on disk where a copy of the store would find it.

The key is deleted by the recorder and the views replace the identity in the runner's transaction
(docs/decisions/0013-forgetting-a-person.md), but a database keeps old bytes for a while: SQLite
in free space inside pages and in its write-ahead log, PostgreSQL in dead row versions until they
are vacuumed. A backup copies pages (SQLite's backup API copies free ones too), so once every view
has passed the erasure the projection runner calls `erase_remnants`:

- SQLite: VACUUM rewrites the file from its live rows only, then a TRUNCATE checkpoint empties the
  log. Both need a moment without other writers; when another connection holds the store, it is
  logged and tried again at the next erasure or with `coopledger compact`.
- PostgreSQL: VACUUM of the key table and of the tables that held the identity, so that their dead
  row versions are pruned (pg_dump, our backups, never held dead rows).
"""

from __future__ import annotations

import sqlite3
import time

import psycopg
import structlog

from ledger.db import Database

log = structlog.get_logger("coopledger.erasure")


def erase_remnants(db: Database, tables: list[str]) -> bool:
    """Rewrites what may still hold a forgotten person's bytes. True when done, False when the store
    was busy (logged: the next erasure or `coopledger compact` does it)."""
    started = time.perf_counter()
    try:
        if db.dialect == "sqlite":
            assert db.config.sqlite_path is not None
            conn = sqlite3.connect(db.config.sqlite_path, isolation_level=None, timeout=30)
            try:
                conn.execute("VACUUM")
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                conn.close()
            if busy:
                log.warning("erasure_log_busy", hint="another connection reads the store: run `coopledger compact` later")
                return False
        else:
            with psycopg.connect(db.conninfo(), autocommit=True) as conn:
                for table in sorted({"person_keys", *tables}):
                    conn.execute(f'VACUUM "{db.config.pg_schema}".{table}')  # noqa: S608 (names are constants)
    except (sqlite3.OperationalError, psycopg.OperationalError) as exc:
        log.warning("erasure_compaction_failed", error=str(exc), hint="run `coopledger compact` when the store is quiet")
        return False
    log.info("erasure_compacted", store=db.dialect, seconds=round(time.perf_counter() - started, 3))
    return True
