"""Header values and the 405 answer, as a client's HTTP library sees them.

HTTP does not say how header bytes are encoded: an Idempotency-Key must be visible ASCII (a UTF-8
`clé` was stored as the mojibake `clÃ©`), an X-Reason is ASCII with UTF-8 percent-encoded (a
malformed or non-UTF-8 escape was stored as replacement characters). Both are refused with 400 and
nothing is written. A 405 names every method the path answers, not one route's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import test_api as base

api = base.api  # the same app and keys as tests/api/test_api.py
COOP = base.COOP
BODY = {"member_id": "m1", "year": 2025, "amount": "10", "effective_date": "2025-05-01"}


def _pay(env: dict[str, Any], headers: dict[str, Any]) -> Any:
    sent = {"Authorization": f"Bearer {env['tokens']['treasurer']}", **headers}
    return env["client"].post(f"/v1/coops/{COOP}/commands/PayFee", json=BODY, headers=sent)


def _journal_entries(env: dict[str, Any]) -> int:
    r = env["client"].get(
        f"/v1/coops/{COOP}/journal", headers={"Authorization": f"Bearer {env['tokens']['treasurer']}"}, params={"limit": 1000}
    )
    return len(r.json()["entries"])


@pytest.mark.parametrize("key", ["clé-é".encode(), b"two words", b"tab\tkey"])  # bytes: sent as they are
def test_an_idempotency_key_that_is_not_visible_ascii_is_refused(api, key):
    before = _journal_entries(api)
    r = _pay(api, {"Idempotency-Key": key})
    assert r.status_code == 400, r.text
    assert r.json()["rule"] == "header_visible_ascii" and r.json()["field"] == "Idempotency-Key"
    assert _journal_entries(api) == before


@pytest.mark.parametrize("reason", [b"%ff%fe%", b"50%", b"%zz", "café".encode()])
def test_a_reason_that_is_not_percent_encoded_utf8_is_refused(api, reason):
    before = _journal_entries(api)
    r = _pay(api, {"Idempotency-Key": "pay-reason-bad", "X-Reason": reason})
    assert r.status_code == 400, r.text
    assert r.json()["rule"] == "header_percent_encoded_utf8" and r.json()["field"] == "X-Reason"
    assert _journal_entries(api) == before


def test_a_percent_encoded_reason_is_recorded_as_its_text(api):
    r = _pay(api, {"Idempotency-Key": "pay-reason-ok", "X-Reason": "Ch%C3%A8que%20rejet%C3%A9%2C%20100%25"})
    assert r.status_code == 201, r.text
    trail = (
        api["client"]
        .get(
            f"/v1/coops/{COOP}/audit-trail",
            headers={"Authorization": f"Bearer {api['tokens']['auditor']}"},
            params={"min_position": r.json()["position"]},
        )
        .json()
    )
    assert "Chèque rejeté, 100%" in [e["reason"] for e in trail["events"]]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/webhooks", {"GET", "HEAD", "POST"}),
        ("PUT", "/webhooks/wh_000000000000", {"GET", "HEAD", "DELETE"}),
        ("POST", "/trial-balance", {"GET", "HEAD"}),
    ],
)
def test_a_405_names_every_method_of_the_path(api, method, path, allowed):
    r = api["client"].request(method, f"/v1/coops/{COOP}{path}", headers={"Authorization": f"Bearer {api['tokens']['admin']}"})
    assert r.status_code == 405, r.text
    assert set(r.headers["allow"].split(", ")) == allowed
    assert r.headers["content-type"].startswith("application/problem+json")


def test_every_validation_error_of_a_body_comes_back_in_words(api):
    body = {"member_id": 5, "amount": "12,50", "effective_date": "2025-05-01"}  # year missing too
    r = api["client"].post(
        f"/v1/coops/{COOP}/commands/PayFee",
        json=body,
        headers={"Authorization": f"Bearer {api['tokens']['treasurer']}", "Idempotency-Key": "pay-three-errors"},
    )
    assert r.status_code == 422, r.text
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"member_id", "year", "amount"}, errors
    assert errors["year"]["rule"] == "missing" and errors["year"]["message"] == "is required"
    assert errors["amount"]["rule"] == "decimal" and "12.50" in errors["amount"]["message"]
    assert "[0-9]" not in r.text  # no regular expression shown to the client
    assert errors["member_id"]["message"] == "must be text (a JSON string)"


def test_amounts_come_as_strings_or_json_numbers_and_rates_as_fractions(api):
    treasurer = {"Authorization": f"Bearer {api['tokens']['treasurer']}"}

    def pay(key: str, amount: Any) -> Any:
        body = {**BODY, "amount": amount}
        return api["client"].post(f"/v1/coops/{COOP}/commands/PayFee", json=body, headers={**treasurer, "Idempotency-Key": key})

    for key, amount in (("as-string", "0.10"), ("as-integer", 5), ("as-fraction", 0.1)):
        r = pay(key, amount)
        assert r.status_code == 201, (amount, r.text)
    # A JSON number is read from its digits, never as the nearest binary float: 0.1 is 10 cents.
    params = {"limit": 1000, "min_position": r.json()["position"]}
    entries = api["client"].get(f"/v1/coops/{COOP}/journal", headers=treasurer, params=params).json()["entries"]
    amounts = [p["amount"] for e in entries[-3:] for p in e["postings"] if p["account"] == "512"]
    assert amounts == ["0.10", "5.00", "0.10"], amounts  # euros, exact
    too_precise = pay("too-precise", 0.123).json()  # a well-formed number: the decider judges it, exactly
    assert (too_precise["field"], too_precise["rule"]) == ("amount", "precision"), too_precise
    admin = {"Authorization": f"Bearer {api['tokens']['admin']}"}
    plan = {"plan_id": "p1", "name": "Plan", "kind": "provider", "period": "monthly", "fixed_amount": 0}
    r = api["client"].post(
        f"/v1/coops/{COOP}/commands/DefineSubscriptionPlan",
        json={**plan, "revenue_rate": "3/20", "effective_date": "2025-05-01"},
        headers={**admin, "Idempotency-Key": "plan-fraction"},
    )
    assert r.status_code == 201 and r.json()["events"] == ["SubscriptionPlanDefined"], r.text  # a fraction is a rate's own form
