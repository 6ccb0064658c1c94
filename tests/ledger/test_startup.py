"""Several processes starting at once on one empty store (the API, projection runners, a CLI):
each creates or finds the event store's tables without tripping over the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTUP = """
import sys
from ledger.service import Ledger
from ledger.store import StoreConfig
sys.stdin.readline()  # all start together
Ledger(StoreConfig.from_url(sys.argv[1])).close()
"""
PROCESSES = 10


def test_processes_starting_together_on_an_empty_store_all_start(store_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTUP, store_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for proc in procs:  # every interpreter is up and waiting before any of them goes on
        assert proc.stdin is not None
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    failures = []
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            failures.append(err.strip().splitlines()[-1])
    assert failures == []
