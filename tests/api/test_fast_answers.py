"""The reads that answer with pre-encoded bytes (`response_class=Answer`, api/responses.py and
docs/decisions/0017-reads-answer-their-bytes.md) skip FastAPI's response-model validation at run
time, so this test does it instead, on the bytes each such route sends over the demo's books:
- the body validates against the route's `response_model` (a WireModel: no undeclared key);
- it is exactly what FastAPI would have written from that model (every declared key, the same
  values and types: dumping the validated model gives back the same JSON);
- it validates against the operation's schema in the OpenAPI document (Amount patterns included).
Every route declaring `Answer` must be exercised here: one added without a request below fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.responses import Answer
from ledger.demo import SCIC
from tests.api.demo_books import serving_the_demo
from tests.conftest import migrates_the_store

BASE = f"/v1/coops/{SCIC}"
# Route path -> the requests (path with query) made on it: several shapes of answer each.
REQUESTS = {
    "/v1/coops/{coop}/accounts/{account}/balance": [
        f"{BASE}/accounts/411/balance?party=BEN-01",
        f"{BASE}/accounts/411/balance?party=BEN-01&as_of=2026-03-31",
        f"{BASE}/accounts/411/balance",
        f"{BASE}/accounts/512/balance?unit=HOUR",
    ],
    "/v1/coops/{coop}/trial-balance": [f"{BASE}/trial-balance", f"{BASE}/trial-balance?as_of=2025-12-31"],
    "/v1/coops/{coop}/accounts/{account}/statement": [
        f"{BASE}/accounts/411/statement?limit=100",
        f"{BASE}/accounts/411/statement?party=BEN-01&after_line=1&limit=3",
    ],
    "/v1/coops/{coop}/governance": [f"{BASE}/governance?as_of=2026-06-30", f"{BASE}/governance?as_of=2000-01-01"],
    "/v1/coops/{coop}/observatory": [f"{BASE}/observatory?as_of=2026-06-30"],
}


@pytest.fixture
@migrates_the_store
def demo(store_url: str) -> Iterator[dict[str, Any]]:
    with serving_the_demo(store_url, ["auditor"]) as served:
        spec = served["client"].get("/openapi.json").json()
        yield {**served, "token": served["keys"]["auditor"], "spec": spec}


def _answer_routes(app: Any) -> dict[str, Any]:
    """Path -> route, for every route (the included routers' too) declaring `response_class=Answer`."""
    found = {}
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, APIRoute) and rc.original_route.response_class is Answer:
            found[rc.path] = rc.original_route
    return found


def test_every_answer_route_is_exercised_here(demo: dict[str, Any]) -> None:
    assert set(_answer_routes(demo["app"])) == set(REQUESTS)


def test_answer_bytes_are_what_the_response_model_would_write(demo: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {demo['token']}"}
    for path, route in _answer_routes(demo["app"]).items():
        model = route.response_model
        assert model is not None, f"{path} answers bytes without declaring their model"
        schema = demo["spec"]["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": demo["spec"]["components"]})
        for url in REQUESTS[path]:
            r = demo["client"].get(url, headers=headers)
            assert r.status_code == 200, (url, r.text)
            assert r.headers["content-type"] == "application/json"
            sent = orjson.loads(r.content)
            validated = model.model_validate_json(r.content)  # an undeclared key is an error (WireModel)
            assert orjson.loads(orjson.dumps(validated.model_dump(mode="json", by_alias=True))) == sent, url
            errors = [f"{e.message} at {list(e.instance_path)}" for e in validator.iter_errors(sent)]
            assert not errors, (url, errors[:5])


def test_an_answer_with_a_key_its_model_lacks_fails_the_check(demo: dict[str, Any]) -> None:
    """The check above can fail: a body with one key too many, or one missing, is refused."""
    route = _answer_routes(demo["app"])["/v1/coops/{coop}/accounts/{account}/balance"]
    r = demo["client"].get(REQUESTS[route.path][0], headers={"Authorization": f"Bearer {demo['token']}"})
    body = orjson.loads(r.content)
    with pytest.raises(ValueError, match="extra"):
        route.response_model.model_validate_json(orjson.dumps({**body, "balance_cents": 0}))
    validated = route.response_model.model_validate_json(orjson.dumps({k: v for k, v in body.items() if k != "as_of"}))
    assert validated.model_dump(mode="json", by_alias=True) != {k: v for k, v in body.items() if k != "as_of"}
