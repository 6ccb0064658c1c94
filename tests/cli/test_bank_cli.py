"""`coopledger bank ...` on both stores: import twice, proposals, a partial confirmation by hand, every
sure one at once, a refusal naming its rule, and the reconciliation naming what is not matched.
Books: members A (fee 100.00) and B (fee 250.50) of "demo", fees 2020 called; account BQ on 512."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from cli.main import build
from domain.bank import OpenBankAccount
from domain.bank_items import reference_of
from domain.fees import CallFee, PayFee
from ledger.bank_writers import Line, camt053
from ledger.service import Ledger
from tests.builders import admit, found_association, ok

IBAN = "FR7630006000011234567890189"
DAY = date(2020, 3, 2)


def test_the_treasurers_bank_day_on_the_command_line(make_ledger, store_url: str, tmp_path: Path) -> None:
    ledger: Ledger = make_ledger()
    ok(ledger, found_association())
    for member_id, headcount in (("A", 1), ("B", 10)):
        ok(ledger, admit("demo", member_id, "users", date(2020, 1, 10), headcount=headcount))
        ok(ledger, CallFee("demo", member_id, 2020, date(2020, 2, 1)))
    ok(ledger, OpenBankAccount("demo", "BQ", IBAN, "Compte courant", date(2020, 1, 1)))
    lines = [
        Line(DAY, Decimal("100.00"), "cotisation", "T1", "Member A", None, reference_of("fee:A:2020")),
        Line(DAY, Decimal("250.50"), "virement", "T2", "Someone"),
    ]
    statement = tmp_path / "march.xml"
    statement.write_bytes(camt053("S-03", IBAN, Decimal("0"), lines, date(2020, 3, 31)))
    cli = build()

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--database-url", store_url, "--lang", "en", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    assert "2 new line(s), 0 already known" in run("bank", "import", str(statement), "--coop", "demo", "--account", "BQ")
    assert "nothing new" in run("bank", "import", str(statement), "--coop", "demo", "--account", "BQ")
    shown = json.loads(run("bank", "proposals", "--coop", "demo", "--account", "BQ", "--json"))
    by_amount = {row["line"]["amount_cents"]: row for row in shown}
    assert by_amount[10000]["proposals"][0]["confidence"] == "sure"
    assert by_amount[25050]["proposals"][0]["confidence"] == "possible"  # the amount alone: the payer is not recognised
    b_line = by_amount[25050]["line"]["line_id"]
    assert "entries" in run("bank", "confirm", b_line, "--coop", "demo", "--item", "fee:B:2020", "--amount", "200.00")
    assert "1 line(s) confirmed" in run("bank", "confirm", "--coop", "demo", "--all-sure")
    refused = run("bank", "confirm", by_amount[10000]["line"]["line_id"], "--coop", "demo", "--item", "fee:B:2020", code=1)
    assert "matched_once" in refused
    report = json.loads(run("bank", "reconcile", "--coop", "demo", "--account", "BQ", "--on", "2020-03-31", "--json"))
    assert (report["bank_balance"], report["ledger_balance"], report["difference"]) == ("350.50", "300.00", "50.50")
    assert [line["line_id"] for line in report["unmatched_bank_lines"]] == [b_line]
    assert "difference: 50.50 EUR" in run("bank", "reconcile", "--coop", "demo", "--account", "BQ", "--on", "2020-03-31")
    paid = ok(ledger, PayFee("demo", "B", 2020, Decimal("50.50"), DAY)).journal_numbers[0]  # the rest, recorded by hand
    assert f"may be entries {paid}" in run("bank", "reconcile", "--coop", "demo", "--account", "BQ", "--on", "2020-03-31")
    assert "tied to entries" in run("bank", "link", b_line, "--coop", "demo", "--entry", str(paid))
    report = json.loads(run("bank", "reconcile", "--coop", "demo", "--account", "BQ", "--on", "2020-03-31", "--json"))
    assert report["difference_cents"] == 0 and report["unmatched_bank_lines"] == [] and report["unmatched_ledger_movements"] == []
