"""A cooperative's stored snapshot against a replay of its events: `coopledger verify` runs it, and
the tests compare every state loaded from a snapshot with the state replayed from event 1.

Two aggregates are the same when their canonical dumps are: every attribute, recursively, with its
type (a Decimal is not a str, a tuple not a list), dicts in their order (insertion order is state:
it decides what a reader lists first), sets sorted (their order is not state). Objects compare by
their attributes, sorted by name, never by `==`, which most state objects of the domain do not define.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.cooperative import CooperativeFounded, coop_id
from ledger import snapshots
from ledger.chain import EVENTS_TABLES
from ledger.snapshots import UnusableSnapshot, project

REPLAY_PAGE_EVENTS = 5000  # events read per query while replaying: bounded memory
MAX_REPLAY_PAGES = 10**6
_SCALARS = (Decimal, date, datetime, timedelta, timezone, Fraction, UUID)
NOT_STATE = ("_pending_events",)  # eventsourcing's list of unsaved events: empty on a loaded aggregate


def canonical(value: Any) -> Any:
    """A JSON-able dump of `value` that two equal states share and two different ones do not."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Enum):
        return [_type(value), value.name]
    if isinstance(value, _SCALARS):
        return [_type(value), str(value)]
    if isinstance(value, list | tuple):
        return [_type(value), [canonical(v) for v in value]]
    if isinstance(value, set | frozenset):
        return [_type(value), sorted((canonical(v) for v in value), key=_text)]
    if isinstance(value, dict):
        factory = getattr(value, "default_factory", None)
        extra = [_type(factory)] if factory is not None else []
        return [_type(value), *extra, [[canonical(k), canonical(v)] for k, v in value.items()]]
    if isinstance(value, array):
        return [_type(value), value.typecode, value.tolist()]
    if isinstance(value, bytes):
        return [_type(value), value.hex()]
    # An object's attributes by name: their order in its __dict__ is not state (an event decoded from
    # the store lists them in another order than the same event just triggered).
    return [_type(value), sorted([name, canonical(v)] for name, v in _attributes(value))]


def _type(value: Any) -> str:
    cls = value if isinstance(value, type) else type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _attributes(obj: Any) -> Iterator[tuple[str, Any]]:
    names = [name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ()) if name != "__weakref__"]
    if hasattr(obj, "__dict__"):
        names += list(vars(obj))
    for name in names:
        if name not in NOT_STATE and hasattr(obj, name):
            yield name, getattr(obj, name)


def dump(aggregate: Any) -> dict[str, Any]:
    """The canonical dump of an aggregate, by attribute."""
    return {name: canonical(value) for name, value in _attributes(aggregate)}


def first_difference(left: dict[str, Any], right: dict[str, Any]) -> str | None:
    """The name of the first attribute the two dumps disagree on (None: they are the same)."""
    for name in sorted(set(left) | set(right)):
        if left.get(name, "(missing)") != right.get(name, "(missing)"):
            return name
    return None


def replay(app: Any, originator: UUID, up_to: int) -> Any:
    """The aggregate replayed from its first event to version `up_to`, never from a snapshot, read
    in pages (bounded memory)."""
    aggregate, after = None, 0
    for _ in range(MAX_REPLAY_PAGES):
        if after >= up_to:
            return aggregate
        page = list(app.events.get(originator, gt=after, lte=min(after + REPLAY_PAGE_EVENTS, up_to)))
        if not page:
            return aggregate
        aggregate = project(aggregate, page)
        after = page[-1].originator_version
    raise RuntimeError(f"more than {MAX_REPLAY_PAGES * REPLAY_PAGE_EVENTS} events to replay")


