"""What the fault tests share: real `coopledger serve` processes on free loopback ports, a
seeded cooperative, API keys, and checks that read the store back from scratch.

Every wait here is bounded; every process started here is killed by the `servers` fixture
(tests/reliability/conftest.py) whatever happens.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from api.keys import create_key
from domain.cooperative import coop_id
from domain.events import CoopEvent, FinancialEvent
from ledger.app import CommandReceipt
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.builders import found_association, unbalanced_units

ROOT = Path(__file__).absolute().parents[2]  # not resolve(): the checkout, even through a symlink
START_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 15.0  # a request that hangs longer than this is a failure in itself
COOP = "demo"


def free_port() -> int:
    """A loopback port nobody listens on now (bind port 0, let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `coopledger serve` process; its stderr (the structured log) goes to a file."""

    def __init__(self, url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.log_path = log_path
        self.extra_env = env or {}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> Server:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        env = {
            **os.environ,
            "COOPLEDGER_DATABASE_URL": self.url,
            "COOPLEDGER_LOG_FORMAT": "json",
            "COOPLEDGER_LOG_LEVEL": "INFO",
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                health = httpx.get(f"{self.base}/health", timeout=2)
                # Up, and its views have caught up with what was recorded before it started: reads
                # of a store loaded by another process would otherwise race the projection runner.
                if health.status_code == 200 and health.json()["projected"] >= health.json()["position"]:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not healthy within {timeout_s} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, in-flight transactions are cut."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]


def open_ledger(url: str) -> Ledger:
    ledger = Ledger(StoreConfig.from_url(url))
    migrate(ledger.db)
    return ledger


def seed(url: str, roles: tuple[str, ...] = ("admin", "treasurer", "clerk")) -> dict[str, str]:
    """Founds `demo` (an association, fees 100 EUR for 1-9 people) and returns a token per role."""
    ledger = open_ledger(url)
    try:
        result = ledger.execute(found_association(COOP), "seed-found")
        assert result.accepted, result.error
        return {role: create_key(ledger.db, role=role, coops=[COOP], label=f"reliability {role}")[1] for role in roles}
    finally:
        ledger.close()


def headers(token: str, key: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {token}"}
    if key is not None:
        h["Idempotency-Key"] = key
    return h


def admit_body(member: str, college: str = "users") -> dict[str, Any]:
    return {"member_id": member, "name": f"Member {member}", "kind": "person", "college": college, "effective_date": "2020-02-01"}


def fee_body(member: str) -> dict[str, Any]:
    return {"member_id": member, "year": 2020, "effective_date": "2020-02-01"}


# ---------------------------------------------------------------- reading the store back


def coop_events(ledger: Ledger, slug: str = COOP) -> list[CoopEvent]:
    """Every event of the cooperative, read from the store (no cache). Loading the aggregate
    as well replays Journal.append, which raises on a numbering gap or a broken hash chain."""
    return [e for e in ledger.app.events.get(coop_id(slug)) if isinstance(e, CoopEvent)]


def receipt_keys(ledger: Ledger, slug: str = COOP) -> dict[str, dict[str, Any]]:
    """Idempotency key -> stored receipt result, for every receipt of the cooperative."""
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    topic = CommandReceipt.Created.TOPIC
    with ledger.db.read() as tx:
        ids = [row[0] for row in tx.execute(f"SELECT originator_id FROM {table} WHERE topic = ?", (topic,))]
    found: dict[str, dict[str, Any]] = {}
    for raw in ids:
        receipt = ledger.app.repository.get(uuid.UUID(raw) if isinstance(raw, str) else raw)
        if receipt.coop == slug:
            found[receipt.key] = {"events": receipt.result["events"], "journal_numbers": receipt.result["journal_numbers"]}
    return found


def check_whole(url: str, slug: str = COOP) -> dict[str, Any]:
    """Reads the cooperative back with a fresh Ledger and checks it is whole: every entry
    balances, journal numbers are 1..N, the chain verifies (aggregate load), and every command
    is all-or-nothing: its receipt and its events are both stored, or neither."""
    ledger = open_ledger(url)
    try:
        events = coop_events(ledger, slug)
        entries = [e for e in events if isinstance(e, FinancialEvent)]
        assert [e.journal_number for e in entries] == list(range(1, len(entries) + 1)), "journal numbering has a gap"
        assert all(unbalanced_units(e.postings) == {} for e in entries), "an entry does not balance"
        coop = ledger.cooperative(slug)  # replays every hash: raises if the chain is broken
        assert coop.journal.last_number == len(entries)
        receipts = receipt_keys(ledger, slug)
        by_key = Counter(e.idempotency_key for e in events)
        assert set(by_key) == set(receipts), (
            f"events without receipt: {sorted(set(by_key) - set(receipts))[:5]}, "
            f"receipts without events: {sorted(set(receipts) - set(by_key))[:5]}"
        )
        for key, result in receipts.items():
            assert by_key[key] == len(result["events"]), f"{key}: {by_key[key]} events stored, receipt says {result}"
        return {
            "events": events,
            "entries": entries,
            "receipts": receipts,
            "last_hash": coop.journal.last_hash,
            "position": ledger.position(),
        }
    finally:
        ledger.close()


D = Decimal
FEB1 = date(2020, 2, 1)


def load_demo(url: str) -> list[str]:
    """Records the demo cooperatives (every activity family, 368 commands) in one batch;
    returns their slugs."""
    import json

    from ledger.commands import loads, parse_command
    from ledger.demo import demo_commands

    commands = demo_commands()
    ledger = open_ledger(url)
    try:
        parsed = [parse_command(loads(json.dumps(c))) for c in commands]
        results = ledger.execute_batch([(command, key, "reliability") for command, key, _actor in parsed])
        assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
    finally:
        ledger.close()
    return sorted({c["coop"] for c in commands})
