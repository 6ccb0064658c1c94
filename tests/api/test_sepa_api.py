"""SEPA direct debit over HTTP, on SQLite and PostgreSQL: the creditor, mandates, a batch, its
pain.008 file validated against the pain.008.001.02 XSD, the collection as fee payments (411, 512),
a return that opens the fee again, and the reads with their roles (mandates hold IBANs).

Dates are relative to today: the lead time and the signature are judged against the clock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sepaxml
import xmlschema

from domain.sepa import today
from domain.sepa_rules import earliest_collection
from ledger.bank_writers import Line, camt053
from ledger.sepa_files import file_totals
from tests.api.test_api import COOP, ROLES, api, get, post  # noqa: F401 (api is a fixture)

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
DIRECT_DEBIT_READERS = {"admin", "treasurer", "auditor"}


def _ok(env, role: str, command: str, body: dict) -> dict:
    r = post(env, env["tokens"][role], COOP, command, body)
    assert r.status_code == 201, r.text
    return r.json()


def _set_up(env) -> tuple[int, date]:
    """m1, m2, m3 with this year's fee (100 EUR) called; mandates for m1 (first) and m2 (recurring)."""
    year = today().year
    for member_id in ("m2", "m3"):
        body = {"member_id": member_id, "name": f"Membre {member_id}", "kind": "person", "college": "users",
                "effective_date": "2025-02-01"}  # fmt: skip
        _ok(env, "clerk", "AdmitMember", body)
    for member_id in ("m1", "m2", "m3"):
        _ok(env, "treasurer", "CallFee", {"member_id": member_id, "year": year, "effective_date": f"{year}-01-02"})
    _ok(env, "admin", "SetCreditorIdentifier", {"creditor_id": "FR72ZZZ123456", "iban": "FR7642559100000800123456771",
                                                 "bic": "CCOPFRPPXXX", "name": "Coop A"})  # fmt: skip
    signed = (today() - timedelta(days=5)).isoformat()
    for member_id, mandate_id, iban, bic, sequence in [
        ("m1", "RUM-M1", "FR7620041010050500013026052", "PSSTFRPP", "first"),
        ("m2", "RUM-M2", "DE89370400440532013000", "COBADEFFXXX", "recurring"),
    ]:
        body = {"member_id": member_id, "mandate_id": mandate_id, "iban": iban, "bic": bic, "signed_on": signed,
                "sequence": sequence}  # fmt: skip
        _ok(env, "clerk", "RecordMandate", body)
    return year, earliest_collection(today())


def _wait(env, position: int) -> None:
    assert env["client"].app.state.services.runner.wait_for(position, timeout_s=10)


def _balance(env, account: str, party: str | None = None) -> int:
    """The account's EUR balance, in cents (the API answers euros: "200.00")."""
    params = {"party": party} if party else {}
    r = get(env, env["tokens"]["auditor"], f"/v1/coops/{COOP}/accounts/{account}/balance", **params)
    assert r.status_code == 200, r.text
    return int(Decimal(r.json()["balance"]) * 100)


def test_mandate_refusals_are_problems_naming_field_and_rule(api):  # noqa: F811 (the fixture)
    _set_up(api)
    signed = today().isoformat()
    base = {"member_id": "m3", "mandate_id": "RUM-M3", "iban": "FR7630004000311234567890111", "bic": "BNPAFRPP",
            "signed_on": signed}  # fmt: skip
    for change, (field, rule) in [
        ({"iban": "FR7630004000311234567890112"}, ("iban", "iban")),
        ({"bic": "BNPAFR"}, ("bic", "bic")),
        ({"mandate_id": "RUM-M1"}, ("mandate_id", "unique_mandate")),
        ({"signed_on": (today() + timedelta(days=2)).isoformat()}, ("signed_on", "not_in_future")),
    ]:
        r = post(api, api["tokens"]["clerk"], COOP, "RecordMandate", {**base, **change})
        assert r.status_code in (409, 422), r.text
        assert (r.json()["field"], r.json()["rule"]) == (field, rule)


