"""The same transactions through ledger-cli and hledger: export the benchmark's store to one
plain-text journal (ledger/exports/plaintext.py, every cooperative one after the other) and time
`ledger -f FILE bal` and `hledger -f FILE bal` on it, each in its own process, output discarded.

The tools' balance reports sum the accounts of all cooperatives together (their account names
are the same numbers); that is the same work as one report per cooperative (every transaction
parsed and summed once) and does not change the timing. Run once each: one ledger-cli run on
200,000 transactions takes seconds, hledger's tens of seconds.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from ledger.exports.plaintext import export_plaintext
from ledger.service import Ledger

log = structlog.get_logger("coopledger.bench")

TOOLS = {"ledger-cli": ["ledger", "-f", "{file}", "bal"], "hledger": ["hledger", "-f", "{file}", "bal"]}
TOOL_TIMEOUT_S = 900


def time_tools(ledger: Ledger, slugs: list[str]) -> dict[str, Any]:
    """Exports every cooperative to one journal and times each tool's balance report on it."""
    out: dict[str, Any] = {"tools": {}}
    with tempfile.TemporaryDirectory(prefix="coopledger-bench-journal-") as tmp:
        path = Path(tmp) / "all.journal"
        started = time.perf_counter()
        entries = 0
        with path.open("w", encoding="utf-8") as f:
            for slug in slugs:
                entries += sum(1 for _ in export_plaintext(ledger, slug, f))
                f.write("\n")
        out.update(export_s=time.perf_counter() - started, entries=entries, journal_bytes=path.stat().st_size)
        log.info("journal_exported", entries=entries, mb=round(path.stat().st_size / 2**20, 1), seconds=round(out["export_s"], 1))
        for name, argv in TOOLS.items():
            if shutil.which(argv[0]) is None:
                log.warning("tool_missing", tool=argv[0], hint="make tools")
                continue
            cmd = [a.format(file=path) for a in argv]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=TOOL_TIMEOUT_S, check=False
            )
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-500:]}")
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            out["tools"][name] = {"seconds": seconds, "cpu_seconds": cpu, "command": " ".join([*argv[:2], "FILE", *argv[3:]])}
            log.info("tool_timed", tool=name, seconds=round(seconds, 2))
    return out
