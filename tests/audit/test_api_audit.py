"""The auditor's HTTP routes on a live app (SQLite and PostgreSQL): X-Reason and batch reasons land
in the audit trail with the key's id as actor; closing through the API seals the year, the chain
route shows the sealed head, and an entry dated in the closed year is refused (problem+json)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store

COOP = "coop-a"
FOUND = {
    "name": "Coop A",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}
ROLES = ("admin", "treasurer", "clerk", "board", "auditor", "reader")


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        db = app.state.services.ledger.db
        keys = {role: create_key(db, role=role, coops=[COOP]) for role in ROLES}
        yield {"client": client, "keys": keys}


def headers(env: dict[str, Any], role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {env['keys'][role][1]}", **extra}


def command(env: dict[str, Any], role: str, name: str, body: dict[str, Any], key: str, **extra: str):
    return env["client"].post(
        f"/v1/coops/{COOP}/commands/{name}", json=body, headers=headers(env, role, **{"Idempotency-Key": key}, **extra)
    )


def test_reasons_and_actors_reach_the_audit_trail_and_only_auditors_treasurers_and_admins_read_it(api):
    assert command(api, "admin", "FoundCooperative", FOUND, "found").status_code == 201
    r = command(
        api,
        "clerk",
        "AdmitMember",
        {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
        "adm",
        **{"X-Reason": "Ch%C3%A8que%20re%C3%A7u"},
    )
    assert r.status_code == 201, r.text
    batch = api["client"].post(
        f"/v1/coops/{COOP}/commands",
        headers=headers(api, "treasurer"),
        json={
            "commands": [
                {
                    "command": "CallFee",
                    "idempotency_key": "call",
                    "fields": {"member_id": "m1", "year": 2025, "effective_date": "2025-02-01"},
                    "reason": "appel 2025",
                },
                {
                    "command": "PayFee",
                    "idempotency_key": "pay",
                    "fields": {"member_id": "m1", "year": 2025, "amount": "100", "effective_date": "2025-02-03"},
                },
            ]
        },
    )
    assert batch.status_code == 200 and batch.json()["accepted"] == 2, batch.text
    position = max(res["position"] for res in batch.json()["results"])
    r = command(
        api,
        "treasurer",
        "ReverseEntry",
        {"entry_number": 2, "reason": "virement rejeté", "effective_date": "2025-02-05"},
        "rev",
        **{"X-Reason": "autre chose"},
    )
    assert r.status_code == 422 and r.json()["rule"] == "one_reason"

    path = f"/v1/coops/{COOP}/audit-trail"
    for role in ROLES:
        r = api["client"].get(path, params={"min_position": position}, headers=headers(api, role))
        assert r.status_code == (200 if role in ("auditor", "admin", "treasurer") else 403), (role, r.text)
    trail = api["client"].get(path, headers=headers(api, "auditor")).json()["events"]
    ids = {role: f"key:{key_id}" for role, (key_id, _token) in api["keys"].items()}
    assert [(e["kind"], e["actor"], e["reason"]) for e in trail] == [
        ("CooperativeFounded", ids["admin"], None),
        ("MemberAdmitted", ids["clerk"], "Chèque reçu"),
        ("FeeCalled", ids["treasurer"], "appel 2025"),
        ("FeePaid", ids["treasurer"], None),
    ]
    r = api["client"].get(path, params={"account": "512", "actor": ids["treasurer"]}, headers=headers(api, "auditor"))
    assert [e["kind"] for e in r.json()["events"]] == ["FeePaid"]
    r = api["client"].get(
        path, params={"from": "2025-03-01", "to": "2025-02-01", "date_field": "effective"}, headers=headers(api, "auditor")
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_closing_through_the_api_seals_the_year_and_the_chain_route_shows_it(api):
    assert command(api, "admin", "FoundCooperative", FOUND, "found").status_code == 201
    assert (
        command(
            api,
            "treasurer",
            "RecordEntry",
            {
                "label": "Don",
                "effective_date": "2025-06-01",
                "lines": [{"account": "512", "debit": "40"}, {"account": "7541", "credit": "40"}],
            },
            "gift",
        ).status_code
        == 201
    )
    assert command(api, "admin", "CloseFiscalYear", {"year": 2025}, "close-admin").status_code == 403  # the treasurer's
    r = command(api, "treasurer", "CloseFiscalYear", {"year": 2025}, "close")
    assert r.status_code == 201 and r.json()["journal_numbers"] == [2], r.text
    fresh = {"min_position": r.json()["position"]}  # read our own write
    r = command(
        api,
        "treasurer",
        "RecordEntry",
        {
            "label": "Oubli",
            "effective_date": "2025-12-31",
            "lines": [{"account": "512", "debit": "1"}, {"account": "7541", "credit": "1"}],
        },
        "late",
    )
    assert r.status_code == 422 and (r.json()["field"], r.json()["rule"]) == ("effective_date", "fiscal_year_closed")

    chain = api["client"].get(f"/v1/coops/{COOP}/chain", params=fresh, headers=headers(api, "auditor")).json()
    assert chain["last_number"] == 2 and len(chain["last_hash"]) == 64
    (sealed,) = chain["sealed"]
    assert (sealed["year"], sealed["closing_number"], sealed["head_number"]) == (2025, 2, 1)
    assert sealed["closing_hash"] == chain["last_hash"]
    years = (
        api["client"]
        .get(f"/v1/coops/{COOP}/fiscal-years", params=fresh, headers=headers(api, "treasurer"))
        .json()["fiscal_years"]
    )
    assert [(y["year"], y["status"], y["result_eur"]) for y in years] == [(2025, "closed", "40.00")]
    assert api["client"].get(f"/v1/coops/{COOP}/chain", headers=headers(api, "reader")).status_code == 403
    r = api["client"].get("/v1/coops/nobody/chain", headers=headers(api, "auditor"))
    assert r.status_code == 403  # keys are bound to their cooperatives


def test_the_heads_shown_at_the_closing_and_the_chain_are_checked_by_the_verify_route(api):
    """The head printed at a closing (fiscal years, /chain) is the one `verify?head=` accepts; a
    head the store does not hold is an answer (ok false), a malformed one a 422 naming `head`."""
    assert command(api, "admin", "FoundCooperative", FOUND, "found").status_code == 201
    assert (
        command(
            api,
            "treasurer",
            "RecordEntry",
            {
                "label": "Don",
                "effective_date": "2025-06-01",
                "lines": [{"account": "512", "debit": "40"}, {"account": "7541", "credit": "40"}],
            },
            "gift",
        ).status_code
        == 201
    )
    closing = command(api, "treasurer", "CloseFiscalYear", {"year": 2025}, "close").json()
    r = command(
        api,
        "treasurer",
        "RecordEntry",
        {
            "label": "Don",
            "effective_date": "2026-01-10",
            "lines": [{"account": "512", "debit": "5"}, {"account": "7541", "credit": "5"}],
        },
        "gift-2026",
    )
    fresh = {"min_position": r.json()["position"]}
    auditor = headers(api, "auditor")
    chain = api["client"].get(f"/v1/coops/{COOP}/chain", params=fresh, headers=auditor).json()
    (sealed,) = chain["sealed"]
    assert sealed["event_head"].startswith("3:") and chain["head"].startswith("4:") and chain["events"] == 4
    (year,) = [
        y
        for y in api["client"].get(f"/v1/coops/{COOP}/fiscal-years", params=fresh, headers=auditor).json()["fiscal_years"]
        if y["status"] == "closed"
    ]
    assert year["event_head"] == sealed["event_head"] and closing["position"] < fresh["min_position"]

    for head in (sealed["event_head"], chain["head"]):
        report = api["client"].get(f"/v1/coops/{COOP}/verify", params={"head": head}, headers=auditor).json()
        assert (
            report["ok"] and report["head_check"] == {"head": head, "found": head, "ok": True} and report["head"] == chain["head"]
        )
    forged = "3:" + "ab" * 32
    report = api["client"].get(f"/v1/coops/{COOP}/verify", params={"head": forged}, headers=auditor)
    assert report.status_code == 200 and not report.json()["ok"]
    assert report.json()["problem"]["kind"] == "head_mismatch" and report.json()["head_check"]["found"] == sealed["event_head"]
    beyond = api["client"].get(f"/v1/coops/{COOP}/verify", params={"head": "9:" + "ab" * 32}, headers=auditor).json()
    assert not beyond["ok"] and beyond["head_check"]["found"] is None and "fewer than 9" in beyond["problem"]["message"]
    r = api["client"].get(f"/v1/coops/{COOP}/verify", params={"head": "three:abc"}, headers=auditor)
    assert r.status_code == 422 and (r.json()["field"], r.json()["rule"]) == ("head", "head_format")
    assert api["client"].get(f"/v1/coops/{COOP}/verify", headers=headers(api, "reader")).status_code == 403
