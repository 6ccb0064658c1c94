"""The HTTP API against a live app (TestClient runs its lifespan: the projection runner thread),
on SQLite and PostgreSQL. Expectations are written by hand from the issue's role list, not read
from api/roles.py, so a wrong permission there fails here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key, revoke_key
from ledger.commands import parse_command
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store

COOP, OTHER = "coop-a", "coop-b"

FOUND = {
    "name": "Coop A",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "60"}, {"code": "staff", "name": "Salariés", "weight": "40"}],
    "fee_schedule": [
        {"min_headcount": 1, "max_headcount": 9, "amount": "100"},
        {"min_headcount": 10, "max_headcount": None, "amount": "500"},
    ],
}


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        db = app.state.services.ledger.db
        tokens = {
            role: create_key(db, role=role, coops=[COOP])[1]
            for role in ("admin", "treasurer", "clerk", "board", "auditor", "reader")
        }
        tokens["other_admin"] = create_key(db, role="admin", coops=[OTHER])[1]
        env = {"client": client, "db": db, "tokens": tokens}
        for other, token in ((COOP, tokens["admin"]), (OTHER, tokens["other_admin"])):
            r = post(env, token, other, "FoundCooperative", FOUND, key=f"found-{other}")
            assert r.status_code == 201, r.text
        r = post(
            env,
            tokens["clerk"],
            COOP,
            "AdmitMember",
            {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
        )
        assert r.status_code == 201, r.text
        r = post(env, tokens["treasurer"], COOP, "CallFee", {"member_id": "m1", "year": 2025, "effective_date": "2025-02-01"})
        assert r.status_code == 201, r.text
        env["last_position"] = r.json()["position"]
        # Tests read without min_position: let the views reach what the set-up wrote first.
        assert app.state.services.runner.wait_for(env["last_position"], timeout_s=10)
        yield env


def post(env: dict[str, Any], token: str | None, coop: str, command: str, body: dict[str, Any], key: str | None = None):
    headers = {"Idempotency-Key": key or f"{command}-{len(str(body))}-{hash(str(sorted(body.items()))) & 0xFFFFFF}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return env["client"].post(f"/v1/coops/{coop}/commands/{command}", json=body, headers=headers)


def get(env: dict[str, Any], token: str | None, path: str, **params: Any):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return env["client"].get(path, params=params, headers=headers)


# ---------------------------------------------------------------- access


def test_every_v1_route_needs_a_valid_key_and_health_does_not(api):
    spec = api["client"].get("/openapi.json").json()
    routes = [(method.upper(), path) for path, ops in spec["paths"].items() if path.startswith("/v1/") for method in ops]
    assert len(routes) > 20
    revoked_id, revoked = create_key(api["db"], role="admin", coops=[COOP])
    revoke_key(api["db"], revoked_id)
    for method, template in routes:
        path = (
            template.replace("{coop}", COOP)
            .replace("{account}", "512")
            .replace("{member_id}", "m1")
            .replace("{resolution_id}", "r1")
        )
        for token in (None, "clk_000000000000_" + "x" * 43, revoked, "not-a-token"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = api["client"].request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, token, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
    assert api["client"].get("/health").status_code == 200


def test_a_key_never_reaches_another_cooperative(api):
    other = api["tokens"]["other_admin"]
    for path in ("", "/trial-balance", "/journal", "/members?year=2025", "/accounts/512/balance"):
        r = api["client"].get(f"/v1/coops/{COOP}{path}", headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 403 and r.json()["rule"] == "key_coop", path
    r = post(
        api,
        other,
        COOP,
        "AdmitMember",
        {"member_id": "x", "name": "X", "kind": "person", "college": "users", "effective_date": "2025-03-01"},
    )
    assert r.status_code == 403 and r.json()["rule"] == "key_coop"


# Hand-written from the issue: admin (statutes, keys), treasurer (financial commands, reversals),
# clerk (membership, hours, readings), board (governance reads and votes), auditor (all reads),
# reader (balances and standing only).
COMMAND_MATRIX = {
    "AmendStatutes": {"admin"},
    "AdmitMember": {"admin", "clerk"},
    "ResignMember": {"admin", "clerk"},
    "CallFee": {"treasurer"},
    "PayFee": {"treasurer"},
    "RecordEntry": {"treasurer"},
    "ReverseEntry": {"treasurer"},
    "RecordResolution": {"admin", "board"},
    "CastVote": {"admin", "board", "clerk"},
}
READ_MATRIX = {
    "/trial-balance": {"admin", "treasurer", "auditor", "reader", "board"},
    "/accounts/512/balance": {"admin", "treasurer", "auditor", "reader", "board"},
    "/members/m1/standing?year=2025": {"admin", "treasurer", "clerk", "auditor", "reader", "board"},
    "/journal": {"admin", "treasurer", "auditor"},
    "/accounts/411/statement": {"admin", "treasurer", "auditor"},
    "/members?year=2025": {"admin", "treasurer", "clerk", "auditor", "board"},
    "/governance?as_of=2025-06-01": {"admin", "treasurer", "auditor", "board"},
    "/certifications?on=2025-06-01": {"admin", "treasurer", "clerk", "auditor", "reader", "board"},
    "/cooperation-fund": {"admin", "treasurer", "auditor", "reader", "board"},
    "/sensors/credits": {"admin", "treasurer", "auditor", "reader", "board"},
    "/calls": {"admin", "treasurer", "clerk", "auditor", "board"},
    "/shared-hours?period=2025-06": {"admin", "treasurer", "clerk", "auditor", "board"},
    "/bank-accounts": {"admin", "treasurer", "auditor"},
    "/open-items": {"admin", "treasurer", "auditor"},
}
ROLES = ("admin", "treasurer", "clerk", "board", "auditor", "reader")


def test_commands_allowed_and_forbidden_by_role(api):
    for command, allowed in COMMAND_MATRIX.items():
        for role in ROLES:
            # An empty body: allowed roles get past the role check to body validation (422),
            # forbidden roles are stopped first (403).
            r = post(api, api["tokens"][role], COOP, command, {}, key=f"matrix-{command}-{role}")
            if role in allowed:
                assert r.status_code == 422, (command, role, r.text)
            else:
                assert r.status_code == 403 and r.json()["rule"] == "role_command", (command, role, r.text)


def test_every_command_is_open_to_some_role_and_none_to_auditor_or_reader():
    from domain.family import command_roles
    from ledger.handlers import COMMANDS

    roles = command_roles()
    assert set(roles) == set(COMMANDS)  # a command missing here would be refused to everyone
    assert all(roles[name] for name in COMMANDS)
    assert all(not ({"auditor", "reader"} & r) for r in roles.values())  # they only read


def test_reads_allowed_and_forbidden_by_role(api):
    for path, allowed in READ_MATRIX.items():
        for role in ROLES:
            r = api["client"].get(f"/v1/coops/{COOP}{path}", headers={"Authorization": f"Bearer {api['tokens'][role]}"})
            expected = 200 if role in allowed else 403
            assert r.status_code == expected, (path, role, r.status_code, r.text)


# ---------------------------------------------------------------- commands


def test_idempotency_same_body_same_response_other_body_conflict(api):
    body = {"member_id": "m1", "year": 2025, "amount": "40.00", "effective_date": "2025-03-01"}
    first = post(api, api["tokens"]["treasurer"], COOP, "PayFee", body, key="bank-1")
    again = post(api, api["tokens"]["treasurer"], COOP, "PayFee", {**body, "amount": "40"}, key="bank-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    other = post(api, api["tokens"]["treasurer"], COOP, "PayFee", {**body, "amount": "41.00"}, key="bank-1")
    assert other.status_code == 409 and other.json()["rule"] == "same_key_same_content"
    r = get(
        api, api["tokens"]["reader"], f"/v1/coops/{COOP}/members/m1/standing", year=2025, min_position=first.json()["position"]
    )
    assert r.json()["fee_paid_eur"] == "40.00" and r.json()["in_good_standing"] is False  # 40 of 100 paid


def test_refusals_are_problems_naming_field_and_rule_and_write_nothing(api):
    token = api["tokens"]["treasurer"]
    before = get(api, None, "/health").json()["position"]
    cases = [
        ({"member_id": "m1", "year": 2025, "amount": 1.234, "effective_date": "2025-03-01"}, 422, "amount"),  # 3 decimals
        ({"member_id": "m1", "year": 2025, "amount": "12,50", "effective_date": "2025-03-01"}, 422, "amount"),
        ({"member_id": "m1", "year": 2025, "amount": "1.234", "effective_date": "2025-03-01"}, 422, "amount"),
        ({"member_id": "m1", "year": 2025, "amount": "100.01", "effective_date": "2025-03-01"}, 422, "amount"),
        ({"member_id": "ghost", "year": 2025, "amount": "10", "effective_date": "2025-03-01"}, 404, "member_id"),
        ({"member_id": "m1", "year": 2025, "amount": "10", "effective_date": "2024-12-31"}, 422, "effective_date"),
        ({"member_id": "m1", "year": 2025, "amount": "10", "effective_date": "2025-03-01", "extra": 1}, 422, "extra"),
    ]
    for i, (body, status, field) in enumerate(cases):
        r = post(api, token, COOP, "PayFee", body, key=f"bad-{i}")
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == status and problem["field"] == field and problem["rule"], problem
    assert get(api, None, "/health").json()["position"] == before


def test_missing_key_header_malformed_json_and_oversized_bodies_are_4xx(api):
    token = api["tokens"]["treasurer"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    r = api["client"].post(
        f"/v1/coops/{COOP}/commands/PayFee",
        headers=headers,
        json={"member_id": "m1", "year": 2025, "amount": "1", "effective_date": "2025-03-01"},
    )
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    r = api["client"].post(f"/v1/coops/{COOP}/commands/PayFee", headers={**headers, "Idempotency-Key": "j"}, content=b"{not json")
    assert r.status_code == 422
    r = api["client"].post(
        f"/v1/coops/{COOP}/commands/PayFee", headers={**headers, "Idempotency-Key": "big"}, content=b"{" + b" " * 1_100_000 + b"}"
    )
    assert r.status_code == 413 and r.json()["rule"] == "max_body_bytes"
    r = api["client"].get("/v1/nowhere", headers=headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_a_nul_character_in_a_path_or_query_parameter_is_400_naming_it(api):
    # PostgreSQL refuses NUL in text: it must be refused before any query, on both stores alike.
    headers = {"Authorization": f"Bearer {api['tokens']['auditor']}"}
    r = api["client"].get(f"/v1/coops/{COOP}/accounts/411/balance?party=a%00b", headers=headers)
    assert (r.status_code, r.json()["field"], r.json()["rule"]) == (400, "party", "no_nul")
    assert r.headers["content-type"].startswith("application/problem+json")
    r = api["client"].get(f"/v1/coops/{COOP}/accounts/41%001/balance", headers=headers)
    assert (r.status_code, r.json()["field"], r.json()["rule"]) == (400, "path", "no_nul")
    r = api["client"].get(f"/v1/coops/{COOP}/accounts/411/balance?party=a%2500b", headers=headers)  # "%00" typed, not NUL
    assert (r.status_code, r.json()["rule"]) == (404, "known_party")  # it reached the store: a party nobody has


def test_batch_route_reports_each_command(api):
    token = api["tokens"]["treasurer"]
    body = {
        "commands": [
            {
                "command": "PayFee",
                "idempotency_key": "b1",
                "fields": {"member_id": "m1", "year": 2025, "amount": "30", "effective_date": "2025-04-01"},
            },
            {
                "command": "PayFee",
                "idempotency_key": "b2",
                "fields": {"member_id": "m1", "year": 2025, "amount": "80", "effective_date": "2025-04-02"},
            },
            {
                "command": "AdmitMember",
                "idempotency_key": "b3",
                "fields": {"member_id": "m2", "name": "B", "kind": "person", "college": "users", "effective_date": "2025-04-01"},
            },
            {
                "command": "PayFee",
                "idempotency_key": "b1",
                "fields": {"member_id": "m1", "year": 2025, "amount": "30", "effective_date": "2025-04-01"},
            },
        ]
    }
    r = api["client"].post(f"/v1/coops/{COOP}/commands", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["accepted"] and results[0]["journal_numbers"] == [2]
    assert not results[1]["accepted"] and results[1]["error"]["rule"] == "no_overpayment"  # 80 > 70 still due
    assert not results[2]["accepted"] and results[2]["error"]["rule"] == "role_command" and results[2]["coop"] == COOP
    assert results[3]["accepted"] and results[3]["duplicate"] and results[3]["position"] == results[0]["position"]
    assert (r.json()["accepted"], r.json()["refused"]) == (2, 2)


# ---------------------------------------------------------------- reads


def test_read_your_writes_and_bounded_wait(api):
    token = api["tokens"]["treasurer"]
    r = post(api, token, COOP, "PayFee", {"member_id": "m1", "year": 2025, "amount": "100", "effective_date": "2025-05-01"})
    position = r.json()["position"]
    tb = get(api, token, f"/v1/coops/{COOP}/trial-balance", min_position=position).json()
    by_account = {row["account"]: row["balance"] for row in tb["accounts"]}
    assert by_account == {"411": "0.00", "512": "100.00", "7561": "-100.00"}
    assert tb["totals"] == [{"unit": "EUR", "debit": "200.00", "credit": "200.00"}]  # called 100, paid 100
    balance = get(api, api["tokens"]["reader"], f"/v1/coops/{COOP}/accounts/411/balance", party="m1", as_of="2025-04-30").json()
    assert balance == {"coop": COOP, "account": "411", "party": "m1", "unit": "EUR", "as_of": "2025-04-30", "balance": "100.00"}
    # called 2025-02-01, paid 2025-05-01: still due on 2025-04-30
    started = time.monotonic()
    r = get(api, token, f"/v1/coops/{COOP}/trial-balance", min_position=position + 10_000)  # beyond the log: no wait
    assert r.status_code == 422 and r.json()["rule"] == "recorded_position" and r.json()["field"] == "min_position"
    assert time.monotonic() - started < 1.5  # answered at once, not after the 2 s wait
    from api import deps

    held = [deps._WAITING_READS.acquire(blocking=False) for _ in range(deps.MAX_WAITING_READS)]
    try:  # as many reads already wait as may: the next is told to come back, at once
        assert all(held)
        r = get(api, token, f"/v1/coops/{COOP}/trial-balance", min_position=position)
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and r.json()["rule"] == "read_your_writes_busy"
        assert get(api, token, f"/v1/coops/{COOP}/trial-balance").status_code == 200  # reads without a position go on
    finally:
        for _ in held:
            deps._WAITING_READS.release()


def test_journal_is_cursor_paged(api):
    token = api["tokens"]["treasurer"]
    for i, day in enumerate(("2025-03-01", "2025-03-02", "2025-03-03")):
        post(api, token, COOP, "PayFee", {"member_id": "m1", "year": 2025, "amount": "10", "effective_date": day}, key=f"p{i}")
    last = get(api, None, "/health").json()["position"]
    page1 = get(api, token, f"/v1/coops/{COOP}/journal", limit=2, min_position=last).json()
    page2 = get(api, token, f"/v1/coops/{COOP}/journal", after=page1["next_after"], limit=2).json()
    assert [e["number"] for e in page1["entries"]] == [1, 2] and [e["number"] for e in page2["entries"]] == [3, 4]
    assert page1["more"] is True and page2["more"] is False  # 4 entries: the second full page is the last
    assert get(api, token, f"/v1/coops/{COOP}/journal", after=4).json() == {**page2, "entries": [], "more": False}


def test_governance_read_matches_hand_computation(api):
    admin, treasurer, clerk = api["tokens"]["admin"], api["tokens"]["treasurer"], api["tokens"]["clerk"]
    post(
        api,
        clerk,
        COOP,
        "AdmitMember",
        {"member_id": "s1", "name": "Sam", "kind": "person", "college": "staff", "effective_date": "2025-02-01"},
    )
    post(api, treasurer, COOP, "PayFee", {"member_id": "m1", "year": 2025, "amount": "100", "effective_date": "2025-03-01"})
    last = get(api, None, "/health").json()["position"]
    report = get(api, admin, f"/v1/coops/{COOP}/governance", as_of="2025-06-01", min_position=last).json()
    colleges = {c["code"]: c for c in report["colleges"]}
    # staff has no eligible member (no fee called): users takes 100%, staff 0.
    assert colleges["users"]["effective_weight"] == "100" and colleges["staff"]["effective_weight"] == "0"
    assert [v["member_id"] for v in report["voters"]] == ["m1"] and report["voters_total_weight"] == "100"


# ---------------------------------------------------------------- service


def test_logs_one_line_per_request_without_the_token(api):
    token = api["tokens"]["treasurer"]
    with structlog.testing.capture_logs() as logs:
        get(api, token, f"/v1/coops/{COOP}/trial-balance", min_position=api["last_position"])  # no race with the views
        post(api, token, COOP, "PayFee", {"member_id": "m1", "year": 2025, "amount": "5", "effective_date": "2025-03-01"})
    requests = [e for e in logs if e["event"] == "request"]
    assert [(e["method"], e["status"]) for e in requests] == [("GET", 200), ("POST", 201)]
    # clk_<12 hex key id>_<secret>; the secret itself may contain "_".
    key_id, secret = token[4:16], token[17:]
    assert all(e["coop"] == COOP and e["key_id"] == key_id for e in requests)
    assert requests[1]["position"] is not None and requests[0]["route"] == "/v1/coops/{coop}/trial-balance"
    assert token not in repr(logs) and secret not in repr(logs)


def test_a_cooperative_recorded_but_not_yet_projected_is_503_not_404(store_url):
    app = create_app(StoreConfig.from_url(store_url), run_projections=False)
    with TestClient(app) as client:
        db = app.state.services.ledger.db
        token = create_key(db, role="auditor", coops=[COOP, "nowhere"])[1]
        app.state.services.ledger.execute(
            parse_command({"command": "FoundCooperative", "coop": COOP, "idempotency_key": "f", **FOUND})[0], "f"
        )
        headers = {"Authorization": f"Bearer {token}"}
        r = client.get(f"/v1/coops/{COOP}/trial-balance", headers=headers)
        assert (r.status_code, r.json()["rule"], r.headers["retry-after"]) == (503, "read_your_writes", "1")
        assert client.get("/v1/coops/nowhere/trial-balance", headers=headers).status_code == 404
        app.state.services.runner.catch_up()
        assert client.get(f"/v1/coops/{COOP}/trial-balance", headers=headers).status_code == 200


def test_openapi_documents_every_route_and_field(api):
    spec = api["client"].get("/openapi.json").json()
    paths = spec["paths"]
    assert "/v1/coops/{coop}/commands/PayFee" in paths and "/v1/coops/{coop}/trial-balance" in paths
    for path, methods in paths.items():
        for method, op in methods.items():
            assert op.get("summary"), (method, path)
    pay = spec["components"]["schemas"]["PayFeeBody"]
    assert all(prop.get("description") for prop in pay["properties"].values())
    # An exact decimal string, or a JSON number (read from its digits: api/body_guard.py).
    assert {s["type"] for s in pay["properties"]["amount"]["anyOf"]} == {"string", "integer"}


def test_metrics_count_commands(api):
    text = api["client"].get("/metrics").text
    assert 'coopledger_commands_total{command="CallFee",outcome="accepted"}' in text
    assert "coopledger_projection_lag_positions" in text


def test_sensor_credits_recorded_by_a_clerk_show_in_the_host_balance(api):
    admin, clerk, treasurer, reader = (api["tokens"][r] for r in ("admin", "clerk", "treasurer", "reader"))
    terms = {
        "effective_date": "2025-03-01",
        "credit_rate": "0.5",
        "daily_cap": "100",
        "money_rate": "0.05",
        "service_rate": "0.10",
    }
    assert post(api, admin, COOP, "SetSensorRewardTerms", terms).status_code == 201
    sensor = {"sensor_id": "s1", "host_id": "m1", "quantity": "pm2.5", "effective_date": "2025-03-01"}
    assert post(api, clerk, COOP, "RegisterSensor", sensor).status_code == 201
    readings = {"sensor_id": "s1", "period": "2025-03-02", "readings": 7, "effective_date": "2025-03-02"}
    accepted = post(api, clerk, COOP, "AcceptReadings", readings)
    assert accepted.status_code == 201, accepted.text
    again = post(api, clerk, COOP, "AcceptReadings", readings, key="other-key")  # the same day of the same sensor
    assert again.status_code in (409, 422) and again.json()["field"]
    assert post(api, treasurer, COOP, "AcceptReadings", readings, key="t").status_code == 403  # a clerk's job
    body = get(api, reader, f"/v1/coops/{COOP}/sensors/credits", min_position=accepted.json()["position"]).json()
    host = {h["host_id"]: h for h in body["hosts"]}["m1"]
    assert host["earned_credits"] == "3.50" and host["balance_credits"] == "3.50"  # 7 readings × 0.5 credit
