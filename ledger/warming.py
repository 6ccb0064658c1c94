"""The write model's cache, filled before commands need it.

A command is decided on its cooperative's aggregate, kept in eventsourcing's cache (the Ledger's
aggregate cache, fast-forwarded on each use). A cooperative missing from it is a cold load: its
latest snapshot and up to 2,000 events read and applied, 50-60 ms of CPU for a cooperative of
200 sensors. Group commit (ledger/group_commit.py) has one leader save the queued commands: a
cold load inside the group held every command of the group. After a server start, the first
group met 8 cold cooperatives and held 31 commands for 2 s (traced on 2026-12-07): the p99 of a
10 s load of single commands was that start, ten times the mean.

- `warm` loads a command's cooperative in the caller's thread before its command is queued: a
  cold load then holds only the commands of that cooperative, and several load at once;
- `warm_recent` loads, in the background of a server that starts, the cooperatives that wrote
  last, so that its first commands find them loaded.

Loading decides nothing: the group's leader still fast-forwards each aggregate under the
cooperative's lock and saves only if its versions are still free, as without this module.

- `load_all` is that fast-forward for a group: on PostgreSQL, the events recorded since the cached
  versions of all its cooperatives in one statement (eventsourcing asks one per aggregate: a
  group over 8 cooperatives waited for 8 round trips, a third of its time under load, traced).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.cooperative import coop_id
from domain.errors import DomainError
from domain.rules import identifier
from ledger import snapshots
from ledger.chain import EVENTS_TABLES
from ledger.snapshot_check import founded_slugs
from ledger.stored_history import RECEIPT_TOPIC

if TYPE_CHECKING:
    from ledger.service import Ledger

# How far back in the log `warm_recent` looks for the cooperatives that wrote last.
RECENT_POSITIONS = 20_000  # 10,000 commands (a receipt each): ids only, one grouped statement
MAX_LOOKUPS = 500  # streams that wrote last named by their founding events, at most (one statement)


def needs_loading(ledger: Ledger, slug: Any) -> bool:
    """Whether `warm` would load something: a cooperative's name not in the cache (a dictionary
    lookup: an event loop asks it before handing the load to a thread)."""
    cache = ledger.app.repository.cache
    return cache is not None and isinstance(slug, str) and not _is_cached(cache, slug)


def warm(ledger: Ledger, slug: Any) -> None:
    """Loads cooperative `slug` into the cache unless it is there. A failure is raised as the
    group's own load would raise it (the store away, the cooperative busy for too long)."""
    if not needs_loading(ledger, slug):
        return
    cache = ledger.app.repository.cache
    try:
        identifier(slug, "coop")
    except DomainError:
        return  # the group refuses the command, as any naming a malformed cooperative
    with ledger._locked([slug]):  # noqa: SLF001 (the Ledger's own lock: one writer per cooperative)
        if not _is_cached(cache, slug):  # another caller may have loaded it meanwhile
            ledger._load(slug)  # noqa: SLF001 (None for a cooperative not founded yet: nothing cached)


def warm_recent(ledger: Ledger, *, stop: threading.Event | None = None) -> list[str]:
    """Loads the cooperatives that wrote in the last RECENT_POSITIONS positions of the log, as many
    as the cache holds, the latest writers chosen first and loaded last (the cache forgets the least
    recently used first). Stops between two cooperatives once `stop` is set (a server stopping).
    Returns the cooperatives loaded, in the order loaded."""
    cache = ledger.app.repository.cache
    if cache is None:
        return []
    dialect = ledger.db.dialect
    position = "rowid" if dialect == "sqlite" else "notification_id"  # SQLite's rowid is the notification id
    # The streams that wrote last, each once, the latest first: ids only (the events' states are not
    # read), receipts left out (a stream each).
    rows = ledger.db.query(
        f"SELECT originator_id, MAX({position}) AS last FROM {EVENTS_TABLES[dialect]}"  # noqa: S608 (constant SQL)
        f" WHERE {position} > ? AND topic <> ? GROUP BY originator_id ORDER BY last DESC LIMIT ?",
        (ledger.position() - RECENT_POSITIONS, RECEIPT_TOPIC, MAX_LOOKUPS),
    )
    recent = [UUID(str(row[0])) for row in rows]  # UUID or hex text
    # Named by their founding events, in the store: not by the views, which a server started before
    # its runner caught up (right after `coopledger record`) does not have yet (it warmed none).
    by_id = {coop_id(slug): slug for slug in founded_slugs(ledger, recent)}
    latest_first = [by_id[uid] for uid in recent if uid in by_id]
    loaded = []
    for slug in reversed(latest_first[: cache.maxsize]):
        if stop is not None and stop.is_set():
            break
        warm(ledger, slug)
        loaded.append(slug)
    return loaded


def load_all(ledger: Ledger, slugs: Sequence[str]) -> dict[str, Any]:
    """Each cooperative's current aggregate (None: not founded), as `Ledger._load` gives it, the
    cached ones fast-forwarded together. The caller holds their locks."""
    cache = ledger.app.repository.cache
    cached: dict[str, Any] = {}
    if cache is not None and ledger.db.dialect == "postgres":
        for slug in slugs:
            try:
                cached[slug] = cache.get(coop_id(slug))
            except KeyError:
                pass
    loaded: dict[str, Any] = {}
    if len(cached) > 1:  # one alone: eventsourcing's fast-forward is the same single statement
        aggregates = list(cached.values())
        rows = ledger.db.query(
            # LATERAL: an index scan per cooperative (a join let PostgreSQL scan the whole table).
            "SELECT c.id, e.originator_version, e.topic, e.state FROM unnest(?::uuid[], ?::bigint[]) AS c(id, version)"
            f" CROSS JOIN LATERAL (SELECT originator_version, topic, state FROM {EVENTS_TABLES['postgres']}"
            "  WHERE originator_id = c.id AND originator_version > c.version) AS e"
            " ORDER BY c.id, e.originator_version",  # each aggregate's events in order, whatever the plan
            ([a.id for a in aggregates], [a.version for a in aggregates]),
        )
        newer: defaultdict[UUID, list[Any]] = defaultdict(list)
        for originator_id, version, topic, state in rows:
            newer[originator_id].append(
                ledger.app.mapper.to_domain_event(StoredEvent(originator_id, version, topic, bytes(state)))
            )
        for slug, aggregate in cached.items():
            current = snapshots.project(aggregate, newer.get(aggregate.id, ()))
            if current is not aggregate:
                cache.put(aggregate.id, current)  # type: ignore[union-attr]
            loaded[slug] = current
    return {slug: loaded[slug] if slug in loaded else ledger._load(slug) for slug in slugs}  # noqa: SLF001


def _is_cached(cache: Any, slug: str) -> bool:
    try:
        cache.get(coop_id(slug))
    except KeyError:
        return False
    return True
