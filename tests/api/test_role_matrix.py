"""Every /v1 route against every role, no key, a revoked key and another cooperative's key.

The routes are read from the live app (`fastapi.routing.iter_route_contexts(app.routes)`), not
from a list here, so a route added later is covered the day it is added. What each route allows
comes from the one place the route declares it: the dependency that enforces it carries an
`api.deps.Access` (reader(kind) -> READ_ROLES[kind], commander(name) -> command_roles()[name],
any_commander -> roles that may send some command; see api/deps.py's docstring). A /v1 route with
no such declaration, or one naming a kind or command that api/roles.py lacks, fails here by name.
tests/api/test_api.py keeps a hand-written matrix, so a wrong entry in api/roles.py fails there.

Allowed means the request got past access control (not 401, not 403, and no 5xx); forbidden means
403 for a key and 401 without a valid key. Commands are sent with an empty body: an allowed role
reaches body validation (422) and nothing is written. Path parameters are filled from a small
ledger built here; a parameter this file does not know gets a placeholder, which still tests
access (the checks run before any lookup; a route that looked up first would leak existence).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import KeyCache, route_access
from api.keys import create_key, revoke_key
from api.roles import ROLES
from ledger.store import StoreConfig
from tests.api.test_api import FOUND
from tests.conftest import migrates_the_store

COOP, OTHER = "coop-a", "coop-b"
PATH_VALUES = {"coop": COOP, "account": "411", "member_id": "m1", "resolution_id": "AG-2025-01"}
# Values for required query parameters, by name, then by JSON-schema type/format.
QUERY_VALUES = {"year": "2025", "period": "2025-06", "on": "2025-06-01", "as_of": "2025-06-01"}
CALLERS = (*ROLES, "no key", "revoked key", "other cooperative")


@pytest.fixture
@migrates_the_store
def matrix(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        db = app.state.services.ledger.db
        tokens: dict[str, str | None] = {role: create_key(db, role=role, coops=[COOP])[1] for role in ROLES}
        revoked_id, tokens["revoked key"] = create_key(db, role="admin", coops=[COOP])
        revoke_key(db, revoked_id)  # before its first use: no cache can hold it
        tokens["other cooperative"] = create_key(db, role="admin", coops=[OTHER])[1]
        tokens["no key"] = None
        setup = [
            (COOP, "admin", "FoundCooperative", FOUND),
            (OTHER, "other cooperative", "FoundCooperative", FOUND),
            (
                COOP,
                "clerk",
                "AdmitMember",
                {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
            ),
            (COOP, "treasurer", "CallFee", {"member_id": "m1", "year": 2025, "effective_date": "2025-02-01"}),
            (COOP, "treasurer", "PayFee", {"member_id": "m1", "year": 2025, "amount": "40", "effective_date": "2025-03-01"}),
            (
                COOP,
                "board",
                "RecordResolution",
                {"resolution_id": "AG-2025-01", "title": "Comptes 2024", "assembly": "ordinary", "vote_date": "2025-06-30"},
            ),
        ]
        for i, (coop, caller, command, body) in enumerate(setup):
            r = client.post(
                f"/v1/coops/{coop}/commands/{command}",
                json=body,
                headers={"Authorization": f"Bearer {tokens[caller]}", "Idempotency-Key": f"setup-{i}"},
            )
            assert r.status_code == 201, (command, r.text)
        yield {"app": app, "client": client, "tokens": tokens, "position": r.json()["position"]}


def _v1_routes(app: Any) -> list[Any]:
    return [rc for rc in iter_route_contexts(app.routes) if (rc.path or "").startswith("/v1/")]


def _query(spec: dict[str, Any], path: str, method: str) -> dict[str, str]:
    """Values for the operation's required query parameters, so allowed callers get real answers."""
    params = spec["paths"].get(path, {}).get(method.lower(), {}).get("parameters", [])
    values = {}
    for p in params:
        if p["in"] != "query" or not p.get("required"):
            continue
        schema = p.get("schema", {})
        values[p["name"]] = QUERY_VALUES.get(p["name"]) or (
            "2025-06-01"
            if schema.get("format") == "date"
            else str(schema.get("minimum", 1))
            if schema.get("type") == "integer"
            else "false"
            if schema.get("type") == "boolean"
            else "x"
        )
    return values


