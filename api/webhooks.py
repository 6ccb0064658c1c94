"""Signed webhooks: the worker that delivers facts to the endpoints an admin registered
(api/webhook_endpoints.py), its settings, and the signature.

Deliveries are at least once, in position order per endpoint, one in flight per endpoint: a
worker takes an endpoint's *lease* (lease_owner, lease_until), posts the next fact after the
endpoint's cursor, then writes the delivery row and the cursor in one transaction. On
PostgreSQL several server processes claim endpoints with FOR UPDATE SKIP LOCKED, so two of them
never post the same fact at once; SQLite is one process (BEGIN IMMEDIATE serialises claims).
A failure is retried with exponential backoff and jitter; an endpoint failing for longer than
`pause_after_s` is paused (its facts wait behind its cursor) until an admin resumes it.

Signature: `Coopledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
(docs/webhooks.md shows how to verify it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from api import outbound
from api.answers.feed import wire_fact
from ledger.db import Database, Tx
from projections.feed import FeedFilter, feed_position, read_page

log = structlog.get_logger("coopledger.webhooks")

SIGNATURE_HEADER = "Coopledger-Signature"
MAX_PER_CLAIM = 100  # facts one claim may deliver before the endpoint goes back in the queue
CLAIM_BATCH = 8  # endpoints claimed per pass, delivered in parallel (each its own lease)


# ---------------------------------------------------------------- settings and signature


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class WebhookSettings:
    retry_base_ms: float = 1000  # first retry after ~1 s, doubling each time
    retry_max_ms: float = 300_000  # never wait more than 5 min between attempts
    pause_after_s: float = 86_400  # an endpoint failing for a day is paused
    timeout_ms: float = 10_000  # per HTTP request
    poll_ms: float = 500  # how often due retries are looked for when no new fact wakes the worker

    @property
    def lease_s(self) -> float:
        return 3 * self.timeout_ms / 1000 + 30  # longer than any one delivery, short enough to recover a dead worker

    @classmethod
    def from_env(cls) -> WebhookSettings:
        return cls(
            retry_base_ms=_env_number("COOPLEDGER_WEBHOOK_RETRY_BASE_MS", cls.retry_base_ms),
            retry_max_ms=_env_number("COOPLEDGER_WEBHOOK_RETRY_MAX_MS", cls.retry_max_ms),
            pause_after_s=_env_number("COOPLEDGER_WEBHOOK_PAUSE_AFTER_S", cls.pause_after_s),
            timeout_ms=_env_number("COOPLEDGER_WEBHOOK_TIMEOUT_MS", cls.timeout_ms),
            poll_ms=_env_number("COOPLEDGER_WEBHOOK_POLL_MS", cls.poll_ms),
        )

    def backoff_s(self, failures: int) -> float:
        """Delay before the next attempt after `failures` consecutive failures: exponential, capped,
        with jitter (a random half to full delay) so many endpoints do not retry in step."""
        delay_ms = min(self.retry_max_ms, self.retry_base_ms * 2 ** min(failures - 1, 30))
        return random.uniform(delay_ms / 2, delay_ms) / 1000  # noqa: S311 (jitter, not cryptography)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# ---------------------------------------------------------------- delivery


@dataclass
class _Claimed:
    endpoint_id: str
    coop: str
    url: str
    kinds: tuple[str, ...] | None
    role: str
    secret: str
    cursor: int
    failures: int
    failing_since: float | None


class WebhookWorker:
    """A supervised background thread: claims due endpoints, delivers, records, backs off."""

    def __init__(self, db: Database, settings: WebhookSettings | None = None) -> None:
        self.db = db
        self.settings = settings or WebhookSettings.from_env()
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"  # this worker, in lease rows
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def notify(self) -> None:
        """New facts were projected: look for deliveries now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        assert self._thread is None, "webhook worker already started"
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=CLAIM_BATCH, thread_name_prefix="webhook-delivery")
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _run(self) -> None:
        backoff_s = self.settings.poll_ms / 1000
        while not self._stop.is_set():
            try:
                worked = self.run_once()
                self.last_error = None
                backoff_s = self.settings.poll_ms / 1000
                if not worked:
                    self._wake.wait(self.settings.poll_ms / 1000)
                    self._wake.clear()
            except Exception as exc:  # supervised: logged, kept for health, retried with backoff
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("webhook_worker_failed", error=self.last_error, retry_in_s=backoff_s)
                self._stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, 30.0)

    def run_once(self) -> int:
        """Claims due endpoints and delivers to each in parallel; returns how many it claimed."""
        claimed = self._claim()
        if not claimed:
            return 0
        if self._pool is None or len(claimed) == 1:
            for endpoint in claimed:
                self._serve(endpoint)
        else:
            for future in [self._pool.submit(self._serve, e) for e in claimed]:
                future.result()
        return len(claimed)

    _DUE = (
        "FROM webhook_endpoints WHERE status = 'active' AND next_attempt_at <= ? AND cursor < ?"
        " AND (lease_until IS NULL OR lease_until < ?)"
    )

    def _claim(self) -> list[_Claimed]:
        now = time.time()
        head = feed_position(self.db)
        # A read first: with nothing due (the usual case) no write transaction is opened, so an
        # idle worker never takes SQLite's write lock from the commands.
        with self.db.read() as tx:
            if not tx.execute(f"SELECT 1 {self._DUE} LIMIT 1", (now, head, now)):  # noqa: S608
                return []
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgres" else ""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT endpoint_id, coop, url, kinds_json, role, secret, cursor, failures, failing_since"
                f" {self._DUE} ORDER BY next_attempt_at LIMIT ?{skip_locked}",
                (now, head, now, CLAIM_BATCH),
            )
            for row in rows:
                tx.execute_one(
                    "UPDATE webhook_endpoints SET lease_owner = ?, lease_until = ? WHERE endpoint_id = ?",
                    (self.owner, now + self.settings.lease_s, row[0]),
                )
        return [
            _Claimed(r[0], r[1], r[2], tuple(orjson.loads(r[3])) or None, r[4], r[5], int(r[6]), int(r[7]), r[8]) for r in rows
        ]

    def _serve(self, ep: _Claimed) -> None:
        """Delivers the endpoint's next facts in order until one fails, none is left, or the claim's share is used."""
        flt = FeedFilter(ep.role, kinds=ep.kinds)
        for _ in range(MAX_PER_CLAIM):
            if self._stop.is_set():
                break
            page = read_page(self.db, ep.coop, flt, after=ep.cursor, limit=1)
            if not page.facts:
                with self.db.transaction() as tx:  # nothing wanted up to the projected position: skip ahead
                    self._release(tx, ep, "cursor = ?", (max(ep.cursor, page.next_after),))
                return
            fact = page.facts[0]
            body = orjson.dumps(wire_fact(fact))  # as the feed sends it; signed over these bytes
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "coopledger-webhooks/1",
                SIGNATURE_HEADER: sign(ep.secret, body, int(time.time())),
                "Coopledger-Delivery": f"{ep.endpoint_id}:{fact['position']}",
                "Coopledger-Kind": fact["kind"],
            }
            status, error = outbound.post(ep.url, body, headers, self.settings.timeout_ms / 1000)
            if not self._record(ep, fact, status, error):
                return
        with self.db.transaction() as tx:
            self._release(tx, ep, "next_attempt_at = ?", (time.time(),))

    def _record(self, ep: _Claimed, fact: dict[str, Any], status: int | None, error: str | None) -> bool:
        """Writes the attempt and moves the cursor, in one transaction. True to go on delivering."""
        now, position = time.time(), int(fact["position"])
        with self.db.transaction() as tx:
            lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
            held = tx.execute(
                f"SELECT status FROM webhook_endpoints WHERE endpoint_id = ? AND lease_owner = ?{lock}",
                (ep.endpoint_id, self.owner),
            )
            if not held:
                log.warning("webhook_lease_lost", endpoint_id=ep.endpoint_id, position=position)
                return False  # another worker took over after our lease expired: it will redo this fact
            tx.execute(
                "INSERT INTO webhook_deliveries (endpoint_id, position, kind, status, attempts, last_status_code, last_error,"
                " first_attempt_at, last_attempt_at, delivered_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)"
                " ON CONFLICT (endpoint_id, position) DO UPDATE SET status = excluded.status,"
                " attempts = webhook_deliveries.attempts + 1, last_status_code = excluded.last_status_code,"
                " last_error = COALESCE(excluded.last_error, webhook_deliveries.last_error),"
                " last_attempt_at = excluded.last_attempt_at,"
                " delivered_at = excluded.delivered_at",
                (
                    ep.endpoint_id,
                    position,
                    fact["kind"],
                    "failing" if error else "delivered",
                    status,
                    error,
                    now,
                    now,
                    None if error else now,
                ),
            )
            if error is None:
                ep.cursor, ep.failures, ep.failing_since = position, 0, None
                tx.execute_one(
                    "UPDATE webhook_endpoints SET cursor = ?, failures = 0, failing_since = NULL, last_error = NULL,"
                    " lease_until = ? WHERE endpoint_id = ?",
                    (position, now + self.settings.lease_s, ep.endpoint_id),
                )
                if held[0][0] != "active":  # paused or deleted by an admin meanwhile: stop here
                    self._release(tx, ep, "next_attempt_at = ?", (now,))
                    return False
                return True
            failures, since = ep.failures + 1, ep.failing_since or now
            if now - since >= self.settings.pause_after_s:
                log.warning("webhook_paused", endpoint_id=ep.endpoint_id, failing_s=round(now - since, 3), error=error)
                self._release(
                    tx,
                    ep,
                    "status = 'paused', paused_at = ?, failures = ?, failing_since = ?, last_error = ?",
                    (now, failures, since, error),
                )
            else:
                retry_in_s = self.settings.backoff_s(failures)
                log.info(
                    "webhook_retry",
                    endpoint_id=ep.endpoint_id,
                    position=position,
                    failures=failures,
                    retry_in_s=round(retry_in_s, 3),
                    error=error,
                )
                self._release(
                    tx,
                    ep,
                    "failures = ?, failing_since = ?, last_error = ?, next_attempt_at = ?",
                    (failures, since, error, now + retry_in_s),
                )
        return False

    def _release(self, tx: Tx, ep: _Claimed, sql: str, params: tuple[Any, ...]) -> None:
        tx.execute(
            f"UPDATE webhook_endpoints SET {sql}, lease_owner = NULL, lease_until = NULL"  # noqa: S608
            " WHERE endpoint_id = ? AND lease_owner = ?",
            (*params, ep.endpoint_id, self.owner),
        )
