"""Donations, crowdfunding and advertising over HTTP, on SQLite and PostgreSQL: commands by the
treasurer, refusals as problems naming field and rule, and the reads (the donors' list is
personal data: admin, treasurer and auditor only). Expected figures are worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from tests.api.test_api import COOP, ROLES, api, get, post  # noqa: F401 (api is a fixture)

DONORS_READERS = {"admin", "treasurer", "auditor"}
ACTIVITY_READERS = {"admin", "treasurer", "clerk", "auditor", "board"}


def record_funding(env) -> int:
    """Returns the last position. Figures (EUR): Alice 150 + 50 (individual), ACME 2,000 for
    project "atelier"; a payout of 1,000 gross, 60 fee, for "atelier", Bob itemised for 100;
    300 of ACME's gift used on the project; Bpifrance's banner 500 a month, March invoiced and
    paid 200 + 300."""
    t = env["tokens"]["treasurer"]
    bodies = [
        (
            "RecordDonation",
            {
                "donation_id": "D1",
                "donor_id": "alice",
                "donor_name": "Alice Martin",
                "donor_kind": "individual",
                "donor_address": "1 rue des Lilas, 34000 Montpellier",
                "amount": "150",
                "effective_date": "2025-02-10",
            },
        ),
        (
            "RecordDonation",
            {
                "donation_id": "D2",
                "donor_id": "alice",
                "donor_name": "Alice Martin",
                "donor_kind": "individual",
                "amount": "50",
                "method": "cash",
                "effective_date": "2025-11-02",
            },
        ),
        (
            "RecordDonation",
            {
                "donation_id": "D3",
                "donor_id": "acme",
                "donor_name": "ACME SA",
                "donor_kind": "company",
                "amount": "2000",
                "project": "atelier",
                "effective_date": "2025-03-01",
            },
        ),
        (
            "RecordCrowdfundingPayout",
            {
                "payout_id": "P1",
                "platform": "HelloAsso",
                "campaign": "Atelier mobile",
                "gross": "1000",
                "fee": "60",
                "project": "atelier",
                "effective_date": "2025-04-15",
                "backers": [{"donor_id": "bob", "donor_name": "Bob Durand", "amount": "100"}],
            },
        ),
        (
            "UseEarmarkedDonation",
            {
                "donation_id": "D3",
                "amount": "300",
                "label": "Achat d'une imprimante 3D",
                "project": "atelier",
                "effective_date": "2025-05-01",
            },
        ),
        (
            "SignAdvertisingContract",
            {
                "contract_id": "AD1",
                "advertiser_id": "bpi",
                "advertiser_name": "Bpifrance",
                "advertiser_kind": "bank",
                "placement": "Bannière d'accueil",
                "price_per_period": "500",
                "starts_on": "2025-03-01",
                "ends_on": "2025-08-31",
                "effective_date": "2025-02-20",
            },
        ),
        ("InvoiceAdvertising", {"contract_id": "AD1", "period": "2025-03", "effective_date": "2025-03-01"}),
        ("PayAdvertisingInvoice", {"contract_id": "AD1", "period": "2025-03", "amount": "200", "effective_date": "2025-03-20"}),
        ("PayAdvertisingInvoice", {"contract_id": "AD1", "period": "2025-03", "amount": "300", "effective_date": "2025-04-02"}),
    ]
    position = 0
    for i, (command, body) in enumerate(bodies):
        r = post(env, t, COOP, command, body, key=f"funding-{i}")
        assert r.status_code == 201, (command, r.text)
        position = r.json()["position"]
    return position


def test_funding_commands_reads_and_refusals(api):
    last = record_funding(api)
    t = api["tokens"]["treasurer"]
    base = f"/v1/coops/{COOP}"
    gifts = {g["gift_id"]: g for g in get(api, t, f"{base}/donations", min_position=last).json()["gifts"]}
    assert (gifts["P1"]["gross_eur"], gifts["P1"]["fee_eur"], gifts["P1"]["net_eur"]) == ("1000.00", "60.00", "940.00")
    assert gifts["D3"]["purpose"] == "project:atelier" and gifts["D1"]["purpose"] is None
    funds = get(api, t, f"{base}/donations/dedicated-funds", as_of="2025-12-31").json()
    # ACME 2,000 - 300 used; the payout's 1,000 - 60 fee.
    assert {f["gift_id"]: f["unspent_eur"] for f in funds["gifts"]} == {"D3": "1700.00", "P1": "940.00"}
    assert funds["by_purpose"] == [
        {"purpose": "project:atelier", "dedicated_eur": "3000.00", "used_eur": "360.00", "unspent_eur": "2640.00"}
    ]
    before_use = get(api, t, f"{base}/donations/dedicated-funds", as_of="2025-04-30").json()
    assert {f["gift_id"]: f["unspent_eur"] for f in before_use["gifts"]} == {"D3": "2000.00", "P1": "940.00"}
    # The books agree: 196 holds the unspent part per gift.
    assert get(api, t, f"{base}/accounts/196/balance", party="D3").json()["balance"] == "-1700.00"

    receipts = get(api, t, f"{base}/donations/receipts", year=2025).json()
    donors = {d["donor_id"]: d for d in receipts["donors"]}
    assert (donors["alice"]["total_eur"], donors["acme"]["total_eur"], donors["bob"]["total_eur"]) == (
        "200.00",
        "2000.00",
        "100.00",
    )
    assert [(g["date"], g["amount_eur"], g["nature"]) for g in donors["alice"]["gifts"]] == [
        ("2025-02-10", "150.00", "numéraire"),
        ("2025-11-02", "50.00", "numéraire"),
    ]
    assert donors["alice"]["donor_address"] == "1 rue des Lilas, 34000 Montpellier" and donors["acme"]["donor_kind"] == "company"
    assert receipts["anonymous_eur"] == "900.00" and receipts["total_eur"] == "3200.00"
    # ... and equal the year's gift income in the books: 7541 dons manuels + 7542 mécénats.
    tb_rows = get(api, t, f"{base}/trial-balance", as_of="2025-12-31").json()["accounts"]
    tb = {row["account"]: Decimal(row["balance"]) for row in tb_rows}  # euros
    assert -(tb["7541"] + tb["7542"]) == Decimal(receipts["total_eur"]) == 3200 and tb["622"] == 60 and tb["530"] == 50

    contract = get(api, t, f"{base}/advertising/contracts").json()["contracts"][0]
    assert (contract["invoiced_eur"], contract["paid_eur"], contract["due_eur"], contract["invoices"]) == (
        "500.00",
        "500.00",
        "0.00",
        1,
    )
    revenue = get(api, t, f"{base}/advertising/revenue", from_month="2025-01", to_month="2025-12").json()["months"]
    assert revenue == [
        {"month": "2025-03", "invoiced_eur": "500.00", "received_eur": "200.00", "advertisers": 1},
        {"month": "2025-04", "invoiced_eur": "0.00", "received_eur": "300.00", "advertisers": 0},
    ]
    invoices = get(api, t, f"{base}/advertising/contracts/AD1/invoices").json()["invoices"]
    assert [(i["period"], i["due_eur"]) for i in invoices] == [("2025-03", "0.00")]

    # Refusals are problems naming the field and the rule, and write nothing.
    before = get(api, None, "/health").json()["position"]
    cases = [
        (
            "UseEarmarkedDonation",
            {"donation_id": "D3", "amount": "10", "label": "Loyer", "project": "autre", "effective_date": "2025-06-01"},
            422,
            "project",
            "earmarked_purpose",
        ),
        (
            "UseEarmarkedDonation",
            {"donation_id": "D1", "amount": "10", "label": "Loyer", "project": "atelier", "effective_date": "2025-06-01"},
            422,
            "donation_id",
            "earmarked",
        ),
        (
            "UseEarmarkedDonation",
            {"donation_id": "P1", "amount": "940.01", "label": "Matériel", "project": "atelier", "effective_date": "2025-06-01"},
            422,
            "amount",
            "donation_unspent",
        ),
        (
            "InvoiceAdvertising",
            {"contract_id": "AD1", "period": "2025-03", "effective_date": "2025-03-02"},
            409,
            "period",
            "invoiced_once",
        ),
        (
            "InvoiceAdvertising",
            {"contract_id": "AD1", "period": "2025-09", "effective_date": "2025-09-01"},
            422,
            "period",
            "within_contract",
        ),
        (
            "PayAdvertisingInvoice",
            {"contract_id": "AD1", "period": "2025-03", "amount": "0.01", "effective_date": "2025-05-01"},
            422,
            "amount",
            "no_overpayment",
        ),
        (
            "RecordCrowdfundingPayout",
            {
                "payout_id": "P2",
                "platform": "Ulule",
                "campaign": "X",
                "gross": "10",
                "fee": "10",
                "backers": [],
                "effective_date": "2025-05-01",
            },
            422,
            "fee",
            "below_gross",
        ),
    ]
    for i, (command, body, status, field, rule) in enumerate(cases):
        r = post(api, t, COOP, command, body, key=f"bad-funding-{i}")
        assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json"), (command, r.text)
        assert (r.json()["field"], r.json()["rule"]) == (field, rule), (command, r.json())
    assert get(api, None, "/health").json()["position"] == before


def test_who_may_send_and_read(api):
    for role in ROLES:
        token = api["tokens"][role]
        r = post(api, token, COOP, "RecordDonation", {}, key=f"role-donation-{role}")
        assert r.status_code == (422 if role == "treasurer" else 403), (role, r.text)
        r = post(api, token, COOP, "SignAdvertisingContract", {}, key=f"role-contract-{role}")
        assert r.status_code == (422 if role in ("admin", "treasurer") else 403), (role, r.text)
        r = get(api, token, f"/v1/coops/{COOP}/donations/receipts", year=2025)
        assert r.status_code == (200 if role in DONORS_READERS else 403), (role, r.text)
        for path in ("/donations", "/donations/dedicated-funds", "/advertising/contracts", "/advertising/revenue"):
            r = get(api, token, f"/v1/coops/{COOP}{path}")
            assert r.status_code == (200 if role in ACTIVITY_READERS else 403), (role, path, r.text)
