"""Fixtures shared by the ledger's database-read tests (test_db_reads.py, test_loop_reads.py)."""

from __future__ import annotations

import pytest

from ledger.db import Database
from ledger.store import StoreConfig


@pytest.fixture
def db(store_factory):
    """A Database on a fresh store of each kind, holding a table t of two rows: (a, 1), (b, 2)."""
    database = Database(StoreConfig.from_url(store_factory.new()))
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
        tx.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [("a", 1), ("b", 2)])
    yield database
    database.close()
