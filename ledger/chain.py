"""The event chain: every stored event, of every aggregate, linked by SHA-256 to the one before it.

The journal's own chain (domain/journal.py) covers entries only: their kind, dates, label and
postings. Edits outside those fields (a vote turned from against to for, other college weights,
a payment's amount beside its postings) changed what boards and rules read without `verify`
noticing. This chain covers the COMPLETE stored content of every event:

    link(v) = SHA-256( link(v-1) NUL originator id NUL v NUL topic NUL stored state bytes )
    link(0) = 64 zeros

per aggregate (a cooperative's stream, and each command receipt's one-event stream), over the
exact bytes the store holds, so any edit, deletion, insertion, swap or truncation of an event
changes a link. The links sit in `event_hashes`, a store index written by the recorder in the
same transaction as the events (under the store's write lock), never updated. Why over the
stored bytes and not a re-encoding: nothing has to agree on a canonical form, and personal data
is to be kept encrypted inside the state (crypto-shredding): erasing a person deletes a key, not
bytes, so every link still verifies (docs/decisions/0009-event-chain.md).

A store written before this chain existed is adopted once, when the program opens a store that
holds events and no link at all: the links of the events already stored are computed then (an
upgrade commits to what is stored, it never rewrites an event), and `event_chain_adoptions` says
when and over how many events (`verify` prints it: a second date there means the links were
removed and adopted again, which only a head kept outside the store can judge).

The same recorders write the second store index, the postings table (ledger/postings.py), in the
same transaction; the links are read back by ledger/links.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger import identity_keys, postings

log = structlog.get_logger("coopledger.chain")

GENESIS_LINK = "0" * 64
CHAIN_TABLE = "event_hashes"
# eventsourcing's events table per store (its PostgreSQL name is the application's name + "_events");
# the Ledger asserts its recorder uses these names.
EVENTS_TABLES = {"sqlite": "stored_events", "postgres": "coopledger_events"}
ADOPTIONS_TABLE = "event_chain_adoptions"
ADOPT_PAGE_EVENTS = 5000  # events read per query while adopting an existing store: bounded memory
MAX_ADOPT_PAGES = 10**6  # 5 billion events: a bound on the adoption loop, far above any store


class ChainError(RuntimeError):
    """An event would be linked to a predecessor whose link is missing: the store was changed
    outside the program, or written by a version that did not keep the chain. Never retried."""


def link(prev: str, originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """The link of one stored event. NUL separates the fields: none of them but the state can hold
    one, and the state comes last, so two different events never hash the same input."""
    head = f"{prev}\0{originator_id}\0{version}\0{topic}\0".encode()
    return hashlib.sha256(head + bytes(state)).hexdigest()


Lookup = Callable[[dict[UUID, int]], dict[UUID, str]]  # {originator: version} -> {originator: its link}


def links_for(stored_events: Sequence[StoredEvent], lookup: Lookup) -> list[tuple[UUID, int, str]]:
    """(originator, version, link) for events about to be stored, in their order. Each aggregate's
    events must follow on from what is stored (the store's unique version already refuses a gap
    or an overlap); the link of the version before a batch comes from `lookup`, one query a batch."""
    originators = [_uuid(event.originator_id) for event in stored_events]
    wanted: dict[UUID, int] = {}
    for originator, event in zip(originators, stored_events, strict=True):
        if originator not in wanted:
            wanted[originator] = event.originator_version - 1
    before = lookup({o: v for o, v in wanted.items() if v > 0})
    last: dict[UUID, tuple[int, str]] = {}
    rows = []
    for originator, event in zip(originators, stored_events, strict=True):
        if originator in last:
            version, prev = last[originator]
        else:
            version = wanted[originator]
            prev = GENESIS_LINK if version == 0 else before.get(originator, "")
            if not prev:
                raise ChainError(
                    f"aggregate {originator} version {version} has no link in the event chain: "
                    "the store was changed outside the program (run `coopledger verify`)"
                )
        assert event.originator_version == version + 1, f"{originator}: version {event.originator_version} after {version}"
        this = link(prev, originator, event.originator_version, event.topic, event.state)
        rows.append((originator, event.originator_version, this))
        last[originator] = (event.originator_version, this)
    return rows


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _adopt(
    read_page: Callable[[Any], list[tuple[Any, int, str, bytes]]], insert: Callable[[list[tuple[UUID, int, str]]], None]
) -> int:
    """Links every event already stored, aggregate by aggregate in version order, reading pages of
    (originator, version, topic, state) ordered by (originator, version) after a key. Returns how
    many events it linked."""
    after: Any = None
    current: UUID | None = None
    prev, expected, linked = GENESIS_LINK, 1, 0
    for _ in range(MAX_ADOPT_PAGES):
        page = read_page(after)
        rows = []
        for raw_id, version, topic, state in page:
            originator = _uuid(raw_id)
            if originator != current:
                current, prev, expected = originator, GENESIS_LINK, 1
            if version != expected:  # a hole already: link what is there, `verify` will name the hole
                log.warning("event_chain_adopted_over_a_hole", originator=str(originator), expected=expected, found=version)
            prev = link(prev, originator, version, topic, state)
            expected = version + 1
            rows.append((originator, version, prev))
        insert(rows)
        linked += len(rows)
        if len(page) < ADOPT_PAGE_EVENTS:
            return linked
        after = (page[-1][0], page[-1][1])
        log.info("event_chain_adopting", events_linked=linked)
    raise RuntimeError(f"more than {MAX_ADOPT_PAGES * ADOPT_PAGE_EVENTS} events to adopt")


def _now() -> str:
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------- SQLite


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, writing each event's link in the same transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
            " event_hash TEXT NOT NULL, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {ADOPTIONS_TABLE} (adopted_at TEXT NOT NULL, events INTEGER NOT NULL)",
            postings.CREATE_SQL["sqlite"],
            identity_keys.CREATE_SQL["sqlite"],
        ]

    def _create_table(self, c: Any) -> None:
        # The CREATE statements first: on a new store the first of them takes the write lock. A read
        # first would fail a concurrent start with "database is locked" (SQLite cannot turn a read
        # snapshot into a write once another process has committed past it).
        super()._create_table(c)
        table = self.events_table_name
        topics = sorted(postings.financial_topics())
        marks = ", ".join("?" for _ in topics)
        c.execute(
            f"SELECT NOT EXISTS (SELECT 1 FROM {postings.POSTINGS_TABLE})"  # noqa: S608
            f" AND EXISTS (SELECT 1 FROM {table} WHERE topic IN ({marks}))",
            topics,
        )
        if c.fetchone()[0]:  # entries written before the postings table: fill it (only then a write, see above)
            c.execute(postings.ADOPT_SQL["sqlite"].format(events=table, marks=marks), topics)
        c.execute(f"SELECT EXISTS (SELECT 1 FROM {table}), EXISTS (SELECT 1 FROM {CHAIN_TABLE})")  # noqa: S608
        has_events, has_links = c.fetchone()
        if not has_events or has_links:
            return  # a new store, or one whose events are linked already

        def read_page(after: Any) -> list[tuple[Any, int, str, bytes]]:
            where, params = (
                ("", [])
                if after is None
                else (
                    "WHERE (originator_id, originator_version) > (?, ?) ",
                    [after[0].hex if isinstance(after[0], UUID) else after[0], after[1]],
                )
            )
            c.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} {where}"  # noqa: S608
                "ORDER BY originator_id, originator_version LIMIT ?",
                [*params, ADOPT_PAGE_EVENTS],
            )
            return [(row[0], row[1], row[2], row[3]) for row in c.fetchall()]

        def insert(rows: list[tuple[UUID, int, str]]) -> None:
            c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?, ?)", [(o.hex, v, h) for o, v, h in rows])  # noqa: S608

        linked = _adopt(read_page, insert)
        if linked:
            c.execute(f"INSERT INTO {ADOPTIONS_TABLE} VALUES (?, ?)", (_now(), linked))  # noqa: S608
            log.info("event_chain_adopted", events=linked)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        entries = postings.pending_rows(stored_events)
        ids = self._insert_rows(c, stored_events)

        def lookup(wanted: dict[UUID, int]) -> dict[UUID, str]:
            found = {}
            for originator, version in wanted.items():
                c.execute(
                    f"SELECT event_hash FROM {CHAIN_TABLE} WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
                    (originator.hex, version),
                )
                row = c.fetchone()
                if row is not None:
                    found[originator] = row[0]
            return found

        rows = links_for(stored_events, lookup)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?, ?)", [(o.hex, v, h) for o, v, h in rows])  # noqa: S608
        if entries:
            c.executemany(postings.INSERT_SQL, postings.with_positions(entries, ids))
        keyring = getattr(self, "keyring", None)
        if keyring is not None:

            def run(sql: str, params: Sequence[Any]) -> list[Any]:
                c.execute(sql, params)
                return list(c.fetchall())

            identity_keys.write_keys(run, "sqlite", "", keyring, stored_events)
        return ids

    def _insert_rows(self, c: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The events in one executemany, where eventsourcing runs one statement per event to read
        each rowid (a twentieth of a batch's time, cProfile). SQLite gives a new row the largest
        rowid + 1, and this transaction holds the write lock: the batch's rowids run consecutively
        up to the last one inserted. The first one is read back to make sure."""
        if not stored_events:
            return []
        c.executemany(
            self.insert_events_statement,
            [
                (
                    e.originator_id.hex if isinstance(e.originator_id, UUID) else e.originator_id,
                    e.originator_version,
                    e.topic,
                    e.state,
                )
                for e in stored_events
            ],
        )
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        first, head = last - len(stored_events) + 1, stored_events[0]
        c.execute(
            f"SELECT rowid FROM {self.events_table_name} WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            (_uuid(head.originator_id).hex, head.originator_version),
        )
        assert c.fetchone()[0] == first, "the batch's events did not get consecutive positions"
        return list(range(first, last + 1))


