"""Fault 2: a projection runner dies inside a batch.

Checked: the batch's rows and positions went away together (every projection still at the
previous batch's end, none of the batch's rows visible); a new runner resumes from that position
(it processes exactly the rest of the log, not the whole of it), and afterwards every view's
table contents equal a rebuild from zero. Both with SIGKILL of a runner process and with an
exception thrown inside a batch of the supervised background runner.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from projections.runner import ProjectionRunner
from tests.builders import dump_projections
from tests.reliability.harness import ROOT, load_demo, open_ledger

BATCH = 50  # the demo's 736 log positions hold ~368 events: about 8 batches
STALL_AT = 4


def _wait_file(path: Path, child: subprocess.Popen[bytes], timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        assert child.poll() is None, f"the runner exited ({child.returncode}) before stalling"
        time.sleep(0.02)
    raise AssertionError(f"the runner did not reach batch {STALL_AT} within {timeout_s} s")


def _equals_rebuild(runner: ProjectionRunner) -> None:
    resumed = dump_projections(runner)
    assert sum(len(rows) for rows in resumed.values()) > 500, "the views should hold the demo"
    runner.rebuild()
    rebuilt = dump_projections(runner)
    differing = [table for table in rebuilt if rebuilt[table] != resumed[table]]
    assert not differing, f"views differ from a rebuild from zero: {differing}"


def test_runner_sigkilled_mid_batch_resumes_from_its_position(store_url, tmp_path: Path):
    load_demo(store_url)
    marker = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.runner_child", store_url, str(BATCH), str(STALL_AT), str(marker)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    try:
        stalled_batch_end = int(_wait_file(marker, child, timeout_s=60))
        child.kill()
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()

    ledger = open_ledger(store_url)
    try:
        runner = ProjectionRunner(ledger, batch_size=BATCH)
        positions = runner.positions()
        at = min(positions.values())
        assert set(positions.values()) == {at}, f"projections left at different positions: {positions}"
        assert 0 < at < stalled_batch_end, (at, stalled_batch_end)  # earlier batches kept, the killed one not
        with ledger.db.read() as tx:
            assert tx.execute("SELECT COUNT(*) FROM journal_entries WHERE position > ?", (at,))[0][0] == 0
            assert tx.execute("SELECT COUNT(*) FROM journal_entries")[0][0] > 0
        upto = ledger.position()
        assert runner.catch_up() == upto - at, "the runner must resume from its position, not from zero"
        assert runner.position() == upto
        _equals_rebuild(runner)
    finally:
        ledger.close()


def test_exception_inside_a_batch_rolls_it_back_and_the_background_runner_recovers(store_url):
    load_demo(store_url)
    ledger = open_ledger(store_url)
    runner = ProjectionRunner(ledger, batch_size=BATCH)
    # The journal comes after the registry in the runner's list: the registry has written its
    # rows of the batch when the journal fails, so a partial commit would show.
    journal = next(p for p in runner.projections if p.name == "journal")
    real_process, calls, failures = journal.process, [0], []

    def process(tx: Any, batch: Any) -> None:
        real_process(tx, batch)
        calls[0] += 1
        if calls[0] == 3:
            failures.append(max(position for position, _event in batch))
            raise RuntimeError("injected failure inside a batch")

    journal.process = process  # type: ignore[method-assign]
    try:
        runner.start()
        assert runner.wait_for(ledger.position(), timeout_s=60), f"runner stuck at {runner.position()}: {runner.last_error}"
        # The background loop clears last_error once its catch_up() has returned, which can be just
        # after the last batch woke wait_for: give it that moment (on a loaded machine, a few ms).
        deadline = time.monotonic() + 10
        while runner.last_error is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(failures) == 1 and runner.last_error is None
        runner.stop()
        _equals_rebuild(runner)
    finally:
        runner.stop()
        ledger.close()
