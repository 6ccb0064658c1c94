"""Group commit for callers on an event loop (`GroupCommit.execute_async`, the API's command routes):
no thread waits for them, a drain thread saves their groups, and they keep every guarantee of the
threads' path: each command recorded once, a retry records nothing, a refusal writes nothing, and
no command is left queued with nobody to save it, whichever mix of threads and loops sends them."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest

from domain.fees import PayFee
from ledger import group_commit
from ledger.group_commit import GroupCommit, Overloaded
from tests.builders import stored_event_count
from tests.perf.test_group_commit import DAY, MEMBERS, _assert_books_hold, _setup

PAYMENT_EUR = Decimal("0.01")


def _idle(group: GroupCommit) -> bool:
    """Whether the drain that led the last group has left (it answers its callers before leaving)."""
    deadline = time.monotonic() + 5
    while group._busy and time.monotonic() < deadline:
        time.sleep(0.01)
    return not group._busy and not group._queue


def _payment(member: str, key: str) -> tuple[PayFee, str, str, None]:
    return (PayFee("demo", member, 2020, PAYMENT_EUR, DAY), key, "t", None)


def test_awaiting_callers_are_saved_in_groups_and_a_retry_records_nothing(ledger):
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    items = [_payment(MEMBERS[i % len(MEMBERS)], f"pay-{i}") for i in range(40)]
    items.append(_payment("nobody", "pay-nobody"))  # refused: not a member

    async def send_all() -> list:
        return await asyncio.gather(*(ledger.group.execute_async(item, caller=i % 8) for i, item in enumerate(items)))

    groups_before = ledger.group.groups
    results = asyncio.run(send_all())
    assert [r.accepted for r in results] == [True] * 40 + [False]
    assert results[-1].error is not None and results[-1].error.field == "member_id"
    assert ledger.group.groups - groups_before < 40  # grouped: fewer transactions than commands
    assert ledger.group.drains >= 1 and _idle(ledger.group)  # a drain led them, then left
    assert stored_event_count(ledger) == before + 40 * 2  # an event and a receipt each; the refusal wrote nothing

    again = asyncio.run(send_all())  # every one sent again: answered as before, nothing written
    assert [r.duplicate for r in again[:40]] == [True] * 40
    assert [r.position for r in again[:40]] == [r.position for r in results[:40]]
    assert stored_event_count(ledger) == before + 40 * 2
    _assert_books_hold(ledger, "demo")


def test_threads_and_awaiting_callers_together_leave_no_command_behind(ledger, monkeypatch):
    """Threads lead groups of their own while loops' commands arrive, in whatever interleaving the
    scheduler makes: every command is answered and saved once. A command left behind would wait for
    MAX_WAIT_S, shortened here so that the test fails, not hangs. (The one window where that could
    happen is rare under a steady load: the test after the next makes it on purpose.)"""
    monkeypatch.setattr(group_commit, "MAX_WAIT_S", 15.0)
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    per_caller, threads_n, loops_n = 12, 4, 2
    errors: list[BaseException] = []
    accepted: list[bool] = []

    def thread_caller(t: int) -> None:
        try:
            for i in range(per_caller):
                accepted.append(ledger.group.execute(_payment(MEMBERS[i % 3], f"thread-{t}-{i}")).accepted)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    def loop_caller(n: int) -> None:
        async def one(c: int) -> None:
            for i in range(per_caller):
                result = await ledger.group.execute_async(_payment(MEMBERS[i % 3], f"loop-{n}-{c}-{i}"), caller=(n, c))
                accepted.append(result.accepted)

        async def all_of_them() -> None:
            await asyncio.wait_for(asyncio.gather(*(one(c) for c in range(8))), 60)

        try:
            asyncio.run(all_of_them())
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    workers = [threading.Thread(target=thread_caller, args=(t,)) for t in range(threads_n)]
    workers += [threading.Thread(target=loop_caller, args=(n,)) for n in range(loops_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(90)
    assert not any(w.is_alive() for w in workers)
    assert errors == []
    total = per_caller * (threads_n + loops_n * 8)
    assert accepted == [True] * total
    assert stored_event_count(ledger) == before + total * 2
    assert _idle(ledger.group)
    _assert_books_hold(ledger, "demo")


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_a_full_queue_refuses_an_awaiting_caller_at_once_and_writes_nothing(ledger):
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    group = GroupCommit(ledger, max_group=1, max_queued=1)

    async def scenario() -> None:
        with group._cv:
            group._busy = True  # a leader holds the place: what is queued stays queued
        first = asyncio.ensure_future(group.execute_async(_payment("m0", "first"), caller=1))
        await asyncio.sleep(0.05)
        assert len(group._queue) == 1
        with pytest.raises(Overloaded):  # at once: a loop does not wait for room
            await group.execute_async(_payment("m1", "second"), caller=2)
        assert stored_event_count(ledger) == before
        group._release()  # the leader leaves: a drain takes the queued command
        assert (await asyncio.wait_for(first, 10)).accepted

    asyncio.run(scenario())
    assert stored_event_count(ledger) == before + 2  # the first only


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_a_leader_leaving_while_a_saved_thread_still_waits_hands_the_queue_to_a_drain(ledger, monkeypatch):
    """The window where a loop's command could be left behind, made deterministic: a leader saves a
    thread's command and leaves while that thread still sleeps (counted as waiting to lead, so no
    drain starts); the thread then wakes to its result and must start the drain on its way out."""
    monkeypatch.setattr(group_commit, "MAX_WAIT_S", 5.0)
    _setup(ledger, "demo")
    group = GroupCommit(ledger, max_group=1)
    with group._cv:
        group._busy = True  # the test leads
    answers: dict[str, object] = {}
    thread = threading.Thread(target=lambda: answers.__setitem__("thread", group.execute(_payment("m0", "by-thread"))))
    thread.start()
    deadline = time.monotonic() + 10
    while (len(group._queue) < 1 or group._threads_waiting < 1) and time.monotonic() < deadline:
        time.sleep(0.01)

    def loop_caller() -> None:
        async def send() -> object:
            return await group.execute_async(_payment("m1", "by-loop"), caller="loop")

        try:
            answers["loop"] = asyncio.run(send())
        except BaseException as exc:  # noqa: BLE001 (asserted below)
            answers["loop"] = exc

    loop_thread = threading.Thread(target=loop_caller)
    loop_thread.start()
    while len(group._queue) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(group._queue) == 2 and group.drains == 0
    group._save_group(group._take(gather=False))  # the thread's command (first in), saved; nobody notified yet
    group._release()  # the thread still counts as waiting: no drain from here
    thread.join(10)
    loop_thread.join(10)
    assert answers["thread"].accepted  # type: ignore[union-attr]
    assert not isinstance(answers["loop"], BaseException), answers["loop"]
    assert answers["loop"].accepted and group.drains == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_a_drain_that_cannot_start_refuses_its_caller_and_leaves_the_place_free(ledger, monkeypatch):
    """Out of threads: the caller whose command would have started the drain gets the error and its
    command is withdrawn (not saved behind its back); the leader's place stays free, so the next
    command starts a drain and is saved."""
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    group = GroupCommit(ledger)
    failures = {"left": 1}

    class FailingOnce(threading.Thread):
        def start(self) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(group_commit.threading, "Thread", FailingOnce)

    async def scenario() -> tuple[BaseException | None, object]:
        try:
            await group.execute_async(_payment("m0", "refused-by-the-machine"), caller=1)
            first = None
        except RuntimeError as exc:
            first = exc
        assert not group._busy and not group._queue
        return first, await asyncio.wait_for(group.execute_async(_payment("m1", "next"), caller=2), 10)

    first, second = asyncio.run(scenario())
    assert isinstance(first, RuntimeError) and group.drains == 1
    assert second.accepted  # type: ignore[attr-defined]
    assert stored_event_count(ledger) == before + 2  # the second command only
