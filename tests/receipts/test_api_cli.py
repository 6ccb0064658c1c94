"""Tax receipts over HTTP (both stores) and from the command line: who may declare, issue and read
them (the receipts are donors' data: read kind "donors"), the PDF route, and `coopledger receipts
issue | list | pdf`, which never overwrites a file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import build
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.api.test_api import COOP, ROLES, api, get, post  # noqa: F401 (api is a fixture)
from tests.receipts.helpers import COOP as BOOKS_COOP
from tests.receipts.helpers import books

DONORS_READERS = {"admin", "treasurer", "auditor"}
ELIGIBILITY = {
    "eligible": True,
    "basis": "general_interest",
    "mission": "Accompagner les usagers du numérique",
    "address": "3 rue Basse, 34000 Montpellier",
    "place": "Montpellier",
    "effective_date": "2025-01-01",
}
GIFT = {
    "donation_id": "D1",
    "donor_id": "alice",
    "donor_name": "Alice Martin",
    "donor_kind": "individual",
    "amount": "250",
    "effective_date": "2025-03-01",
}


def test_receipts_over_http_by_role(api):
    t = api["tokens"]
    base = f"/v1/coops/{COOP}"
    refused = post(api, t["treasurer"], COOP, "DeclareReceiptEligibility", ELIGIBILITY, key="elig-t")
    assert refused.status_code == 403 and refused.json()["rule"] == "role_command"
    early = post(api, t["treasurer"], COOP, "IssueTaxReceipts", {"year": 2025, "issued_on": "2026-01-10"}, key="issue-0")
    assert early.status_code == 422 and early.json()["rule"] == "receipt_eligibility"
    assert post(api, t["admin"], COOP, "DeclareReceiptEligibility", ELIGIBILITY, key="elig").status_code == 201
    assert post(api, t["treasurer"], COOP, "RecordDonation", GIFT, key="gift").status_code == 201
    issued = post(api, t["treasurer"], COOP, "IssueTaxReceipts", {"year": 2025, "issued_on": "2026-01-10"}, key="issue-1")
    assert issued.status_code == 201 and issued.json()["events"] == ["TaxReceiptIssued"]
    position = issued.json()["position"]

    for role in ROLES:
        r = get(api, t[role], f"{base}/tax-receipts", year=2025, min_position=position)
        pdf = get(api, t[role], f"{base}/tax-receipts/2025-0001.pdf", min_position=position)
        if role in DONORS_READERS:
            assert r.status_code == 200, (role, r.text)
            (receipt,) = r.json()["receipts"]
            assert (receipt["receipt_number"], receipt["donor_name"]) == ("2025-0001", "Alice Martin")
            assert receipt["total_eur"] == "250.00" and receipt["article"] == "200"
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            assert pdf.content.startswith(b"%PDF-") and "2025-0001" in pdf.headers["content-disposition"]
        else:
            assert r.status_code == pdf.status_code == 403, (role, r.status_code, pdf.status_code)
    missing = get(api, t["auditor"], f"{base}/tax-receipts/2025-0009.pdf")
    assert missing.status_code == 404 and missing.json()["rule"] == "known_receipt"
    other = get(api, t["other_admin"], f"{base}/tax-receipts", year=2025)
    assert other.status_code == 403


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite store of the shared books, with no receipt yet; the CLI runs in tmp_path."""
    url = f"sqlite:///{tmp_path / 'books.sqlite'}"
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        books(ledger)
    finally:
        ledger.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COOPLEDGER_DATABASE_URL", url)
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(build(), list(args), catch_exceptions=False)


def test_the_command_line_issues_lists_and_writes_each_receipt_once(cli_store: Path):
    first = _run("--lang", "en", "receipts", "issue", "--coop", BOOKS_COOP, "--year", "2025", "--date", "2026-01-15")
    assert first.exit_code == 0 and "3 receipt(s) issued, 2025-0001 to 2025-0003" in first.output, first.output
    again = _run("--lang", "en", "receipts", "issue", "--coop", BOOKS_COOP, "--year", "2025", "--date", "2026-01-16")
    assert again.exit_code == 0 and "nothing issued" in again.output, again.output
    listed = _run("receipts", "list", "--coop", BOOKS_COOP, "--year", "2025", "--json")
    data = json.loads(listed.stdout)
    assert [(r["receipt_number"], r["donor_id"]) for r in data["receipts"]] == [
        ("2025-0001", "acme"),
        ("2025-0002", "alice"),
        ("2025-0003", "bob"),
    ]
    table = _run("receipts", "list", "--coop", BOOKS_COOP, "--year", "2025")
    assert table.exit_code == 0 and "2025-0003" in table.output and "CGI 238 bis" in table.output

    written = _run("receipts", "pdf", "--coop", BOOKS_COOP, "--year", "2025", "--out", "out")
    assert written.exit_code == 0, written.output
    files = sorted(p.name for p in (cli_store / "out").iterdir())
    assert files == [f"recu-fiscal-{BOOKS_COOP}-2025-000{n}.pdf" for n in (1, 2, 3)]
    first_pdf = (cli_store / "out" / files[0]).read_bytes()
    assert first_pdf.startswith(b"%PDF-")
    (cli_store / "out" / files[1]).write_bytes(b"kept")
    refused = _run("receipts", "pdf", "--coop", BOOKS_COOP, "--year", "2025", "--out", "out")
    assert refused.exit_code == 1 and "already exist" in refused.output
    assert (cli_store / "out" / files[1]).read_bytes() == b"kept"  # nothing overwritten
    none = _run("receipts", "pdf", "--coop", BOOKS_COOP, "--year", "2024", "--out", "out2")
    assert none.exit_code == 1 and "no tax receipt for 2024" in none.output


def test_the_command_line_says_why_a_cooperative_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'books.sqlite'}"
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        books(ledger, eligible=False)
    finally:
        ledger.close()
    monkeypatch.setenv("COOPLEDGER_DATABASE_URL", url)
    refused = _run("receipts", "issue", "--coop", BOOKS_COOP, "--year", "2025", "--date", date(2026, 1, 15).isoformat())
    assert refused.exit_code == 1 and "rule receipt_eligibility" in refused.output