def test_batch_file_collection_and_return(api):  # noqa: F811 (the fixture)
    year, due = _set_up(api)
    issued = _ok(api, "treasurer", "IssueDirectDebits", {"batch_id": "B1", "year": year, "collection_date": due.isoformat()})
    _wait(api, issued["position"])

    r = get(api, api["tokens"]["treasurer"], f"/v1/coops/{COOP}/direct-debits/B1.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml"), r.text
    xmlschema.XMLSchema(str(XSD)).validate(r.text)  # raises when the file breaks the schema
    totals = file_totals(r.content)
    assert totals["msg_id"] == "B1" and totals["transactions"] == 2 and totals["control_sum"] == "200.00"
    assert totals["creditor_ids"] == ["FR72ZZZ123456"]
    assert totals["sequences"] == ["FRST", "RCUR"]
    assert totals["end_to_end_ids"] == ["B1-00001", "B1-00002"]
    assert "Membre m2" in r.text and "DE89370400440532013000" in r.text  # opened from the sealed events
    for role in ROLES:
        if role not in ("treasurer", "admin"):
            assert get(api, api["tokens"][role], f"/v1/coops/{COOP}/direct-debits/B1.xml").status_code == 403, role
    assert get(api, api["tokens"]["treasurer"], f"/v1/coops/{COOP}/direct-debits/B9.xml").status_code == 404

    collected = _ok(api, "treasurer", "RecordDirectDebitCollection", {"batch_id": "B1", "collected_on": due.isoformat()})
    assert collected["events"] == ["FeePaid", "FeePaid", "DirectDebitBatchCollected"]
    _wait(api, collected["position"])
    assert _balance(api, "512") == 200_00
    assert (_balance(api, "411", "m1"), _balance(api, "411", "m2"), _balance(api, "411", "m3")) == (100_00, 0, 100_00)

    returned_on = (due + timedelta(days=4)).isoformat()
    body = {"batch_id": "B1", "end_to_end_id": "B1-00002", "reason_code": "AM04", "returned_on": returned_on}
    returned = _ok(api, "treasurer", "RecordDirectDebitReturn", body)
    again = post(api, api["tokens"]["treasurer"], COOP, "RecordDirectDebitReturn", {**body, "reason_code": "MS02"})
    assert (again.status_code, again.json()["rule"]) == (409, "returned_once")
    _wait(api, returned["position"])
    assert _balance(api, "512") == 100_00 and _balance(api, "411", "m2") == 100_00  # the fee is due again

    batches = get(api, api["tokens"]["auditor"], f"/v1/coops/{COOP}/direct-debits").json()["batches"]
    items = {i["member_id"]: i for i in batches[0]["items"]}
    assert (items["m1"]["status"], items["m2"]["status"]) == ("collected", "returned")
    assert (items["m2"]["reason_code"], items["m2"]["reason"]) == ("AM04", "Provision insuffisante")

    # the next batch collects the returned fee again, on the same (recurring) mandate
    second = _ok(api, "treasurer", "IssueDirectDebits", {"batch_id": "B2", "year": year, "collection_date": due.isoformat()})
    _wait(api, second["position"])
    batches = get(api, api["tokens"]["treasurer"], f"/v1/coops/{COOP}/direct-debits").json()["batches"]
    assert [(i["member_id"], i["amount_eur"], i["sequence"]) for i in batches[1]["items"]] == [("m2", "100.00", "recurring")]
    assert [b["total_eur"] for b in batches] == ["200.00", "100.00"]


