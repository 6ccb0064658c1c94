"""The Ledger: takes commands, applies the domain's rules, records events exactly once.

Every command carries an idempotency key. Accepted commands save their events and a
CommandReceipt in one transaction; refused commands write nothing. Many commands can be
saved together (`execute_batch`): one transaction, each command still accepted or refused
on its own, which is how throughput grows past the store's single-writer lock.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.cooperative import Cooperative, FoundCooperative, coop_id, found_cooperative
from domain.corrections import ReverseEntry, entry_version, reverse_entry
from domain.errors import Conflict, DomainError, InvalidCommand, NotFound
from domain.events import FinancialEvent, Meta
from domain.federation import FederateCooperatives
from domain.rules import identifier
from ledger.app import CommandReceipt, LedgerApp, receipt_id
from ledger.chain import EVENTS_TABLES
from ledger.commands import fingerprint
from ledger.db import Database, bound_event_store_waits
from ledger.group_commit import GroupCommit
from ledger.handlers import HANDLERS
from ledger.store import StoreConfig

log = structlog.get_logger("coopledger.ledger")

MAX_BATCH_COMMANDS = 10_000
# A conflict means another writer saved first; the retry re-reads its events and decides again.
MAX_SAVE_ATTEMPTS = 8
# A writer waits this long for a cooperative held by another request of this process, then gives
# up with TimeoutError (the API answers 503): when the database is away, requests queued behind
# one stuck in eventsourcing's retries would otherwise wait one after the other, without bound.
LOCK_WAIT_S = 5.0
# Receipt ids per lookup query: under SQLite's bound on parameters, one query for a usual batch.
RECEIPT_QUERY_IDS = 1000


@dataclass(frozen=True)
class CommandResult:
    """What a command did. `position` is where its receipt sits in the notification log:
    a query that waits for this position sees the command's effects."""

    accepted: bool
    coop: str
    command: str
    idempotency_key: str
    position: int | None = None
    journal_numbers: tuple[int, ...] = ()
    events: tuple[str, ...] = ()
    duplicate: bool = False
    error: DomainError | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "accepted": self.accepted,
            "coop": self.coop,
            "command": self.command,
            "idempotency_key": self.idempotency_key,
        }
        if self.accepted:
            body.update(
                position=self.position,
                journal_numbers=list(self.journal_numbers),
                events=list(self.events),
                duplicate=self.duplicate,
            )
        else:
            assert self.error is not None
            body["error"] = self.error.as_dict()
        return body


@dataclass(frozen=True)
class _StoredReceipt:
    fingerprint: str
    result: dict[str, Any]
    position: int  # of the receipt in the notification log


@dataclass
class _Pending:
    index: int
    command: Any
    key: str
    meta: Meta
    fingerprint: str
    receipt: CommandReceipt | None = None
    events: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)


