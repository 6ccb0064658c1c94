"""Postings as rows: every entry's postings in a plain table, `entry_postings`, one row per posting.

The recorder writes them in the same transaction as the events that carry them (ledger/chain.py),
under the store's write lock, and nothing ever updates or deletes them: like the event chain's
links, a store index over the events, never a second truth. What it buys: the balances are
rebuilt by one set-based `INSERT ... SELECT ... GROUP BY` inside the database, with no JSON to
parse (projections/balances.py), and `coopledger verify` checks that the rows equal the postings
inside the events, entry by entry (`PostingsCheck`), so an edit of either is found.

Columns: the cooperative, the entry's journal number and the posting's index in it (the key), the
event's position in the log (the rebuild reads ranges of positions), the entry's effective date
(`day`, YYYY-MM-DD), then the posting itself: account, party (NULL when none), unit, amount in
minor units (a positive amount is a debit).

A store written before this table existed is filled once, when the program opens it (`ADOPT_SQL`):
the postings are read from the stored events themselves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent

from domain.events import EVENT_CLASSES, FinancialEvent

POSTINGS_TABLE = "entry_postings"
CHECK_PAGE_ROWS = 5000  # rows read per query while verifying: bounded memory
MAX_CHECK_PAGES = 10**7  # a bound on the verify loop, far above any cooperative's postings

CREATE_SQL = {
    "sqlite": f"CREATE TABLE IF NOT EXISTS {POSTINGS_TABLE} (coop TEXT NOT NULL, number INTEGER NOT NULL,"
    " n INTEGER NOT NULL, position INTEGER NOT NULL, day TEXT NOT NULL, account TEXT NOT NULL, party TEXT,"
    " unit TEXT NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (coop, number, n)) WITHOUT ROWID",
    "postgres": "CREATE TABLE IF NOT EXISTS {schema}." + POSTINGS_TABLE + " (coop text NOT NULL, number bigint NOT NULL,"
    " n integer NOT NULL, position bigint NOT NULL, day text NOT NULL, account text NOT NULL, party text,"
    " unit text NOT NULL, amount bigint NOT NULL, PRIMARY KEY (coop, number, n))",
}
INSERT_SQL = (
    f"INSERT INTO {POSTINGS_TABLE} (coop, number, n, position, day, account, party, unit, amount)"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# PostgreSQL: the rows of a batch in one statement, each taking its event's position from the
# event just inserted (by its key), so no Python runs between the events' INSERT and the commit
# (eventsourcing commits what was written before a Python error: ledger/chain.py). %b: the arrays
# in binary, as the events' (ledger/chain.py says why).
INSERT_JOINED_SQL = (
    "INSERT INTO {schema}." + POSTINGS_TABLE + " (coop, number, n, position, day, account, party, unit, amount)"
    " SELECT p.coop, p.number, p.n, e.notification_id, p.day, p.account, p.party, p.unit, p.amount"
    " FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bigint[], %b::int[], %b::text[], %b::text[], %b::text[],"
    " %b::text[], %b::bigint[]) AS p(originator_id, originator_version, coop, number, n, day, account, party, unit, amount)"
    " JOIN {schema}.{events} e ON e.originator_id = p.originator_id AND e.originator_version = p.originator_version"
)
# Filling the table from the events already stored (a store written before it existed).
ADOPT_SQL = {
    "sqlite": f"INSERT INTO {POSTINGS_TABLE} (coop, number, n, position, day, account, party, unit, amount)"  # noqa: S608
    " SELECT json_extract(s.j, '$.coop'), json_extract(s.j, '$.journal_number'), CAST(p.key AS INTEGER), s.rowid,"
    " json_extract(s.j, '$.effective_date._data_'), json_extract(p.value, '$[0]'), json_extract(p.value, '$[1]'),"
    " json_extract(p.value, '$[2]'), json_extract(p.value, '$[3]')"
    " FROM (SELECT rowid, CAST(state AS TEXT) AS j FROM {events} WHERE topic IN ({marks})) s, json_each(s.j, '$.postings') p",
    "postgres": "INSERT INTO {schema}." + POSTINGS_TABLE + " (coop, number, n, position, day, account, party, unit, amount)"
    " SELECT s.j->>'coop', (s.j->>'journal_number')::bigint, p.i - 1, s.notification_id, s.j->'effective_date'->>'_data_',"
    " p.v->>0, p.v->>1, p.v->>2, (p.v->>3)::bigint"
    " FROM (SELECT notification_id, convert_from(state, 'UTF8')::jsonb AS j FROM {schema}.{events}"
    " WHERE topic = ANY(%s)) s, jsonb_array_elements(s.j->'postings') WITH ORDINALITY AS p(v, i)",
}

# (index of its event in the batch, coop, number, n, day, account, party, unit, amount): the
# position is known only once the events are inserted.
PendingRow = tuple[int, str, int, int, str, str, str | None, str, int]


def financial_topics() -> frozenset[str]:
    """The stored topics of events that carry an entry. Not cached: a family registered after the
    store was opened (a tool library's) counts from its first batch on; once per batch is cheap."""
    topics = frozenset(cls.TOPIC for cls in EVENT_CLASSES.values() if issubclass(cls, FinancialEvent))
    assert topics, "no financial event class registered yet"
    return topics


def pending_rows(stored_events: Sequence[StoredEvent]) -> list[PendingRow]:
    """The postings of the financial events about to be stored, read from their stored bytes (what
    the table must equal), before the INSERT: a failure here leaves nothing written."""
    topics = financial_topics()
    rows: list[PendingRow] = []
    for index, event in enumerate(stored_events):
        if event.topic not in topics:
            continue
        state = orjson.loads(event.state)
        coop, number, day = state["coop"], state["journal_number"], state["effective_date"]["_data_"]
        assert isinstance(number, int) and isinstance(day, str), f"entry {number!r} of {coop!r} has no number or day"
        for n, (account, party, unit, amount) in enumerate(state["postings"]):
            rows.append((index, coop, number, n, day, account, party, unit, amount))
    return rows


def with_positions(rows: list[PendingRow], positions: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows to insert, each with its event's position in the log."""
    return [
        (coop, number, n, positions[index], day, account, party, unit, amount)
        for index, coop, number, n, day, account, party, unit, amount in rows
    ]


def joined_params(rows: list[PendingRow], stored_events: Sequence[StoredEvent]) -> tuple[list[Any], ...] | None:
    """INSERT_JOINED_SQL's parameters (one array per column), or None when no event carries postings."""
    if not rows:
        return None
    columns: tuple[list[Any], ...] = tuple([] for _ in range(10))
    for index, *values in rows:
        event = stored_events[index]
        for column, value in zip(columns, (event.originator_id, event.originator_version, *values), strict=True):
            column.append(value)
    return columns


class PostingsCheck:
    """Compares one cooperative's stored postings rows with the postings inside its events, entry by
    entry in journal order (`verify`). Reads the rows in pages, each page when it is needed, so
    memory stays bounded and the books may grow while they are checked: an entry committed after
    `upto` (the log's position when the check began) may have rows past the last entry verify read."""

    def __init__(self, db: Any, coop: str, upto: int) -> None:
        self.db, self.coop, self.upto = db, coop, upto
        self._page: deque[tuple[int, int, int, str, str, str | None, str, int]] = deque()
        self._after = (0, -1)  # (number, n) of the last row read
        self._pages = 0

    def _peek(self) -> tuple[int, int, int, str, str, str | None, str, int] | None:
        if not self._page:
            assert self._pages < MAX_CHECK_PAGES, f"more than {MAX_CHECK_PAGES * CHECK_PAGE_ROWS} postings for {self.coop}"
            self._pages += 1
            number, n = self._after
            with self.db.read() as tx:
                rows = tx.execute(
                    f"SELECT number, n, position, day, account, party, unit, amount FROM {POSTINGS_TABLE}"  # noqa: S608
                    " WHERE coop = ? AND (number > ? OR (number = ? AND n > ?)) ORDER BY number, n LIMIT ?",
                    (self.coop, number, number, n, CHECK_PAGE_ROWS),
                )
            self._page.extend((int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6], int(r[7])) for r in rows)
            if self._page:
                self._after = self._page[-1][:2]
        return self._page[0] if self._page else None

    def entry(self, number: int, day: str, postings: list[list[Any]]) -> str | None:
        """What differs between entry `number`'s rows and its event's postings, or None."""
        row = self._peek()
        if row is not None and row[0] < number:  # rows of an entry that has no event
            return f"the postings table holds rows for entry {row[0]}, which no stored event has"
        stored = []
        while row is not None and row[0] == number:
            stored.append((row[1], row[3], *row[4:]))
            self._page.popleft()
            row = self._peek()
        expected = [(n, day, *posting) for n, posting in enumerate(postings)]
        if stored != expected:
            return f"entry {number}: the postings table holds {_describe(stored)}, the event {_describe(expected)}"
        return None

    def rest(self) -> str | None:
        """Rows past the last entry checked that were there when the check began (the entries of
        their events are gone), or None."""
        row = self._peek()
        if row is not None and row[2] <= self.upto:
            return f"the postings table holds rows for entry {row[0]}, which no stored event has"
        return None


def _describe(rows: list[tuple[Any, ...]]) -> str:
    shown = "; ".join(" ".join("-" if v is None else str(v) for v in row[1:]) for row in rows[:4])
    return f"{len(rows)} posting(s) [{shown}{'; ...' if len(rows) > 4 else ''}]"
