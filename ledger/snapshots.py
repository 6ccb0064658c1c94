"""Snapshots of the Cooperative aggregate: a cache of its state, so a cold load reads the latest
snapshot and the events after it instead of the whole stream (docs/decisions/0011-snapshots.md).

A snapshot is never the truth. It lives in eventsourcing's own snapshots table (an aggregate
recorder: no notification id, so never in the notification log, and not in the event chain of
ledger/chain.py), and:

- `Ledger` takes one after a successful save, from the aggregate it just saved, once
  SNAPSHOT_EVERY_EVENTS events were recorded past the last snapshot it read or wrote; older
  snapshots of that cooperative are then deleted (one per cooperative: bounded storage);
- a snapshot that cannot be used (written under another STATE_SCHEMA, or failing to decode) is
  ignored: the load replays the events, and the cooperative's next save takes a new one;
- `coopledger verify` compares each cooperative's snapshot with a replay of its events up to the
  snapshot's version (ledger/snapshot_check.py); a backup may carry them, a restore keeps them, and
  deleting every snapshot is always safe (only cold loads get slower until they are taken again).

The state is encoded by this module (pickle, zlib, base64 text inside the snapshot's JSON), not by
the application's transcoder: the aggregate holds family state objects, slotted and frozen
dataclasses, arrays, Fractions, Counters and dates, and pickle round-trips them exactly and fast
(C code; what grows with the events is in arrays, which pickle as their bytes: at 1,000,000 events
23 MiB of pickle, made or read in 15-20 ms, zlib taking most of the rest). Reading
one only resolves the classes of an allow-list (`_SafeUnpickler`): the domain's classes and a few
standard value types, never a function, so a row edited in the store cannot run code.
"""

from __future__ import annotations

import base64
import io
import pickle
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import EventStore, IntegrityError

log = structlog.get_logger("coopledger.snapshots")

# How many events a cooperative records between two snapshots: a cold load replays at most this
# many after its snapshot, and reads the snapshot, whose cost grows with the state. Measured with
# bench/cold_start.py on the shared 2-core machine (load average 3 to 5): replaying 1,998 events
# plus the command took ~0.3 s, reading the snapshot 0.27-0.33 s at 400,000 events, first command
# 0.68-0.70 s in all (docs/benchmarks.md). 4,000 events took 1.6 s at a load of 9; 2,000 keep the
# replay's share small enough to leave the snapshot's read room under the 1 s goal. A snapshot
# costs 0.35-0.47 s at 400,000 events, paid by one command in 2,000: ~0.2 ms per event against
# ~0.9 ms per event of ingest there. A larger interval would tax ingest less and miss the goal.
SNAPSHOT_EVERY_EVENTS = 2_000
# The version of the state's encoding and shape. Bump it when an attribute of the aggregate or of
# a state object it holds is added, removed, renamed or changes meaning (tests/ledger/
# test_snapshots.py pins the shape and fails until it is bumped): snapshots of another version are
# ignored (never upcast: a cache is cheaper to retake than a converter is to get right) and
# replaced at the cooperative's next save.
STATE_SCHEMA = 4
PICKLE_PROTOCOL = 5
# Level 1: the state is mostly integers and short strings, level 1 gets most of the gain, fast.
# Level 2 was tried at 1,000,000 events: a third smaller and faster at first, then the same size
# (2.99 against 3.00 MiB) and no faster 10,000 events later (the fast levels' match search depends
# on what precedes in the stream).
ZLIB_LEVEL = 1
SNAPSHOT_TABLES = {"sqlite": "stored_snapshots", "postgres": "coopledger_snapshots"}  # eventsourcing's names


class UnusableSnapshot(ValueError):
    """A stored snapshot that cannot be used: another schema, or undecodable."""


# ---------------------------------------------------------------- the state's encoding

_STDLIB_CLASSES = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "object"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("array", "array"),
    ("array", "_array_reconstructor"),  # how an array pickles: (class, typecode, machine format, bytes)
    ("collections", "Counter"),
    ("collections", "defaultdict"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("uuid", "UUID"),
}


