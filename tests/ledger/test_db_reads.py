"""The read path of ledger/db.py: one-statement reads (`query`), snapshots (`read`), and recovery
from a pooled connection that died (connections are lent unchecked)."""

from __future__ import annotations

import threading

import psycopg
import pytest


def test_query_answers_one_statement_with_its_parameters(db):
    assert db.query("SELECT v FROM t WHERE k = ?", ("b",)) == [(2,)]
    assert db.query("SELECT v FROM t WHERE k = ?", ("missing",)) == []
    assert db.query("SELECT count(*) FROM t") == [(2,)]


def test_a_read_sees_one_snapshot_while_another_connection_writes(db):
    changed = threading.Event()

    def write() -> None:
        with db.transaction() as tx:
            tx.execute("UPDATE t SET v = 10 WHERE k = 'a'")
        changed.set()

    with db.read() as tx:
        before = tx.execute("SELECT v FROM t WHERE k = 'a'")
        writer = threading.Thread(target=write)  # another connection (SQLite: WAL lets it write meanwhile)
        writer.start()
        writer.join()
        assert changed.is_set()
        again = tx.execute("SELECT v FROM t WHERE k = 'a'")
    assert before == again == [(1,)]  # the snapshot, not the write made meanwhile
    assert db.query("SELECT v FROM t WHERE k = 'a'") == [(10,)]  # a new read sees it


def test_an_error_in_a_read_leaves_no_transaction_open(db):
    with pytest.raises(Exception, match="no_such_table|does not exist"), db.read() as tx:
        tx.execute("SELECT * FROM no_such_table")
    with pytest.raises(Exception, match="no_such_table|does not exist"):
        db.query("SELECT * FROM no_such_table")
    # The pool's connections are all usable again, inside and outside a transaction.
    assert db.query("SELECT v FROM t WHERE k = 'b'") == [(2,)]
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (k, v) VALUES ('c', 3)")
    assert db.query("SELECT count(*) FROM t") == [(3,)]


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_reads_and_writes_survive_their_pooled_connections_being_killed(db):
    """Connections are lent without a check: a read that meets a dead one runs again on a live one."""
    backends = set()
    for _ in range(3):  # several connections in the pool, each used once
        with db.read() as tx:
            backends.add(tx.execute("SELECT pg_backend_pid()")[0][0])
    with psycopg.connect(db.conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(backends),))
    assert db.query("SELECT v FROM t WHERE k = 'a'") == [(1,)]
    with db.read() as tx:
        assert tx.execute("SELECT v FROM t WHERE k = 'b'") == [(2,)]
        assert tx.execute("SELECT pg_backend_pid()")[0][0] not in backends
    with db.transaction() as tx:
        tx.execute("UPDATE t SET v = 5 WHERE k = 'a'")
    assert db.query("SELECT v FROM t WHERE k = 'a'") == [(5,)]


def test_read_all_answers_each_statement_in_order(db):
    answers = db.read_all(
        [("SELECT v FROM t WHERE k = ?", ("b",)), ("SELECT k FROM t ORDER BY k", ()), ("SELECT v FROM t WHERE k = 'z'", ())]
    )
    assert answers == [[(2,)], [("a",), ("b",)], []]


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_read_all_reads_one_repeatable_read_snapshot_and_leaves_it_closed(db):
    level, _slept, later = db.read_all(
        [
            ("SHOW transaction_isolation", ()),
            ("SELECT pg_sleep(0.02)", ()),
            # Alone (autocommit), a statement starts its own transaction: the two times would be equal.
            ("SELECT statement_timestamp() - transaction_timestamp() >= interval '15 milliseconds'", ()),
        ]
    )
    assert level == [("repeatable read",)]
    assert later == [(True,)]  # the third statement ran in the transaction the BEGIN opened
    with pytest.raises(Exception, match="no_such_table|does not exist"):
        db.read_all([("SELECT v FROM t", ()), ("SELECT * FROM no_such_table", ())])
    for _ in range(10):  # every pooled connection usable again, none left in a transaction
        assert db.query("SELECT current_setting('transaction_isolation'), v FROM t WHERE k = 'a'") == [("read committed", 1)]
