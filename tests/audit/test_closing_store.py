"""Closing through the ledger, on SQLite and PostgreSQL: the closing entry reaches the journal and
the balances, the fiscal_years and chain views show the seal, a refused command writes nothing,
and a rebuild gives the same views."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.closing import CloseFiscalYear
from domain.entries import EntryLine, RecordEntry
from domain.fees import PayFee
from projections.balances import trial_balance
from projections.closing import chain_head, fiscal_years
from projections.journal import journal
from tests.builders import dump_projections, ok, rich_history, stored_event_count


def test_closing_reaches_the_views_seals_the_year_and_survives_a_rebuild(ledger, runner):
    rich_history(ledger)
    ok(
        ledger,
        RecordEntry(
            "demo",
            "Frais bancaires",
            [EntryLine("627", debit=Decimal("12.30")), EntryLine("512", credit=Decimal("12.30"))],
            date(2020, 11, 30),
        ),
    )
    runner.catch_up()
    before = {row["account"]: row["balance"] for row in trial_balance(ledger.db, "demo", as_of=date(2020, 12, 31))["accounts"]}
    result = ok(ledger, CloseFiscalYear("demo", 2020))
    (number,) = result.journal_numbers
    runner.catch_up()

    accounts = trial_balance(ledger.db, "demo", as_of=date(2020, 12, 31))["accounts"]
    after = {row["account"]: row["balance"] for row in accounts}
    assert all(balance == 0 for account, balance in after.items() if account[0] in "67")
    surplus = -sum(balance for account, balance in before.items() if account[0] in "67")
    # Fees are income when called: alice 2020 (100), org-b (250.50), alice 2021 called on 2020-12-01 (100);
    # carol's call was reversed. Less the bank charges.
    assert surplus == 100_00 + 250_50 + 100_00 - 12_30
    assert after["120"] == -surplus and "129" not in after
    entry = journal(ledger.db, "demo")[number - 1]
    assert entry["kind"] == "FiscalYearClosed" and entry["effective_date"] == "2020-12-31"

    years = fiscal_years(ledger.db, "demo")
    assert [(y["year"], y["status"]) for y in years] == [(2020, "closed")]
    closed = years[0]
    state = ledger.cooperative("demo").closing.closed[2020]
    assert (closed["closing_number"], closed["closing_hash"], closed["head_number"], closed["head_hash"]) == (
        number,
        state["chain_hash"],
        number - 1,
        state["head_hash"],
    )
    assert closed["result_cents"] == surplus and closed["entries"] == number  # every demo entry is dated 2020
    head = chain_head(ledger.db, "demo")
    assert (head["last_number"], head["last_hash"]) == (number, ledger.cooperative("demo").journal.last_hash)
    assert head["sealed"][0]["closing_number"] == number and head["sealed"][0]["closed_through"] == "2020-12-31"
    assert chain_head(ledger.db, "nobody")["last_number"] == 0

    stored = stored_event_count(ledger)
    refused = ledger.execute(PayFee("demo", "alice", 2021, Decimal("5"), date(2020, 12, 31)), "late-payment")
    assert not refused.accepted and refused.error.rule == "fiscal_year_closed" and refused.error.field == "effective_date"
    assert stored_event_count(ledger) == stored  # not even a receipt

    ok(ledger, PayFee("demo", "alice", 2021, Decimal("5"), date(2021, 1, 2)))
    runner.catch_up()
    assert [(y["year"], y["status"], y["entries"]) for y in fiscal_years(ledger.db, "demo")] == [
        (2020, "closed", number),
        (2021, "open", 1),
    ]
    views = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == views


def test_a_year_with_nothing_to_carry_is_sealed_by_an_empty_entry_that_reads_and_verifies(ledger, runner):
    from domain.membership import SubscribeShares
    from ledger.verify import verify_store
    from tests.builders import admit, found_scic

    ok(ledger, found_scic("scic"))
    ok(ledger, admit("scic", "emma", "employees", date(2020, 3, 1)))
    ok(ledger, SubscribeShares("scic", "emma", 2, date(2020, 3, 1)))  # entry 1: capital only, no income or expense
    closing = ok(ledger, CloseFiscalYear("scic", 2020))
    assert closing.journal_numbers == (2,)
    runner.catch_up()
    entries = journal(ledger.db, "scic")
    assert [(e["number"], e["kind"], e["postings"]) for e in entries][1] == (2, "FiscalYearClosed", [])
    assert [(y["year"], y["status"], y["result_cents"]) for y in fiscal_years(ledger.db, "scic")] == [(2020, "closed", 0)]
    (report,) = verify_store(ledger, "scic")
    assert report.ok and report.last_number == 2 and report.sealed[0]["head_number"] == 1
