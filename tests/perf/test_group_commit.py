"""Group commit (ledger/group_commit.py) keeps the ledger's invariants: every entry balances,
a retried command is never recorded twice, a refused command writes nothing and refuses only
itself, and a group decides exactly as the same commands sent one by one (both stores)."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.fees import CallFee, PayFee
from ledger.group_commit import GroupCommit, _Request
from ledger.service import CommandResult, Ledger
from projections.balances import BalancesProjection, trial_balance
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, ok, stored_event_count, stored_financial_events, unbalanced_units

DAY = date(2020, 3, 1)
MEMBERS = ("m0", "m1", "m2")


def _setup(ledger: Ledger, coop: str) -> None:
    ok(ledger, found_association(coop))
    for m in MEMBERS:
        ok(ledger, admit(coop, m, "users", date(2020, 2, 1)))
        ok(ledger, CallFee(coop, m, 2020, date(2020, 2, 1)))  # 100 EUR each


def _in_one_group(ledger: Ledger, items: list[tuple[Any, ...]]) -> list[CommandResult]:
    """Runs these commands from one thread each, all queued before any is saved: the test holds
    the leader's place until every thread has queued, so they are saved as one group."""
    group = ledger.group
    results: dict[int, CommandResult] = {}
    with group._cv:
        group._busy = True
    threads = [
        threading.Thread(target=lambda i=i, item=item: results.__setitem__(i, ledger.execute(*item)))
        for i, item in enumerate(items)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(group._queue) < len(items) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(group._queue) == len(items)
    groups_before = group.groups
    with group._cv:
        group._busy = False
        group._cv.notify_all()
    for t in threads:
        t.join(10)
    assert group.groups == groups_before + 1  # one transaction for all of them
    return [results[i] for i in range(len(items))]


def _assert_books_hold(ledger: Ledger, coop: str) -> None:
    entries = stored_financial_events(ledger, coop)
    assert [e.journal_number for e in entries] == list(range(1, len(entries) + 1))  # no gap, no repeat
    for e in entries:
        assert unbalanced_units(e.postings) == {}, e
    runner = ProjectionRunner(ledger, projections=(BalancesProjection,))
    runner.catch_up()
    totals = trial_balance(ledger.db, coop)["totals"]  # raises if it does not balance
    assert totals["EUR"]["debit"] == totals["EUR"]["credit"]


def test_a_group_accepts_and_refuses_each_command_on_its_own(ledger):
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    items = [
        (PayFee("demo", "m0", 2020, Decimal("40"), DAY), "pay-m0", "t"),
        (PayFee("demo", "m1", 2020, Decimal("500"), DAY), "overpay-m1", "t"),  # refused: more than called
        (PayFee("demo", "nobody", 2020, Decimal("5"), DAY), "pay-nobody", "t"),  # refused: unknown member
        (PayFee("demo", "m2", 2020, Decimal("100"), DAY), "pay-m2", "t"),
        (PayFee("demo", "m2", 2020, Decimal("100"), DAY), "pay-m2", "t"),  # same key, same content
        (PayFee("demo", "m1", 2020, Decimal("10"), DAY), "pay-m1", "t"),
        (PayFee("demo", "m1", 2020, Decimal("20"), DAY), "pay-m1", "t"),  # same key, other content
    ]
    results = _in_one_group(ledger, items)
    assert [r.accepted for r in results[:4]] == [True, False, False, True]
    assert results[1].error is not None and results[1].error.field == "amount"
    assert results[2].error is not None
    pair = results[3:5]  # whichever was queued first is accepted, the other is its duplicate
    assert sorted(r.duplicate for r in pair) == [False, True] and pair[0].position == pair[1].position
    m1 = results[5:7]
    assert sorted(r.accepted for r in m1) == [False, True]
    assert next(r for r in m1 if not r.accepted).error.rule == "same_key_same_content"  # type: ignore[union-attr]
    # Three payments recorded, each one event and one receipt; the refused wrote nothing.
    assert stored_event_count(ledger) == before + 3 * 2
    _assert_books_hold(ledger, "demo")


def test_a_failed_group_is_retried_command_by_command(ledger, monkeypatch):
    _setup(ledger, "demo")
    before = stored_event_count(ledger)
    original = Ledger.execute_batch
    failures = {"groups": 0}

    def flaky(self: Ledger, items: Any) -> list[CommandResult]:
        if any(item[1] == "poison" for item in items):
            raise RuntimeError("this command breaks its transaction")
        if len(items) > 1 and failures["groups"] == 0:
            failures["groups"] += 1
            original(self, items)  # the group is saved, then the answer is lost
            raise ConnectionError("connection lost after commit")
        return original(self, items)

    monkeypatch.setattr(Ledger, "execute_batch", flaky)
    items = [(PayFee("demo", m, 2020, Decimal("30"), DAY), f"pay-{m}", "t") for m in MEMBERS]
    results = _in_one_group(ledger, items)
    assert failures["groups"] == 1
    assert all(r.accepted and r.duplicate for r in results)  # retried alone: found already saved
    assert stored_event_count(ledger) == before + 3 * 2  # saved once, not twice

    poisoned = [
        (PayFee("demo", "m0", 2020, Decimal("1"), DAY), "poison", "t"),
        (PayFee("demo", "m1", 2020, Decimal("1"), DAY), "fine", "t"),
    ]
    group = ledger.group
    requests = [_Request((*item, None)) for item in poisoned]
    group._queue.extend(requests)
    group._save_group(group._take(gather=False))
    assert isinstance(requests[0].error, RuntimeError) and requests[0].result is None
    assert requests[1].error is None and requests[1].result is not None and requests[1].result.accepted
    _assert_books_hold(ledger, "demo")


def test_threads_and_a_second_instance_record_every_command_once(ledger, make_ledger):
    """Real concurrency: 8 threads through group commit, plus another Ledger on the same store
    (another process) racing on the same cooperative; then every command is sent again."""
    _setup(ledger, "demo")
    other = make_ledger()
    per_thread = 6
    items = [
        (PayFee("demo", MEMBERS[i % 3], 2020, Decimal("1"), DAY), f"t{t}-{i}", "t") for t in range(8) for i in range(per_thread)
    ]
    extra = [(PayFee("demo", "m0", 2020, Decimal("1"), DAY), f"other-{i}", "o") for i in range(6)]
    results: list[CommandResult] = []
    lock = threading.Lock()

    def send(chunk: list[tuple[Any, ...]], via: Ledger) -> None:
        for item in chunk:
            r = via.execute(*item)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=send, args=(items[t * per_thread : (t + 1) * per_thread], ledger)) for t in range(8)]
    threads.append(threading.Thread(target=send, args=(extra, other)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == len(items) + len(extra) and all(r.accepted and not r.duplicate for r in results)
    count = stored_event_count(ledger)
    again = [ledger.execute(*item) for item in items[:10]] + [other.execute(*item) for item in extra[:2]]
    assert all(r.accepted and r.duplicate for r in again)
    assert stored_event_count(ledger) == count
    entries = stored_financial_events(ledger, "demo")
    paid = sum(1 for e in entries if type(e).__name__ == "FeePaid")
    assert paid == len(items) + len(extra)
    _assert_books_hold(ledger, "demo")


_amounts = st.sampled_from([Decimal("10"), Decimal("40"), Decimal("60"), Decimal("150")])
_ops = st.lists(st.tuples(st.sampled_from(MEMBERS), _amounts, st.integers(0, 5)), min_size=1, max_size=10)


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=_ops)
def test_a_group_decides_like_the_same_commands_one_by_one(store_factory, ops):
    url = store_factory.new(migrated=True)
    from ledger.migrate import migrate
    from ledger.store import StoreConfig

    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        for coop in ("grouped", "alone"):
            _setup(ledger, coop)
        grouped_items = [(PayFee("grouped", m, 2020, a, DAY), f"k{k}", "t", None) for m, a, k in ops]
        group = GroupCommit(ledger, max_group=len(ops))
        requests = [_Request(item) for item in grouped_items]
        group._queue.extend(requests)  # queued in this order, saved as one group
        group._save_group(group._take(gather=False))
        alone = [ledger.execute_batch([(PayFee("alone", m, 2020, a, DAY), f"k{k}", "t")])[0] for m, a, k in ops]
        for r, a in zip(requests, alone, strict=True):
            g = r.result
            assert g is not None and r.error is None
            assert (g.accepted, g.duplicate, g.journal_numbers, g.events) == (
                a.accepted,
                a.duplicate,
                a.journal_numbers,
                a.events,
            )
            assert (g.error and g.error.rule) == (a.error and a.error.rule)
        runner = ProjectionRunner(ledger, projections=(BalancesProjection,))
        runner.catch_up()
        assert trial_balance(ledger.db, "grouped")["accounts"] == trial_balance(ledger.db, "alone")["accounts"]
    finally:
        ledger.close()
        store_factory.drop(url)


@pytest.mark.parametrize("max_queued", [2])
def test_a_full_queue_is_refused_after_waiting(ledger, monkeypatch, max_queued):
    import ledger.group_commit as gc

    monkeypatch.setattr(gc, "QUEUE_WAIT_S", 0.05)
    group = GroupCommit(ledger, max_group=1, max_queued=max_queued)
    group._queue.extend(_Request(("x",)) for _ in range(max_queued))
    with pytest.raises(gc.Overloaded):
        group.execute((found_association("demo"), "k", "t", None))
