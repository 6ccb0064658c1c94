"""Bank statements over HTTP, on SQLite and PostgreSQL: the file as the request's body (each format,
twice: nothing new the second time), the reads by role, a confirmation through the command route and
the reconciliation. The api fixture's coop-a has m1 with the 2025 fee of 100.00 called."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from api.limits import MAX_BODY_BYTES
from domain.bank_items import reference_of
from ledger.bank_writers import CSV_DEBIT_CREDIT_MAPPING, Line, camt053, csv_debit_credit, ofx
from tests.api.test_api import COOP, ROLES, api, get, post  # noqa: F401 (api is a fixture)

IBAN = "FR7630006000011234567890189"
BANK_READERS = {"admin", "treasurer", "auditor"}
D = Decimal


def open_account(env) -> None:
    t = env["tokens"]["treasurer"]
    body = {"bank_account_id": "BQ", "iban": IBAN, "label": "Compte courant", "effective_date": "2025-01-01"}
    assert post(env, t, COOP, "OpenBankAccount", body).status_code == 201
    body = {"bank_account_id": "BQ", "mapping": CSV_DEBIT_CREDIT_MAPPING, "effective_date": "2025-01-01"}
    assert post(env, t, COOP, "SetCsvMapping", body).status_code == 201


def send(env, token, data: bytes, media: str, key: str):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": media, "Idempotency-Key": key}
    return env["client"].post(f"/v1/coops/{COOP}/bank-accounts/BQ/statements", content=data, headers=headers)


def test_a_statement_file_in_the_body_is_imported_once_per_line(api):
    open_account(api)
    t = api["tokens"]["treasurer"]
    pay = Line(date(2025, 3, 3), D("100.00"), "cotisation", "B1", "Alice", None, reference_of("fee:m1:2025"))
    files = [
        (camt053("S1", IBAN, D("0"), [pay], date(2025, 3, 31)), "application/xml"),
        (ofx(IBAN, D("0"), [pay], date(2025, 3, 1), date(2025, 3, 31)), "application/x-ofx"),
    ]
    for i, (data, media) in enumerate(files):
        first = send(api, t, data, media, f"imp-{i}-a")
        assert first.status_code == 201, first.text
        again = send(api, t, data, media, f"imp-{i}-b")
        assert (
            again.status_code == 201 and again.json()[0]["report"]["new_lines"] == 0 and not again.json()[0]["report"]["recorded"]
        )
    csv = csv_debit_credit([Line(date(2025, 3, 4), D("1234.56"), "gros don")])
    assert send(api, t, csv, "text/csv", "imp-csv").json()[0]["report"]["new_lines"] == 1
    assert send(api, t, b"x", "application/pdf", "imp-pdf").status_code == 415
    too_big = send(api, t, b"x" * (MAX_BODY_BYTES + 1), "text/csv", "imp-big")  # the API's limit comes first
    assert too_big.status_code == 413 and too_big.json()["rule"] == "max_body_bytes"
    assert send(api, api["tokens"]["auditor"], csv, "text/csv", "imp-aud").status_code == 403
    lines = get(api, api["tokens"]["auditor"], f"/v1/coops/{COOP}/bank-accounts/BQ/lines").json()
    assert sorted(line["amount_eur"] for line in lines) == ["100.00", "1234.56"]  # the same payment in CAMT and OFX: one line
    (account,) = get(api, api["tokens"]["auditor"], f"/v1/coops/{COOP}/bank-accounts").json()
    assert [(s["source"], s["opening_balance_eur"], s["closing_balance_eur"]) for s in account["statements"]] == [
        ("camt053", "0.00", "100.00"),
        ("ofx", "0.00", "100.00"),
        ("csv", "0.00", "1234.56"),  # no balances in a CSV: from the last statement closed before it (none)
    ]
    assert account["csv_mapping"]["columns"] == CSV_DEBIT_CREDIT_MAPPING["columns"]


def test_reads_by_role_then_confirm_and_reconcile(api):
    open_account(api)
    t = api["tokens"]["treasurer"]
    pay = Line(date(2025, 3, 3), D("100.00"), "cotisation", "B1", "Alice", None, reference_of("fee:m1:2025"))
    assert send(api, t, camt053("S1", IBAN, D("0"), [pay], date(2025, 3, 31)), "application/xml", "imp").status_code == 201
    for path in ("/bank-accounts", "/open-items", "/bank-accounts/BQ/lines", "/bank-accounts/BQ/proposals"):
        for role in ROLES:
            r = get(api, api["tokens"][role], f"/v1/coops/{COOP}{path}")
            assert r.status_code == (200 if role in BANK_READERS else 403), (path, role, r.text)
    (proposed,) = get(api, t, f"/v1/coops/{COOP}/bank-accounts/BQ/proposals").json()
    (sure,) = [p for p in proposed["proposals"] if p["confidence"] == "sure"]
    assert sure["allocations"][0]["item"] == "fee:m1:2025" and "structured reference" in sure["reason"]
    r = post(api, t, COOP, "ConfirmSureBankMatches", {"bank_account_id": "BQ"})
    assert r.status_code == 201 and r.json()["report"]["count"] == 1, r.text
    (confirmed,) = r.json()["report"]["confirmed"]
    assert r.json()["report"]["kind"] == "sure_bank_matches"
    assert [(a["item"], a["amount_eur"]) for a in confirmed["allocations"]] == [("fee:m1:2025", "100.00")]
    assert get(api, t, f"/v1/coops/{COOP}/open-items", min_position=r.json()["position"]).json() == []
    again = post(
        api, t, COOP, "ConfirmBankMatch", {"line_id": proposed["line"]["line_id"], "allocations": [{"item": "fee:m1:2025"}]}
    )
    assert again.status_code == 409 and again.json()["rule"] == "matched_once"
    report = get(
        api, t, f"/v1/coops/{COOP}/bank-accounts/BQ/reconciliation", on="2025-03-31", min_position=r.json()["position"]
    ).json()
    assert (report["bank_balance_eur"], report["ledger_balance_eur"], report["difference_eur"]) == ("100.00", "100.00", "0.00")
    missing = get(api, t, f"/v1/coops/{COOP}/bank-accounts/NOPE/reconciliation", on="2025-03-31")
    assert missing.status_code == 404 and missing.json()["rule"] == "known_bank_account"


def test_a_partial_match_reads_in_euros_on_the_line_the_open_item_and_the_report(api):
    open_account(api)
    t = api["tokens"]["treasurer"]
    part = Line(date(2025, 3, 5), D("60.00"), "acompte cotisation", "B2", "Alice")
    assert send(api, t, camt053("S2", IBAN, D("0"), [part], date(2025, 3, 31)), "application/xml", "imp-part").status_code == 201
    (line,) = get(api, t, f"/v1/coops/{COOP}/bank-accounts/BQ/lines").json()
    assert (line["amount_eur"], line["allocated_eur"], line["status"]) == ("60.00", "0.00", "unmatched")
    r = post(api, t, COOP, "ConfirmBankMatch", {"line_id": line["line_id"], "allocations": [{"item": "fee:m1:2025"}]})
    assert r.status_code == 201, r.text
    report = r.json()["report"]
    (paid,) = report["allocations"]
    assert (report["kind"], report["person_id"], paid["item"], paid["amount_eur"]) == ("bank_match", "m1", "fee:m1:2025", "60.00")
    assert paid["entry_number"] in r.json()["journal_numbers"]
    (line,) = get(api, t, f"/v1/coops/{COOP}/bank-accounts/BQ/lines", min_position=r.json()["position"]).json()
    assert (line["allocated_eur"], line["status"], line["allocations"]) == ("60.00", "matched", report["allocations"])
    (item,) = get(api, t, f"/v1/coops/{COOP}/open-items").json()
    assert (item["item"], item["open_eur"]) == ("fee:m1:2025", "40.00")  # 100.00 called, 60.00 paid
