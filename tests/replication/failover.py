"""The failover scenario, shared by tests/replication/test_failover.py and bench/failover.py.

Writer threads send PayFee commands (one cent each, a key each) through one Ledger whose URL lists
the primary and the standby with target_session_attrs=read-write; the primary's postmaster is
killed (SIGKILL) under that load and the standby promoted (`pg_ctl promote`). A writer retries a
command that failed with the same idempotency key until it is acknowledged, as a client would.
What was acknowledged before the kill is then looked for on the promoted server, by a Ledger that
knows only it (no cache carried over).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import structlog

from domain.cooperative import coop_id
from domain.fees import CallFee, FeePaid, PayFee
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, ok
from tests.replication.cluster import Cluster

log = structlog.get_logger("coopledger.tests.failover")

COOP = "demo"
MAX_ATTEMPTS = 200  # per command: a writer gives up (and the scenario fails) rather than loop forever
RETRY_PAUSE_S = 0.05


@dataclass
class Outcome:
    acked_before_kill: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    copies: Counter[str] = field(default_factory=Counter)  # FeePaid events per key on the promoted server
    first_ack_after_kill_s: float | None = None
    # From the end of `pg_ctl promote` to the first command acknowledged after it: the service
    # found the promoted server by itself (None when the writers stopped at the kill).
    first_ack_after_promotion_s: float | None = None
    errors_seen: int = 0
    # WAL written by the primary and not yet flushed by the standby, just before the kill: what an
    # asynchronous standby could miss (0 when synchronous: commits wait for the flush).
    unflushed_bytes_at_kill: int = -1

    @property
    def lost(self) -> set[str]:
        """Acknowledged, before or after the kill, and not on the promoted server. After: a backend
        of the killed postmaster lives on until it notices, and may still acknowledge a commit."""
        return {k for k in self.acked if self.copies[k] == 0}

    @property
    def duplicated(self) -> set[str]:
        return {k for k, n in self.copies.items() if n > 1}


def failover_url(cluster: Cluster, schema: str) -> str:
    assert cluster.primary is not None and cluster.standby is not None
    return (
        f"postgresql://postgres@127.0.0.1:{cluster.primary.port},127.0.0.1:{cluster.standby.port}/postgres"
        f"?schema={schema}&target_session_attrs=read-write"
    )


def prepare(url: str) -> Ledger:
    ledger = Ledger(StoreConfig.from_url(url))
    migrate(ledger.db)
    ok(ledger, found_association(COOP))
    ok(ledger, admit(COOP, "m1", "users", date(2025, 2, 1)))
    ok(ledger, CallFee(COOP, "m1", 2025, date(2025, 2, 1)))  # 100 EUR called: room for 10,000 cents
    return ledger


class Writers:
    def __init__(self, ledger: Ledger, count: int, *, abandon_on_stop: bool = False) -> None:
        self.ledger, self.outcome = ledger, Outcome()
        # Abandon a failing command once stopped, instead of retrying it on the promoted server.
        self.abandon_on_stop = abandon_on_stop
        self.killed_at: float | None = None
        self.promoted_at: float | None = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(i,), name=f"writer-{i}", daemon=True) for i in range(count)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self, timeout_s: float) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout_s)
        assert not any(t.is_alive() for t in self.threads), "a writer did not stop"

    def _write(self, index: int) -> None:
        for n in range(1_000_000):  # bounded; stopped by self.stop long before
            if self.stop.is_set():
                return
            key = f"w{index}-{n}"
            self._until_acked(key)

    def _until_acked(self, key: str) -> None:
        command = PayFee(COOP, "m1", 2025, Decimal("0.01"), date(2025, 3, 1))
        for _ in range(MAX_ATTEMPTS):
            try:
                result = self.ledger.execute(command, key)
            except Exception as exc:  # noqa: BLE001 (the server went away: retried with the same key)
                with self.lock:
                    self.outcome.errors_seen += 1
                log.info("failover_command_failed", key=key, error=type(exc).__name__)
                if self.abandon_on_stop and self.stop.is_set():
                    return
                time.sleep(RETRY_PAUSE_S)
                continue
            assert result.accepted, result.error and result.error.as_dict()
            self._acked(key)
            return
        raise AssertionError(f"command {key} not acknowledged after {MAX_ATTEMPTS} attempts")

    def _acked(self, key: str) -> None:
        with self.lock:
            self.outcome.acked.add(key)
            if self.killed_at is None:
                self.outcome.acked_before_kill.add(key)
            elif self.outcome.first_ack_after_kill_s is None:
                self.outcome.first_ack_after_kill_s = time.monotonic() - self.killed_at
            if self.promoted_at is not None and self.outcome.first_ack_after_promotion_s is None:
                self.outcome.first_ack_after_promotion_s = time.monotonic() - self.promoted_at


def kill_and_promote(cluster: Cluster, writers: Writers, *, stop_writers: bool, every_process: bool = False) -> None:
    """Notes the WAL the standby had not yet flushed, kills the primary, promotes the standby."""
    assert cluster.primary is not None
    with writers.lock:  # acknowledgements after this instant are not "before the kill"
        ((unflushed,),) = cluster.primary.sql(
            "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)), -1) FROM pg_stat_replication"
        )
        writers.outcome.unflushed_bytes_at_kill = int(unflushed)
        writers.killed_at = time.monotonic()
        cluster.kill_primary(every_process=every_process)
    if stop_writers:
        writers.stop.set()
    cluster.promote()
    with writers.lock:
        writers.promoted_at = time.monotonic()


def fee_paid_copies(url: str) -> Counter[str]:
    """FeePaid events per idempotency key, read from the store at `url` by a Ledger of its own."""
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        return Counter(e.idempotency_key for e in ledger.app.events.get(coop_id(COOP)) if isinstance(e, FeePaid))
    finally:
        ledger.close()


def run(
    cluster: Cluster,
    schema: str,
    *,
    writers: int = 4,
    load_s: float = 1.0,
    after_s: float = 1.0,
    keep_writing: bool = True,
    every_process: bool = False,
) -> tuple[Ledger, ProjectionRunner, Outcome]:
    """Load, kill, promote, with a projection runner at work throughout; with keep_writing, the same
    Ledger carries on for after_s on the promoted server (reconnecting by itself). Returns the Ledger
    and the runner (open, on the promoted server: the caller stops and closes them) and the outcome."""
    assert cluster.standby is not None
    ledger = prepare(failover_url(cluster, schema))
    runner = ProjectionRunner(ledger)
    runner.start()
    load = Writers(ledger, writers, abandon_on_stop=not keep_writing)
    load.start()
    time.sleep(load_s)
    # Without keep_writing, the writers stop at the kill: none writes to the promoted server through
    # a cache that may hold versions it never received (asynchronous replication).
    kill_and_promote(cluster, load, stop_writers=not keep_writing, every_process=every_process)
    if keep_writing:
        time.sleep(after_s)
    load.join(timeout_s=MAX_ATTEMPTS * (RETRY_PAUSE_S + 8))
    load.outcome.copies = fee_paid_copies(cluster.standby.url(schema))
    return ledger, runner, load.outcome
