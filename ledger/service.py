"""The Ledger: takes commands, applies the domain's rules, records events exactly once.

Every command carries an idempotency key. Accepted commands save their events and a
CommandReceipt in one transaction; refused commands write nothing. Many commands can be
saved together (`execute_batch`): one transaction, each command still accepted or refused
on its own, which is how throughput grows past the store's single-writer lock.

This is the only write path. A command that touches several cooperatives (a federation) declares
them (ledger/decision.py): they are locked, loaded, decided, saved and retried with the others.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from anyio import to_thread
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.cooperative import Cooperative, coop_id
from domain.errors import Conflict, DomainError, InvalidCommand
from domain.events import FinancialEvent, Meta
from domain.rules import identifier
from ledger import snapshots, warming, writer_turns
from ledger.app import LedgerApp
from ledger.chain import EVENTS_TABLES
from ledger.commands import fingerprint
from ledger.db import Database, bound_event_store_waits
from ledger.decision import Decision, Outcome, decide, needs
from ledger.group_commit import GroupCommit
from ledger.identity_keys import KeyRing
from ledger.receipts import StoredReceipt, new_receipt, stored_receipts
from ledger.store import StoreConfig

log = structlog.get_logger("coopledger.ledger")

MAX_BATCH_COMMANDS = 10_000
# A conflict means another writer saved first; the retry re-reads its events and decides again.
MAX_SAVE_ATTEMPTS = 8
# A writer waits this long for a cooperative held by another request of this process, then gives
# up with TimeoutError (the API answers 503): when the database is away, requests queued behind
# one stuck in eventsourcing's retries would otherwise wait one after the other, without bound.
LOCK_WAIT_S = 5.0


@dataclass(frozen=True)
class CommandResult:
    """What a command did. `position` is where its receipt sits in the notification log:
    a query that waits for this position sees the command's effects. `report` is what a command
    over several cooperatives says it moved (a federation), the same on a retry."""

    accepted: bool
    coop: str
    command: str
    idempotency_key: str
    position: int | None = None
    journal_numbers: tuple[int, ...] = ()
    events: tuple[str, ...] = ()
    duplicate: bool = False
    error: DomainError | None = None
    report: dict[str, Any] | None = None

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
            if self.report is not None:
                body["report"] = self.report
        else:
            assert self.error is not None
            body["error"] = self.error.as_dict()
        return body


@dataclass
class _Pending:
    index: int
    command: Any
    key: str
    meta: Meta
    fingerprint: str
    slugs: tuple[str, ...]  # its own cooperative first, then those it needs
    receipt: Any = None  # the receipt's Created event, once accepted in this attempt
    events: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    report: dict[str, Any] | None = None

    @property
    def coop(self) -> str:
        return self.slugs[0]


class Ledger:
    def __init__(self, config: StoreConfig | None = None) -> None:
        self.config = config or StoreConfig.from_url()
        self.db = Database(self.config)
        with self.db.startup_lock():  # several processes may start at once on one store
            self.app = LedgerApp(env=self.config.eventsourcing_env())
        bound_event_store_waits(self.app.recorder)  # an outage answered 503 within seconds
        # Each person's key: the mapper seals and opens with it, the recorder stores and deletes it.
        self.keyring = KeyRing(self.db)
        self.app.mapper.keyring = self.keyring  # type: ignore[attr-defined]
        self.app.recorder.keyring = self.keyring  # type: ignore[attr-defined]
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
        warming.warm(self, getattr(command, "coop", None))
        return self.group.execute((command, key, actor, reason))

    async def execute_async(
        self, command: Any, key: str, actor: str = "api", reason: str | None = None, *, caller: Any = None
    ) -> CommandResult:
        """`execute` awaited on an event loop: no thread waits for the result (ledger/group_commit.py).
        A cold cooperative is loaded in a worker thread first, as `execute` loads it in its caller's."""
        slug = getattr(command, "coop", None)
        if warming.needs_loading(self, slug):
            await to_thread.run_sync(warming.warm, self, slug)
        return await self.group.execute_async((command, key, actor, reason), caller)

    def execute_batch(self, items: Sequence[tuple[Any, ...]]) -> list[CommandResult]:
        """Executes commands in order, each accepted or refused on its own, saved together.

        Items are (command, key, actor) or (command, key, actor, reason): the reason is recorded
        on the command's events for the audit trail and is not part of its idempotency fingerprint.
        Commands may name several cooperatives; each is locked for the batch's duration.
        """
        assert len(items) <= MAX_BATCH_COMMANDS, f"batch of {len(items)} exceeds {MAX_BATCH_COMMANDS}"
        results: list[CommandResult | None] = [None] * len(items)
        pending: list[_Pending] = []
        for i, (command, key, actor, *reason) in enumerate(items):
            slug = getattr(command, "coop", None)
            try:
                identifier(slug, "coop")
                if not isinstance(key, str) or not key:
                    raise InvalidCommand("idempotency_key", "required", "every command needs an idempotency key")
                declared = (slug, *needs(command))
            except DomainError as error:
                results[i] = CommandResult(False, str(slug), type(command).__name__, str(key), error=error)
                continue
            meta = Meta(actor=actor or "unknown", idempotency_key=key, reason=reason[0] if reason else None)
            pending.append(_Pending(i, command, key, meta, fingerprint(command), declared))

        slugs = sorted({slug for p in pending for slug in p.slugs})
        with self._locked(slugs):
            for attempt in range(1, MAX_SAVE_ATTEMPTS + 1):
                try:
                    # The cooperatives' turns across processes (ledger/writer_turns.py).
                    with writer_turns.turns(self.db, slugs, timeout_s=LOCK_WAIT_S):
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
            return self.app.repository.get(coop_id(slug), projector_func=snapshots.project)

    # ------------------------------------------------------------ internals

    def _attempt(self, pending: list[_Pending], results: list[CommandResult | None]) -> None:
        # Load the cooperatives BEFORE looking up receipts. A command's events and its receipt
        # commit together, so a receipt not found after this load means its events are not in the
        # loaded state either; the other order could see a concurrent writer's events without its
        # receipt, and refuse its duplicate (e.g. overpayment).
        coops: dict[str, Cooperative | None] = warming.load_all(self, list(dict.fromkeys(s for p in pending for s in p.slugs)))
        # Every receipt of the batch in one query (was one SELECT per command: 2/3 of the time
        # of a batch of 1,000 on PostgreSQL, measured with cProfile).
        receipts = stored_receipts(self.app, self.db, {(p.coop, p.key) for p in pending})
        keys_in_batch: dict[tuple[str, str], _Pending] = {}
        decided: dict[str, dict[int, Any]] = {}  # per cooperative, by version: decided, not yet saved
        to_save: list[Any] = []
        for p in pending:
            p.receipt, p.events, p.numbers, p.report = None, [], [], None
            earlier = keys_in_batch.get((p.coop, p.key))
            stored = None if earlier else receipts.get((p.coop, p.key))
            if earlier is not None or stored is not None:
                results[p.index] = self._duplicate(p, earlier, stored)
                continue
            try:
                outcome = self._decide(p, coops, decided)
            except DomainError as error:
                results[p.index] = CommandResult(False, p.coop, type(p.command).__name__, p.key, error=error)
                continue
            to_save.extend(self._accept(p, outcome, coops, decided))
            keys_in_batch[(p.coop, p.key)] = p
        if to_save:
            self._save(to_save, pending, results, keys_in_batch)
            self._snapshot([coops[slug] for slug in decided])

    def _decide(self, p: _Pending, coops: dict[str, Cooperative | None], decided: dict[str, dict[int, Any]]) -> Outcome:
        """Decides one command on the state the batch left. A refusal leaves every aggregate unchanged."""
        declared = {slug: coops[slug] for slug in p.slugs}
        loaded = [c for c in declared.values() if c is not None]
        name = type(p.command).__name__
        assert not any(c.pending_events for c in loaded), "a cooperative is decided on with events still pending"
        try:
            outcome = decide(Decision(p.command, p.meta, declared, decided, self))
        except DomainError:
            # Deciders check every rule before triggering; a refusal after an event would leave
            # an aggregate half-changed, and the next command of the batch would decide on it.
            assert not any(c.pending_events for c in loaded), f"{name} refused after triggering events"
            raise
        assert all(c.slug in declared for c in outcome.changed), f"{name} changed a cooperative it did not declare"
        return outcome

    def _accept(
        self, p: _Pending, outcome: Outcome, coops: dict[str, Cooperative | None], decided: dict[str, dict[int, Any]]
    ) -> list[Any]:
        """Takes the decided events out of the aggregates; returns them with the command's receipt."""
        emitted: list[Any] = []
        per_coop: dict[str, int] = {}
        for aggregate in outcome.changed:
            events = list(aggregate.collect_events())
            coops[aggregate.slug] = aggregate
            decided.setdefault(aggregate.slug, {}).update((e.originator_version, e) for e in events)
            per_coop[aggregate.slug] = per_coop.get(aggregate.slug, 0) + len(events)
            emitted.extend(events)
        p.events = [e.kind for e in emitted]
        p.numbers = [e.journal_number for e in emitted if isinstance(e, FinancialEvent)]
        p.report = outcome.report
        result: dict[str, Any] = {"events": p.events, "journal_numbers": p.numbers}
        if outcome.report is not None:
            result["report"] = outcome.report
        if set(per_coop) - {p.coop}:
            # Events in other cooperatives' streams than the one the receipt is filed under:
            # `verify` counts each cooperative's claimed events against its own stream.
            result["events_by_coop"] = per_coop
        p.receipt = new_receipt(p.coop, p.key, type(p.command).__name__, p.fingerprint, result)
        return [*emitted, p.receipt]

    def _save(
        self,
        to_save: list[Any],
        pending: list[_Pending],
        results: list[CommandResult | None],
        keys_in_batch: dict[tuple[str, str], _Pending],
    ) -> None:
        """Saves the batch's events and receipts in one transaction, then answers the accepted."""
        recordings = self.app.save(*to_save)
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        for p in keys_in_batch.values():
            results[p.index] = CommandResult(
                True,
                p.coop,
                type(p.command).__name__,
                p.key,
                position=positions[p.receipt.originator_id],
                journal_numbers=tuple(p.numbers),
                events=tuple(p.events),
                report=p.report,
            )
        for p in pending:
            r = results[p.index]
            if r is not None and r.duplicate and r.position is None:
                # A duplicate of a command accepted earlier in this same batch.
                original = results[keys_in_batch[(p.coop, p.key)].index]
                assert original is not None
                results[p.index] = CommandResult(
                    True,
                    r.coop,
                    r.command,
                    r.idempotency_key,
                    position=original.position,
                    journal_numbers=original.journal_numbers,
                    events=original.events,
                    duplicate=True,
                    report=original.report,
                )

    def _snapshot(self, saved: list[Cooperative | None]) -> None:
        """Snapshots the just-saved cooperatives that recorded enough events since their last one."""
        latest = self.app.snapshots.latest  # type: ignore[union-attr]
        for coop in saved:
            if coop is not None and snapshots.due(coop.version, latest.get(coop.id, 0)):
                snapshots.take(self, coop)

    def _load(self, slug: str) -> Cooperative | None:
        try:
            return self.app.repository.get(coop_id(slug), projector_func=snapshots.project)
        except AggregateNotFoundError:
            return None

    def _duplicate(self, p: _Pending, earlier: _Pending | None, stored: StoredReceipt | None) -> CommandResult:
        name = type(p.command).__name__
        original_fp = earlier.fingerprint if earlier else stored.fingerprint  # type: ignore[union-attr]
        if original_fp != p.fingerprint:
            error = Conflict(
                "idempotency_key",
                "same_key_same_content",
                f"key {p.key!r} was already used for a different command; use a new key for a new command",
            )
            return CommandResult(False, p.coop, name, p.key, error=error)
        if earlier is not None:
            return CommandResult(True, p.coop, name, p.key, duplicate=True)  # position filled after save
        assert stored is not None
        return CommandResult(
            True,
            p.coop,
            name,
            p.key,
            position=stored.position,
            journal_numbers=tuple(stored.result["journal_numbers"]),
            events=tuple(stored.result["events"]),
            duplicate=True,
            report=stored.result.get("report"),
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