def check_snapshot(ledger: Any, slug: str) -> tuple[str, int, str] | None:
    """(kind, version, message) when the cooperative's latest stored snapshot is wrong; None when it
    matches a replay of the events up to its version, or when there is none. A snapshot of an older
    STATE_SCHEMA is not checked: no load uses it (ledger/snapshots.py)."""
    store = ledger.app.snapshots
    stored = store.stored(coop_id(slug)) if store is not None else None
    if stored is None:
        return None
    version = stored.originator_version
    if isinstance(stored.state, dict) and stored.state.get("schema") != snapshots.STATE_SCHEMA:
        return None
    try:
        usable = stored.usable()
    except UnusableSnapshot as exc:
        return "snapshot_undecodable", version, f"the snapshot at version {version} cannot be read: {exc}"
    replayed = replay(ledger.app, coop_id(slug), version)
    if replayed is None or replayed.version != version:
        found = 0 if replayed is None else replayed.version
        return "snapshot_mismatch", version, f"a snapshot at version {version}, but the events end at version {found}"
    differs = first_difference(dump(usable.mutate(None)), dump(replayed))
    if differs is not None:
        return (
            "snapshot_mismatch",
            version,
            f"the snapshot at version {version} differs from a replay of the events in {differs!r}: "
            "delete the snapshots (they are retaken) and report it, the program took a wrong one",
        )
    return None


def founded_slugs(ledger: Any, among: Sequence[UUID] | None = None) -> list[str]:
    """Every cooperative of the store (or those of the streams `among`), from its founding event,
    decoded by the store's mapper (which knows a compressed or enciphered state)."""
    dialect = ledger.db.dialect
    sql = f"SELECT originator_id, topic, state FROM {EVENTS_TABLES[dialect]} WHERE topic = ? AND originator_version = 1"  # noqa: S608
    params: list[Any] = [CooperativeFounded.TOPIC]
    if among is not None:
        if not among:
            return []
        if dialect == "postgres":
            sql, params = sql + " AND originator_id = ANY(?)", [*params, list(among)]
        else:  # eventsourcing's SQLite recorder stores an id as its hex
            sql, params = sql + f" AND originator_id IN ({', '.join('?' for _ in among)})", [*params, *(u.hex for u in among)]
    with ledger.db.read() as tx:
        rows = tx.execute(sql, params)
    slugs = []
    for originator_id, topic, state in rows:
        uid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        stored = StoredEvent(originator_id=uid, originator_version=1, topic=topic, state=bytes(state))
        slugs.append(ledger.app.mapper.to_domain_event(stored).coop)
    return sorted(slugs)


def stale_snapshot(ledger: Any, slug: str) -> tuple[int, int] | None:
    """(version of the stream, version of its usable snapshot or 0) when a cold load of this
    cooperative would replay SNAPSHOT_EVERY_EVENTS events or more; None when it would not."""
    originator = coop_id(slug)
    last = list(ledger.app.events.get(originator, desc=True, limit=1))
    if not last:
        return None
    stored = ledger.app.snapshots.stored(originator)
    try:
        since = stored.usable().originator_version if stored is not None else 0
    except UnusableSnapshot:
        since = 0  # another STATE_SCHEMA (an upgrade), or unreadable: no load uses it
    version = last[0].originator_version
    return (version, since) if snapshots.due(version, since) else None


def retake_snapshot(ledger: Any, slug: str, version: int) -> None:
    """Replays the cooperative in pages up to `version` (committed events: a writer in another process
    only adds later ones) and stores its snapshot, as the write path would have."""
    aggregate = replay(ledger.app, coop_id(slug), version)
    assert aggregate is not None and aggregate.version == version, f"{slug}: replayed to {aggregate and aggregate.version}"
    # An unusable snapshot at this very version (no event since the upgrade) would make the new
    # one a duplicate row: delete it first (a cache; deleting one is always safe).
    snapshots.delete(ledger, aggregate.id, "=", version)
    snapshots.take(ledger, aggregate)  # logs and returns when it fails (a cache, on the write path)
    stored = ledger.app.snapshots.stored(aggregate.id)
    if stored is None or stored.originator_version < version:  # a later one: another writer's, as good
        raise SnapshotNotStored(f"{slug}: the snapshot at version {version} was not stored (the log says why)")


class SnapshotNotStored(RuntimeError):
    """`retake_snapshot` could not store its snapshot: the command that asked for it must fail."""