def test_every_v1_route_declares_its_roles_and_enforces_them(matrix: dict[str, Any]) -> None:
    client, tokens = matrix["client"], matrix["tokens"]
    spec = client.get("/openapi.json").json()
    routes = _v1_routes(matrix["app"])
    assert len(routes) > 60  # every command, the batch route and the reads
    undeclared, wrong = [], []
    checked = 0
    for rc in routes:
        label = f"{sorted(rc.methods)} {rc.path}"
        declared = route_access(rc)
        if len(declared) != 1:
            undeclared.append(f"{label}: {len(declared)} Access declarations {declared} (need exactly one)")
            continue
        access = declared[0]
        try:
            allowed = access.roles()
        except KeyError as missing:
            undeclared.append(f"{label}: {missing}")
            continue
        path = rc.path
        for name in rc.param_convertors:
            path = path.replace("{" + name + "}", PATH_VALUES.get(name, f"unknown-{name}"))
        for method in sorted(rc.methods):
            params = {**_query(spec, rc.path, method), "min_position": str(matrix["position"])} if method == "GET" else {}
            for caller in CALLERS:
                token = tokens[caller]
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if method != "GET":
                    headers["Idempotency-Key"] = f"matrix-{caller}"
                r = client.request(method, path, params=params, headers=headers, json={} if method != "GET" else None)
                checked += 1
                if caller in ROLES:
                    expect_ok = caller in allowed
                    refusal = 403
                elif caller == "other cooperative":
                    expect_ok, refusal = not access.needs_key, 403
                else:
                    expect_ok, refusal = not access.needs_key, 401
                got_ok = r.status_code not in (401, 403) and r.status_code < 500
                if expect_ok != got_ok or (not expect_ok and r.status_code != refusal):
                    wrong.append(
                        f"{method} {path} as {caller}: expected {'allowed' if expect_ok else refusal}, "
                        f"got {r.status_code} {r.text[:160]}"
                    )
    assert not undeclared, "routes without a role declaration (see api/deps.py):\n" + "\n".join(undeclared)
    assert not wrong, f"{len(wrong)} of {checked} requests broke the matrix:\n" + "\n".join(wrong[:40])


def test_openapi_shows_the_declared_roles(matrix: dict[str, Any]) -> None:
    spec = matrix["client"].get("/openapi.json").json()
    pay = spec["paths"]["/v1/coops/{coop}/commands/PayFee"]["post"]
    assert pay["x-roles"] == ["treasurer"]
    journal = spec["paths"]["/v1/coops/{coop}/journal"]["get"]
    assert journal["x-roles"] == ["admin", "auditor", "treasurer"]
    batch = spec["paths"]["/v1/coops/{coop}/commands"]["post"]
    assert "auditor" not in batch["x-roles"] and "reader" not in batch["x-roles"] and "clerk" in batch["x-roles"]


def test_valid_keys_are_remembered_briefly_and_revocation_takes_effect_within_the_ttl(store_url: str) -> None:
    app = create_app(StoreConfig.from_url(store_url), run_projections=False)
    ledger = app.state.services.ledger
    try:
        key_id, token = create_key(ledger.db, role="reader", coops=[COOP])
        now = [100.0]
        cache = KeyCache(ttl_s=2.0, clock=lambda: now[0])
        assert cache.peek(token) is None  # never checked: the dependencies ask the store (get) in a thread
        first = cache.get(ledger, token)
        assert first is not None and first.role == "reader"
        revoke_key(ledger.db, key_id)
        now[0] += 1.9
        assert cache.get(ledger, token) == first  # remembered: no store read within the TTL
        assert cache.peek(token) == first  # what the async dependencies use on the event loop
        now[0] += 0.2
        assert cache.peek(token) is None  # expired: never answered from memory past the TTL
        assert cache.get(ledger, token) is None  # 2.1 s after the first check: the store says revoked
        assert cache.get(ledger, "clk_000000000000_" + "x" * 43) is None
    finally:
        ledger.close()


def test_an_unknown_cooperative_is_404_every_time_and_a_known_one_is_remembered(matrix: dict[str, Any]) -> None:
    client, app = matrix["client"], matrix["app"]
    token = create_key(app.state.services.ledger.db, role="auditor", coops=["ghost", COOP])[1]
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):  # an unknown cooperative is never remembered as known
        r = client.get("/v1/coops/ghost/trial-balance", headers=headers)
        assert r.status_code == 404 and r.json()["rule"] == "known_cooperative"
    assert "ghost" not in app.state.services.known_coops
    assert client.get(f"/v1/coops/{COOP}/trial-balance", headers=headers).status_code == 200
    assert COOP in app.state.services.known_coops


def test_every_read_of_an_unknown_cooperative_is_a_404(matrix: dict[str, Any]) -> None:
    """A key may be bound to a cooperative not founded yet: every read says 404 known_cooperative
    (one check, in api/deps.reader), never 200 with an empty list."""
    client = matrix["client"]
    spec = client.get("/openapi.json").json()
    token = create_key(matrix["app"].state.services.ledger.db, role="admin", coops=["ghost"])[1]
    wrong, checked = [], 0
    for rc in _v1_routes(matrix["app"]):
        if "GET" not in rc.methods or not rc.path.startswith("/v1/coops/{coop}"):
            continue
        path = rc.path
        for name in rc.param_convertors:
            path = path.replace("{" + name + "}", "ghost" if name == "coop" else PATH_VALUES.get(name, f"unknown-{name}"))
        r = client.get(path, params=_query(spec, rc.path, "GET"), headers={"Authorization": f"Bearer {token}"})
        checked += 1
        if r.status_code != 404 or r.json().get("rule") != "known_cooperative":
            wrong.append(f"GET {path}: {r.status_code} {r.text[:120]}")
    assert checked > 30
    assert not wrong, "\n".join(wrong)
