"""The registry's fee calls over one batch: read once, changed in memory, written once.

A payment changes its fee call's row from what the row holds (paid so far, dates): one SELECT and
one UPDATE per payment, which was most of the registry's time in a rebuild (two round trips per
payment on PostgreSQL). Here the rows a batch's payments and reversals touch are read with a few
queries first, every event of the batch changes them in memory in log order, and the batch ends
with one DELETE per call reversed, the new calls inserted together and the changed rows updated
together. Same rows as one statement per event: the batch's events apply in the same order to the
same values, and nothing else reads or writes fee_calls while the registry processes a batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ledger.db import Tx

Key = tuple[str, str, int]  # coop, member_id, year
LOOKUP_CHUNK = 500  # member ids per query: well under SQLite's and PostgreSQL's parameter limits
# From this many changed rows PostgreSQL updates them from a temporary table (a rebuild's pages);
# below, one pipelined UPDATE each, without creating a temporary table per batch (the live runner).
UPDATE_FROM_COPY = 200
_COLUMNS = "called_cents, paid_cents, called_on, last_paid_on, fully_paid_on"


class FeeCallsInBatch:
    def __init__(self, tx: Tx, keys: Iterable[Key]) -> None:
        # key -> [called_cents, paid_cents, called_on, last_paid_on, fully_paid_on]
        self.rows: dict[Key, list[Any]] = {}
        self.new: set[Key] = set()  # inserted by this batch
        self.changed: set[Key] = set()  # stored rows this batch changed
        self.deleted: list[Key] = []  # stored rows this batch deleted, in order
        by_coop_year: dict[tuple[str, int], set[str]] = defaultdict(set)
        for coop, member_id, year in keys:
            by_coop_year[(coop, year)].add(member_id)
        for (coop, year), members in by_coop_year.items():
            ordered = sorted(members)
            for start in range(0, len(ordered), LOOKUP_CHUNK):
                chunk = ordered[start : start + LOOKUP_CHUNK]
                if tx.dialect == "postgres":
                    # One array parameter: the same statement text whatever the chunk's length, so
                    # psycopg prepares it once (an IN list of n parameters is a new text, planned
                    # each time: 1.0 s of the registry's 2.9 s on 30,010 commands, measured).
                    where, params = "member_id = ANY(?)", (coop, year, chunk)
                else:
                    where, params = f"member_id IN ({', '.join('?' for _ in chunk)})", (coop, year, *chunk)
                for member_id, *row in tx.execute(
                    f"SELECT member_id, {_COLUMNS} FROM fee_calls WHERE coop = ? AND year = ? AND {where}",  # noqa: S608
                    params,
                ):
                    self.rows[(coop, member_id, year)] = row

    def call(self, key: Key, called: int, paid: int, day: str, last_paid_on: str | None, fully_paid_on: str | None) -> None:
        # A second call of a fee the batch holds fails here; of one stored but not read, the
        # INSERT at the end fails on the primary key, as one INSERT per event would.
        assert key not in self.rows, f"fee {key} called twice"
        self.rows[key] = [called, paid, day, last_paid_on, fully_paid_on]
        self.new.add(key)
        self.changed.discard(key)

    def pay(self, key: Key, amount: int, day: str) -> None:
        row = self.rows.get(key)
        assert row is not None, f"payment for a fee never called: {key}"
        called, paid, called_on, last_paid_on, _fully = row
        paid += amount
        assert 0 <= paid <= called, f"fee {key}: paid {paid} outside 0..{called}"
        # By effective dates, the fee is fully paid from its latest payment (or the call, if
        # paid ahead), whatever order the payments were recorded in. ISO dates sort as text.
        last_paid_on = max(day, last_paid_on or day)
        row[1:] = [paid, called_on, last_paid_on, max(last_paid_on, called_on) if paid == called else None]
        if key not in self.new:
            self.changed.add(key)

    def delete(self, key: Key) -> None:
        assert key in self.rows, f"reversal of a fee call that is not there: {key}"
        del self.rows[key]
        if key in self.new:
            self.new.discard(key)
        else:
            self.changed.discard(key)
            self.deleted.append(key)

    def write(self, tx: Tx) -> None:
        for key in self.deleted:
            tx.execute_one("DELETE FROM fee_calls WHERE coop = ? AND member_id = ? AND year = ?", key)
        tx.executemany(
            f"INSERT INTO fee_calls (coop, member_id, year, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            [(*key, *self.rows[key]) for key in sorted(self.new)],
        )
        changed = [(*key, self.rows[key][1], self.rows[key][3], self.rows[key][4]) for key in sorted(self.changed)]
        if tx.dialect == "postgres" and len(changed) >= UPDATE_FROM_COPY:
            # One UPDATE from rows copied into a temporary table: a pipelined UPDATE per row took
            # most of the registry's time in a PostgreSQL rebuild (9.3 s of 58.8 s, measured).
            tx.execute(
                "CREATE TEMP TABLE IF NOT EXISTS fee_calls_paid (coop TEXT, member_id TEXT, year INTEGER,"
                " paid_cents BIGINT, last_paid_on TEXT, fully_paid_on TEXT) ON COMMIT DROP"
            )
            tx.execute("TRUNCATE fee_calls_paid")
            with tx._cursor.copy("COPY fee_calls_paid FROM STDIN") as copy:  # noqa: SLF001 (COPY is PostgreSQL's own)
                for row in changed:
                    copy.write_row(row)
            updated = tx.execute_count(
                "UPDATE fee_calls f SET paid_cents = p.paid_cents, last_paid_on = p.last_paid_on,"
                " fully_paid_on = p.fully_paid_on FROM fee_calls_paid p"
                " WHERE f.coop = p.coop AND f.member_id = p.member_id AND f.year = p.year"
            )
            assert updated == len(changed), f"fee calls: {updated} rows updated of {len(changed)} changed"
            return
        tx.executemany(
            "UPDATE fee_calls SET paid_cents = ?, last_paid_on = ?, fully_paid_on = ?"
            " WHERE coop = ? AND member_id = ? AND year = ?",
            [(*row[3:], *row[:3]) for row in changed],
        )