def test_a_returned_collection_on_the_statement_is_confirmed_and_read_in_euros(api):  # noqa: F811 (the fixture)
    year, due = _set_up(api)
    _ok(api, "treasurer", "IssueDirectDebits", {"batch_id": "B1", "year": year, "collection_date": due.isoformat()})
    _ok(api, "treasurer", "RecordDirectDebitCollection", {"batch_id": "B1", "collected_on": due.isoformat()})
    own_iban = "FR7630006000011234567890189"
    body = {"bank_account_id": "BQ", "iban": own_iban, "label": "Compte courant", "effective_date": "2025-01-01"}
    _ok(api, "treasurer", "OpenBankAccount", body)
    returned_on = due + timedelta(days=3)
    back = Line(returned_on, Decimal("-100.00"), "RETOUR PRLV", "R1", end_to_end_id="B1-00002", return_reason="AM04")
    headers = {
        "Authorization": f"Bearer {api['tokens']['treasurer']}",
        "Content-Type": "application/xml",
        "Idempotency-Key": "s1",
    }
    data = camt053("S1", own_iban, Decimal("200.00"), [back], returned_on)
    r = api["client"].post(f"/v1/coops/{COOP}/bank-accounts/BQ/statements", content=data, headers=headers)
    assert r.status_code == 201, r.text
    (line,) = get(api, api["tokens"]["treasurer"], f"/v1/coops/{COOP}/bank-accounts/BQ/lines").json()
    assert (line["amount_eur"], line["return_reason"], line["status"]) == ("-100.00", "AM04", "unmatched")

    report = _ok(api, "treasurer", "ConfirmDirectDebitReturn", {"line_id": line["line_id"]})["report"]
    assert {k: report[k] for k in ("kind", "person_id", "reason_code", "item", "amount_eur")} == {
        "kind": "direct_debit_return",
        "person_id": "m2",
        "reason_code": "AM04",
        "item": "direct_debit_return:B1:B1-00002",
        "amount_eur": "100.00",
    }
    (line,) = get(api, api["tokens"]["treasurer"], f"/v1/coops/{COOP}/bank-accounts/BQ/lines").json()
    assert (line["allocated_eur"], line["status"]) == ("100.00", "matched")  # a debit's allocation counts its size


def test_mandates_are_listed_with_the_iban_masked_to_the_roles_that_handle_money(api):  # noqa: F811 (the fixture)
    _set_up(api)
    for role in ROLES:
        r = get(api, api["tokens"][role], f"/v1/coops/{COOP}/mandates")
        assert r.status_code == (200 if role in DIRECT_DEBIT_READERS else 403), (role, r.text)
    _wait(api, get(api, None, "/health").json()["position"])
    listed = get(api, api["tokens"]["auditor"], f"/v1/coops/{COOP}/mandates").json()["mandates"]
    assert [(m["mandate_id"], m["iban"], m["sequence"]) for m in listed] == [
        ("RUM-M1", "FR76 **** 6052", "first"),
        ("RUM-M2", "DE89 **** 3000", "recurring"),
    ]


def test_a_forgotten_member_s_mandate_reads_as_erased(api):  # noqa: F811 (the fixture)
    _set_up(api)
    body = {"member_id": "m4", "name": "Membre m4", "kind": "person", "college": "users", "effective_date": "2025-02-01"}
    _ok(api, "clerk", "AdmitMember", body)
    mandate = {"member_id": "m4", "mandate_id": "RUM-M4", "iban": "FR7630004000311234567890111", "bic": "BNPAFRPP",
               "signed_on": today().isoformat()}  # fmt: skip
    _ok(api, "clerk", "RecordMandate", mandate)
    _ok(api, "clerk", "ResignMember", {"member_id": "m4", "effective_date": today().isoformat()})
    forgotten = _ok(
        api, "admin", "ForgetPerson", {"person_id": "m4", "reason": "demande du membre", "effective_date": today().isoformat()}
    )
    _wait(api, forgotten["position"])
    listed = {m["mandate_id"]: m for m in get(api, api["tokens"]["admin"], f"/v1/coops/{COOP}/mandates").json()["mandates"]}
    assert (listed["RUM-M4"]["iban"], listed["RUM-M4"]["bic"]) == (None, None)
    assert listed["RUM-M1"]["iban"] == "FR76 **** 6052"  # the others are untouched
    mandates = api["client"].app.state.services.ledger.cooperative(COOP).sepa.mandates
    assert (mandates["RUM-M4"].iban, mandates["RUM-M4"].bic) == (None, None)
