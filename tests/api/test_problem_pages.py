"""A problem's `type` is a page the API serves: `/problems/<rule>` says what the rule is, quoting
the project's rules (docs/rules.md) when they name it (api/problem_pages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.store import StoreConfig


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = Path(tmp_path_factory.mktemp("problems")) / "books.sqlite"
    with TestClient(create_app(StoreConfig.from_url(f"sqlite:///{path}"), run_projections=False)) as client:
        yield client


def test_a_refusals_type_leads_to_a_page_naming_its_rule(client):
    refused = client.post("/v1/coops/x/commands/PayFee", json={})  # no key
    problem = refused.json()
    assert refused.status_code == 401 and problem["type"] == f"/problems/{problem['rule']}", problem
    page = client.get(problem["type"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Problem: <code>{problem['rule']}</code>" in page.text
    assert "docs/rules.md" not in page.text  # a rule of the API itself: the rules of the books do not name it


def test_a_rule_of_the_books_is_quoted_from_the_projects_rules(client):
    page = client.get("/problems/no_overpayment")
    assert page.status_code == 200
    assert "<em>Membership fees</em>: A fee is called once per member" in page.text  # docs/rules.md, Membership fees
    assert "a payment beyond what is still due" in page.text and "**" not in page.text


def test_a_name_no_rule_could_have_is_refused_naming_the_parameter(client):
    for name in ("No-Such", "a" * 65, "x%3Cscript%3E"):
        answer = client.get(f"/problems/{name}")
        assert answer.status_code == 422, name
        assert (answer.json()["field"], answer.json()["rule"]) == ("rule", "string_pattern_mismatch"), answer.json()


def test_a_page_says_the_rules_meaning_and_an_unknown_rule_is_not_found(client):
    page = client.get("/problems/same_key_same_content")
    assert page.status_code == 200 and "<strong>" in page.text
    from domain.family import rules

    assert rules()["same_key_same_content"] in page.text.replace("&#x27;", "'")
    missing = client.get("/problems/no_such_rule")
    assert missing.status_code == 404 and missing.json()["rule"] == "known_rule", missing.json()
    assert client.get("/problems/503").status_code == 200  # the type of a problem with no rule
