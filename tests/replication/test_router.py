"""The read router's choices, with standbys stood in for (no server): round robin over the usable
ones, each skip counted with its reason, read-your-writes falling back to the primary in time."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from ledger import replicas
from ledger.replicas import ReadRouter, Standby, StandbyState, max_lag_ms_setting


class FakeStandby(Standby):
    """A standby whose probe and positions are given (Standby.__init__ would open a pool)."""

    def __init__(self, name: str, *, up: bool = True, reason: str = "ok", position: int = 0, down: bool = False) -> None:
        self.name, self.db = name, object()
        self.state = StandbyState()
        self.up, self.reason, self.at, self.down = up, reason, position, down
        self.probing = threading.Lock()

    def probe(self, primary: Any, max_lag_ms: int) -> StandbyState:
        return StandbyState(up=self.up, reason=self.reason, position=self.at, probed_at=time.monotonic())

    def position(self) -> int:
        if self.down:
            raise psycopg.OperationalError("connection refused")
        return self.at


def router(*standbys: FakeStandby, primary_reaches: bool = True) -> tuple[ReadRouter, list[tuple[str, str]], object]:
    skipped: list[tuple[str, str]] = []
    primary = object()
    r = ReadRouter(
        primary,
        list(standbys),
        lambda _pos, _timeout: primary_reaches,  # type: ignore[arg-type]
        lambda name, reason: skipped.append((name, reason)),
    )
    return r, skipped, primary


def test_usable_standbys_take_reads_in_turn_and_a_lagging_one_is_skipped_with_its_reason():
    a, b, c = FakeStandby("a"), FakeStandby("b", up=False, reason="lagging"), FakeStandby("c")
    r, skipped, _primary = router(a, b, c)
    chosen = [r.choose(None, 2.0) for _ in range(4)]
    assert chosen == [a.db, c.db, a.db, c.db]
    assert ("b", "lagging") in skipped and all(name == "b" for name, _ in skipped)


def test_no_usable_standby_means_the_primary():
    r, skipped, primary = router(FakeStandby("a", up=False, reason="down: PoolTimeout"))
    assert r.choose(None, 2.0) is primary
    assert skipped == [("a", "down")]


def test_read_your_writes_on_a_standby_that_has_it_and_on_the_primary_when_it_has_not(monkeypatch):
    monkeypatch.setattr(replicas, "STANDBY_WAIT_S", 0.05)
    ahead, behind = FakeStandby("ahead", position=10), FakeStandby("behind", position=3)
    r, _skipped, _primary = router(ahead)
    assert r.choose(10, 2.0) is ahead.db
    r, skipped, primary = router(behind)
    assert r.choose(10, 2.0) is primary and skipped == [("behind", "behind")]
    r, skipped, _primary = router(behind, primary_reaches=False)
    assert r.choose(10, 2.0) is None  # nobody has it in time: the route answers 503


def test_a_standby_failing_while_waited_on_is_marked_down_and_the_primary_answers():
    gone = FakeStandby("gone", position=0, down=True)
    r, skipped, primary = router(gone)
    assert r.choose(5, 2.0) is primary
    assert skipped == [("gone", "down")] and gone.state.reason.startswith("down") and not gone.state.up


def test_the_lag_limit_setting_is_a_whole_number_of_milliseconds():
    assert max_lag_ms_setting("250") == 250
    with pytest.raises(ValueError, match="COOPLEDGER_READ_MAX_LAG_MS: must be a whole number"):
        max_lag_ms_setting("2s")
