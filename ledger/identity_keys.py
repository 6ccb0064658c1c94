"""Each person's key, and the sealing of their identity with it (docs/decisions/0013-forgetting-a-person.md).

A key is 32 random bytes, one per (cooperative, person id), in the table `person_keys`. A sealed
value is AES-256-GCM of the UTF-8 text under a random 96-bit nonce, with associated data naming
the cooperative, the person and the field: a sealed value copied to another person or field does
not open. Stored as `{"_sealed_": person, "_data_": base64(nonce + ciphertext)}`.

The key of a new person is made in memory by the first event that seals for them, and written by
the recorder in that event's transaction (ledger/chain.py, `key_rows`): no key is stored without
an event, no event without its key. Forgetting deletes the key in the transaction that stores
`PersonForgotten` (`forgotten_rows`); from then on their values read as `erased_value`.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from domain.cooperative import coop_id
from domain.personal import Personal, personal_of
from ledger.db import Database
from ledger.snapshots import SNAPSHOT_TABLES

KEY_BYTES = 32
NONCE_BYTES = 12
SEALED = "_sealed_"
FORGOTTEN_TOPIC = "coopledger:PersonForgotten"
KEYS_TABLE = "person_keys"
# Created by the recorder with the event tables (ledger/chain.py): it writes them.
CREATE_SQL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS person_keys (coop TEXT NOT NULL, person_id TEXT NOT NULL,"
    " key_b64 TEXT NOT NULL, PRIMARY KEY (coop, person_id))",
    "postgres": "CREATE TABLE IF NOT EXISTS {schema}.person_keys (coop text NOT NULL, person_id text NOT NULL,"
    " key_b64 text NOT NULL, PRIMARY KEY (coop, person_id))",
}
SELECT_KEY_SQL = "SELECT key_b64 FROM person_keys WHERE coop = ? AND person_id = ?"
_MISSING = b""  # cached: no key (never sealed for, or forgotten)
PREFETCH_CHUNK = 500  # persons per statement (SQLite's parameter limit is 999 on old builds)


class KeyConflict(RuntimeError):
    """A person's key in the store is not the one this process sealed with: nothing is written."""


def _aad(coop: str, person: str, field: str) -> bytes:
    return f"{coop}\x00{person}\x00{field}".encode()


def is_sealed(value: Any) -> bool:
    return type(value) is dict and SEALED in value


class KeyRing:
    """The keys this process has read or made, by (cooperative, person). Reads the store for the
    others, on a connection of its own (a reader may already be inside a transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._keys: dict[tuple[str, str], bytes] = {}
        self._forgotten: set[tuple[str, str]] = set()  # never sealed for again (the domain refuses it too)
        self._guard = threading.Lock()
        self._local = threading.local()

    # ------------------------------------------------------------ keys

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            assert self.db.config.sqlite_path is not None
            conn = self._local.conn = sqlite3.connect(self.db.config.sqlite_path, isolation_level=None, timeout=30)
        return conn

    def _stored(self, coop: str, person: str) -> bytes:
        if self.db.dialect == "sqlite":
            row = self._sqlite().execute(SELECT_KEY_SQL, (coop, person)).fetchone()
        else:
            with self.db.read() as tx:
                rows = tx.execute(SELECT_KEY_SQL, (coop, person))
            row = rows[0] if rows else None
        return base64.b64decode(row[0]) if row else _MISSING

    def key(self, coop: str, person: str) -> bytes:
        """The person's key, or b"" when they have none (forgotten, or never sealed for)."""
        found = self._keys.get((coop, person))
        if found is None:
            found = self._stored(coop, person)
            with self._guard:
                self._keys.setdefault((coop, person), found)
        return found

    def prefetch(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Reads the keys of these (cooperative, person) this process has not read yet, a few
        statements for all: a projection runner's page opens thousands of identities, one read
        each was one PostgreSQL round trip each (or more). Cached as `key` caches them: a person
        without a stored key reads as none."""
        with self._guard:
            wanted = sorted({pair for pair in pairs if pair not in self._keys})
        by_coop: dict[str, list[str]] = {}
        for coop, person in wanted:
            by_coop.setdefault(coop, []).append(person)
        found: dict[tuple[str, str], bytes] = {pair: _MISSING for pair in wanted}
        for coop, persons in by_coop.items():
            for start in range(0, len(persons), PREFETCH_CHUNK):
                for person, key_b64 in self._stored_many(coop, persons[start : start + PREFETCH_CHUNK]):
                    found[(coop, person)] = base64.b64decode(key_b64)
        with self._guard:
            for pair, key in found.items():
                self._keys.setdefault(pair, key)

    def _stored_many(self, coop: str, persons: list[str]) -> list[tuple[str, str]]:
        if self.db.dialect == "sqlite":
            marks = ", ".join("?" for _ in persons)
            sql = f"SELECT person_id, key_b64 FROM person_keys WHERE coop = ? AND person_id IN ({marks})"  # noqa: S608
            return [tuple(row) for row in self._sqlite().execute(sql, (coop, *persons)).fetchall()]
        with self.db.read() as tx:
            rows = tx.execute("SELECT person_id, key_b64 FROM person_keys WHERE coop = ? AND person_id = ANY(?)", (coop, persons))
        return [(str(person), str(key_b64)) for person, key_b64 in rows]

    def key_for_sealing(self, coop: str, person: str) -> bytes:
        """The person's key, made now if they have none yet. The recorder stores it with the event."""
        with self._guard:
            assert (coop, person) not in self._forgotten, f"{person} was forgotten in {coop}: their id is not reused"
            found = self._keys.get((coop, person))
        if found is None or found == _MISSING:
            found = self._stored(coop, person) or os.urandom(KEY_BYTES)
            with self._guard:
                self._keys[(coop, person)] = found
        return found

    def forget(self, coop: str, person: str) -> None:
        """This process reads the person as forgotten from now on (their key is deleted, or about to be)."""
        with self._guard:
            self._keys[(coop, person)] = _MISSING
            self._forgotten.add((coop, person))

    def drop(self, coop: str, person: str) -> None:
        """Reads the stored key again next time (after a conflict)."""
        with self._guard:
            self._keys.pop((coop, person), None)

    # ------------------------------------------------------------ values

    def seal(self, coop: str, person: str, field: str, value: str) -> dict[str, str]:
        key = self.key_for_sealing(coop, person)
        nonce = os.urandom(NONCE_BYTES)
        data = nonce + AESGCM(key).encrypt(nonce, value.encode(), _aad(coop, person, field))
        return {SEALED: person, "_data_": base64.b64encode(data).decode()}

    def open(self, coop: str, person: str, field: str, sealed: dict[str, str]) -> str | None:
        """The value, or None when the person's key is gone. A value that does not open with the
        key it names is an integrity failure, never a silent blank."""
        assert sealed[SEALED] == person, f"a value sealed for {sealed[SEALED]!r} sits in {person!r}'s {field}"
        key = self.key(coop, person)
        if not key:
            return None
        data = base64.b64decode(sealed["_data_"])
        return AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(coop, person, field)).decode()

    def key_b64(self, coop: str, person: str) -> str:
        with self._guard:
            key = self._keys.get((coop, person))
        assert key, f"no key in memory for {coop}/{person}: the event was sealed by another process"
        return base64.b64encode(key).decode()


