"""`coopledger follow` in a subprocess (both stores): prints the facts recorded before and while it
runs, in order, each once, and stops cleanly on Ctrl-C (SIGINT) saying where to resume."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.feed.helpers import COOP, OTHER, log_facts, payment, record, setup_commands

REPO = Path(__file__).resolve().parents[2]


class Lines:
    """Reads a subprocess's stdout line by line without blocking past a deadline (os.read on the
    pipe: a buffered readline could hold lines the selector no longer reports)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd, self.buffer = proc.stdout.fileno(), b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(proc.stdout, selectors.EVENT_READ)

    def take(self, count: int, timeout_s: float = 20.0) -> list[bytes]:
        deadline = time.monotonic() + timeout_s
        while self.buffer.count(b"\n") < count:
            assert time.monotonic() < deadline, f"follow printed {self.buffer!r}, fewer than {count} lines"
            if self.selector.select(timeout=0.2):
                chunk = os.read(self.fd, 65536)
                assert chunk, "follow exited early"
                self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n", count)
        return lines


def test_follow_prints_live_and_stops_on_ctrl_c(ledger, store_url):
    record(ledger, setup_commands(COOP) + setup_commands(OTHER), "setup")
    before = log_facts(ledger, COOP)
    env = {**os.environ, "COOPLEDGER_LOG_LEVEL": "error", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli.main import main; main()",
            "--database-url",
            store_url,
            "follow",
            "--coop",
            COOP,
            "--after",
            str(before[0][0]),
            "--json",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = Lines(proc)
        printed = lines.take(len(before) - 1)
        record(ledger, [payment(i) for i in range(5)] + [payment(0, OTHER)], "live")
        printed += lines.take(5)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    facts = [orjson.loads(line) for line in printed]
    assert [(f["position"], f["event"]) for f in facts] == [(p, name) for p, name, _ in log_facts(ledger, COOP)[1:]]
    assert [f["data"]["amount_eur"] for f in facts if f["kind"] == "fee.paid"] == ["1.00"] * 5  # as the HTTP feed sends it
    assert proc.returncode == 0, err
    # The resume point may be past the last fact printed (other cooperatives' facts), never before it.
    match = re.search(rb"stopped after position (\d+) \(resume with --after \1\)", err)
    assert match and int(match.group(1)) >= facts[-1]["position"], err
