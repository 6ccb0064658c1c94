"""Several writers on one cooperative: threads of one Ledger, and several Ledger instances
(separate "processes" sharing the store). No update may be lost and the journal numbering
must stay 1..N without gaps or duplicates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

from domain.fees import CallFee, PayFee
from ledger.service import CommandResult, Ledger
from tests.builders import admit, found_association, ok, stored_event_count, stored_financial_events, unbalanced_units

FEB1, MAR1 = date(2020, 2, 1), date(2020, 3, 1)
COLLEGES = ("founders", "users", "partners", "staff")


def writer(ledger: Ledger, name: str, members: int, start: threading.Barrier) -> Callable[[], list[CommandResult]]:
    """Admits `members` members and calls each one's 2020 fee."""

    def run() -> list[CommandResult]:
        start.wait(timeout=30)
        results = []
        for j in range(members):
            member = f"{name}-m{j}"
            results.append(ledger.execute(admit("demo", member, COLLEGES[j % 4], FEB1), f"admit-{member}"))
            results.append(ledger.execute(CallFee("demo", member, 2020, FEB1), f"call-{member}"))
        return results

    return run


def run_writers(jobs: list[Callable[[], list[CommandResult]]]) -> list[CommandResult]:
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [r for f in futures for r in f.result(timeout=120)]


def check_books(ledger: Ledger, results: list[CommandResult], entries: int) -> None:
    assert all(r.accepted and not r.duplicate for r in results), [r.error for r in results if not r.accepted]
    numbers = sorted(n for r in results for n in r.journal_numbers)
    assert numbers == list(range(1, entries + 1)), "journal numbers must be 1..N, each once"
    positions = [r.position for r in results]
    assert len(set(positions)) == len(positions)
    # Read back from the store by a fresh instance: reloading replays the hash chain and the
    # numbering checks of Journal.append, so a lost or duplicated entry would raise here.
    stored = stored_financial_events(ledger, "demo")
    assert [e.journal_number for e in stored] == list(range(1, entries + 1))
    assert all(unbalanced_units(e.postings) == {} for e in stored)
    assert sum(e.postings[0][3] for e in stored) == entries * 10000  # 100.00 EUR per person


def test_threads_of_one_ledger_lose_no_update(ledger):
    ok(ledger, found_association())
    threads, members = 4, 5
    start = threading.Barrier(threads)
    results = run_writers([writer(ledger, f"t{i}", members, start) for i in range(threads)])

    check_books(ledger, results, threads * members)
    coop = ledger.cooperative("demo")
    assert len(coop.members) == threads * members
    assert coop.journal.last_number == threads * members
    assert len(coop.fee_calls) == threads * members


def test_several_ledger_instances_lose_no_update(ledger, make_ledger):
    """Optimistic concurrency: a writer that saved second re-reads and decides again."""
    ok(ledger, found_association())
    instances = [ledger, make_ledger()]
    threads_per_instance, members = 2, 4
    start = threading.Barrier(len(instances) * threads_per_instance)
    jobs = [
        writer(instance, f"p{p}t{t}", members, start) for p, instance in enumerate(instances) for t in range(threads_per_instance)
    ]
    results = run_writers(jobs)

    total = len(jobs) * members
    check_books(ledger, results, total)
    fresh = make_ledger()
    assert fresh.cooperative("demo").journal.last_number == total
    for instance in instances:  # each instance fast-forwards to what the others wrote
        assert len(instance.cooperative("demo").members) == total


def test_same_key_sent_to_two_instances_at_once_is_recorded_once(ledger, make_ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    other = make_ledger()
    count = stored_event_count(ledger)
    start = threading.Barrier(2)

    def pay(instance: Ledger) -> CommandResult:
        start.wait(timeout=30)
        return instance.execute(PayFee("demo", "alice", 2020, Decimal("60"), MAR1), "pay-once")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(pay, [ledger, other]))

    assert all(r.accepted for r in results)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].position == results[1].position and results[0].journal_numbers == results[1].journal_numbers == (2,)
    assert stored_event_count(ledger) == count + 2  # one FeePaid, one receipt
    assert make_ledger().cooperative("demo").fee_calls[("alice", 2020)].paid_cents == 6000


def test_a_second_instance_picks_up_the_first_ones_events(ledger, make_ledger):
    first = ledger
    ok(first, found_association())
    ok(first, admit("demo", "alice", "founders", FEB1))
    ok(first, CallFee("demo", "alice", 2020, FEB1))  # entry 1; first now caches the aggregate
    cached_version = first.cooperative("demo").version

    second = make_ledger()
    ok(second, admit("demo", "bob", "users", FEB1))
    assert ok(second, CallFee("demo", "bob", 2020, FEB1)).journal_numbers == (2,)

    # The first instance has never seen bob: it must fast-forward, not refuse or renumber.
    paid = ok(first, PayFee("demo", "bob", 2020, Decimal("100"), MAR1))
    assert paid.journal_numbers == (3,)
    coop = first.cooperative("demo")
    assert coop.version == cached_version + 3
    assert set(coop.members) == {"alice", "bob"}
    assert coop.fee_calls[("bob", 2020)].paid_cents == 10000
    assert second.cooperative("demo").journal.last_number == 3
    assert [e.journal_number for e in stored_financial_events(second, "demo")] == [1, 2, 3]
    # A refusal decided on the fast-forwarded state: bob has paid everything.
    over = second.execute(PayFee("demo", "bob", 2020, Decimal("0.01"), MAR1), "over")
    assert over.error.rule == "no_overpayment"
    # Positions are global: both instances agree on the log's end.
    assert first.position() == second.position() == paid.position


def test_a_duplicate_committed_while_this_instance_loads_is_still_a_duplicate(ledger, make_ledger):
    """Deterministic form of the race above: the other instance commits the same command (events
    and receipt together) just as this one loads the cooperative. This one must answer with the
    original result, never decide again on state that already holds the payment (which would
    refuse it as an overpayment: 60 + 60 > 100)."""
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, CallFee("demo", "alice", 2020, FEB1))
    other = make_ledger()
    ledger._evict(["demo"])  # the next command loads the cooperative from the store
    command = PayFee("demo", "alice", 2020, Decimal("60"), MAR1)
    original_load = ledger._load
    first: list[CommandResult] = []

    def load_after_the_other_commits(slug: str):  # noqa: ANN202
        if not first:
            first.append(other.execute(command, "pay-once"))
        return original_load(slug)

    ledger._load = load_after_the_other_commits  # type: ignore[method-assign]
    result = ledger.execute(command, "pay-once")
    assert first[0].accepted and not first[0].duplicate
    assert result.accepted and result.duplicate, result.error
    assert (result.position, result.journal_numbers) == (first[0].position, first[0].journal_numbers)
    assert ledger.cooperative("demo").fee_calls[("alice", 2020)].paid_cents == 6000
