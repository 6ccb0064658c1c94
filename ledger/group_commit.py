"""Group commit: many threads' single commands saved together in one `execute_batch` transaction.

Each API request thread calls `Ledger.execute` for one command. Saved one by one, every command
pays a whole transaction (and, on PostgreSQL, the event table's lock). Here the threads queue
their commands; when no group is being saved, one waiting thread becomes the leader, takes what
is queued (up to MAX_GROUP_COMMANDS, in arrival order) and saves it with one `execute_batch`; the
others sleep until their result is set. The leader waits at most GATHER_S for the commands of
threads active in the last RECENT_CALLER_S; a lone caller is never slowed down.

What a caller sees is what it would see alone:
- each command is accepted or refused on its own (execute_batch decides them in order, on the
  state left by the commands before it in the group); a refused command writes nothing;
- idempotency keys work across a group (a repeated key inside a group is a duplicate of the first);
- a command over several cooperatives (a federation) is grouped like any other: execute_batch
  locks its cooperatives with the group's and saves it in the group's transaction;
- when the group's transaction fails (an exception, not a refusal), every command of the group is
  tried again alone, so one command's failure is only its own; each caller gets its own result or
  its own exception.

Callers on an event loop (the API's command routes) await `execute_async` instead: no thread
waits for them. When no thread leads, the first of them starts a thread that saves groups until
the queue is empty (a drain); a leading thread that stops while commands wait and no thread is
waiting to lead starts one too, so no command is left queued with nobody to save it. Each group
thus costs one thread hand-off, not one per command (a `def` route's trip to the threadpool and
back is most of what FastAPI spends on a trivial request, measured).

Bounds: at most MAX_QUEUED commands wait (a caller finding the queue full waits up to
QUEUE_WAIT_S for room, then gets `Overloaded`); a group holds at most MAX_GROUP_COMMANDS, so a
caller waits for at most MAX_QUEUED / MAX_GROUP_COMMANDS groups before its own, and never more
than MAX_WAIT_S (then TimeoutError).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError

if TYPE_CHECKING:
    from ledger.service import CommandResult, Ledger

log = structlog.get_logger("coopledger.group_commit")

MAX_GROUP_COMMANDS = 256
MAX_QUEUED = 4096
QUEUE_WAIT_S = 5.0  # a caller finding the queue full waits this long for room, then Overloaded
MAX_WAIT_S = 60.0  # a caller gets its result or an error within this (the store's own timeouts are shorter)
GATHER_S = 0.002  # how long a leader waits for the commands of recently active threads
RECENT_CALLER_S = 0.05  # a thread that sent a command within this counts as active


# The database itself failed (away, restarting, pool exhausted): every command of the group would
# fail the same way after the same wait, so retrying them one by one would only multiply the wait
# of the callers queued behind (found by tests/reliability/test_database_outage.py).
UNREACHABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError, TimeoutError)


class Overloaded(RuntimeError):
    """More commands are waiting than the bound allows: the caller should retry later (HTTP 503)."""


@dataclass(eq=False)  # compared by identity: two callers may send equal commands
class _Request:
    item: tuple[Any, ...]  # (command, key, actor, reason)
    done: threading.Event = field(default_factory=threading.Event)
    result: CommandResult | None = None
    error: BaseException | None = None
    on_done: Callable[[], None] | None = None  # an awaiting caller's wake-up (called from the saving thread)

    def finish(self) -> None:
        self.done.set()
        if self.on_done is not None:
            self.on_done()

    def outcome(self) -> CommandResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit:
    def __init__(self, ledger: Ledger, max_group: int = MAX_GROUP_COMMANDS, max_queued: int = MAX_QUEUED) -> None:
        assert 1 <= max_group <= max_queued
        self.ledger = ledger
        self.max_group = max_group
        self.max_queued = max_queued
        self._queue: deque[_Request] = deque()
        # One lock guards the queue, _busy and _callers; three conditions on it, so that each
        # change wakes only the threads it concerns. With one condition, every command queued woke
        # every waiting caller (32 threads: 31 woken per command, each taking the GIL to go back
        # to sleep); now only the leader gathering a group hears arrivals.
        lock = threading.Lock()
        self._cv = threading.Condition(lock)  # a group was saved: results are set, the leader's place is free
        self._arrivals = threading.Condition(lock)  # a command was queued: a gathering leader may take it
        self._room = threading.Condition(lock)  # commands left the queue: a caller finding it full may add its own
        self._busy = False  # a thread is saving a group
        self._threads_waiting = 0  # threads in execute() waiting for their result or the leader's place
        self.drains = 0  # drain threads started (for tests)
        self._callers: dict[Any, float] = {}  # thread id (or an awaiting caller's name) -> when it last sent a command
        self.groups = 0  # counters, for tests and metrics
        self.grouped_commands = 0

    def execute(self, item: tuple[Any, ...]) -> CommandResult:
        request = _Request(item)
        deadline = time.monotonic() + MAX_WAIT_S
        with self._cv:
            self._callers[threading.get_ident()] = time.monotonic()
            if not self._room.wait_for(lambda: len(self._queue) < self.max_queued, timeout=QUEUE_WAIT_S):
                raise Overloaded(f"{len(self._queue)} commands waiting to be saved; try again later")
            self._queue.append(request)
            self._arrivals.notify()  # a leader gathering a group may be waiting for it (at most one gathers)
        # Each pass finds the request done or saves one group (FIFO, so the request's turn comes);
        # the deadline bounds the wait. Waiting threads sleep on the condition, not on a lock, so
        # those whose result is ready return at once and can send their next command.
        while not request.done.is_set():
            with self._cv:
                self._threads_waiting += 1
                try:
                    free = self._cv.wait_for(
                        lambda: request.done.is_set() or not self._busy, timeout=max(0.0, deadline - time.monotonic())
                    )
                finally:
                    self._threads_waiting -= 1
                    if request.done.is_set():  # leaving: commands queued behind may need a drain to lead them
                        self._lead_if_nobody(raising=False)
                if not free:
                    self._withdraw(request)
                    raise TimeoutError(f"group commit: no result within {MAX_WAIT_S} s")
                if request.done.is_set():
                    break
                self._busy = True
            try:
                self._save_group(self._take(gather=True))
            finally:
                self._release()
        return request.outcome()

    async def execute_async(self, item: tuple[Any, ...], caller: Any) -> CommandResult:
        """`execute` for a caller on an event loop: awaits its result, holding no thread. `caller`
        names the client (its connection, say) for gathering, as a thread does in `execute`."""
        loop = asyncio.get_running_loop()
        answered = loop.create_future()

        def wake() -> None:  # in the saving thread: the future is the loop's, so set from the loop
            try:
                loop.call_soon_threadsafe(lambda: answered.done() or answered.set_result(None))
            except RuntimeError:  # the loop has closed (its server stopped): nobody waits for this result
                pass

        request = _Request(item, on_done=wake)
        with self._cv:
            self._callers[caller] = time.monotonic()
            if len(self._queue) >= self.max_queued:  # a loop does not wait for room: it answers 503 at once
                raise Overloaded(f"{len(self._queue)} commands waiting to be saved; try again later")
            self._queue.append(request)
            self._arrivals.notify()
            try:
                self._lead_if_nobody()
            except BaseException:  # no drain could start: the caller hears it, and its command is not saved later
                self._withdraw(request)
                raise
        try:
            await asyncio.wait_for(asyncio.shield(answered), MAX_WAIT_S)
        except TimeoutError:
            with self._cv:
                self._withdraw(request)
            raise TimeoutError(f"group commit: no result within {MAX_WAIT_S} s") from None
        return request.outcome()

    def _withdraw(self, request: _Request) -> None:
        """Under the lock: a caller giving up takes its command out of the queue, unless a leader has
        taken it already, so that it is not saved behind the caller's back."""
        if request in self._queue:
            self._queue.remove(request)
            self._room.notify()

    def _release(self) -> None:
        """A leading thread gives up its place: to a waiting thread, else to a drain if commands wait."""
        with self._cv:
            self._busy = False
            self._cv.notify_all()
            self._lead_if_nobody(raising=False)

    def _lead_if_nobody(self, *, raising: bool = True) -> None:
        """Under the lock: starts a drain when commands wait, no thread leads and none waits to. A
        thread that cannot start (the process out of threads) leaves the leader's place free, so the
        next caller or leader tries again; raised to an arriving caller, logged for a leaving one
        (whose own command was saved: its answer stands)."""
        if self._queue and not self._busy and self._threads_waiting == 0:
            drain = threading.Thread(target=self._drain, name="group-commit-drain", daemon=True)
            self._busy = True
            try:
                drain.start()
            except BaseException as exc:
                self._busy = False
                if raising:
                    raise
                log.error("group_commit_drain_not_started", queued=len(self._queue), error=f"{type(exc).__name__}: {exc}")
                return
            self.drains += 1

    def _drain(self) -> None:
        """Saves groups, one a pass, while commands keep arriving; gives up the leader's place once
        the queue is empty (a pass takes at most MAX_GROUP_COMMANDS, each at least one)."""
        try:
            while True:
                group = self._take(gather=True)
                if not group:
                    return
                self._save_group(group)
                with self._cv:
                    self._cv.notify_all()  # threads in execute() whose commands this group saved
        finally:
            self._release()

    def _take(self, *, gather: bool) -> list[_Request]:
        """The next group, in arrival order. With `gather`, first waits (at most GATHER_S) until
        as many commands are queued as threads have sent commands lately: under the GIL the
        threads that just got their answers need a moment to send their next command, and
        without this wait groups stay at one or two commands (measured). A lone caller counts
        one thread and never waits."""
        with self._cv:
            if gather:
                now = time.monotonic()
                for ident, last in list(self._callers.items()):
                    if now - last > RECENT_CALLER_S:
                        del self._callers[ident]
                target = min(self.max_group, len(self._callers))
                self._arrivals.wait_for(lambda: len(self._queue) >= target, timeout=GATHER_S)
            group = [self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))]
            self._room.notify_all()  # room in the queue
        return group

    def _save_group(self, group: list[_Request]) -> None:
        if not group:
            return
        self.groups += 1
        self.grouped_commands += len(group)
        try:
            results = self.ledger.execute_batch([r.item for r in group])
        except BaseException as exc:  # noqa: BLE001 (each command is retried alone below)
            if len(group) == 1 or isinstance(exc, UNREACHABLE):
                for request in group:
                    request.error = exc
                    request.finish()
                return
            log.warning("group_commit_failed_retrying_alone", commands=len(group), error=f"{type(exc).__name__}: {exc}")
            for request in group:
                try:
                    request.result = self.ledger.execute_batch([request.item])[0]
                except BaseException as alone:  # noqa: BLE001 (handed to its own caller)
                    request.error = alone
                request.finish()
            return
        for request, result in zip(group, results, strict=True):
            request.result = result
            request.finish()
