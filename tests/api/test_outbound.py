"""Webhooks go to public addresses only (api/outbound.py): an admin key cannot turn the server
against its own network. Refused at registration (loopback, private, link-local, the metadata
service, the server itself) and at delivery, on the address actually connected to, after a DNS
change; redirects are not followed; a server setting allows named hosts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import outbound
from api.app import create_app
from api.keys import create_key
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store
from tests.feed.helpers import COOP, record, setup_commands

PUBLIC = "93.184.216.34"  # a global unicast address (never connected to: the stub answers for DNS)


class Listener:
    """A local HTTP server that counts what reaches it; answers `status` (and a Location)."""

    def __init__(self, status: int = 200) -> None:
        self.hits: list[tuple[str, str]] = []  # (path, Host header)
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                listener.hits.append((self.path, self.headers.get("Host", "")))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{listener.port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A resolver stub: host -> addresses, changed by the test as a DNS change would."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, _port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} does not resolve")
        return table[host]

    monkeypatch.setattr(outbound, "resolver", resolve)
    monkeypatch.delenv(outbound.ALLOWED_HOSTS_ENV, raising=False)
    return table


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        record(ledger, setup_commands(COOP), "setup")
        # The cooperative in the views before the first request (else 503 read_your_writes, not the rule tested).
        assert app.state.services.runner.wait_for(ledger.position(), timeout_s=30)
        yield {"client": client, "admin": create_key(ledger.db, role="admin", coops=[COOP])[1]}


def _register(api: dict[str, Any], url: str) -> Any:
    headers = {"Authorization": f"Bearer {api['admin']}"}
    return api["client"].post(f"/v1/coops/{COOP}/webhooks", json={"url": url}, headers=headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/x",  # the database
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://localhost:18451/health",  # the server itself, by name
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://0.0.0.0:80/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",  # shared address space
        "http://internal.partner.test/hook",  # a name the stub resolves to a private address
    ],
)
def test_registration_to_a_non_public_destination_is_refused(api, dns, url):
    dns["localhost"] = ["127.0.0.1"]
    dns["internal.partner.test"] = [PUBLIC, "10.0.0.7"]  # one private address among public ones is enough
    r = _register(api, url)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "public_destination" and problem["field"] == "url", problem
    assert outbound.ALLOWED_HOSTS_ENV in problem["detail"]


def test_a_public_destination_is_registered(api, dns):
    dns["hooks.partner.test"] = [PUBLIC]
    assert _register(api, "https://hooks.partner.test/coopledger").status_code == 201


def test_a_delivery_after_a_dns_change_is_refused_and_reaches_nothing(api, dns, listener):
    dns["hooks.partner.test"] = [PUBLIC]
    url = f"http://hooks.partner.test:{listener.port}/hook"
    assert _register(api, url).status_code == 201
    dns["hooks.partner.test"] = ["127.0.0.1"]  # the name now points at the server's own machine
    status, error = outbound.post(url, b"{}", {"Content-Type": "application/json"}, 2.0)
    assert status is None and error is not None and "destination refused" in error and "127.0.0.1" in error
    assert listener.hits == []


def test_an_allowed_host_is_reached_at_the_address_checked(dns, listener, monkeypatch):
    monkeypatch.setenv(outbound.ALLOWED_HOSTS_ENV, "receiver.internal.test")
    dns["receiver.internal.test"] = ["127.0.0.1"]
    url = f"http://receiver.internal.test:{listener.port}/hook?x=1"
    assert outbound.post(url, b"{}", {}, 2.0) == (200, None)
    assert listener.hits == [("/hook?x=1", f"receiver.internal.test:{listener.port}")]  # the name kept as Host


def test_a_redirect_is_not_followed(dns, monkeypatch):
    redirecting = Listener(status=302)
    try:
        monkeypatch.setenv(outbound.ALLOWED_HOSTS_ENV, "127.0.0.1")
        status, error = outbound.post(f"http://127.0.0.1:{redirecting.port}/hook", b"{}", {}, 2.0)
        assert status == 302 and error is not None and error.startswith("HTTP 302")
        assert [path for path, _host in redirecting.hits] == ["/hook"]  # /elsewhere never asked for
    finally:
        redirecting.close()