# ------------------------------------------------------------ what the recorder writes


def _declared(topic: str) -> tuple[Personal, ...]:
    try:
        return personal_of(resolve_topic(topic))
    except Exception:  # a topic of another application's class (receipts, snapshots): nothing personal
        return ()


def sealed_persons(stored_events: Sequence[StoredEvent]) -> list[tuple[str, str]]:
    """(cooperative, person) of every sealed value in these stored events, in order, once each."""
    found: dict[tuple[str, str], None] = {}
    for event in stored_events:
        if b'"_sealed_"' not in event.state:
            continue
        state = orjson.loads(event.state)
        for declared in _declared(event.topic):
            for holder, person, field in declared.places(state):
                if is_sealed(holder[field]):
                    found[(state["coop"], person)] = None
    return list(found)


def forgotten_persons(stored_events: Sequence[StoredEvent]) -> Iterator[tuple[str, str]]:
    for event in stored_events:
        if event.topic == FORGOTTEN_TOPIC:
            state = orjson.loads(event.state)
            for person in [state["person_id"], *state.get("linked", ())]:
                yield state["coop"], person


def write_keys(run: Any, dialect: str, schema: str, keyring: KeyRing, stored_events: Sequence[StoredEvent]) -> None:
    """In the events' transaction, after them: the key of every person they seal for (unless
    stored already, then it must be the same), and the deletion of every forgotten person's key
    and of their cooperative's snapshots (a cache; an older one holds the identity in clear).
    `run(sql, params)` executes one statement and returns its rows."""
    table = KEYS_TABLE if dialect == "sqlite" else f'"{schema}".{KEYS_TABLE}'
    mark = "?" if dialect == "sqlite" else "%s"
    for coop, person in sealed_persons(stored_events):
        key = keyring.key_b64(coop, person)
        run(
            f"INSERT INTO {table} (coop, person_id, key_b64) VALUES ({mark}, {mark}, {mark}) ON CONFLICT DO NOTHING",
            (coop, person, key),
        )  # noqa: S608
        stored = run(f"SELECT key_b64 FROM {table} WHERE coop = {mark} AND person_id = {mark}", (coop, person))  # noqa: S608
        if not stored or stored[0][0] != key:
            keyring.drop(coop, person)
            raise KeyConflict(f"{person} of {coop} got a key from another writer meanwhile: nothing is written")
    for n, (coop, person) in enumerate(forgotten_persons(stored_events)):
        if n == 0 and dialect == "sqlite":  # deleted bytes are overwritten, not left in a free page
            run("PRAGMA secure_delete = ON", ())
        run(f"DELETE FROM {table} WHERE coop = {mark} AND person_id = {mark}", (coop, person))  # noqa: S608
        snapshots = SNAPSHOT_TABLES[dialect] if dialect == "sqlite" else f'"{schema}".{SNAPSHOT_TABLES[dialect]}'
        originator = coop_id(coop).hex if dialect == "sqlite" else coop_id(coop)
        run(f"DELETE FROM {snapshots} WHERE originator_id = {mark}", (originator,))  # noqa: S608
