"""The observatory's indicators kept between two JSON builds, recomputed only when an event that
can change them arrived: the JSON is rebuilt after every event of the cooperative, and the
frequent events change only a few of its indicators.

What arrived since a cached build is read from the feed projection's facts (projections/feed.py:
one row per event of a cooperative, with its kind), in the same read transaction as the figures.
The runner applies a batch to every projection in one transaction, so the newest fact of the
cooperative must be the observatory's own last event; when it is not (a rebuild under way, a
store without the feed), nothing cached is used. Only the kinds in NARROW_KINDS, the frequent
ones, spare indicators; any other kind recomputes them all, so a new event kind can never leave
an indicator stale. Cached per Database (weakly: a closed store's entries go with it), cooperative
and day, at most MAX_ENTRIES per Database.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any
from weakref import WeakKeyDictionary

from ledger.db import Database

MAX_ENTRIES = 64
# A fact kind (declared by its family: domain/family.py Fact) -> the indicators it can change, worked out from the
# tables its projections write and the read functions behind each indicator: a fee called or paid
# moves the registry's standing (members, fees) and the governance fee moves (weights); readings and
# logged hours only touch their own views. Every view they also write (journal, balances, feed,
# audit trail) is read by no indicator. The observatory's monthly movements are always re-read.
NARROW_KINDS: dict[str, frozenset[str]] = {
    "fee.called": frozenset({"members", "fees", "governance"}),
    "fee.paid": frozenset({"members", "fees", "governance"}),
    "readings.accepted": frozenset({"sensors"}),
    "shared_hours.logged": frozenset({"shared_hours"}),
}

Entry = tuple[int, dict[str, dict[str, Any]]]  # (the cooperative's last event position, indicators by id)


class IndicatorCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: WeakKeyDictionary[Database, dict[tuple[str, str], Entry]] = WeakKeyDictionary()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reusable(
        self, owner: Database, snapshot: Database, coop: str, day: str, last_position: int | None, every: Collection[str]
    ) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """(cached indicators, ids to recompute) for `coop` on `day`, its last event at `last_position`
        in `snapshot` (the read transaction the figures are read in)."""
        with self._lock:
            entry = self._entries.get(owner, {}).get((coop, day))
        if entry is None or last_position is None or last_position < entry[0]:
            return {}, set(every)
        cached_position, indicators = entry
        with snapshot.read() as tx:
            kinds = tx.execute(
                "SELECT kind, MAX(position) FROM feed_facts WHERE coop = ? AND position > ? GROUP BY kind",
                (coop, cached_position),
            )
        if max((int(p) for _, p in kinds), default=cached_position) != last_position:
            return {}, set(every)  # the feed and the observatory disagree: trust neither the cache nor the kinds
        stale: set[str] = set()
        for kind, _ in kinds:
            stale |= NARROW_KINDS.get(kind, frozenset(every))
        return indicators, stale

    def keep(
        self, owner: Database, coop: str, day: str, last_position: int | None, indicators: dict[str, dict[str, Any]]
    ) -> None:
        if last_position is None:
            return
        with self._lock:
            entries = self._entries.setdefault(owner, {})
            entries.pop((coop, day), None)
            if len(entries) >= MAX_ENTRIES:
                entries.pop(next(iter(entries)))
            entries[(coop, day)] = (last_position, indicators)


CACHE = IndicatorCache()
