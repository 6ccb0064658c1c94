"""Reports for a period (both stores): figures worked out by hand on small books, then the
accounting identities on the demo through the HTTP API, where the CSV must equal the JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from domain.money import Unit
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections import reports
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, ok
from tests.conftest import migrates_the_store
from tests.exports.conftest import DEMO_COOPS, load_demo

D = Decimal
COOP = "books"


def entry(day: date, label: str, *lines: EntryLine) -> RecordEntry:
    return RecordEntry(COOP, label, list(lines), day)


@pytest.fixture
@migrates_the_store
def books(store_url: str) -> Iterator[Ledger]:
    """Small books whose every figure below is worked out by hand (EUR):
    2020: own funds 1,000.00 in the bank; a study 250.00 paid; services 400.00 received; bank
    charges 10.50 owed to supplier sup-1; an advance of 20.00 paid to supplier sup-2; a member's
    fee of 100.00 called and paid; 5.00 CREDIT moved between two accounts (never in EUR reports).
    2021: a grant of 100.00 received."""
    ledger = Ledger(StoreConfig.from_url(store_url))
    migrate(ledger.db)
    ok(ledger, found_association(COOP))
    ok(ledger, admit(COOP, "m1", "founders", date(2020, 1, 10)))
    for command in [
        entry(date(2020, 3, 1), "Apport", EntryLine("512", debit=D("1000")), EntryLine("102", credit=D("1000"))),
        entry(date(2020, 4, 1), "Étude", EntryLine("604", debit=D("250")), EntryLine("512", credit=D("250"))),
        entry(date(2020, 5, 1), "Prestation", EntryLine("512", debit=D("400")), EntryLine("706", credit=D("400"))),
        entry(date(2020, 6, 1), "Frais", EntryLine("627", debit=D("10.50")), EntryLine("401", credit=D("10.50"), party="sup-1")),
        entry(date(2020, 7, 1), "Avance", EntryLine("401", debit=D("20"), party="sup-2"), EntryLine("512", credit=D("20"))),
        CallFee(COOP, "m1", 2020, date(2020, 2, 1)),
        PayFee(COOP, "m1", 2020, D("100"), date(2020, 8, 1)),
        entry(
            date(2020, 9, 1),
            "Crédits",
            EntryLine("706", debit=D("5"), unit="CREDIT"),
            EntryLine("512", credit=D("5"), unit="CREDIT"),
        ),
        entry(date(2021, 2, 1), "Subvention", EntryLine("512", debit=D("100")), EntryLine("741", credit=D("100"))),
    ]:
        ok(ledger, command)
    runner = ProjectionRunner(ledger)
    runner.catch_up()
    yield ledger
    runner.stop()
    ledger.close()


def amounts(report: dict[str, Any], key: str = "amount_minor") -> dict[tuple[str, str], int]:
    return {(line["section"], line["account"]): line[key] for line in report["lines"]}


def test_income_statement_and_balance_sheet_by_hand(books):
    db = books.db
    year_2020 = reports.fiscal_year_bounds(db, COOP, 2020)
    assert year_2020 == (date(2020, 1, 1), date(2020, 12, 31))
    income = reports.income_statement(db, COOP, start=year_2020[0], end=year_2020[1])
    assert amounts(income) == {
        ("operating", "604"): 250_00,
        ("operating", "627"): 10_50,
        ("operating", "706"): 400_00,
        ("operating", "7561"): 100_00,
    }
    assert [line["side"] for line in income["lines"]] == ["expenses", "expenses", "income", "income"]
    assert income["totals"] == {"expenses_minor": 260_50, "income_minor": 500_00, "result_minor": 239_50}
    assert reports.income_statement(db, COOP, start=date(2021, 1, 1), end=date(2021, 12, 31))["totals"]["result_minor"] == 100_00

    sheet = reports.balance_sheet(db, COOP, end=year_2020[1])
    # Supplier sup-2 owes 20.00 (an advance), the cooperative owes sup-1 10.50: never netted.
    assert amounts(sheet) == {
        ("receivables", "401"): 20_00,
        ("cash", "512"): 1230_00,
        ("equity", "102"): 1000_00,
        ("equity", ""): 239_50,
        ("payables", "401"): 10_50,
    }
    assert [(line["side"], line["section"]) for line in sheet["lines"]] == [
        ("assets", "receivables"),
        ("assets", "cash"),
        ("liabilities", "equity"),
        ("liabilities", "equity"),
        ("liabilities", "payables"),
    ]
    assert sheet["totals"] == {
        "assets_minor": 1250_00,
        "liabilities_and_equity_minor": 1250_00,
        "unclosed_result_minor": 239_50,
        "off_balance_sheet_minor": 0,
    }
    later = reports.balance_sheet(db, COOP, end=date(2021, 12, 31))
    assert later["totals"]["unclosed_result_minor"] == 339_50 and later["totals"]["assets_minor"] == 1350_00

    tb = reports.trial_balance(db, COOP, start=date(2021, 1, 1), end=date(2021, 12, 31))
    lines = {(line["unit"], line["account"]): line for line in tb["lines"]}
    assert [line["unit"] for line in tb["lines"]] == sorted((line["unit"] for line in tb["lines"]), key=["EUR", "CREDIT"].index)
    assert [a for u, a in lines if u == "EUR"] == ["102", "401", "411", "512", "604", "627", "706", "741", "7561"]
    bank = lines[("EUR", "512")]
    assert (bank["opening_minor"], bank["debit_minor"], bank["credit_minor"], bank["closing_minor"]) == (
        1230_00,
        100_00,
        0,
        1330_00,
    )
    assert lines[("CREDIT", "706")]["opening_minor"] == 5_00
    assert tb["totals"]["EUR"] == {"opening_minor": 0, "debit_minor": 100_00, "credit_minor": 100_00, "closing_minor": 0}


def test_account_statement_by_hand_with_paging(books):
    db = books.db
    full = reports.account_statement(db, COOP, "512", start=date(2020, 4, 1), end=date(2020, 12, 31))
    assert full["totals"] == {"opening_minor": 1000_00, "movement_minor": 230_00, "closing_minor": 1230_00}
    assert [
        (line["effective_date"], line["debit_minor"], line["credit_minor"], line["balance_minor"]) for line in full["lines"]
    ] == [
        ("2020-04-01", 0, 250_00, 750_00),
        ("2020-05-01", 400_00, 0, 1150_00),
        ("2020-07-01", 0, 20_00, 1130_00),
        ("2020-08-01", 100_00, 0, 1230_00),
    ]
    page = reports.account_statement(db, COOP, "512", start=date(2020, 4, 1), end=date(2020, 12, 31), after_line=1, limit=2)
    assert page["lines"] == full["lines"][1:3] and page["total_lines"] == 4
    sup = reports.account_statement(db, COOP, "401", party="sup-1")
    assert [line["balance_minor"] for line in sup["lines"]] == [-10_50]
    with pytest.raises(Exception, match="starts"):
        reports.account_statement(db, COOP, "512", start=date(2021, 1, 1), end=date(2020, 1, 1))


# ---------------------------------------------------------------- the demo through the API


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        svc = app.state.services
        load_demo(svc.ledger)
        assert svc.runner.wait_for(svc.ledger.position(), 30)
        tokens = {
            role: create_key(svc.ledger.db, role=role, coops=list(DEMO_COOPS))[1] for role in ("auditor", "board", "reader")
        }
        yield {"client": client, "tokens": tokens}


def get(api: dict[str, Any], path: str, role: str = "auditor", **params: Any) -> Any:
    return api["client"].get(path, params=params, headers={"Authorization": f"Bearer {api['tokens'][role]}"})


def minor(amount: str, unit: str) -> int:
    """An Amount of the JSON ("21.50" HOUR) back in minor units (1290 minutes), refusing a rounding."""
    exact = D(amount) * Unit(unit).minor_per_major
    assert exact == exact.to_integral_value(), (amount, unit)
    return int(exact)


def as_csv_row(line: dict[str, Any], columns: list[str]) -> dict[str, str]:
    """A JSON line in the CSV's terms: `debit` (beside its `unit`) or `amount_eur` as `debit_minor`
    or `amount_minor` in minor units, no value as empty; keys the CSV has no column for left out."""
    row = {}
    for key, value in line.items():
        name = key.removesuffix("_eur")
        if f"{name}_minor" in columns:
            row[f"{name}_minor"] = str(minor(value, "EUR" if key.endswith("_eur") else line["unit"]))
        elif key in columns:
            row[key] = "" if value is None else str(value)
    return row


def csv_equals_json(api: dict[str, Any], path: str, **params: Any) -> dict[str, Any]:
    """GETs a report as JSON and as CSV; asserts the CSV's rows are the JSON's lines; returns the JSON."""
    as_json = get(api, path, **params)
    assert as_json.status_code == 200, as_json.text
    as_csv = get(api, path, format="csv", **params)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(as_csv.text))
    rows = list(reader)
    body = as_json.json()
    assert rows == [as_csv_row(line, list(reader.fieldnames or [])) for line in body["lines"]]
    return body


def test_demo_reports_balance_and_csv_equals_json(api):
    check_access_and_bad_periods(api)  # on the same loaded demo: loading it is most of the time
    for coop in DEMO_COOPS:
        base = f"/v1/coops/{coop}/reports"
        for period in ({"year": 2025}, {"year": 2026}, {"start": "2025-03-01", "end": "2026-02-28"}, {}):
            tb = csv_equals_json(api, f"{base}/trial-balance", **period)
            income = csv_equals_json(api, f"{base}/income-statement", **period)
            sheet = csv_equals_json(api, f"{base}/balance-sheet", **{k: v for k, v in period.items() if k != "start"})
            class_67 = [line for line in tb["lines"] if line["unit"] == "EUR" and line["account"][0] in "67"]
            # The income statement's result is the trial balance's class 6/7 movement (no closing here).
            assert D(income["totals"]["result_eur"]) == -sum(D(line["debit"]) - D(line["credit"]) for line in class_67)
            assert D(sheet["totals"]["assets_eur"]) == D(sheet["totals"]["liabilities_and_equity_eur"]) > 0
            # Equity includes the result not yet closed: everything earned and spent up to the end.
            assert D(sheet["totals"]["unclosed_result_eur"]) == -sum(D(line["closing"]) for line in class_67)
            equity = [line for line in sheet["lines"] if line["section"] == "equity"]
            assert sum(D(line["amount_eur"]) for line in equity) == D(
                next(s["total_eur"] for s in sheet["sections"] if s["section"] == "equity")
            )
            assert {t["unit"]: (t["debit"] == t["credit"], t["closing"]) for t in tb["totals"].values()} == {
                unit: (True, "0.00") for unit in tb["totals"]
            }
        statement = csv_equals_json(api, f"{base}/accounts/512/statement", year=2025, limit=5)
        assert len(statement["lines"]) == 5 and statement["total_lines"] > 5
        rest = get(api, f"{base}/accounts/512/statement", year=2025, after_line=5, limit=1000).json()
        lines = statement["lines"] + rest["lines"]
        assert len(lines) == statement["total_lines"]
        assert lines[-1]["balance"] == statement["totals"]["closing"]
        assert {line["unit"] for line in lines} == {statement["totals"]["unit"]} == {"EUR"}


def check_access_and_bad_periods(api: dict[str, Any]) -> None:
    path = "/v1/coops/mednum-scic/reports/balance-sheet"
    assert get(api, path, role="board").status_code == 200
    refused = get(api, path, role="reader")
    assert refused.status_code == 403 and refused.json()["rule"] == "role_read"
    both = get(api, "/v1/coops/mednum-scic/reports/trial-balance", year=2025, start="2025-01-01")
    assert both.status_code == 422 and both.json()["rule"] == "year_or_dates"
    backwards = get(api, "/v1/coops/mednum-scic/reports/income-statement", start="2026-01-01", end="2025-01-01")
    assert backwards.status_code == 422 and backwards.json()["field"] == "start"
    assert get(api, "/v1/coops/nobody/reports/trial-balance").status_code in (403, 404)
    # A statement's amounts are written in its unit: one the ledger does not hold is refused, not guessed.
    unknown = get(api, "/v1/coops/mednum-scic/reports/accounts/512/statement", unit="USD")
    assert unknown.status_code == 422 and unknown.json()["field"] == "unit"


def test_closing_moves_the_result_into_equity_and_keeps_the_income_statement(books):
    closing = pytest.importorskip("domain.closing")  # the fiscal-year closing
    from ledger.handlers import HANDLERS

    if closing.CloseFiscalYear not in HANDLERS:
        pytest.skip("CloseFiscalYear is not wired into ledger/handlers.py yet")
    ok(books, closing.CloseFiscalYear(COOP, 2020))
    runner = ProjectionRunner(books)
    runner.catch_up()
    db = books.db
    # The year still shows what it earned and spent: the closing entry is not income or expense.
    assert reports.income_statement(db, COOP, start=date(2020, 1, 1), end=date(2020, 12, 31))["totals"]["result_minor"] == 239_50
    sheet = reports.balance_sheet(db, COOP, end=date(2020, 12, 31))
    assert amounts(sheet)[("equity", "120")] == 239_50 and ("equity", "") not in amounts(sheet)
    assert sheet["totals"]["unclosed_result_minor"] == 0
    assert sheet["totals"]["assets_minor"] == sheet["totals"]["liabilities_and_equity_minor"] == 1250_00
    later = reports.balance_sheet(db, COOP, end=date(2021, 12, 31))
    assert later["totals"]["unclosed_result_minor"] == 100_00 and amounts(later)[("equity", "120")] == 239_50
