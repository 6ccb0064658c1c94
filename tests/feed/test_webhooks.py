"""Webhooks against a local receiver on a loopback port (both stores): a receiver failing its first
deliveries still gets every fact, acknowledged once, in order, each signature valid; an endpoint
that keeps failing is paused, keeps its facts, and delivers them when an admin resumes it; two
workers on one store never deliver a fact twice. Retry delays are a few milliseconds here.
Every delivery's signature is checked with the verify() docs/webhooks.md gives receivers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from api.webhook_endpoints import create_endpoint
from api.webhooks import SIGNATURE_HEADER, WebhookSettings, WebhookWorker
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner
from tests.conftest import migrates_the_store
from tests.feed.helpers import COOP, NAMES, OTHER, log_facts, payment, record, setup_commands

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def receivers_verify() -> Callable[[str, bytes, str], bool]:
    """The verify() docs/webhooks.md gives receivers ("Verifying the signature"), run as written there."""
    section = DOC.read_text(encoding="utf-8").split("### Verifying the signature", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 (this repository's own documentation)
    return namespace["verify"]


verify = receivers_verify()


class Receiver:
    """Answers 500 to its first `fail_first` requests (or all, while `failing`), then 200; keeps
    every request it answered 200 to."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first, self.failing, self.calls = fail_first, False, 0
        self.acked: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.calls += 1
                    ok = not receiver.failing and receiver.calls > receiver.fail_first
                    if ok:
                        receiver.acked.append((dict(self.headers), body))
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def facts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [orjson.loads(body) for _h, body in self.acked]


