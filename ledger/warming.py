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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.cooperative import coop_id
from domain.errors import DomainError
from domain.rules import identifier

if TYPE_CHECKING:
    from ledger.service import Ledger

# How far back in the log `warm_recent` looks for the cooperatives that wrote last.
RECENT_POSITIONS = 5_000


def warm(ledger: Ledger, slug: Any) -> None:
    """Loads cooperative `slug` into the cache unless it is there. A failure is raised as the
    group's own load would raise it (the store away, the cooperative busy for too long)."""
    cache = ledger.app.repository.cache
    if cache is None or not isinstance(slug, str) or _is_cached(cache, slug):
        return
    try:
        identifier(slug, "coop")
    except DomainError:
        return  # the group refuses the command, as any naming a malformed cooperative
    with ledger._locked([slug]):  # noqa: SLF001 (the Ledger's own lock: one writer per cooperative)
        if not _is_cached(cache, slug):  # another caller may have loaded it meanwhile
            ledger._load(slug)  # noqa: SLF001 (None for a cooperative not founded yet: nothing cached)


def warm_recent(ledger: Ledger, slugs: Iterable[str]) -> list[str]:
    """Loads those of `slugs` that wrote in the last RECENT_POSITIONS positions of the log, the
    latest first, as many as the cache holds. Returns the cooperatives loaded, in that order."""
    cache = ledger.app.repository.cache
    if cache is None:
        return []
    by_id = {coop_id(slug): slug for slug in slugs}
    upto = ledger.position()
    recent = ledger.app.recorder.select_notifications(max(1, upto - RECENT_POSITIONS + 1), RECENT_POSITIONS)
    latest_first: dict[str, None] = {}
    for notification in reversed(recent):
        slug = by_id.get(UUID(str(notification.originator_id)))  # the store's form: UUID or text
        if slug is not None:
            latest_first.setdefault(slug)
    chosen = list(latest_first)[: cache.maxsize]
    for slug in chosen:
        warm(ledger, slug)
    return chosen


def _is_cached(cache: Any, slug: str) -> bool:
    try:
        cache.get(coop_id(slug))
    except KeyError:
        return False
    return True
