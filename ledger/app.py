"""The eventsourcing application: the event store, its transcodings, and command receipts."""

from __future__ import annotations

import uuid
from datetime import date
from functools import lru_cache
from typing import Any

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, Recording, Transcoder, Transcoding

import domain.corrections  # noqa: F401  (registers event classes)
import domain.entries  # noqa: F401
import domain.fees  # noqa: F401
import domain.governance  # noqa: F401
import domain.membership  # noqa: F401
import ledger.handlers  # noqa: F401  (every family's events, carried ones included)
from domain.cooperative import COOP_NAMESPACE
from ledger.sealing import SealingMapper
from ledger.snapshots import SnapshotStore
from ledger.transcoder import OrjsonTranscoder


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class CommandReceipt(Aggregate):
    """Proof that a command with an idempotency key was accepted, saved with its events.

    Its id derives from (cooperative, key), so a second save under the same key collides on
    the store's unique (originator_id, version) and can never write twice.
    """

    TOPIC = "coopledger:CommandReceipt"

    class Event(Aggregate.Event):
        TOPIC = "coopledger:CommandReceipt.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "coopledger:CommandReceipt.Created"
        coop: str
        key: str
        command: str
        fingerprint: str
        result: dict[str, Any]

    def __init__(self, coop: str, key: str, command: str, fingerprint: str, result: dict[str, Any]) -> None:
        self.coop = coop
        self.key = key
        self.command = command
        self.fingerprint = fingerprint
        self.result = result


@lru_cache(maxsize=2 * 10_000)  # a batch asks twice per command (lookup, then save): uuid5 is not free
def receipt_id(coop: str, key: str) -> uuid.UUID:
    return uuid.uuid5(COOP_NAMESPACE, f"receipt:{coop}:{key}")


class LedgerApp(Application):
    name = "coopledger"
    # The snapshots table, and a repository that loads the latest snapshot then the events after it.
    is_snapshotting_enabled = True

    def save(self, *events: Any, **kwargs: Any) -> list[Recording[Any]]:
        """Stores new events (never aggregates: the Ledger collects them) in one transaction.

        eventsourcing's own `save` checks each object against runtime-checkable Protocols (about
        45 µs an event: an eighth of a batch's time, measured with cProfile of bench.ingest) and
        takes snapshots by its own rule; the recording is the same call. The Ledger takes the
        Cooperative's snapshots itself, from the aggregate it just saved (ledger/snapshots.py)."""
        assert all(isinstance(e, Aggregate.Event) for e in events), "LedgerApp.save takes events"
        processing = ProcessingEvent()
        processing.events.extend(events)
        processing.saved_kwargs.update(kwargs)
        return self._record(processing)

    def construct_mapper(self) -> Mapper[Any]:
        """eventsourcing's mapper, sealing each person's identity fields (ledger/sealing.py)."""
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=SealingMapper)

    def construct_transcoder(self) -> Transcoder:
        """The same JSON as eventsourcing's transcoder, written and read with orjson (ledger/transcoder.py)."""
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_snapshot_store(self) -> SnapshotStore:
        return SnapshotStore(self.mapper, self.factory.aggregate_recorder(purpose="snapshots"))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
