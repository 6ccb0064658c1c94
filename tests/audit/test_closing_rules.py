"""Fiscal-year closing, in memory (no store): the result entry, what blocks a closing, and that a
closed year refuses everything dated inside it, financial or not. Expected figures by hand."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.closing import CloseFiscalYear, FiscalYearClosed, fiscal_year_bounds
from domain.cooperative import AddAccount, found_cooperative
from domain.corrections import ReverseEntry
from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from domain.journal import GENESIS_HASH
from domain.membership import TransferMember
from tests.builders import Books, admit, found_association


def entry(day: date, account: str, amount: str, *, income: bool) -> RecordEntry:
    """A bank movement against one income (credit) or expense (debit) account."""
    side = {"credit": Decimal(amount)} if income else {"debit": Decimal(amount)}
    bank = {"debit": Decimal(amount)} if income else {"credit": Decimal(amount)}
    return RecordEntry("c", f"{account} {day}", [EntryLine(account, **side), EntryLine("512", **bank)], day)


def closing_of(events: list) -> FiscalYearClosed:
    (event,) = events
    assert isinstance(event, FiscalYearClosed)
    return event


def test_a_surplus_goes_to_120_and_every_income_and_expense_account_is_emptied():
    b = Books()
    b.do(entry(date(2020, 3, 1), "706", "1000.00", income=True))
    b.do(entry(date(2020, 4, 1), "627", "35.50", income=False))
    b.do(entry(date(2020, 12, 31), "604", "200.00", income=False))
    b.do(entry(date(2021, 1, 1), "706", "999.99", income=True))  # next year: not closed with 2020
    head_number, head_hash = b.coop.journal.last_number, b.coop.journal.last_hash
    closing = closing_of(b.do(CloseFiscalYear("c", 2020)))
    # 1,000.00 income - 35.50 - 200.00 expenses = 764.50 surplus.
    assert closing.postings == [
        ["604", None, "EUR", -200_00],
        ["627", None, "EUR", -35_50],
        ["706", None, "EUR", 1000_00],
        ["120", None, "EUR", -764_50],
    ]
    assert closing.result_cents == 764_50 and closing.effective_date == date(2020, 12, 31)
    assert (closing.year, closing.first_day, closing.last_day) == (2020, date(2020, 1, 1), date(2020, 12, 31))
    assert (closing.head_number, closing.head_hash) == (head_number, head_hash) == (4, b.entries[3].chain_hash)
    assert closing.journal_number == 5 and b.coop.journal.last_hash == closing.chain_hash
    assert "excédent de 764.50 EUR" in closing.label


def test_a_deficit_goes_to_129_in_the_general_plan_too():
    b = Books("scic")
    b.do(entry(date(2020, 5, 1), "706", "10.00", income=True))
    b.do(entry(date(2020, 6, 1), "613", "110.01", income=False))
    closing = closing_of(b.do(CloseFiscalYear("c", 2020)))
    assert closing.postings == [["613", None, "EUR", -110_01], ["706", None, "EUR", 10_00], ["129", None, "EUR", 100_01]]
    assert closing.result_cents == -100_01 and "déficit de 100.01 EUR" in closing.label


def test_income_and_expenses_per_party_are_emptied_party_by_party_and_a_nil_result_posts_no_result_line():
    b = Books()
    b.do(
        RecordEntry(
            "c",
            "two parties",
            [
                EntryLine("706", credit=Decimal("30"), party="p1"),
                EntryLine("706", credit=Decimal("20"), party="p2"),
                EntryLine("512", debit=Decimal("50")),
            ],
            date(2020, 2, 2),
        )
    )
    b.do(entry(date(2020, 2, 3), "627", "50", income=False))
    closing = closing_of(b.do(CloseFiscalYear("c", 2020)))
    assert closing.postings == [["627", None, "EUR", -50_00], ["706", "p1", "EUR", 30_00], ["706", "p2", "EUR", 20_00]]
    assert closing.result_cents == 0 and "résultat nul" in closing.label


def test_a_year_without_income_or_expense_is_sealed_by_an_entry_without_postings():
    b = Books()
    b.do(admit("c", "m1", "users", date(2020, 2, 1)))
    closing = closing_of(b.do(CloseFiscalYear("c", 2020)))
    assert closing.postings == [] and closing.journal_number == 1 and closing.head_hash == GENESIS_HASH
    assert b.refused(TransferMember("c", "m1", "staff", date(2020, 12, 31))).rule == "fiscal_year_closed"


def test_a_fiscal_year_starting_in_july_closes_on_june_30():
    b = Books()
    b.coop = found_cooperative(None, replace(found_association("c"), fiscal_year_start_month=7), b.meta)
    b.coop.collect_events()
    assert fiscal_year_bounds(2020, 7) == (date(2020, 7, 1), date(2021, 6, 30))
    b.do(entry(date(2020, 6, 30), "706", "1", income=True))  # fiscal year 2019 (2019-07-01..2020-06-30)
    b.do(entry(date(2020, 7, 1), "706", "2", income=True))  # fiscal year 2020
    assert b.refused(CloseFiscalYear("c", 2020)).rule == "earlier_year_open"
    assert b.refused(CloseFiscalYear("c", 2019, date(2019, 12, 31))).rule == "fiscal_year_end"
    first = closing_of(b.do(CloseFiscalYear("c", 2019)))
    assert first.effective_date == date(2020, 6, 30) and first.postings[0] == ["706", None, "EUR", 1_00]
    second = closing_of(b.do(CloseFiscalYear("c", 2020)))
    assert second.effective_date == date(2021, 6, 30) and second.result_cents == 2_00


# ---------------------------------------------------------------- what prevents a closing


def test_what_prevents_a_closing_is_named_and_nothing_is_written():
    b = Books()
    b.do(entry(date(2020, 3, 1), "706", "10", income=True))
    b.do(entry(date(2022, 3, 1), "706", "10", income=True))
    this_year = date.today().year
    cases = [
        (CloseFiscalYear("c", this_year), "year", "fiscal_year_ended"),  # not over yet
        (CloseFiscalYear("c", 2099), "year", "fiscal_year_ended"),
        (CloseFiscalYear("c", 2022), "year", "earlier_year_open"),  # 2020 has entries and is open
        (CloseFiscalYear("c", 2019), "year", "not_before_founding"),  # founded 2020-01-01
        (CloseFiscalYear("c", 2020, date(2020, 12, 30)), "effective_date", "fiscal_year_end"),
        (CloseFiscalYear("c", 1800), "year", "range"),
    ]
    for command, field, rule in cases:
        error = b.refused(command)
        assert (error.field, error.rule) == (field, rule), (command, error.as_dict())
    b.do(CloseFiscalYear("c", 2020))
    assert b.refused(CloseFiscalYear("c", 2020)).as_dict()["rule"] == "closed_once"
    b.do(CloseFiscalYear("c", 2022))  # 2021 had no entries: sealed with 2022
    assert b.refused(CloseFiscalYear("c", 2021)).rule == "fiscal_year_closed"


# ---------------------------------------------------------------- a closed year refuses everything


def test_nothing_dated_in_a_closed_year_is_accepted_and_corrections_go_into_the_open_year():
    b = Books()
    b.do(admit("c", "m1", "users", date(2020, 2, 1)))
    b.do(CallFee("c", "m1", 2020, date(2020, 2, 1)))  # entry 1
    b.do(PayFee("c", "m1", 2020, Decimal("100"), date(2020, 3, 1)))  # entry 2
    closing = closing_of(b.do(CloseFiscalYear("c", 2020)))  # entry 3
    last_day = date(2020, 12, 31)
    refused = [
        PayFee("c", "m1", 2020, Decimal("1"), last_day),
        entry(last_day, "706", "5", income=True),
        ReverseEntry("c", 2, "bounced", last_day),  # a reversal of a closed year's entry, dated in it
        TransferMember("c", "m1", "staff", date(2020, 6, 1)),  # not an entry: still in the closed year
        admit("c", "m2", "users", date(2020, 1, 1)),
        AddAccount("c", "6228", "Divers", "Sundry", last_day),
        CallFee("c", "m1", 2021, last_day),
    ]
    for command in refused:
        error = b.refused(command)
        assert (error.field, error.rule) == ("effective_date", "fiscal_year_closed"), (command, error.as_dict())
        assert "closed through 2020-12-31" in error.message
    # The reversal of 2020's payment, dated in 2021, is the correction: accepted.
    (reversal,) = b.do(ReverseEntry("c", 2, "cheque bounced", date(2021, 1, 4)))
    assert reversal.reverses == 2 and reversal.effective_date == date(2021, 1, 4)
    # The closing itself is never reversed: there is no reopening.
    error = b.refused(ReverseEntry("c", closing.journal_number, "reopen", date(2021, 1, 5)))
    assert (error.field, error.rule) == ("entry_number", "closing_is_final")


# ---------------------------------------------------------------- property


@st.composite
def histories(draw):
    """Entries over 2020-2023 on income and expense accounts (two parties on 706)."""
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        day = date(2020, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=4 * 365)))
        account = draw(st.sampled_from(["706", "627", "604", "741"]))
        party = draw(st.sampled_from([None, "p1"])) if account == "706" else None
        cents = draw(st.integers(min_value=1, max_value=10**9))
        lines.append((day, account, party, cents, draw(st.booleans())))
    return lines


@given(histories())
def test_closing_each_year_in_turn_empties_its_income_and_expenses_into_the_result(history):
    b = Books()
    for day, account, party, cents, credit in history:
        amount = Decimal(cents) / 100
        side = EntryLine(account, credit=amount, party=party) if credit else EntryLine(account, debit=amount, party=party)
        bank = EntryLine("512", debit=amount) if credit else EntryLine("512", credit=amount)
        b.do(RecordEntry("c", "x", [side, bank], day))
    for year in range(2020, 2024):
        expected: Counter = Counter()
        for day, account, party, cents, credit in history:
            if day.year == year:
                expected[(account, party)] += -cents if credit else cents
        closing = closing_of(b.do(CloseFiscalYear("c", year)))
        assert closing.result_cents == -sum(expected.values())
        moved = {(a, p): -amount for a, p, _unit, amount in closing.postings if a[0] in "67"}
        assert moved == {k: v for k, v in expected.items() if v}
        result_lines = [p for p in closing.postings if p[0] in ("120", "129")]
        if closing.result_cents:
            assert result_lines == [["120" if closing.result_cents > 0 else "129", None, "EUR", -closing.result_cents]]
        else:
            assert result_lines == []
    assert [e.journal_number for e in b.entries] == list(range(1, len(b.entries) + 1))
    assert b.refused(entry(date(2023, 12, 31), "706", "1", income=True)).rule == "fiscal_year_closed"
    b.do(entry(date(2024, 1, 1), "706", "1", income=True))


@pytest.mark.parametrize("legal_form", ["association", "scic"])
def test_the_result_accounts_come_from_the_chart_roles(legal_form):
    chart = Books(legal_form).coop.chart
    assert (chart.role("result_surplus"), chart.role("result_deficit")) == ("120", "129")
