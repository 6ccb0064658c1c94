"""Keeps the projections current: reads the notification log in batches and applies each
batch to every projection, rows and positions in one transaction.

PostgreSQL wakes the runner with LISTEN/NOTIFY; SQLite has no notifications, so the runner
polls. A failing batch rolls back whole; the supervising loop logs it, keeps the error for
health checks and retries with backoff, so a runner never dies silently.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import structlog

from domain.events import EVENT_CLASSES
from domain.identities import PersonForgotten
from ledger.db import Tx
from ledger.erasure import erase_remnants
from ledger.service import Ledger
from projections.base import Projection
from projections.buffered import BufferedTx
from projections.catalog import all_projections
from projections.log_reader import LogReader

log = structlog.get_logger("coopledger.projections")

DEFAULT_BATCH = 1000
# Events per page of a rebuild (command receipts, filtered out in SQL, are not counted): each page
# is one transaction (rows and positions), so bigger pages mean fewer commits and bigger bulk
# writes (BufferedTx); the page's decoded events and pending rows stay in memory, so it is bounded.
REBUILD_BATCH = 10_000
# Log positions per statement of a set-based rebuild: bounds each statement, shows progress.
# Each range reads the whole postings table (it has no index on the position), and on PostgreSQL
# only the first one writes the view without maintaining its key (projections/balances.py):
# ranges are few and large (the benchmark's 420,000 positions are one).
REBUILD_RANGE = 1_000_000
SQLITE_REBUILD_CACHE_KB = 65_536
POLL_INTERVAL_S = 0.05
MAX_BACKOFF_S = 5.0

Progress = Callable[[int, int], None]  # (events done, events to do)
READ_LOG = "(read and decode the log)"


class ProjectionRunner:
    def __init__(
        self,
        ledger: Ledger,
        projections: Sequence[type[Projection]] | None = None,
        batch_size: int = DEFAULT_BATCH,
        rebuild_batch_size: int = REBUILD_BATCH,
    ) -> None:
        assert 1 <= batch_size <= 10_000 and 1 <= rebuild_batch_size <= 10_000
        self.rebuild_batch_size = rebuild_batch_size
        self.ledger = ledger
        self.db = ledger.db
        self.projections = [cls() for cls in (all_projections() if projections is None else projections)]
        self.batch_size = batch_size
        # Receipts are not facts of the cooperative: filter them out in the database.
        self.topics = sorted(cls.TOPIC for cls in EVENT_CLASSES.values())
        self._reader = LogReader(ledger, self.topics)
        self.last_error: str | None = None
        # Passive: projections run in other processes (`serve --no-projections` + `coopledger
        # project`); wait_for then only watches the positions, it never processes events itself.
        self.passive = False
        self.applied_batches = 0
        # Seconds spent per projection (and reading the log: READ_LOG) by this runner, summed over
        # its batches since it was made or its last rebuild started: what a rebuild logs and the
        # whole benchmark reports per view.
        self.spent_s: defaultdict[str, float] = defaultdict(float)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._advanced = threading.Condition()
        with self.db.transaction() as tx:
            for projection in self.projections:
                if projection.schema:
                    tx.script(projection.schema)
            tx.executemany(
                "INSERT INTO projection_positions (projection, position) VALUES (?, 0) ON CONFLICT (projection) DO NOTHING",
                [(p.name,) for p in self.projections],
            )

    # ------------------------------------------------------------ positions

    def positions(self) -> dict[str, int]:
        with self.db.read() as tx:
            return self._positions(tx)

    def _positions(self, tx: Tx, *, for_update: bool = False) -> dict[str, int]:
        names = [p.name for p in self.projections]
        marks = ", ".join("?" for _ in names)
        lock = " FOR UPDATE" if for_update and tx.dialect == "postgres" else ""
        rows = tx.execute(f"SELECT projection, position FROM projection_positions WHERE projection IN ({marks}){lock}", names)  # noqa: S608
        positions = {name: int(pos) for name, pos in rows}
        assert set(positions) == set(names), f"missing positions for {set(names) - set(positions)}"
        return positions

    def position(self) -> int:
        """How far every projection has got: a query can trust views up to here. One statement, no
        snapshot to open: reads that check it on every request (the observatory) pay one round trip."""
        names = [p.name for p in self.projections]
        marks = ", ".join("?" for _ in names)
        sql = f"SELECT projection, position FROM projection_positions WHERE projection IN ({marks})"  # noqa: S608
        positions = {name: int(pos) for name, pos in self.db.query(sql, names)}
        assert set(positions) == set(names), f"missing positions for {set(names) - set(positions)}"
        return min(positions.values())

    # ------------------------------------------------------------ processing

    def catch_up(self, progress: Progress | None = None, *, batch_size: int | None = None) -> int:
        """Processes every event recorded so far, `batch_size` (default: the runner's) events
        per transaction. Returns how many log positions it advanced the slowest
        projection by (command receipts, filtered out in SQL, count as positions)."""
        recorder = self.ledger.app.recorder
        limit = batch_size or self.batch_size
        upto = recorder.max_notification_id() or 0
        start = self.position()
        done = 0
        # Bounded: each pass advances the slowest position by at least one notification.
        for _ in range(upto - start + 1):
            start = self.position()
            if start >= upto:
                break
            read_started = time.perf_counter()
            batch, end = self._reader.read(start + 1, upto, limit)
            self.spent_s[READ_LOG] += time.perf_counter() - read_started
            self._apply(batch, end)
            done += end - start
            if progress is not None:
                progress(min(done, upto), upto)
        with self._advanced:
            self._advanced.notify_all()
        return done

    def _apply(self, batch: list[tuple[int, Any]], end: int) -> None:
        self._apply_in_one_transaction(batch, end)
        if any(type(e) is PersonForgotten for _position, e in batch):
            # Every view has replaced the identity (same transaction as their positions): now the
            # bytes the store may still keep of it (ledger/erasure.py).
            erase_remnants(self.db, [t for p in self.projections for t in p.identity_tables])

    def _apply_in_one_transaction(self, batch: list[tuple[int, Any]], end: int) -> None:
        with self.db.transaction() as tx:
            positions = self._positions(tx, for_update=True)  # another runner may have moved on
            if any(positions[p.name] < end for p in self.projections):
                self.applied_batches += 1  # (this process's share, when several runners run)
            first = batch[0][0] if batch else end
            advanced = []
            for projection in self.projections:
                position = positions[projection.name]
                if position >= end:
                    continue
                started = time.perf_counter()
                buffered = BufferedTx(tx)
                events = batch if position < first else [(i, e) for i, e in batch if i > position]
                projection.process(buffered, events)
                buffered.flush()
                # After the whole batch: rows written above from events read before the key was deleted.
                for _position, event in events:
                    if type(event) is PersonForgotten:
                        for person in event.forgotten_ids:
                            projection.forget(tx, event.coop, person)
                advanced.append(projection.name)
                self.spent_s[projection.name] += time.perf_counter() - started
            if advanced:  # one statement for every view this batch advanced (one round trip, not 20)
                marks = ", ".join("?" for _ in advanced)
                sql = f"UPDATE projection_positions SET position = ? WHERE projection IN ({marks})"  # noqa: S608
                changed = tx.execute_count(sql, (end, *advanced))
                assert changed == len(advanced), f"{changed} positions moved for {advanced}"

    def rebuild(self, progress: Progress | None = None) -> int:
        """Deletes every row the projections own and replays the whole log."""
        with self.db.transaction() as tx:
            for projection in self.projections:
                projection.clear(tx)
                tx.execute_one("UPDATE projection_positions SET position = 0 WHERE projection = ?", (projection.name,))
        self.spent_s.clear()  # from here, what this rebuild spends per view
        log.info("rebuild_started", projections=[p.name for p in self.projections])
        started = time.perf_counter()
        with _no_cyclic_collection():
            self._rebuild_in_store(progress)
            done = self.catch_up(progress, batch_size=self.rebuild_batch_size)
        log.info(
            "rebuild_finished",
            positions=done,
            seconds=round(time.perf_counter() - started, 3),
            seconds_per_view={name: round(s, 3) for name, s in sorted(self.spent_s.items(), key=lambda kv: -kv[1])},
        )
        return done

    def _rebuild_in_store(self, progress: Progress | None) -> None:
        """Projections that can sum the log inside the database (`rebuild_in_store`) do so first,
        in ranges of REBUILD_RANGE positions, all in one transaction with their position;
        catch_up then only decodes events for the others. Skipped when stored states are not
        plain JSON (compressed or enciphered), and for a projection whose fields an upcaster
        changes: the SQL reads the stored JSON as it is, before any upcasting."""
        bulk = [p for p in self.projections if hasattr(p, "rebuild_in_store")]
        mapper = self.ledger.app.mapper
        if not bulk or mapper.compressor is not None or mapper.cipher is not None:
            return
        bulk = [p for p in bulk if _upcasters_keep(p.state_fields)]
        if not bulk:
            return
        upto = self.ledger.app.recorder.max_notification_id() or 0
        # One transaction for the whole log: a projection may derive more rows at the end
        # (finish_rebuild_in_store), so no position is valid before then. The ranges bound
        # each statement and show progress.
        with self.db.transaction() as tx:
            # Another runner (another process) may have started from the cleared position: lock
            # the positions and sum in the database only for projections still at zero.
            positions = self._positions(tx, for_update=True)
            bulk = [p for p in bulk if positions[p.name] == 0]
            if tx.dialect == "sqlite":
                # The view's B-tree is merged into page by page: SQLite's default 2 MB page
                # cache makes that 1.5x slower (measured). Per connection; 64 MB at most.
                tx.execute(f"PRAGMA cache_size = -{SQLITE_REBUILD_CACHE_KB}")
            for after in range(0, upto, REBUILD_RANGE):
                end = min(after + REBUILD_RANGE, upto)
                for projection in bulk:
                    started = time.perf_counter()
                    projection.rebuild_in_store(tx, after, end)
                    self.spent_s[projection.name] += time.perf_counter() - started
                if progress is not None:
                    progress(end, upto)
            for projection in bulk:
                finish = getattr(projection, "finish_rebuild_in_store", None)
                started = time.perf_counter()
                if finish is not None:
                    finish(tx)
                self.spent_s[projection.name] += time.perf_counter() - started
                tx.execute_one("UPDATE projection_positions SET position = ? WHERE projection = ?", (upto, projection.name))
        if upto and self.db.dialect == "postgres":
            # Fresh rows: without statistics PostgreSQL plans the reads that follow badly.
            with self.db.transaction() as tx:
                for projection in bulk:
                    for view in projection.tables:
                        tx.execute(f"ANALYZE {view}")  # noqa: S608 (table names are constants)

    # ------------------------------------------------------------ running in the background

    def start(self) -> None:
        assert self._thread is None, "runner already started"
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="projection-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether this runner projects in the background in this process (start() was called)."""
        return self._thread is not None

    def wait_for(self, position: int, timeout_s: float = 2.0) -> bool:
        """Waits until every projection has reached `position`; False when time ran out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._thread is None and not self.passive:
                self.catch_up()
            if self.position() >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(remaining, POLL_INTERVAL_S))

    def _run(self) -> None:
        backoff_s = POLL_INTERVAL_S
        listener: _Listener | None = None
        while not self._stop.is_set():
            try:
                if listener is None and self.db.dialect == "postgres":
                    # Opened inside the supervised block: the database may be away right now.
                    listener = _Listener(self.ledger)
                self.catch_up()
                self.last_error = None
                backoff_s = POLL_INTERVAL_S
                if listener is not None:
                    listener.wait(timeout_s=1.0)
                else:
                    self._stop.wait(POLL_INTERVAL_S)
            except Exception as exc:  # supervised: logged, kept for health, retried
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("projection_batch_failed", error=self.last_error, retry_in_s=backoff_s)
                self._stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
                if listener is not None:
                    listener.close()
                    listener = None  # reopened at the top of the loop, where a failure is caught
        if listener is not None:
            listener.close()


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a rebuild. A page allocates hundreds of
    thousands of objects (decoded events, rows), each allocation counting towards a collection
    that then walks every live object: 15-20% of the rebuild's CPU time, measured, for no
    garbage (the events and rows hold no cycles: refcounting frees them; a collection after a
    rebuild of 35,005 events found none). Resumed after, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _upcasters_keep(fields: Sequence[str]) -> bool:
    """True when no event class's upcasters touch these state fields: each upcast_vN_vN+1 is run
    on a probe state holding only them, which must come out the same object for object. An
    upcaster that needs other fields (raises) or changes these counts as touching them."""
    for cls in EVENT_CLASSES.values():
        for version in range(1, getattr(cls, "class_version", 1)):
            probe: dict[str, Any] = {name: object() for name in fields}
            before = dict(probe)
            try:
                getattr(cls, f"upcast_v{version}_v{version + 1}")(probe)
            except Exception:  # noqa: BLE001 (any failure means: cannot prove it leaves them alone)
                return False
            if any(probe.get(name) is not value for name, value in before.items()):
                return False
    return True


class _Listener:
    """A dedicated PostgreSQL connection that LISTENs on the event table's channel."""

    def __init__(self, ledger: Ledger) -> None:
        import psycopg

        channel = ledger.app.recorder.channel_name  # type: ignore[attr-defined]
        self.conn = psycopg.connect(ledger.db.conninfo(), autocommit=True)
        self.conn.execute(f'LISTEN "{channel}"')

    def wait(self, timeout_s: float) -> None:
        for _ in self.conn.notifies(timeout=timeout_s, stop_after=1):
            pass

    def close(self) -> None:
        self.conn.close()
