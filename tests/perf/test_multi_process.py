"""Two projection runners in two processes (`coopledger project`) on the same store apply every
event to every view exactly once: the views they leave equal a rebuild by one runner (both stores).
A view applied twice would double its sums or break a primary key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.fees import CallFee, PayFee
from projections.runner import ProjectionRunner
from tests.builders import admit, dump_projections, ok, rich_history

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = 2


def _project_process(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    code = "import sys; from cli.main import main; sys.argv = ['coopledger', 'project', '--once', '--batch-size', '2']; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_runner_processes_apply_each_event_once(ledger, store_url):
    rich_history(ledger)
    for i in range(12):
        ok(ledger, admit("demo", f"x{i}", "users", date(2020, 3, 1)))
        ok(ledger, CallFee("demo", f"x{i}", 2020, date(2020, 3, 1)))
        ok(ledger, PayFee("demo", f"x{i}", 2020, Decimal("7"), date(2020, 3, 2)))
    end = ledger.position()
    processes = [_project_process(store_url) for _ in range(RUNNERS)]
    outputs = [p.communicate(timeout=120) for p in processes]
    for p, (out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert f"at position {end}" in out, out
    advanced = [int(out.split("(")[1].split()[0]) for out, _err in outputs]
    assert sum(advanced) >= end  # between them they covered the log (each counts what it applied)

    runner = ProjectionRunner(ledger)
    assert runner.position() == end
    by_two = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == by_two
