"""Cooperatives' turns across processes (ledger/writer_turns.py): on PostgreSQL a save first takes
an advisory lock per cooperative, so that two processes writing one cooperative read each other's
events before they decide instead of colliding and retrying. Each `make_ledger()` is a process of
its own (its own pools and aggregate cache)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pytest

from ledger import service, writer_turns
from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.builders import admit, found_association, ok

DAY = date(2020, 2, 1)


def _postgres_only(ledger: Ledger) -> None:
    if ledger.db.dialect != "postgres":
        pytest.skip("turns are PostgreSQL advisory locks; a SQLite store is one process's")


def _admit(ledger: Ledger, coop: str, member: str) -> list[bool]:
    return [r.accepted for r in ledger.execute_batch([(admit(coop, member, "users", DAY), f"{coop}-{member}", "t")])]


def test_a_save_waits_for_its_cooperatives_turn_and_no_other(ledger, make_ledger):
    _postgres_only(ledger)
    for slug in ("held", "free"):
        ok(ledger, found_association(slug))
    other = make_ledger()
    done: list[list[bool]] = []
    with writer_turns.turns(other.db, ["held"], timeout_s=5.0):  # another process's turn on "held"
        waiting = threading.Thread(target=lambda: done.append(_admit(ledger, "held", "m1")))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and done == []  # waits for the turn
        assert _admit(ledger, "free", "m1") == [True]  # another cooperative's save does not
    waiting.join(10)
    assert done == [[True]]
    assert [m.member_id for m in ledger.cooperative("held").members.values()] == ["m1"]


def test_a_turn_held_too_long_gives_up_with_timeout_and_writes_nothing(ledger, make_ledger, monkeypatch):
    _postgres_only(ledger)
    ok(ledger, found_association("held"))
    monkeypatch.setattr(service, "LOCK_WAIT_S", 0.2)
    position = ledger.position()
    with writer_turns.turns(make_ledger().db, ["held"], timeout_s=5.0), pytest.raises(TimeoutError, match="held"):
        _admit(ledger, "held", "m1")
    assert ledger.position() == position
    assert _admit(ledger, "held", "m1") == [True]  # the turn released, the same command saves


def test_two_processes_writing_one_cooperative_take_turns_and_never_collide(ledger, make_ledger, monkeypatch):
    _postgres_only(ledger)
    ok(ledger, found_association("shared"))
    processes = [ledger, make_ledger()]
    evicted: list[list[str]] = []  # a save that found its versions taken evicts and retries
    for process in processes:
        process.cooperative("shared")  # cached in both, as in two running servers
        real = process._evict
        monkeypatch.setattr(process, "_evict", lambda slugs, real=real: (evicted.append(slugs), real(slugs))[1])
    accepted: list[bool] = []

    def write(process: Ledger, name: str) -> None:
        for i in range(15):
            accepted.append(process.execute(admit("shared", f"{name}-{i}", "users", DAY), f"{name}-{i}", "t").accepted)

    threads = [threading.Thread(target=write, args=(p, f"p{n}t{t}")) for n, p in enumerate(processes) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert accepted.count(True) == len(accepted) == 90
    assert evicted == []  # no collision, no retry
    assert len(make_ledger().cooperative("shared").members) == 90


def test_concurrent_batches_on_many_cooperatives_do_not_run_the_pool_dry(ledger):
    """Turns are held on a pool of their own: 12 batches at once, each holding its turns while it
    reads and saves through the main pool (8 connections), all save."""
    _postgres_only(ledger)
    slugs = [f"c{i:02d}" for i in range(12)]
    for slug in slugs:
        ok(ledger, found_association(slug))
    saved: dict[str, list[bool]] = {}

    def batch(slug: str) -> None:
        items = [(admit(slug, f"m{j}", "users", DAY), f"{slug}-m{j}", "t") for j in range(20)]
        saved[slug] = [r.accepted for r in ledger.execute_batch(items)]

    threads = [threading.Thread(target=batch, args=(slug,)) for slug in slugs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert saved == {slug: [True] * 20 for slug in slugs}


def test_a_save_stands_when_only_ending_its_turns_fails(ledger, make_ledger, monkeypatch):
    """The turns' transaction ends after the save committed; a connection lost in between fails
    only that end, which wrote nothing: the commands are reported saved, as they are."""
    _postgres_only(ledger)
    ok(ledger, found_association("held"))
    real = ledger.db.side_transaction

    @contextmanager
    def lost_at_the_end() -> Iterator[Any]:
        with real() as tx:
            yield tx
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ledger.db, "side_transaction", lost_at_the_end)
    assert _admit(ledger, "held", "m1") == [True]
    assert "m1" in make_ledger().cooperative("held").members  # another process reads it saved


def test_a_turn_in_another_store_of_the_same_database_does_not_hold_a_save(ledger, store_factory):
    """Advisory locks are the database's: a store (schema) beside this one, with a cooperative of the
    same name, has turns of its own."""
    _postgres_only(ledger)
    ok(ledger, found_association("held"))
    beside = Ledger(StoreConfig.from_url(store_factory.new()))
    try:
        with writer_turns.turns(beside.db, ["held"], timeout_s=5.0):
            assert _admit(ledger, "held", "m1") == [True]  # would wait for the turn, then time out
    finally:
        beside.close()
