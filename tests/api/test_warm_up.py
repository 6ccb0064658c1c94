"""A starting server builds in advance what FastAPI builds on the first request reaching a router
(api/app.py prime_routes): the first command then waits for no validator to be made, nor does
any request the event loop holds meanwhile."""

from __future__ import annotations

import threading
import time

import fastapi.routing
from fastapi.testclient import TestClient

from api.app import create_app, prime_routes
from domain.cooperative import coop_id
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.builders import found_association, ok


def test_the_first_command_finds_its_routes_built(store_url, monkeypatch):
    app = create_app(StoreConfig.from_url(store_url), run_projections=False)
    prime_routes(app.router.routes)
    built: list[str] = []
    build = fastapi.routing._populate_api_route_state

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        built.append("route")
        return build(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counted)
    with TestClient(app) as client:
        answer = client.post("/v1/coops/demo/commands/AcceptReadings", json={}, headers={"Idempotency-Key": "k1"})
    assert answer.status_code == 401  # matched the command's route, then refused: no key
    assert built == []


def test_a_server_started_with_warming_loads_the_cooperatives_that_wrote_last(store_url):
    writer = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(writer.db)
        ok(writer, found_association("recent"))  # not projected: the store names it (ledger/warming.py)
    finally:
        writer.close()
    app = create_app(StoreConfig.from_url(store_url), run_projections=False, warm=True)
    cache = app.state.services.ledger.app.repository.cache
    with TestClient(app):  # the lifespan starts the warm-up thread, and stops it on leaving
        deadline = time.monotonic() + 20
        while coop_id("recent") not in cache.cache and time.monotonic() < deadline:
            time.sleep(0.01)
        assert coop_id("recent") in cache.cache
    assert not [t for t in threading.enumerate() if t.name == "warm-up"]  # joined when the server stopped
