"""The hottest reads' dependencies are solved by a plan made once (api/lean_route.py), not by
FastAPI's solver: these tests check that nobody can tell, on both stores and the demo's books.

Each request below is sent twice to the same app, once through the plan and once through FastAPI's
own handler (a dependency override, however unrelated, makes a LeanRoute hand the request to
FastAPI): status, problem+json body and headers must be the same. The requests cover what the
plan must get right: defaults, optional and required parameters, empty values, every kind of
invalid value (several at once: errors gathered in FastAPI's order), unknown parameters, a
missing or refused key (401, 403) and an unknown cooperative (404), which come before a 422 as
with FastAPI, and min_position (the router's own dependency)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Literal

import fastapi.routing
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.lean_route import LeanRoute, _plain
from api.responses import Answer
from ledger.demo import SCIC
from tests.api.demo_books import serving_the_demo
from tests.conftest import migrates_the_store

BASE = f"/v1/coops/{SCIC}"
LEAN_PATHS = {
    "/v1/coops/{coop}/accounts/{account}/balance",
    "/v1/coops/{coop}/trial-balance",
    "/v1/coops/{coop}/accounts/{account}/statement",
    "/v1/coops/{coop}/governance",
    "/v1/coops/{coop}/observatory",
}
# (the key's role or None, path with query)
REQUESTS = [
    ("auditor", f"{BASE}/accounts/411/balance?party=BEN-01"),
    ("auditor", f"{BASE}/accounts/411/balance?party=BEN-01&as_of=2026-03-31&unit=EUR"),
    ("auditor", f"{BASE}/accounts/411/balance?party="),  # empty: a value, not absent
    ("auditor", f"{BASE}/accounts/411/balance?party={'x' * 65}"),  # too long
    ("auditor", f"{BASE}/accounts/411/balance?unit=GBP&as_of=2026-02-30&min_position=-1"),  # three errors at once
    ("auditor", f"{BASE}/accounts/999/balance"),  # unknown account: the 404 names what exists
    ("auditor", f"{BASE}/accounts/411/balance?party=NOBODY"),
    ("auditor", f"{BASE}/accounts/411/balance?colour=blue"),  # unknown parameters are ignored
    ("auditor", f"{BASE}/accounts/411/balance?min_position=1"),
    ("auditor", f"{BASE}/accounts/411/balance?min_position=abc"),
    (None, f"{BASE}/accounts/411/balance?unit=GBP"),  # no key: 401 before the 422
    ("auditor", "/v1/coops/no-such-coop/accounts/411/balance?unit=GBP"),  # 404 before the 422
    ("auditor", f"{BASE}/trial-balance"),
    ("auditor", f"{BASE}/trial-balance?as_of=2025-12-31"),
    ("auditor", f"{BASE}/trial-balance?as_of=31/12/2025"),
    ("auditor", f"{BASE}/trial-balance?as_of="),
    ("auditor", f"{BASE}/accounts/411/statement?limit=100"),
    ("auditor", f"{BASE}/accounts/411/statement?party=BEN-01&after_line=1&limit=3"),
    ("auditor", f"{BASE}/accounts/411/statement?limit=0&after_line=-1"),
    ("auditor", f"{BASE}/accounts/411/statement?limit=1001"),
    ("auditor", f"{BASE}/accounts/411/statement?limit=ten"),
    ("auditor", f"{BASE}/accounts/411/statement?after_line=999999"),  # past the end
    ("reader", f"{BASE}/accounts/411/statement"),  # a reader may not read the journal: 403
    ("auditor", f"{BASE}/governance?as_of=2026-06-30"),
    ("auditor", f"{BASE}/governance"),  # as_of is required here
    ("auditor", f"{BASE}/governance?as_of=2000-01-01"),
    ("auditor", f"{BASE}/observatory?as_of=2026-06-30"),
    ("auditor", f"{BASE}/observatory?as_of=tomorrow"),
    ("reader", f"{BASE}/observatory?as_of=2026-06-30"),
    ("auditor", f"{BASE}/accounts/411/statement?limit=1&limit=2"),  # repeated: the last value counts
    ("auditor", f"{BASE}/accounts/411/balance?party=NOBODY&party=BEN-01"),
]


@pytest.fixture
@migrates_the_store
def demo(store_url: str) -> Iterator[dict[str, Any]]:
    with serving_the_demo(store_url, ["auditor", "reader"]) as served:
        yield served


def _lean_routes(app: Any) -> dict[str, bool]:
    return {rc.path: rc.original_route.lean for rc in iter_route_contexts(app.routes) if isinstance(rc.original_route, LeanRoute)}


def test_every_answer_route_is_served_by_its_plan(demo: dict[str, Any]) -> None:
    lean = {path for path, planned in _lean_routes(demo["app"]).items() if planned}
    assert lean == LEAN_PATHS
    answers = {
        rc.path for rc in iter_route_contexts(demo["app"].routes) if getattr(rc.original_route, "response_class", None) is Answer
    }
    assert answers == LEAN_PATHS  # a new Answer route is planned too, or this says why not


def _unrelated() -> None:  # the override that hands every LeanRoute's requests to FastAPI
    raise AssertionError("never called: no route depends on it")


@pytest.fixture
def fastapi_solves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests FastAPI's own solver handles (the plan never calls it)."""
    calls: list[int] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        calls.append(1)
        return await solve(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


def _through(app: Any, client: TestClient, url: str, headers: dict[str, str], calls: list[int], *, plan: bool) -> Any:
    """One GET, through the plan or (a dependency override set) through FastAPI's handler; checks which."""
    before = len(calls)
    if not plan:
        app.dependency_overrides[_unrelated] = _unrelated
    try:
        answer = client.get(url, headers=headers)
    finally:
        app.dependency_overrides.clear()
    assert (len(calls) == before) is plan, f"{url}: {'FastAPI' if plan else 'the plan'} answered"
    return answer


def test_the_plan_answers_what_fastapi_answers(demo: dict[str, Any], fastapi_solves: list[int]) -> None:
    app, client = demo["app"], demo["client"]
    statuses = set()
    for n, (role, url) in enumerate(REQUESTS):
        headers = {"Authorization": f"Bearer {demo['keys'][role]}"} if role else {}
        plan_first = n % 2 == 0  # in turn, so that neither always meets caches the other warmed
        first = _through(app, client, url, headers, fastapi_solves, plan=plan_first)
        second = _through(app, client, url, headers, fastapi_solves, plan=not plan_first)
        lean, theirs = (first, second) if plan_first else (second, first)
        assert (lean.status_code, lean.content) == (theirs.status_code, theirs.content), url
        assert lean.headers.get("content-type") == theirs.headers.get("content-type"), url
        assert lean.headers.get("www-authenticate") == theirs.headers.get("www-authenticate"), url
        statuses.add(lean.status_code)
    assert statuses == {200, 401, 403, 404, 422}  # every kind of answer was compared


def test_errors_are_gathered_in_fastapi_s_order(demo: dict[str, Any]) -> None:
    r = demo["client"].get(
        f"{BASE}/accounts/411/statement?limit=0&after_line=-1&unit=GBP&min_position=-2",
        headers={"Authorization": f"Bearer {demo['keys']['auditor']}"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    # the router's dependency (min_position) first, then the route's query parameters in declaration order
    assert [e["field"] for e in r.json()["errors"]] == ["min_position", "unit", "after_line", "limit"]


def test_a_new_overrides_dict_is_seen_too(demo: dict[str, Any], fastapi_solves: list[int]) -> None:
    """FastAPI reads app.dependency_overrides on each request; a test may assign a new dict."""
    app = demo["app"]
    headers = {"Authorization": f"Bearer {demo['keys']['auditor']}"}
    assert demo["client"].get(f"{BASE}/trial-balance", headers=headers).status_code == 200  # handlers built: the plan
    assert fastapi_solves == []
    app.dependency_overrides = {_unrelated: _unrelated}
    try:
        assert demo["client"].get(f"{BASE}/trial-balance", headers=headers).status_code == 200
    finally:
        app.dependency_overrides = {}
    assert len(fastapi_solves) == 1


@pytest.mark.parametrize(
    ("annotation", "plain"),
    [
        (str, True),
        (int | None, True),
        (Literal["EUR", "HOUR"], True),
        (date, True),
        (list[int], False),
        (Sequence[int], False),  # FastAPI reads every repeated value for these: not planned
        (deque[str] | None, False),
        (dict, False),
    ],
)
def test_only_one_value_parameters_are_planned(annotation: Any, plain: bool) -> None:
    assert _plain(annotation) is plain
