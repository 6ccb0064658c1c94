"""Per-key rate limits (api/rate_limits.py): on by default for writes, per role when set, 429 with
Retry-After over the limit, and other keys unaffected."""

from __future__ import annotations

from typing import Any

import pytest

from api.rate_limits import DEFAULTS, RateLimits, _setting
from tests.api import test_api as base

api = base.api
COOP = base.COOP


def _pay(env: dict[str, Any], role: str, key: str) -> Any:
    body = {"member_id": "m1", "year": 2025, "amount": "1", "effective_date": "2025-05-01"}
    headers = {"Authorization": f"Bearer {env['tokens'][role]}", "Idempotency-Key": key}
    return env["client"].post(f"/v1/coops/{COOP}/commands/PayFee", json=body, headers=headers)


def test_writes_are_limited_by_default_and_reads_are_not(monkeypatch):
    monkeypatch.delenv("COOPLEDGER_WRITE_RATE_LIMIT", raising=False)
    monkeypatch.delenv("COOPLEDGER_READ_RATE_LIMIT", raising=False)
    assert str(_setting("write", "treasurer")) == str(_setting("write", "clerk")) != "None"
    assert DEFAULTS["write"] == "100/second" and _setting("read", "reader") is None
    monkeypatch.setenv("COOPLEDGER_WRITE_RATE_LIMIT_CLERK", "off")
    assert _setting("write", "clerk") is None and _setting("write", "treasurer") is not None
    monkeypatch.setenv("COOPLEDGER_WRITE_RATE_LIMIT", "twice a day")
    with pytest.raises(ValueError, match="COOPLEDGER_WRITE_RATE_LIMIT"):
        RateLimits().item("write", "treasurer")


def test_a_key_over_its_limit_gets_429_with_retry_after_and_others_go_on(api, monkeypatch):
    monkeypatch.setenv("COOPLEDGER_WRITE_RATE_LIMIT_TREASURER", "3/minute")
    api["client"].app.state.services.limits = RateLimits()  # read the settings afresh
    answers = [_pay(api, "treasurer", f"limited-{i}") for i in range(5)]
    assert [r.status_code for r in answers] == [201, 201, 201, 429, 429], [r.text for r in answers]
    refused = answers[3]
    assert refused.json()["rule"] == "rate_limited" and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-type"].startswith("application/problem+json")
    admin = {"Authorization": f"Bearer {api['tokens']['admin']}"}  # another key, another role: not limited
    assert api["client"].get(f"/v1/coops/{COOP}/journal", headers=admin).status_code == 200
    r = api["client"].post(
        f"/v1/coops/{COOP}/commands/AddAccount",
        json={"number": "6061", "label_fr": "Fournitures", "label_en": "Supplies"},
        headers={**admin, "Idempotency-Key": "account-6061"},
    )
    assert r.status_code != 429, r.text
