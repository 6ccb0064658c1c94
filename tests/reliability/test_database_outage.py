"""Fault 3: the database goes away under load and comes back (PostgreSQL only: SQLite is a file
in the service's own process, there is no server to lose).

The shared PostgreSQL server is never restarted: the service reaches it through a TCP proxy of
the test (tests/reliability/proxy.py) that is cut (open connections shut, new ones closed at
once) then restored. Before that, the service's own backends are killed with
pg_terminate_backend (found by the application_name its processes are started with).

Checked: while the database is away every request (commands and a read) is answered within a
bound, with 503 problem+json and Retry-After (never 500, never a hang); the service reconnects by
itself, within about a second of the database's return; every
command answered 201 is stored; re-sending the commands answered 503 with their keys records
each exactly once; the projections catch up.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from ledger.store import StoreConfig
from tests.conftest import _pg_conninfo
from tests.reliability.harness import COOP, admit_body, check_whole, headers, seed
from tests.reliability.proxy import TcpProxy

ANSWER_BOUND_S = 20.0  # every answer, database or not: see docs/reliability.md for the sum
OUTAGE_S = 5.0
RECOVERY_BOUND_S = 40.0


class Load:
    """Threads sending AdmitMember commands (one new key each) until stopped; every answer kept."""

    def __init__(self, base: str, token: str, threads: int = 3) -> None:
        self.base, self.token = base, token
        self.answers: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=ANSWER_BOUND_S + 5)

    def _run(self, thread: int) -> None:
        with httpx.Client(base_url=self.base, timeout=ANSWER_BOUND_S + 10) as http:
            for i in range(100_000):
                if self._stop.is_set():
                    return
                member = f"t{thread}-{i}"
                started = time.monotonic()
                try:
                    r = http.post(
                        f"/v1/coops/{COOP}/commands/AdmitMember",
                        json=admit_body(member),
                        headers=headers(self.token, f"admit-{member}"),
                    )
                    answer = {
                        "member": member,
                        "status": r.status_code,
                        "type": r.headers.get("content-type"),
                        "retry_after": r.headers.get("retry-after"),
                        "body": r.text[:300],
                    }
                except httpx.HTTPError as exc:
                    answer = {"member": member, "status": None, "error": repr(exc)}
                answer.update(at=started, seconds=time.monotonic() - started)
                with self._lock:
                    self.answers.append(answer)
                if answer["status"] != 201:
                    time.sleep(0.05)  # a client backing off a little

    def since(self, t: float) -> list[dict[str, Any]]:
        with self._lock:
            return [a for a in self.answers if a["at"] >= t]

    def wait_success_after(self, t: float, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ok = [a for a in self.since(t) if a["status"] == 201]
            if ok:
                return ok[0]["at"] + ok[0]["seconds"] - t
            time.sleep(0.05)
        raise AssertionError(f"no command succeeded within {timeout_s} s: {self.since(t)[-3:]}")


def _terminate_backends(application_name: str) -> int:
    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return len(rows)


def test_database_lost_under_load_gives_503_then_recovers_losing_nothing(store_kind, store_url, servers):
    if store_kind == "sqlite":
        pytest.skip("SQLite is embedded in the service's process: there is no database server to lose")
    tokens = seed(store_url)
    config = StoreConfig.from_url(store_url)
    proxy = TcpProxy(config.pg_host, config.pg_port)
    app_name = f"coopledger-outage-{uuid.uuid4().hex[:8]}"
    proxied = f"postgresql://{config.pg_user}@127.0.0.1:{proxy.port}/{config.pg_dbname}?schema={config.pg_schema}"
    server = servers(proxied, env={"PGAPPNAME": app_name}).start()
    try:
        with Load(server.base, tokens["clerk"]) as load:
            load.wait_success_after(time.monotonic(), timeout_s=10)

            # 1. The service's backends are killed: the pools replace them by themselves.
            killed_at = time.monotonic()
            assert _terminate_backends(app_name) >= 1
            load.wait_success_after(killed_at + 0.5, timeout_s=RECOVERY_BOUND_S)

            # 2. The database goes away; a new command and a read are sent meanwhile (the load's
            # requests in flight may instead wait inside the bound and succeed after the return).
            cut_at = time.monotonic()
            proxy.cut()
            probes = []
            for method, path, body in (
                ("POST", "/commands/AdmitMember", admit_body("probe")),
                ("GET", "/members?year=2020", None),
                ("GET", "/accounts/411/balance", None),  # awaited on the event loop (ledger/loop_reads.py)
            ):
                started = time.monotonic()
                r = httpx.request(
                    method,
                    f"{server.base}/v1/coops/{COOP}{path}",
                    json=body,
                    timeout=ANSWER_BOUND_S,
                    headers=headers(tokens["clerk"], "admit-probe" if body else None),
                )
                probes.append((r, time.monotonic() - started))
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
            restored_at = time.monotonic()
            proxy.restore()
            recovered_s = load.wait_success_after(restored_at, timeout_s=RECOVERY_BOUND_S)
            time.sleep(0.3)  # a little load after recovery
        answers = load.answers

        for r, seconds in probes:
            assert r.status_code == 503 and r.headers.get("retry-after") and seconds < ANSWER_BOUND_S, (r.text, seconds)
            assert r.headers["content-type"].startswith("application/problem+json")
            # database_unavailable, or write_contention when a request stuck on the database held
            # the cooperative longer than ledger.service.LOCK_WAIT_S: both say "retry", nothing recorded.
            assert r.json()["rule"] in ("database_unavailable", "write_contention"), r.json()
        bad = [a for a in answers if a["status"] not in (201, 503)]
        assert not bad, bad[:3]
        for a in answers:
            assert a["seconds"] < ANSWER_BOUND_S, a
            if a["status"] == 503:
                assert a["type"].startswith("application/problem+json") and a["retry_after"], a
                assert "database_unavailable" in a["body"] or "write_contention" in a["body"], a
        assert recovered_s < RECOVERY_BOUND_S

        # Nothing answered 201 is lost; the 503s re-sent with their keys are recorded exactly once.
        stored = check_whole(store_url)
        succeeded = {f"admit-{a['member']}" for a in answers if a["status"] == 201}
        assert succeeded <= set(stored["receipts"])
        unsure = [a["member"] for a in answers if a["status"] != 201]
        with httpx.Client(base_url=server.base, timeout=ANSWER_BOUND_S) as http:
            for member in unsure:
                r = http.post(
                    f"/v1/coops/{COOP}/commands/AdmitMember",
                    json=admit_body(member),
                    headers=headers(tokens["clerk"], f"admit-{member}"),
                )
                assert r.status_code == 201, r.text
            final = check_whole(store_url)
            assert set(final["receipts"]) - {"admit-probe"} == {"seed-found"} | {f"admit-{a['member']}" for a in answers}
            # The projection runner, which lost its connections too, caught up by itself (its error
            # is cleared once the catch-up that got there has returned: just after `projected`).
            deadline = time.monotonic() + 20
            while (
                (h := http.get("/health").json())["projected"] < final["position"] or h["status"] != "ok"
            ) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert h["projected"] == final["position"] and h["status"] == "ok", h
    finally:
        server.kill()
        proxy.close()