class Ledger:
    def __init__(self, config: StoreConfig | None = None) -> None:
        self.config = config or StoreConfig.from_url()
        self.db = Database(self.config)
        with self.db.startup_lock():  # several processes may start at once on one store
            self.app = LedgerApp(env=self.config.eventsourcing_env())
        bound_event_store_waits(self.app.recorder)  # an outage answered 503 within seconds
        assert self.app.recorder.events_table_name == EVENTS_TABLES[self.db.dialect], self.app.recorder.events_table_name  # type: ignore[attr-defined]
        self._locks_guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.group = GroupCommit(self)

    def close(self) -> None:
        self.db.close()
        self.app.close()

    # ------------------------------------------------------------ public API

    def execute(self, command: Any, key: str, actor: str = "cli", reason: str | None = None) -> CommandResult:
        """Executes one command. Raises nothing for a refused command: see result.error.

        Concurrent callers (the API's request threads) are saved together in one transaction by
        group commit (ledger/group_commit.py); each still gets its own result, as if alone."""
        return self.group.execute((command, key, actor, reason))

    def execute_batch(self, items: Sequence[tuple[Any, ...]]) -> list[CommandResult]:
        """Executes commands in order, each accepted or refused on its own, saved together.

        Items are (command, key, actor) or (command, key, actor, reason): the reason is recorded
        on the command's events for the audit trail and is not part of its idempotency fingerprint.
        Commands may name several cooperatives; each is locked for the batch's duration.
        """
        assert len(items) <= MAX_BATCH_COMMANDS, f"batch of {len(items)} exceeds {MAX_BATCH_COMMANDS}"
        if any(isinstance(item[0], FederateCooperatives) for item in items):
            from ledger import federation  # several aggregates in one transaction: its own module

            return federation.execute_items(self, items)
        results: list[CommandResult | None] = [None] * len(items)
        pending: list[_Pending] = []
        for i, (command, key, actor, *reason) in enumerate(items):
            slug = getattr(command, "coop", None)
            try:
                identifier(slug, "coop")
                if not isinstance(key, str) or not key:
                    raise InvalidCommand("idempotency_key", "required", "every command needs an idempotency key")
            except DomainError as error:
                results[i] = CommandResult(False, str(slug), type(command).__name__, str(key), error=error)
                continue
            meta = Meta(actor=actor or "unknown", idempotency_key=key, reason=reason[0] if reason else None)
            pending.append(_Pending(i, command, key, meta, fingerprint(command)))

        slugs = sorted({p.command.coop for p in pending})
        with self._locked(slugs):
            for attempt in range(1, MAX_SAVE_ATTEMPTS + 1):
                try:
                    self._attempt(pending, results)
                    break
                except IntegrityError:
                    # Someone else saved first. Forget what we decided and decide again.
                    self._evict(slugs)
                    log.info("save_conflict_retry", attempt=attempt, coops=slugs)
                    if attempt == MAX_SAVE_ATTEMPTS:
                        raise
                    # Jittered and growing: two processes retrying in step would collide again.
                    time.sleep(random.uniform(0, 0.005 * 2**attempt))
                except BaseException:
                    self._evict(slugs)
                    raise
        assert all(r is not None for r in results)
        return [r for r in results if r is not None]

    def position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def cooperative(self, slug: str) -> Cooperative:
        """The current state of a cooperative (write model), for tests and diagnostics."""
        with self._locked([slug]):
            return self.app.repository.get(coop_id(slug))

    # ------------------------------------------------------------ internals

    def _attempt(self, pending: list[_Pending], results: list[CommandResult | None]) -> None:
        coops: dict[str, Cooperative | None] = {}
        keys_in_batch: dict[tuple[str, str], _Pending] = {}
        to_save: list[Any] = []
        accepted: list[_Pending] = []
        batch_entries: dict[tuple[str, int], FinancialEvent] = {}  # decided, not yet saved
        for p in pending:
            if p.command.coop not in coops:
                # Load the cooperatives BEFORE looking up receipts. A command's events and its
                # receipt commit together, so a receipt not found after this load means its events
                # are not in the loaded state either; the other order could see a concurrent
                # writer's events without its receipt, and refuse its duplicate (e.g. overpayment).
                coops[p.command.coop] = self._load(p.command.coop)
        # Every receipt of the batch in one query (was one SELECT per command: 2/3 of the time
        # of a batch of 1,000 on PostgreSQL, measured with cProfile).
        receipts = self._stored_receipts({(p.command.coop, p.key) for p in pending})
        for p in pending:
            p.receipt, p.events, p.numbers = None, [], []
            slug = p.command.coop
            name = type(p.command).__name__
            earlier = keys_in_batch.get((slug, p.key))
            stored = None if earlier else receipts.get((slug, p.key))
            if earlier is not None or stored is not None:
                results[p.index] = self._duplicate(p, earlier, stored)
                continue
            coop = coops[slug]
            try:
                coop, emitted = self._decide(coop, p, batch_entries)
            except DomainError as error:
                results[p.index] = CommandResult(False, slug, name, p.key, error=error)
                continue
            coops[slug] = coop
            p.events = [e.kind for e in emitted]
            p.numbers = [e.journal_number for e in emitted if isinstance(e, FinancialEvent)]
            batch_entries.update({(slug, e.originator_version): e for e in emitted if isinstance(e, FinancialEvent)})
            p.receipt = CommandReceipt._create(
                CommandReceipt.Created,
                id=receipt_id(slug, p.key),
                coop=slug,
                key=p.key,
                command=name,
                fingerprint=p.fingerprint,
                result={"events": p.events, "journal_numbers": p.numbers},
            )
            keys_in_batch[(slug, p.key)] = p
            to_save.extend(emitted)
            to_save.append(p.receipt.collect_events()[0])
            accepted.append(p)
        if not to_save:
            return
        recordings = self.app.save(*to_save)
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        for p in accepted:
            assert p.receipt is not None
            results[p.index] = CommandResult(
                True, p.command.coop, type(p.command).__name__, p.key,
                position=positions[p.receipt.id], journal_numbers=tuple(p.numbers), events=tuple(p.events),
            )
        for p in pending:
            r = results[p.index]
            if r is not None and r.duplicate and r.position is None:
                # A duplicate of a command accepted earlier in this same batch.
                original = results[keys_in_batch[(p.command.coop, p.key)].index]
                assert original is not None
                results[p.index] = CommandResult(
                    True, r.coop, r.command, r.idempotency_key, position=original.position,
                    journal_numbers=original.journal_numbers, events=original.events, duplicate=True,
                )

    def _decide(
        self, coop: Cooperative | None, p: _Pending, batch_entries: dict[tuple[str, int], FinancialEvent]
    ) -> tuple[Cooperative, list[Any]]:
        """Applies one command to the in-memory aggregate. Returns it and its new events."""
        command = p.command
        if isinstance(command, FoundCooperative):
            created = found_cooperative(coop, command, p.meta)
            return created, list(created.collect_events())
        if coop is None:
            raise NotFound("coop", "known_cooperative", f"no cooperative {command.coop!r}")
        before = len(coop.pending_events)
        assert before == 0, "a cooperative is decided on with events still pending"
        if isinstance(command, ReverseEntry):
            version = entry_version(coop, command)
            original = batch_entries.get((coop.slug, version)) or self._event_at(coop, version)
            reverse_entry(coop, command, p.meta, original)
        else:
            handler = HANDLERS.get(type(command))
            if handler is None:
                raise InvalidCommand("command", "known_command", f"{type(command).__name__} has no handler")
            try:
                handler(coop, command, p.meta)
            except DomainError:
                # Deciders check every rule before triggering; a refusal after an event
                # would leave the aggregate half-changed.
                assert not coop.pending_events, f"{type(command).__name__} refused after triggering events"
                raise
        return coop, list(coop.collect_events())

    def _event_at(self, coop: Cooperative, version: int) -> FinancialEvent:
        events = list(self.app.events.get(coop.id, gt=version - 1, lte=version))
        assert len(events) == 1 and isinstance(events[0], FinancialEvent), f"entry at version {version} not found"
        return events[0]

    def _load(self, slug: str) -> Cooperative | None:
        try:
            return self.app.repository.get(coop_id(slug))
        except AggregateNotFoundError:
            return None

    def _stored_receipts(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _StoredReceipt]:
        """The receipts stored under these (cooperative, key) pairs, with their log positions."""
        table = self.app.recorder.events_table_name  # type: ignore[attr-defined]
        by_id = {receipt_id(slug, key): (slug, key) for slug, key in keys}
        ids = list(by_id)
        found: dict[tuple[str, str], _StoredReceipt] = {}
        sqlite = self.db.dialect == "sqlite"
        with self.db.read() as tx:
            for start in range(0, len(ids), RECEIPT_QUERY_IDS):
                chunk = ids[start:start + RECEIPT_QUERY_IDS]
                if sqlite:  # stored as hex text; the rowid is the notification id
                    sql = (f"SELECT originator_id, topic, state, rowid FROM {table} WHERE originator_version = 1"  # noqa: S608
                           f" AND originator_id IN ({', '.join('?' for _ in chunk)})")
                    params: list[Any] = [i.hex for i in chunk]
                else:
                    sql = (f"SELECT originator_id, topic, state, notification_id FROM {table}"  # noqa: S608
                           " WHERE originator_version = 1 AND originator_id = ANY(?)")
                    params = [chunk]
                for originator_id, topic, state, position in tx.execute(sql, params):
                    uid = originator_id if isinstance(originator_id, uuid.UUID) else uuid.UUID(originator_id)
                    stored = StoredEvent(originator_id=uid, originator_version=1, topic=topic, state=bytes(state))
                    event = self.app.mapper.to_domain_event(stored)
                    found[by_id[uid]] = _StoredReceipt(event.fingerprint, event.result, int(position))
        return found

    def _duplicate(self, p: _Pending, earlier: _Pending | None, stored: _StoredReceipt | None) -> CommandResult:
        name = type(p.command).__name__
        original_fp = earlier.fingerprint if earlier else stored.fingerprint  # type: ignore[union-attr]
        if original_fp != p.fingerprint:
            error = Conflict(
                "idempotency_key", "same_key_same_content",
                f"key {p.key!r} was already used for a different command; use a new key for a new command",
            )
            return CommandResult(False, p.command.coop, name, p.key, error=error)
        if earlier is not None:
            return CommandResult(True, p.command.coop, name, p.key, duplicate=True)  # position filled after save
        assert stored is not None
        return CommandResult(
            True, p.command.coop, name, p.key, position=stored.position,
            journal_numbers=tuple(stored.result["journal_numbers"]), events=tuple(stored.result["events"]),
            duplicate=True,
        )

    @contextmanager
    def _locked(self, slugs: list[str]) -> Iterator[None]:
        """One writer per cooperative in this process: commands mutate the cached aggregate."""
        with self._locks_guard:
            locks = [self._locks.setdefault(s, threading.Lock()) for s in slugs]
        taken: list[threading.Lock] = []
        for lock in locks:  # sorted slugs: no deadlock between batches
            if not lock.acquire(timeout=LOCK_WAIT_S):
                for held in reversed(taken):
                    held.release()
                raise TimeoutError(f"cooperative busy for {LOCK_WAIT_S} s (another request holds it)")
            taken.append(lock)
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()

    def _evict(self, slugs: list[str]) -> None:
        cache = self.app.repository.cache
        if cache is None:
            return
        for slug in slugs:
            try:
                cache.get(coop_id(slug), evict=True)
            except KeyError:
                pass
