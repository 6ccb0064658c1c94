"""A server process tunes its garbage collector once its app is built (ledger/gc_tuning.py)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_app_freezes_what_start_up_built_and_collects_young_objects_less_often(tmp_path):
    # In a child process: the tuning is process-wide, and the test runner's collector stays as it is.
    script = (
        "import gc; from api import asgi; from ledger import gc_tuning; "
        "print(gc.get_freeze_count(), *gc.get_threshold(), gc_tuning.YOUNG_PASS_ALLOCATIONS)"
    )
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'gc.sqlite'}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, young, middle, full, expected_young = map(int, done.stdout.split())
    assert frozen > 10_000  # the modules, routes and models of the app, out of the collector's passes
    assert (young, middle, full) == (expected_young, 20, 20) != gc.get_threshold()
