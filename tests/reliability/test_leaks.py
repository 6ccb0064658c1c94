"""Fault 6 (the leak side of access; the who-may-do-what matrix is tests/api/test_role_matrix.py):
a real server holding the two demo cooperatives is driven through every read route of
cooperative A with A's keys, B's key, a revoked key, a forged token and no key, plus commands
(accepted, refused, forbidden, in a batch) carrying new personal names.

Checked: no response about A (nor any refusal) contains B's identifiers or names; the server's
structured log of the whole session, and /metrics, contain no API token (nor its secret part) and
no member name, while the log does record each request with the key's id (so the scan looks at
real lines).
"""

from __future__ import annotations

import json
import uuid

import httpx

from api.keys import create_key, revoke_key
from ledger.demo import demo_commands
from tests.reliability.harness import load_demo, open_ledger

A, B = "cluster-numerique-sud", "mednum-scic"
PATH_VALUES = {"{account}": "512", "{member_id}": "MED-01", "{resolution_id}": "AG-2026-01", "{contract_id}": "PUB-1"}
QUERY = {"year": 2025, "as_of": "2025-12-31", "on": "2025-06-01", "period": "2025-06"}


def _people(coop: str) -> tuple[set[str], set[str]]:
    """(member names, member ids) the demo gives this cooperative."""
    admitted = [c for c in demo_commands() if c["command"] == "AdmitMember" and c["coop"] == coop]
    return {c["name"] for c in admitted}, {c["member_id"] for c in admitted}


def _forms(text: str) -> set[str]:
    """A string as it may appear in a response or a log line: raw, or JSON-escaped (\\u00e9)."""
    return {text, json.dumps(text)[1:-1]}


def test_nothing_crosses_cooperatives_and_no_secret_or_name_is_logged(store_url, servers):
    load_demo(store_url)
    ledger = open_ledger(store_url)
    try:
        tokens = {
            role: create_key(ledger.db, role=role, coops=[A], label=f"leak {role}")[1]
            for role in ("admin", "clerk", "auditor", "reader")
        }
        tokens["b_admin"] = create_key(ledger.db, role="admin", coops=[B])[1]
        revoked_id, tokens["revoked"] = create_key(ledger.db, role="auditor", coops=[A])
        revoke_key(ledger.db, revoked_id)
    finally:
        ledger.close()
    forged = "clk_" + tokens["auditor"].split("_")[1] + "_" + "A" * 43  # a real key id, a wrong secret

    names_a, ids_a = _people(A)
    names_b, ids_b = _people(B)
    new_names = {f"Personne Secrète {uuid.uuid4().hex[:8]}" for _ in range(3)}
    b_only = {"MedNum Gironde SCIC", B} | (names_b - names_a) | {f'"{i}"' for i in ids_b - ids_a}

    server = servers(store_url, env={"COOPLEDGER_LOG_LEVEL": "DEBUG"}).start()
    responses: list[tuple[str, httpx.Response]] = []
    with httpx.Client(base_url=server.base, timeout=15) as http:
        spec = http.get("/openapi.json").json()
        reads = [path for path, ops in spec["paths"].items() if path.startswith("/v1/coops/{coop}") and "get" in ops]
        assert len(reads) > 15
        for template in reads:
            path = template.replace("{coop}", A)
            for placeholder, value in PATH_VALUES.items():
                path = path.replace(placeholder, value)
            for who in ("auditor", "admin", "reader", "b_admin", "revoked", "forged", None):
                token = forged if who == "forged" else tokens.get(who or "")
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                responses.append((f"{who} GET {path}", http.get(path, params=QUERY, headers=headers)))
        for i, name in enumerate(sorted(new_names)):
            body = {"member_id": f"NEW-{i}", "name": name, "kind": "person", "college": "medias", "effective_date": "2026-03-01"}
            for who in ("clerk", "clerk", "b_admin", "reader"):  # accepted, replayed, then refused twice
                responses.append(
                    (
                        f"{who} AdmitMember",
                        http.post(
                            f"/v1/coops/{A}/commands/AdmitMember",
                            json=body,
                            headers={"Authorization": f"Bearer {tokens[who]}", "Idempotency-Key": f"leak-{i}"},
                        ),
                    )
                )
            again = {**body, "member_id": "MED-01"}  # an id already taken: refused, naming the id
            responses.append(
                (
                    "clerk AdmitMember taken",
                    http.post(
                        f"/v1/coops/{A}/commands/AdmitMember",
                        json=again,
                        headers={"Authorization": f"Bearer {tokens['clerk']}", "Idempotency-Key": f"leak-taken-{i}"},
                    ),
                )
            )
        batch = {
            "commands": [
                {
                    "command": "AdmitMember",
                    "idempotency_key": f"leak-batch-{i}",
                    "fields": {
                        "member_id": f"BATCH-{i}",
                        "name": name,
                        "kind": "person",
                        "college": "medias",
                        "effective_date": "2026-03-02",
                    },
                }
                for i, name in enumerate(sorted(new_names))
            ]
        }
        responses.append(
            (
                "clerk batch",
                http.post(f"/v1/coops/{A}/commands", json=batch, headers={"Authorization": f"Bearer {tokens['clerk']}"}),
            )
        )
        metrics = http.get("/metrics").text
    server.stop()  # flushes and closes the log
    log = server.log_text()

    statuses = {r.status_code for _what, r in responses}
    assert {200, 201, 401, 403} <= statuses, statuses  # the session did reach data and refusals
    assert not any(r.status_code >= 500 for _what, r in responses), [w for w, r in responses if r.status_code >= 500]
    for what, r in responses:
        for secret in b_only:
            assert secret not in r.text, f"{what} ({r.status_code}) shows {secret!r} of {B}"
        if r.status_code in (401, 403):  # a refusal tells nothing about A either
            assert not any(form in r.text for n in names_a | new_names for form in _forms(n)), (what, r.text[:300])

    request_lines = [line for line in log.splitlines() if '"event": "request"' in line]
    assert len(request_lines) >= len(responses), "the log should hold one line per request"
    key_ids = {t.split("_")[1] for name, t in tokens.items() if name != "revoked"}
    assert all(any(k in line for line in request_lines) for k in key_ids), "requests are logged with the key's id"
    for where, text in (("log", log), ("metrics", metrics)):
        for name, token in {**tokens, "forged": forged}.items():
            secret = token.split("_", 2)[2]
            assert token not in text and secret not in text, f"the {name} token's secret is in the {where}"
        for person in names_a | names_b | new_names:
            assert not any(form in text for form in _forms(person)), f"member name {person!r} is in the {where}"
