"""Reads a range of the notification log as domain events, for the projection runner.

The runner reads the whole log on a rebuild (110,010 events in the whole benchmark), so the read
is on its path: eventsourcing's `select_notifications` builds a Notification and a UUID per row
(psycopg's loader or `UUID(text)`), then `mapper.to_domain_event` resolves the class, decodes the
state and converts the originator id again. This reader selects the same rows (same table, same
topics, same order) and decodes them the way the mapper does, with what repeats taken
out of the loop: the class and its id convertor once per topic, each originator's id converted
once (a cooperative's events share one aggregate id, so a page of 10,000 events has a handful).

Then the store's mapper opens the identity fields (`SealingMapper.opened`, ledger/sealing.py), as
its `to_domain_event` does, the page's keys read at once first (`prefetch_keys`): one read per
person was a PostgreSQL round trip or more each (10,000 members, 10,000 reads).

What it does not do the mapper's way it leaves to the mapper: a store whose states are compressed
or enciphered, or a mapper of another class, is read through `select_notifications` and
`to_domain_event`, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError, find_id_convertor
from eventsourcing.utils import resolve_topic

from ledger.chain import EVENTS_TABLES
from ledger.sealing import SealingMapper
from ledger.service import Ledger

MAX_IDS = 100_000
# Positions a page looks at, in pages: a page of `limit` events spans about twice as many
# positions (each command's receipt sits next to its events). Bounding the range keeps each read
# proportional to its page: a read from `start` to the end of the log, cut by LIMIT, made
# PostgreSQL fetch and sort every later row on every page (quadratic over a rebuild).
WINDOW = 2


def _position(row: tuple[Any, ...]) -> int:
    return int(row[0])


class LogReader:
    def __init__(self, ledger: Ledger, topics: Sequence[str]) -> None:
        self.ledger = ledger
        self.topics = list(topics)
        mapper = ledger.app.mapper
        # Only a mapper whose to_domain_event is known to be Mapper's followed by `opened`.
        self._fast = type(mapper) is SealingMapper and mapper.compressor is None and mapper.cipher is None
        self._mapper = mapper
        self._decode = mapper.transcoder.decode
        self._classes: dict[str, tuple[type, Callable[[Any], Any], int]] = {}
        self._ids: dict[tuple[Callable[[Any], Any], Any], Any] = {}
        db = ledger.db
        table = EVENTS_TABLES[db.dialect]
        if db.dialect == "postgres":
            # The id as text: converted once per originator below, not once per row by psycopg.
            select = f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM {table}"  # noqa: S608
            self._sql = f"{select} WHERE notification_id >= ? AND notification_id <= ? AND topic = ANY(?)"
            self._topic_params: list[Any] = [self.topics]
        else:
            marks = ", ".join("?" for _ in self.topics)
            select = f"SELECT rowid, originator_id, originator_version, topic, state FROM {table}"  # noqa: S608
            self._sql = f"{select} WHERE rowid >= ? AND rowid <= ? AND topic IN ({marks})"
            self._topic_params = list(self.topics)

    def read(self, start: int, stop: int, limit: int) -> tuple[list[tuple[int, Any]], int]:
        """A page of the log from position `start`: (events, end). The events, as (position,
        event) in order, are those with one of the topics among positions start..end; at most
        `limit`. The page looks at no more than WINDOW × limit positions (command receipts
        interleave), and not beyond `stop`."""
        last = min(stop, start + WINDOW * limit - 1)
        if self._fast:
            with self.ledger.db.read() as tx:
                rows = tx.execute(self._sql, [start, last, *self._topic_params])
            # Ordered here, not in SQL: PostgreSQL sorts wide rows on disk (external merge past
            # work_mem, measured on a store not yet analysed); SQLite reads them in order anyway.
            rows.sort(key=_position)
            rows = rows[:limit]
            events = [self._event(row) for row in rows]
            self._mapper.prefetch_keys(events)
            page = [(row[0], self._mapper.opened(row[3], event)) for row, event in zip(rows, events, strict=True)]
        else:
            app = self.ledger.app
            notifications = app.recorder.select_notifications(start=start, limit=limit, stop=last, topics=self.topics)
            page = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        return page, page[-1][0] if len(page) == limit else last

    def _event(self, row: tuple[Any, ...]) -> Any:
        """What eventsourcing 9.5's `Mapper.to_domain_event` returns for this stored event."""
        _position, originator_id, originator_version, topic, state = row
        known = self._classes.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            known = self._classes[topic] = (cls, find_id_convertor(cls, str), getattr(cls, "class_version", 1))
        cls, convertor, class_version = known
        try:
            event_state: dict[str, Any] = self._decode(state if type(state) is bytes else bytes(state))
        except Exception as e:
            msg = (
                f"Failed to deserialise state of stored event with topic '{topic}', "
                f"originator_id '{originator_id}' and originator_version {originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        key = (convertor, originator_id)
        converted = self._ids.get(key)
        if converted is None:
            if len(self._ids) >= MAX_IDS:
                self._ids.clear()  # a long-running runner meets ever more aggregates: bounded
            converted = self._ids[key] = convertor(originator_id)
        event_state["originator_id"] = converted
        event_state["originator_version"] = originator_version
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event  # identity fields still sealed: `read` opens them, keys read at once
