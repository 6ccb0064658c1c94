"""The OpenAPI document's examples: every operation has them, they validate against their own
schemas, command examples are commands the ledger accepts, and the examples drawn from the demo
still look like what the API answers on the demo's books (api/examples.py, api/read_examples.py).

Runs the demo through the ledger once per store (about 400 commands), then reads it back; the
webhook examples are checked against an endpoint registered on a freshly founded cooperative."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from api import examples, read_examples
from api.app import create_app
from api.keys import create_key
from api.schemas import body_model, to_command_fields
from ledger.commands import parse_command
from ledger.demo import CLUSTER, SCIC, demo_commands
from ledger.handlers import COMMANDS
from ledger.store import StoreConfig
from tests.builders import record_demo
from tests.conftest import migrates_the_store

DEMO_PATH_VALUES = {"account": "411", "member_id": "MED-01", "resolution_id": "AG-2026-01", "contract_id": "PUB-BPI-2026"}
# Routes still without a success example (path prefixes), each to be removed by its owner with
# `responses=examples.ok(...)`. Empty: every route has its examples.
AWAITING_EXAMPLES: tuple[str, ...] = ()
COMMAND_PREFIX = "/v1/coops/{coop}/commands/"


@pytest.fixture
@migrates_the_store
def demo_api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        results = record_demo(ledger)
        coops = sorted({c["coop"] for c in demo_commands()})  # the closed fiscal years are the federation's members'
        assert {CLUSTER, SCIC} <= set(coops)
        token = create_key(ledger.db, role="auditor", coops=coops)[1]
        assert app.state.services.runner.wait_for(ledger.position(), 30)
        yield {"client": client, "spec": client.get("/openapi.json").json(), "results": results, "token": token}


@pytest.fixture
@migrates_the_store
def founded_api(store_url: str) -> Iterator[dict[str, Any]]:
    """The app with only the demo's first cooperative founded, and an admin key for it (webhooks need no books)."""
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        founding = parse_command(demo_commands()[0])
        assert founding[0].coop == CLUSTER and ledger.execute(*founding[:2], actor="demo").accepted
        assert app.state.services.runner.wait_for(ledger.position(), 30)
        admin = create_key(ledger.db, role="admin", coops=[CLUSTER])[1]
        yield {"client": client, "spec": client.get("/openapi.json").json(), "admin": admin}


@pytest.fixture
@migrates_the_store
def spec(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url), run_projections=False)
    try:
        yield app.openapi()
    finally:
        app.state.services.ledger.close()


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    # The operation's schema with the document's components beside it, so its $refs resolve.
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec.get("components", {})}, validate_formats=True)


def _examples(media: dict[str, Any]) -> list[Any]:
    found = [media["example"]] if "example" in media else []
    return found + [e["value"] for e in media.get("examples", {}).values() if "value" in e]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_operation_has_examples_that_match_their_schemas(spec: dict[str, Any]) -> None:
    problems: list[str] = []
    count = 0
    for path, method, op in _operations(spec):
        count += 1
        where = f"{method.upper()} {path}"
        body = op.get("requestBody")
        if body:
            for media_type, media in body["content"].items():
                values = _examples(media)
                if not values and not path.startswith(AWAITING_EXAMPLES):
                    problems.append(f"{where}: no request example ({media_type})")
                for value in values:
                    for error in _validator(spec, media.get("schema", {})).iter_errors(value):
                        problems.append(f"{where}: request example: {error.message} at {list(error.instance_path)}")
        statuses = sorted(s for s in op["responses"] if s.startswith("2"))
        if not statuses:
            problems.append(f"{where}: no success response documented")
        for status, response in op["responses"].items():
            content = response.get("content", {})
            if status.startswith("2") and status == statuses[0]:
                documented = [(mt, m) for mt, m in content.items() if _examples(m)]
                if not documented and not path.startswith(AWAITING_EXAMPLES):
                    problems.append(f"{where}: no example for its {status} response")
                checked = documented
            elif status[0] in "45":
                checked = [("application/problem+json", content.get("application/problem+json", {}))]
                if not _examples(checked[0][1]):
                    problems.append(f"{where}: no problem+json example for {status}")
            else:
                continue
            for media_type, media in checked:
                for value in _examples(media):
                    for error in _validator(spec, media.get("schema", {})).iter_errors(value):
                        problems.append(f"{where} {status} {media_type}: {error.message} at {list(error.instance_path)}")
                    if status[0] in "45" and value.get("status") != int(status):
                        problems.append(f"{where}: the {status} example says status {value.get('status')}")
    assert count > 60
    assert not problems, f"{len(problems)} example problems:\n" + "\n".join(problems[:40])


def test_command_examples_are_commands_the_ledger_parses(spec: dict[str, Any]) -> None:
    for name, cls in COMMANDS.items():
        op = spec["paths"][COMMAND_PREFIX + name]["post"]
        (published,) = _examples(op["requestBody"]["content"]["application/json"])
        body = body_model(cls).model_validate(published)  # what the route does with the body
        command, key, _ = parse_command(
            {"command": name, "idempotency_key": "example", "coop": CLUSTER, **to_command_fields(body)}
        )
        assert type(command).__name__ == name and key == "example"
    batch = spec["paths"]["/v1/coops/{coop}/commands"]["post"]
    (body,) = _examples(batch["requestBody"]["content"]["application/json"])
    for item in body["commands"]:
        parse_command({"command": item["command"], "idempotency_key": item["idempotency_key"], "coop": CLUSTER, **item["fields"]})