# ---------------------------------------------------------------- PostgreSQL


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, writing each event's link in the same transaction,
    after the events (so under the table lock that serialises writers)."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                " event_hash text NOT NULL, PRIMARY KEY (originator_id, originator_version))"
            ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {schema}.{table} (adopted_at text NOT NULL, events bigint NOT NULL)").format(
                schema=schema, table=Identifier(ADOPTIONS_TABLE)
            )
        )
        self._insert_links = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, event_hash) VALUES (%s, %s, %s)"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        # A batch's links in one statement (one array per column): executemany ran one per link.
        self._insert_batch_links = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, event_hash)"
            " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[])"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        self.sql_create_statements.append(SQL(postings.CREATE_SQL["postgres"]).format(schema=schema))  # noqa: S608
        self.sql_create_statements.append(SQL(identity_keys.CREATE_SQL["postgres"]).format(schema=schema))  # noqa: S608
        self._insert_postings = SQL(postings.INSERT_JOINED_SQL).format(schema=schema, events=Identifier(self.events_table_name))
        # The events as four arrays, one per column, where eventsourcing sends one array of a
        # composite type: psycopg adapts each composite in Python (half the client's time of a
        # batch's INSERT, measured on 2,000 events). WITH ORDINALITY ... ORDER BY keeps the input
        # order explicit: the RETURNING ids are matched to the events by that order.
        # %b (here and below): arrays in binary. As text (%s), psycopg escapes every state's bytes in
        # Python: 10 ms of client CPU per 1,000 events, 1.4 ms in binary (measured, this shape).
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
            " SELECT i, v, t, s FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            " WITH ORDINALITY AS u(i, v, t, s, n) ORDER BY n RETURNING notification_id"
        ).format(schema=schema, table=Identifier(self.events_table_name), id_type=SQL(self.datastore.originator_id_type))
        self._select_links = SQL(
            "SELECT h.originator_id, h.event_hash FROM {schema}.{table} h"
            " JOIN unnest(%b::uuid[], %b::bigint[]) AS w(id, v) ON h.originator_id = w.id AND h.originator_version = w.v"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))

    def _create_table(self, curs: Any) -> None:
        super()._create_table(curs)
        schema, events = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        topics = sorted(postings.financial_topics())
        unfilled = SQL(
            "SELECT NOT EXISTS (SELECT 1 FROM {0}.{1}) AND EXISTS (SELECT 1 FROM {0}.{2} WHERE topic = ANY(%s)) AS unfilled"
        ).format(schema, Identifier(postings.POSTINGS_TABLE), events)
        curs.execute(unfilled, (topics,))
        if curs.fetchone()["unfilled"]:  # entries written before the postings table: fill it
            curs.execute(SQL("LOCK TABLE {0}.{1} IN EXCLUSIVE MODE").format(schema, events))  # no write meanwhile
            curs.execute(unfilled, (topics,))  # again, under the lock
            if curs.fetchone()["unfilled"]:
                curs.execute(SQL(postings.ADOPT_SQL["postgres"]).format(schema=schema, events=events), (topics,))  # noqa: S608
        check = SQL("SELECT EXISTS (SELECT 1 FROM {0}.{1}) AS has_events, EXISTS (SELECT 1 FROM {0}.{2}) AS has_links").format(
            schema, events, Identifier(CHAIN_TABLE)
        )
        curs.execute(check)
        row = curs.fetchone()
        if not row["has_events"] or row["has_links"]:
            return  # a new store, or one whose events are linked already
        curs.execute(SQL("LOCK TABLE {0}.{1} IN EXCLUSIVE MODE").format(schema, events))  # no write while adopting
        curs.execute(check)  # again, under the lock
        if curs.fetchone()["has_links"]:
            return
        select = SQL("SELECT originator_id, originator_version, topic, state FROM {0}.{1} ").format(schema, events)
        order = SQL("ORDER BY originator_id, originator_version LIMIT %s")

        def read_page(after: Any) -> list[tuple[Any, int, str, bytes]]:
            if after is None:
                curs.execute(select + order, (ADOPT_PAGE_EVENTS,))
            else:
                curs.execute(
                    select + SQL("WHERE (originator_id, originator_version) > (%s, %s) ") + order,
                    (after[0], after[1], ADOPT_PAGE_EVENTS),
                )
            return [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])) for r in curs.fetchall()]

        def insert(rows: list[tuple[UUID, int, str]]) -> None:
            if rows:
                curs.executemany(self._insert_links, rows)

        linked = _adopt(read_page, insert)
        if linked:
            curs.execute(SQL("INSERT INTO {0}.{1} VALUES (%s, %s)").format(schema, Identifier(ADOPTIONS_TABLE)), (_now(), linked))
            log.info("event_chain_adopted", events=linked)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # eventsourcing runs this inside `try: ... except Exception` and re-raises only after its
        # transaction block has ended: an error raised here AFTER the events' INSERT succeeded would
        # be re-raised with the events committed and unlinked. So the links are computed first (a
        # ChainError then leaves nothing written), and only the database can fail after the INSERT
        # (an aborted transaction commits nothing). Reading the previous link before the table lock
        # is safe: the aggregate that decided these events was loaded with that version, committed.
        def lookup(wanted: dict[UUID, int]) -> dict[UUID, str]:
            if not wanted:
                return {}
            with curs.connection.cursor() as reader:
                reader.execute(self._select_links, (list(wanted), list(wanted.values())))
                return {_uuid(r["originator_id"]): r["event_hash"] for r in reader.fetchall()}

        rows = links_for(stored_events, lookup)
        links = ([o for o, _v, _h in rows], [v for _o, v, _h in rows], [h for _o, _v, h in rows])
        entries = postings.joined_params(postings.pending_rows(stored_events), stored_events)
        # Keys before the events: an exception raised after their INSERT would leave them committed
        # (see above). A key this writes for an event that then fails is rolled back with it.
        keyring = getattr(self, "keyring", None)
        if keyring is not None:
            with curs.connection.cursor(row_factory=tuple_row) as keys:

                def run(sql: str, params: Sequence[Any]) -> list[Any]:
                    keys.execute(sql, params)
                    return keys.fetchall() if sql.startswith("SELECT") else []

                identity_keys.write_keys(run, "postgres", self.datastore.schema, keyring, stored_events)
        # eventsourcing's order: the table lock, the notification, then the events (one statement).
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_events_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )
        # Another cursor: `curs` holds the events' RETURNING ids, fetched after this returns.
        with curs.connection.cursor() as writer:
            if rows:
                writer.execute(self._insert_batch_links, links)
            if entries is not None:  # positions from the events just inserted: SQL only after the INSERT
                writer.execute(self._insert_postings, entries)
