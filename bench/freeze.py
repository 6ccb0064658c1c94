"""Runs the whole benchmark on a copy of the code taken when it starts.

Other work lands in the checkout while a 15-minute benchmark runs; the rebuild processes
start later than the parent and would import whatever is there by then. A copy made at the
start keeps every process of one run on the same code: the core as committed at HEAD, so
the report's commit names the code measured, and bench/ as it is in the working tree.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

SOURCE_ENV = "COOPLEDGER_BENCH_SOURCE"  # set in the frozen run: the checkout it was copied from
CODE_ENV = "COOPLEDGER_BENCH_CODE"  # set in the frozen run: commit and dirty files when copied
CORE = ("domain", "ledger", "projections", "migrations")
CODE_DIR = Path(__file__).absolute().parent.parent  # where this code runs from
SOURCE_DIR = Path(os.environ.get(SOURCE_ENV) or CODE_DIR)  # the checkout: git, docs/

_BOOT = "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('bench', run_name='__main__', alter_sys=True)"


def frozen() -> bool:
    return SOURCE_ENV in os.environ


def copied_from() -> dict[str, Any] | None:
    """What the checkout was when the frozen copy was made (see machine.code)."""
    raw = os.environ.get(CODE_ENV)
    return json.loads(raw) if raw else None


def run_frozen(argv: list[str], code: dict[str, Any]) -> int:
    """Copies the code to a temporary directory and runs `python -m bench argv` from there.

    The core (domain, ledger, projections, migrations) comes from the commit checked out
    (`git archive HEAD`), so the report's commit names exactly the code measured, whatever
    work in progress sits in the checkout; bench/ comes from the working tree. Outside a git
    checkout the working tree is copied.
    """
    with tempfile.TemporaryDirectory(prefix="coopledger-bench-code-") as tmp:
        target = Path(tmp)
        if not _archive_head(target):
            for name in CORE:
                shutil.copytree(CODE_DIR / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            code = {**code, "source": "working tree"}
        else:
            code = {**code, "source": "HEAD", "dirty_core_files": []}
        shutil.copytree(CODE_DIR / "bench", target / "bench", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        env = {**os.environ, SOURCE_ENV: str(CODE_DIR), CODE_ENV: json.dumps(code)}
        # -I: neither the current directory nor PYTHONPATH come before the copy on sys.path.
        child = subprocess.Popen([sys.executable, "-I", "-c", _BOOT, tmp, *argv], env=env)

        def stop(signum: int, _frame: Any) -> None:
            child.send_signal(signum)  # the run drops its stores, then exits

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got it too (same process group)
            return child.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


def _archive_head(target: Path) -> bool:
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD", "--", *CORE], cwd=CODE_DIR, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return False
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        try:
            tar.extractall(target, filter="data")
        except TypeError:  # Python before 3.11.4: no extraction filters (our own repository's files)
            tar.extractall(target)  # noqa: S202
    return all((target / name).is_dir() for name in CORE)
