"""Cooperatives' turns across processes (ledger/writer_turns.py): on PostgreSQL a save first takes
an advisory lock per cooperative, so that two processes writing one cooperative read each other's
events before they decide instead of colliding and retrying. Each `make_ledger()` is a process of
its own (its own pools and aggregate cache)."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from ledger import service, writer_turns
from ledger.service import Ledger
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
