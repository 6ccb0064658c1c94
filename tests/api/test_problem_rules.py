"""`rule` in a problem is one of the published rules: the OpenAPI document declares it as the
catalogue's enum (ProblemRule), in the problem and in each of its `errors`, and the problems the
API answers, whichever layer refuses, carry catalogued rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from api import problem_rules
from api.app import create_app
from api.errors import problem
from api.keys import create_key
from domain.rule_catalogue import RULES
from ledger.store import StoreConfig

COOP = "coop-rules"
FOUND = {
    "name": "Coop Rules",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = Path(tmp_path_factory.mktemp("openapi")) / "books.sqlite"
    return create_app(StoreConfig.from_url(f"sqlite:///{path}"), run_projections=False).openapi()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """Refusals depend on no store's kind: SQLite only."""
    path = Path(tmp_path_factory.mktemp("rules")) / "books.sqlite"
    app = create_app(StoreConfig.from_url(f"sqlite:///{path}"))
    with TestClient(app) as test_client:
        admin, treasurer = (create_key(app.state.services.ledger.db, role=r, coops=[COOP])[1] for r in ("admin", "treasurer"))
        r = _post(test_client, admin, "FoundCooperative", FOUND, "found")
        assert r.status_code == 201, r.text
        yield test_client, treasurer  # who may call fees


def _post(client: TestClient, token: str | None, command: str, body: Any, key: str) -> Any:
    headers = {"Idempotency-Key": key, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post(f"/v1/coops/{COOP}/commands/{command}", json=body, headers=headers)


def test_rule_is_declared_as_the_catalogue_enum_in_the_problem_and_its_errors(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["ProblemRule"]["type"] == "string"
    assert schemas["ProblemRule"]["enum"] == list(RULES) and "no_overpayment" in RULES
    ref = {"$ref": "#/components/schemas/ProblemRule"}
    assert ref in schemas["Problem"]["properties"]["rule"]["anyOf"]
    errors = schemas["Problem"]["properties"]["errors"]["anyOf"][0]
    assert errors["items"] == {"$ref": "#/components/schemas/ProblemError"}
    assert schemas["ProblemError"]["properties"]["rule"]["$ref"] == ref["$ref"]


def test_every_documented_example_names_a_catalogued_rule(spec):
    examples = [
        (path, status, content["example"])
        for path, operations in spec["paths"].items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        for content in response.get("content", {}).values()
        if isinstance(content.get("example"), dict) and "rule" in content["example"]
    ]
    assert len(examples) > 100  # every route documents its problems
    assert [(p, s, e["rule"]) for p, s, e in examples if e["rule"] not in RULES] == []


def test_problems_answered_by_every_layer_carry_catalogued_rules(client):
    test_client, token = client
    answers = {
        "api_key_required": _post(test_client, None, "CallFee", {}, "k1"),  # the API's own
        "json_invalid": test_client.post(  # the body guard
            f"/v1/coops/{COOP}/commands/CallFee",
            content=b"{",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k2", "Content-Type": "application/json"},
        ),
        "missing": _post(test_client, token, "CallFee", {"year": 2025}, "k3"),  # request validation
        "known_member": _post(
            test_client, token, "CallFee", {"member_id": "ghost", "year": 2025, "effective_date": "2025-02-01"}, "k4"
        ),  # the domain
    }
    for expected, r in answers.items():
        body = r.json()
        assert r.headers["content-type"] == "application/problem+json", r.text
        assert body["rule"] == expected, r.text
        rules = [body["rule"], *(e["rule"] for e in body.get("errors", []))]
        assert set(rules) <= set(RULES), r.text


def test_an_uncatalogued_rule_is_logged_and_under_the_tests_fails(monkeypatch):
    with pytest.raises(problem_rules.UncataloguedRule):
        problem(422, "Command refused", "no such rule", field="amount", rule="not_a_catalogued_rule")
    monkeypatch.setattr(problem_rules, "STRICT", False)  # in service: the refusal still goes out
    with structlog.testing.capture_logs() as logs:
        answer = problem(422, "Command refused", "no such rule", field="amount", rule="not_a_catalogued_rule")
    assert answer.status_code == 422
    assert {"event": "uncatalogued_rule", "rule": "not_a_catalogued_rule", "log_level": "error"} in logs
    with structlog.testing.capture_logs() as logs:
        problem(422, "Command refused", "too much", field="amount", rule="no_overpayment")
    assert logs == []