def _until(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def local_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on this machine: a server sends there only when told to."""
    monkeypatch.setenv("COOPLEDGER_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")


@pytest.fixture
@migrates_the_store
def api(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in (
        ("RETRY_BASE_MS", "10"),
        ("RETRY_MAX_MS", "40"),
        ("POLL_MS", "20"),
        ("PAUSE_AFTER_S", "0.6"),
        ("TIMEOUT_MS", "2000"),
    ):
        monkeypatch.setenv(f"COOPLEDGER_WEBHOOK_{name}", value)
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        position = record(ledger, setup_commands(COOP) + setup_commands(OTHER), "setup")
        assert app.state.services.runner.wait_for(position, 10)
        tokens = {role: create_key(ledger.db, role=role, coops=[COOP])[1] for role in ("admin", "treasurer")}
        yield {"client": client, "ledger": ledger, "tokens": tokens}


def _call(api: dict[str, Any], method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api['tokens'][role]}"}
    return api["client"].request(method, f"/v1/coops/{COOP}/webhooks{path}", headers=headers, **kwargs)


def test_failing_receiver_gets_every_fact_once_in_order_signed(api):
    receiver = Receiver(fail_first=3)
    try:
        r = _call(api, "POST", "", json={"url": receiver.url, "kinds": ["fee.called", "fee.paid"], "after": 0})
        assert r.status_code == 201, r.text
        endpoint, secret = r.json(), r.json()["secret"]
        assert secret.startswith("whsec_") and "secret" not in _call(api, "GET", f"/{endpoint['endpoint_id']}").json()
        record(api["ledger"], [payment(i) for i in range(6)] + [payment(0, OTHER)], "pay")
        expected = [p for p, name, _ in log_facts(api["ledger"], COOP) if name in ("FeeCalled", "FeePaid")]
        assert len(expected) == len(NAMES) + 6
        _until(lambda: len(receiver.acked) >= len(expected))
        time.sleep(0.1)  # nothing more may come
        assert [f["position"] for f in receiver.facts()] == expected  # each once, in order, only COOP's
        for headers, body in receiver.acked:
            assert verify(secret, body, headers[SIGNATURE_HEADER])
            assert not verify(secret, body + b" ", headers[SIGNATURE_HEADER])
        # A body is the fact as the feed answers it: amounts in the wire's form, signed as sent.
        page = api["client"].get(
            f"/v1/coops/{COOP}/feed",
            params={"kinds": "fee.called,fee.paid"},
            headers={"Authorization": f"Bearer {api['tokens']['admin']}"},
        )
        assert receiver.facts() == page.json()["facts"]
        assert [f["data"]["amount_eur"] for f in receiver.facts()] == ["100.00"] * len(NAMES) + ["1.00"] * 6
        log = _call(api, "GET", f"/{endpoint['endpoint_id']}/deliveries").json()["deliveries"]
        assert [d["position"] for d in log] == expected and {d["status"] for d in log} == {"delivered"}
        assert log[0]["attempts"] == 4 and "500" in log[0]["last_error"] and all(d["attempts"] == 1 for d in log[1:])
        state = _call(api, "GET", f"/{endpoint['endpoint_id']}").json()
        assert state["status"] == "active" and state["cursor"] >= expected[-1] and state["failures"] == 0
        # Admin only; kinds checked; deleting stops deliveries but keeps the log.
        assert _call(api, "GET", "", role="treasurer").status_code == 403
        assert _call(api, "POST", "", json={"url": receiver.url, "kinds": ["fee.kept"]}).json()["rule"] == "known_kind"
        assert _call(api, "POST", "", json={"url": "ftp://x"}).json()["field"] == "url"
        assert _call(api, "DELETE", f"/{endpoint['endpoint_id']}").json()["status"] == "deleted"
        assert _call(api, "GET", "").json()["endpoints"] == []
        record(api["ledger"], [payment(6)], "after-delete")
        time.sleep(0.2)
        assert len(receiver.acked) == len(expected)
    finally:
        receiver.close()


def test_endpoint_failing_too_long_is_paused_then_resumed(api):
    receiver = Receiver()
    receiver.failing = True
    try:
        endpoint = _call(api, "POST", "", json={"url": receiver.url, "kinds": ["fee.paid"]}).json()
        path = f"/{endpoint['endpoint_id']}"
        record(api["ledger"], [payment(i) for i in range(3)], "pay")
        _until(lambda: _call(api, "GET", path).json()["status"] == "paused")
        state = _call(api, "GET", path).json()
        assert state["paused_at"] and state["failures"] >= 2 and "500" in state["last_error"]
        log = _call(api, "GET", f"{path}/deliveries").json()["deliveries"]
        assert len(log) == 1 and log[0]["status"] == "failing" and log[0]["attempts"] == state["failures"]
        calls = receiver.calls
        time.sleep(0.2)
        assert receiver.calls == calls  # paused: no more attempts
        receiver.failing = False
        assert _call(api, "POST", f"{path}/resume").json()["status"] == "active"
        expected = [p for p, name, _ in log_facts(api["ledger"], COOP) if name == "FeePaid"]
        _until(lambda: len(receiver.acked) >= 3)
        assert [f["position"] for f in receiver.facts()] == expected
    finally:
        receiver.close()


def test_two_workers_on_one_store_deliver_each_fact_once(make_ledger):
    ledgers: list[Ledger] = [make_ledger(), make_ledger()]  # two "server processes"
    record(ledgers[0], setup_commands(COOP) + [payment(i) for i in range(15)], "setup")
    ProjectionRunner(ledgers[0]).catch_up()
    receiver = Receiver(fail_first=2)
    settings = WebhookSettings(retry_base_ms=5, retry_max_ms=20, poll_ms=5)
    workers = [WebhookWorker(ledger.db, settings) for ledger in ledgers]
    try:
        create_endpoint(ledgers[0].db, COOP, url=receiver.url, kinds=None, role="admin", created_by="test", after=0)
        for worker in workers:
            worker.start()
        expected = [p for p, _, _ in log_facts(ledgers[0], COOP)]
        _until(lambda: len(receiver.acked) >= len(expected))
        time.sleep(0.1)
        assert [f["position"] for f in receiver.facts()] == expected
    finally:
        for worker in workers:
            worker.stop()
        receiver.close()