def _shape(example: Any, live: Any, where: str) -> list[str]:
    """Where the example's keys or JSON types differ from the live answer. A key the example lacks
    is fine when the answer has null there (an answer that is not a response model's may omit it)."""
    if live is None:
        return []
    if isinstance(example, dict) and isinstance(live, dict):
        missing = {k for k in set(live) - set(example) if live[k] is not None}
        if missing or set(example) - set(live):
            return [f"{where}: keys {sorted(missing | (set(example) - set(live)))} differ"]
        example = {**{k: None for k in live}, **example}
        return [p for k in live for p in _shape(example[k], live[k], f"{where}.{k}")]
    if isinstance(example, list) and isinstance(live, list):
        return _shape(example[0], live[0], f"{where}[0]") if example and live else []
    if example is not None and type(example) is not type(live):
        return [f"{where}: {type(example).__name__} in the example, {type(live).__name__} in the answer"]
    return []


def test_examples_match_what_the_api_answers_on_the_demo(demo_api: dict[str, Any]) -> None:
    # Commands: the events each response example names are those the demo's first such command recorded.
    first: dict[str, Any] = {}
    for result in demo_api["results"]:
        first.setdefault(result.command, result)
    assert len(first) > 40
    for name, result in first.items():
        example = examples.command_accepted(name)
        # Every event the example names is one the command records (a command recording one event
        # per member or per donor, like FederateCooperatives or IssueTaxReceipts, is shown with the
        # kinds its decider names, each once).
        assert example["events"] and set(example["events"]) <= set(result.events), (name, result.events)
        if len(set(result.events)) == 1:
            assert example["events"] == list(dict.fromkeys(result.events)), name
        assert bool(example["journal_numbers"]) == bool(result.journal_numbers), name

    # Reads: each example drawn from the demo has the keys and JSON types of the live answer.
    spec, client = demo_api["spec"], demo_api["client"]
    headers = {"Authorization": f"Bearer {demo_api['token']}"}
    compared, problems = 0, []
    for path, method, op in _operations(spec):
        content = op["responses"].get("200", {}).get("content", {}).get("application/json", {})
        example = content.get("example")
        if method != "get" or example not in read_examples.READS.values():
            continue  # only the examples api/read_examples.py takes from the demo
        url = path.replace("{coop}", example.get("coop", CLUSTER))
        for name, value in DEMO_PATH_VALUES.items():
            url = url.replace("{" + name + "}", value)
        query = {
            p["name"]: example[p["name"]]
            for p in op.get("parameters", [])
            if p["in"] == "query" and example.get(p["name"]) is not None
        }
        if any(p["name"] == "year" and p.get("required") for p in op.get("parameters", [])):
            query.setdefault("year", 2025)
        if any(p["name"] in ("as_of", "on") and p.get("required") for p in op.get("parameters", [])):
            query.setdefault("as_of", "2025-12-31")
        r = client.get(url, params=query, headers=headers)
        assert r.status_code == 200, (url, query, r.text)
        problems += _shape(example, r.json(), f"GET {path}")
        compared += 1
        csv_example = op["responses"]["200"]["content"].get("text/csv", {}).get("example")
        if csv_example is not None:  # a report's CSV example has the columns of the live CSV
            r = client.get(url, params={**query, "format": "csv"}, headers=headers)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), (url, r.text)
            if r.text.split("\r\n")[0] != csv_example.split("\r\n")[0]:
                problems.append(f"GET {path} CSV header: {csv_example.splitlines()[0]!r}, live {r.text.splitlines()[0]!r}")
    assert compared >= len(read_examples.READS)  # every read example of api/read_examples.py is used by a route
    assert not problems, "\n".join(problems)


def test_webhook_examples_match_what_the_api_answers(founded_api: dict[str, Any]) -> None:
    """Registers the request example as an endpoint, then walks the admin routes: each answer has
    the keys and types of its example (the new endpoint's delivery log is empty: only its page is compared)."""
    spec, client = founded_api["spec"], founded_api["client"]
    headers = {"Authorization": f"Bearer {founded_api['admin']}"}
    base = f"/v1/coops/{CLUSTER}/webhooks"

    def example(path: str, method: str, status: str = "200") -> Any:
        return spec["paths"]["/v1/coops/{coop}/webhooks" + path][method]["responses"][status]["content"]["application/json"][
            "example"
        ]

    (body,) = _examples(spec["paths"]["/v1/coops/{coop}/webhooks"]["post"]["requestBody"]["content"]["application/json"])
    assert body == read_examples.WEBHOOKS["create"]
    created = client.post(base, json=body, headers=headers)
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["endpoint_id"]
    answers = [
        (example("", "post", "201"), created.json(), "POST /webhooks"),
        (example("", "get"), client.get(base, headers=headers).json(), "GET /webhooks"),
    ]
    one = f"{base}/{endpoint_id}"
    for suffix, method, call in (
        ("", "get", client.get),
        ("/resume", "post", client.post),
        ("/deliveries", "get", client.get),
        ("", "delete", client.delete),
    ):
        r = call(one + suffix, headers=headers)
        assert r.status_code == 200, (suffix, method, r.text)
        answers.append(
            (example("/{endpoint_id}" + suffix, method), r.json(), f"{method.upper()} /webhooks/{{endpoint_id}}{suffix}")
        )
    problems = [p for ex, live, where in answers for p in _shape(ex, live, where)]
    assert not problems, "\n".join(problems)
    gone = client.get(one, headers=headers)
    assert gone.status_code == 404 and gone.json()["rule"] == "known_endpoint"
