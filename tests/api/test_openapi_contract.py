"""The OpenAPI document as a client generator reads it: a security scheme, short unique operation
ids, declared tags, the response headers a client must read, and no error a route cannot give."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import Field

from api.app import create_app
from api.wire import WireModel
from domain.money import MAX_AMOUNT_MINOR
from ledger.store import StoreConfig


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = Path(tmp_path_factory.mktemp("openapi")) / "books.sqlite"
    app = create_app(StoreConfig.from_url(f"sqlite:///{path}"), run_projections=False)
    return app.openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_has_a_short_unique_id_a_description_and_a_declared_tag(spec):
    ids = [op["operationId"] for _p, _m, op in _operations(spec)]
    assert len(ids) == len(set(ids)) and max(map(len, ids)) <= 40, sorted(ids, key=len)[-3:]
    assert "PayFee" in ids and "getTrialBalance" in ids and "getTrialBalanceReport" in ids
    declared = {t["name"] for t in spec["tags"]}
    assert all(t["description"] != t["name"] for t in spec["tags"]), spec["tags"]  # each tag said in words
    for path, method, op in _operations(spec):
        assert op.get("description"), (method, path)
        assert set(op.get("tags", ())) <= declared, (method, path)


def test_bearer_keys_are_the_security_scheme_and_health_needs_none(spec):
    (scheme,) = spec["components"]["securitySchemes"].values()
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"apiKey": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert spec["servers"] == [{"url": "/", "description": "This server"}]


def test_reads_list_no_conflict_and_clients_see_replay_and_retry_headers(spec):
    for path, method, op in _operations(spec):
        if method == "get":
            assert not {"409", "413"} & set(op["responses"]), path
        if "503" in op["responses"]:
            assert "Retry-After" in op["responses"]["503"].get("headers", {}), (method, path)
    created = spec["paths"]["/v1/coops/{coop}/commands/PayFee"]["post"]["responses"]["201"]
    assert created["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}


def test_rates_have_their_own_form_and_amounts_take_numbers(spec):
    schemas = spec["components"]["schemas"]
    rate = schemas["DefineSubscriptionPlanBody"]["properties"]["revenue_rate"]
    amount = schemas["PayFeeBody"]["properties"]["amount"]
    assert "3/20" in rate["examples"] and "/" in rate["anyOf"][0]["pattern"]
    text, whole = amount["anyOf"]
    assert "/" not in text["pattern"] and (whole["type"], whole["minimum"]) == ("integer", 0)
    # The largest amount the deciders take (domain/money.py), in major units: said, so clients know it.
    assert whole["maximum"] == MAX_AMOUNT_MINOR // 100 and not re.fullmatch(text["pattern"], "12.505")


def test_problem_types_are_the_apis_own_pages(spec):
    examples = [
        content["example"]
        for _path, _method, op in _operations(spec)
        for response in op["responses"].values()
        for media, content in response.get("content", {}).items()
        if media == "application/problem+json" and "example" in content
    ]
    assert len(examples) > 100, len(examples)
    assert all(e["type"] == f"/problems/{e['rule']}" for e in examples), [e["type"] for e in examples][:5]


def test_every_operation_declares_the_nul_refusal_the_outermost_middleware_gives(spec):
    assert all("400" in op["responses"] for _path, _method, op in _operations(spec))
    health = spec["paths"]["/health"]["get"]["responses"]["400"]  # no router declares it: api/openapi_doc.py does
    assert health["content"]["application/problem+json"]["example"]["rule"] == "no_nul"


def test_every_field_of_an_answer_is_required_and_examples_keep_their_nulls(spec):
    class Sample(WireModel):
        note: str | None = Field(None, description="Null when none was written.")

    app = FastAPI()
    app.get("/sample", response_model=Sample)(lambda: Sample())
    (schema,) = get_openapi(title="t", version="1", routes=app.routes)["components"]["schemas"].values()
    assert schema["required"] == ["note"]  # a generated client reads `note: string | null`, not `note?:`
    health = spec["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert "projection_error" in health and health["projection_error"] is None  # as the answer writes it
