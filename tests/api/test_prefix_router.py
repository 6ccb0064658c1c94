"""Every route of the app is still found for its own path and method with the commands' router
first and turning paths away on its prefix (api/prefix_router.py)."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.routing import Match

from api.app import create_app
from api.prefix_router import PrefixRouter
from api.routes_commands import router as commands_router
from ledger.store import StoreConfig


def _api_routes(routes):
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # a router included in the app
            yield from _api_routes(route.original_router.routes)


def _chosen(app, method: str, path: str, root_path: str = ""):
    """The route the app hands this request to (the first full match, as the app's router does)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "headers": [],
        "query_string": b"",
        "app": app,
    }
    for route in app.router.routes:
        match, _child = route.matches(scope)
        if match == Match.FULL:
            if hasattr(route, "original_router"):
                return route._match(scope)[2]  # the included router's own choice among its routes
            return route
    return None


def test_every_route_is_matched_by_its_own_path(tmp_path):
    app = create_app(StoreConfig.from_url(f"sqlite:///{tmp_path / 'routes.sqlite'}"), run_projections=False)
    routes = list(_api_routes(app.routes))
    assert len(routes) > 100
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "x1", route.path)
        for method in route.methods:
            chosen = _chosen(app, method, path)
            assert chosen is not None and chosen.endpoint is route.endpoint, (method, route.path, chosen)


def test_the_commands_router_turns_away_paths_outside_its_prefix():
    router = commands_router()
    assert isinstance(router, PrefixRouter)
    for path in ("/v1/coops/c/accounts/411/balance", "/v1/coops/c/commandsX", "/health", "/v1/coops/c"):
        scope = {"type": "http", "method": "POST", "path": path, "root_path": "", "headers": [], "query_string": b""}
        assert router.matches(scope) == (Match.NONE, {}), path


def test_a_command_is_found_under_a_root_path(tmp_path):
    # Served under a prefix (a proxy, uvicorn --root-path, a Mount), scope["path"] holds it: the
    # routes match the path without it, and so must the router's own check.
    app = create_app(StoreConfig.from_url(f"sqlite:///{tmp_path / 'routes.sqlite'}"), run_projections=False)
    batch = next(r for r in _api_routes(app.routes) if r.path == "/v1/coops/{coop}/commands")
    pay = next(r for r in _api_routes(app.routes) if r.path == "/v1/coops/{coop}/commands/PayFee")
    for path, route in (("/ledger/v1/coops/c/commands/PayFee", pay), ("/ledger/v1/coops/c/commands", batch)):
        chosen = _chosen(app, "POST", path, root_path="/ledger")
        assert chosen is not None and chosen.endpoint is route.endpoint, path


def test_the_observatory_json_is_matched_first_and_only_for_its_own_method(tmp_path):
    """api/route_shortcut.py: the first route the app tries takes the observatory's JSON (not after
    every route of the routers included before it), and leaves any other method to the usual walk."""
    app = create_app(StoreConfig.from_url(f"sqlite:///{tmp_path / 'routes.sqlite'}"), run_projections=False)
    first = app.router.routes[0]
    path = "/v1/coops/x1/observatory"
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [], "query_string": b"", "app": app}
    assert first.matches(scope)[0] == Match.FULL
    assert _chosen(app, "GET", path).endpoint.__name__ == "get_observatory"
    assert first.matches({**scope, "method": "POST"})[0] == Match.NONE
    assert first.matches({**scope, "path": "/v1/coops/x1/observatory/x"})[0] == Match.NONE
    assert first.matches({**scope, "path": "/v1/coops/x1/accounts/411/balance"})[0] == Match.NONE
