"""The journal view (numbered in recording order) and account statements (in date order,
with a running balance carried across pages)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from projections.journal import journal, journal_page, statement
from tests.builders import admit, found_association, ok


@pytest.fixture
def books(ledger, runner):
    """As in test_balances, except alice's second payment (#4) is back-dated before her first (#3)."""
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, admit("demo", "org-b", "partners", date(2020, 2, 1), headcount=12))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))  # 1
    ok(ledger, CallFee("demo", "org-b", 2020, date(2020, 2, 1)))  # 2
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("40"), date(2020, 3, 1)))  # 3
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 2, 20)))  # 4, back-dated
    ok(ledger, PayFee("demo", "org-b", 2020, Decimal("250.50"), date(2020, 4, 15)))  # 5
    ok(ledger, ReverseEntry("demo", 5, "cheque bounced", date(2020, 5, 1)))  # 6
    runner.catch_up()
    return ledger


def test_journal_is_numbered_in_recording_order_with_its_lines(books):
    entries = journal(books.db, "demo")
    assert [e["number"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in entries] == ["FeeCalled", "FeeCalled", "FeePaid", "FeePaid", "FeePaid", "EntryReversed"]
    assert [e["effective_date"] for e in entries] == [
        "2020-02-01",
        "2020-02-01",
        "2020-03-01",
        "2020-02-20",
        "2020-04-15",
        "2020-05-01",
    ]
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions)
    assert entries[3]["postings"] == [
        {"account": "512", "party": None, "unit": "EUR", "amount": 6000},
        {"account": "411", "party": "alice", "unit": "EUR", "amount": -6000},
    ]
    assert (entries[4]["reversed_by"], entries[5]["reverses"]) == (6, 5)
    assert entries[5]["postings"] == [
        {"account": "512", "party": None, "unit": "EUR", "amount": -25050},
        {"account": "411", "party": "org-b", "unit": "EUR", "amount": 25050},
    ]
    assert all(e["reverses"] is None for e in entries[:5]) and all(e["reversed_by"] is None for e in entries if e["number"] != 5)
    assert entries[0]["label"] == "Cotisation 2020 – alice"
    assert len({e["chain_hash"] for e in entries}) == 6


@pytest.mark.parametrize(
    ("after", "limit", "numbers"),
    [(0, 2, [1, 2]), (2, 2, [3, 4]), (4, 100, [5, 6]), (5, 1, [6]), (6, 10, []), (0, 0, [1])],  # limit is at least 1
)
def test_journal_pages(books, after, limit, numbers):
    assert [e["number"] for e in journal_page(books.db, "demo", after=after, limit=limit)] == numbers


def test_whole_journal_read_in_small_pages_is_the_same(books):
    assert journal(books.db, "demo", page_size=4) == journal(books.db, "demo")
    assert journal(books.db, "demo", page_size=1, max_entries=3)[-1]["number"] == 3


def test_statement_is_in_date_order_with_running_balance(books):
    s = statement(books.db, "demo", "411", party="alice")
    assert [(line["effective_date"], line["number"], line["debit"], line["credit"], line["balance"]) for line in s["lines"]] == [
        ("2020-02-01", 1, 10000, 0, 10000),
        ("2020-02-20", 4, 0, 6000, 4000),  # back-dated #4 comes before #3
        ("2020-03-01", 3, 0, 4000, 0),
    ]
    assert (s["total_lines"], s["closing_balance"]) == (3, 0)


def test_statement_pages_carry_the_running_balance(books):
    full = statement(books.db, "demo", "411")
    assert [line["balance"] for line in full["lines"]] == [10000, 35050, 29050, 25050, 0, 25050]
    assert [line["party"] for line in full["lines"]] == ["alice", "org-b", "alice", "alice", "org-b", "org-b"]
    page = statement(books.db, "demo", "411", after_line=2, limit=2)
    assert [(line["number"], line["balance"]) for line in page["lines"]] == [(4, 29050), (3, 25050)]
    assert (page["total_lines"], page["closing_balance"]) == (6, 25050)
    last = statement(books.db, "demo", "411", after_line=4, limit=500)
    assert [(line["number"], line["balance"]) for line in last["lines"]] == [(5, 0), (6, 25050)]
    assert statement(books.db, "demo", "411", after_line=6)["lines"] == []


def test_statement_as_of(books):
    s = statement(books.db, "demo", "512", as_of=date(2020, 4, 15))
    assert [(line["number"], line["balance"]) for line in s["lines"]] == [(4, 6000), (3, 10000), (5, 35050)]
    assert (s["closing_balance"], s["as_of"]) == (35050, "2020-04-15")
    assert statement(books.db, "demo", "512")["closing_balance"] == 10000
    assert statement(books.db, "demo", "512", as_of=date(2020, 2, 19))["lines"] == []
