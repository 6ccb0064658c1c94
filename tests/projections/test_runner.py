"""The projection runner: catching up, running in a thread, waiting for a position, and
keeping rows and positions in one transaction when a projection fails."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from domain.fees import CallFee, FeeCalled, PayFee
from ledger.db import Tx
from projections.balances import account_balance
from projections.base import Projection
from projections.registry import RegistryProjection
from projections.runner import ProjectionRunner
from tests.builders import admit, dump_projections, found_association, ok, rich_history


def test_runner_thread_and_wait_for_give_read_your_writes(ledger, runner):
    runner.start()
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    paid = ok(ledger, PayFee("demo", "alice", 2020, Decimal("42.50"), date(2020, 3, 1)))
    assert runner.wait_for(paid.position, timeout_s=15)
    assert runner.position() >= paid.position
    assert account_balance(ledger.db, "demo", "411", party="alice") == 10000 - 4250
    assert account_balance(ledger.db, "demo", "512") == 4250

    # Writes keep flowing while the thread runs.
    more = [ok(ledger, admit("demo", f"m{i}", "users", date(2020, 3, 1))) for i in range(5)]
    assert runner.wait_for(more[-1].position, timeout_s=15)
    with ledger.db.read() as tx:
        assert tx.execute("SELECT COUNT(*) FROM members WHERE coop = 'demo'")[0][0] == 6
    runner.stop()
    assert runner.last_error is None


def test_wait_for_a_position_not_yet_written_times_out(ledger, runner):
    ok(ledger, found_association())
    target = ledger.position() + 1
    started = time.monotonic()
    assert runner.wait_for(target, timeout_s=0.3) is False
    assert time.monotonic() - started >= 0.3
    assert runner.position() == ledger.position() == target - 1  # it caught up with what exists


def test_positions_reach_the_log_end_even_when_it_ends_with_receipts(ledger, runner):
    rich_history(ledger)
    assert set(runner.positions()) == {p.name for p in runner.projections}
    assert set(runner.positions().values()) == {0}
    runner.catch_up()
    # The last notification is a command receipt, which no projection reads.
    assert set(runner.positions().values()) == {ledger.position()}
    assert runner.position() == ledger.position()


def test_catch_up_reports_progress(ledger):
    rich_history(ledger)
    runner = ProjectionRunner(ledger, batch_size=5)
    seen: list[tuple[int, int]] = []
    runner.catch_up(progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (ledger.position(), ledger.position())
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


class Exploding(Projection):
    """Fails on the first fee call it sees."""

    name = "exploding"
    tables: ClassVar[tuple[str, ...]] = ()

    def process(self, tx: Tx, batch: Any) -> None:
        if any(isinstance(e, FeeCalled) for _, e in batch):
            raise RuntimeError("projection bug")


def test_a_failing_projection_rolls_back_rows_and_positions_together(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    runner = ProjectionRunner(ledger, projections=(RegistryProjection, Exploding))
    with pytest.raises(RuntimeError, match="projection bug"):
        runner.catch_up()
    assert runner.positions() == {"registry": 0, "exploding": 0}
    with ledger.db.read() as tx:
        # The registry processed the batch before the failure; its rows were rolled back.
        assert tx.execute("SELECT COUNT(*) FROM members")[0][0] == 0
        assert tx.execute("SELECT COUNT(*) FROM cooperatives")[0][0] == 0


def test_a_failing_projection_is_reported_by_the_thread_which_keeps_running(ledger):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    runner = ProjectionRunner(ledger, projections=(RegistryProjection, Exploding))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while runner.last_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runner.last_error == "RuntimeError: projection bug"
        assert runner._thread is not None and runner._thread.is_alive()
        assert runner.wait_for(ledger.position(), timeout_s=0.2) is False
    finally:
        runner.stop()


def test_two_runners_catching_up_at_once_apply_each_event_once(ledger, make_ledger):
    rich_history(ledger)
    other = make_ledger()
    runners = [ProjectionRunner(ledger, batch_size=4), ProjectionRunner(other, batch_size=3)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(r: ProjectionRunner) -> None:
        try:
            start.wait(timeout=30)
            r.catch_up()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    concurrent = dump_projections(runners[0])
    runners[0].rebuild()
    assert dump_projections(runners[0]) == concurrent