class _SafeUnpickler(pickle.Unpickler):
    """Resolves only the domain's classes and the standard value types above."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _STDLIB_CLASSES:
            return super().find_class(module, name)
        if module == "domain" or module.startswith("domain."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"a snapshot may not name {module}.{name}")


def encode_state(state: dict[str, Any]) -> str:
    buffer = io.BytesIO()
    pickle.Pickler(buffer, protocol=PICKLE_PROTOCOL).dump(state)
    return base64.b64encode(zlib.compress(buffer.getvalue(), ZLIB_LEVEL)).decode("ascii")


def decode_state(data: str) -> dict[str, Any]:
    state = _SafeUnpickler(io.BytesIO(zlib.decompress(base64.b64decode(data)))).load()
    if not isinstance(state, dict):
        raise pickle.UnpicklingError(f"a snapshot's state is a {type(state).__name__}, not a dict")
    return state


# ---------------------------------------------------------------- the snapshot


class CooperativeSnapshot(Snapshot):
    """As stored, `state` is {"schema": STATE_SCHEMA, "data": the encoded attributes}; the snapshot
    store decodes it (`usable`) before eventsourcing's `mutate` rebuilds the aggregate from it."""

    @classmethod
    def take(cls, aggregate: Any) -> CooperativeSnapshot:
        assert not aggregate.pending_events, "a snapshot of an aggregate with unsaved events"
        state = {k: v for k, v in vars(aggregate).items() if k not in ("_id", "_version", "_pending_events")}
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=type(aggregate).TOPIC,
            state={"schema": STATE_SCHEMA, "data": encode_state(state)},
        )

    def usable(self) -> CooperativeSnapshot:
        """The same snapshot with its attributes decoded. UnusableSnapshot when they cannot be."""
        stored = self.state
        if not isinstance(stored, dict) or stored.get("schema") != STATE_SCHEMA:
            schema = stored.get("schema") if isinstance(stored, dict) else None
            raise UnusableSnapshot(f"state schema {schema!r}, this program reads {STATE_SCHEMA}")
        try:
            state = decode_state(stored["data"])
        except Exception as exc:  # noqa: BLE001 (any failure means: not usable, replay instead)
            raise UnusableSnapshot(f"undecodable state ({type(exc).__name__}: {exc})") from exc
        return type(self)(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            timestamp=self.timestamp,
            topic=self.topic,
            state=state,
        )


class SnapshotStore(EventStore[UUID]):
    """eventsourcing's snapshot store, which skips an unusable snapshot (the load then replays the
    events) and remembers the version of the latest snapshot each cold load found, so the write
    path knows how many events were recorded since (`Ledger` takes the next one from there)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest: dict[UUID, int] = {}  # aggregate -> version of its latest usable snapshot (0: none)

    def get(self, originator_id: UUID, **kwargs: Any) -> Iterator[Any]:
        found = []
        for snapshot in super().get(originator_id, **kwargs):
            try:
                found.append(snapshot.usable())
            except UnusableSnapshot as exc:
                log.warning("snapshot_ignored", aggregate=str(originator_id), version=snapshot.originator_version, why=str(exc))
        if kwargs.get("desc") and kwargs.get("limit") == 1 and kwargs.get("lte") is None:
            self.latest[originator_id] = found[0].originator_version if found else 0
        return iter(found)

    def stored(self, originator_id: UUID) -> CooperativeSnapshot | None:
        """The latest stored snapshot as stored (undecoded), whatever its schema."""
        rows = list(super().get(originator_id, desc=True, limit=1))
        return rows[0] if rows else None


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its assert, an isinstance against a
    runtime-checkable Protocol for every event: a third of a cold load's time (cProfile of a load
    of a snapshot and 2,000 events). Every event this application stores has `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def due(version: int, since: int) -> bool:
    """Whether an aggregate at `version`, whose latest snapshot is at `since`, needs a new one."""
    return version - since >= SNAPSHOT_EVERY_EVENTS


def take(ledger: Any, aggregate: Any) -> None:
    """Stores a snapshot of a just-saved aggregate, then deletes that cooperative's older ones.

    After the events are committed, in transactions of its own: a failure here loses a cache, never
    an event, so it is logged and the command's result stands."""
    store: SnapshotStore = ledger.app.snapshots
    try:
        snapshot = CooperativeSnapshot.take(aggregate)
        store.put([snapshot])
    except IntegrityError:
        pass  # another process snapshotted this same version: the same events, the same state
    except Exception:  # noqa: BLE001 (a cache: never fail a saved command for it)
        log.exception("snapshot_not_stored", coop=aggregate.slug, version=aggregate.version)
        return
    store.latest[aggregate.id] = aggregate.version
    try:
        delete(ledger, aggregate.id, "<", aggregate.version)
    except Exception:  # noqa: BLE001 (an older snapshot left behind is deleted with the next one)
        log.exception("old_snapshots_not_deleted", coop=aggregate.slug, version=aggregate.version)
    log.info("snapshot_taken", coop=aggregate.slug, version=aggregate.version, chars=len(snapshot.state["data"]))


def delete(ledger: Any, originator_id: Any, comparison: str, version: int) -> None:
    """Deletes a cooperative's snapshots whose version is `comparison` ("<" or "=") `version`."""
    assert comparison in ("<", "="), comparison
    table = SNAPSHOT_TABLES[ledger.db.dialect]
    key = originator_id.hex if ledger.db.dialect == "sqlite" else originator_id
    with ledger.db.transaction() as tx:
        tx.execute(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version {comparison} ?", (key, version))  # noqa: S608
