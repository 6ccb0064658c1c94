"""A starting server builds in advance what FastAPI builds on the first request reaching a router
(api/app.py prime_routes): the first command then waits for no validator to be made, nor does
any request the event loop holds meanwhile."""

from __future__ import annotations

import fastapi.routing
from fastapi.testclient import TestClient

from api.app import create_app, prime_routes
from ledger.store import StoreConfig


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
