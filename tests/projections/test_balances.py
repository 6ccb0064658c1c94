"""Trial balance and account balances as of any date, checked against hand-computed figures.

History of `demo` (amounts in cents):
  #1 2020-02-01 call alice 100.00       411/alice +10000   7561 -10000
  #2 2020-02-01 call org-b 250.50       411/org-b +25050   7561 -25050
  #3 2020-03-01 alice pays 40.00        512 +4000          411/alice -4000
  #4 2020-04-01 alice pays 60.00        512 +6000          411/alice -6000
  #5 2020-04-15 org-b pays 250.50       512 +25050         411/org-b -25050
  #6 2020-05-01 reversal of #5          512 -25050         411/org-b +25050
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.errors import NotFound
from domain.fees import CallFee, PayFee
from projections.balances import account_balance, checked_balance, trial_balance
from projections.lookups import require_account_and_party
from tests.builders import admit, found_association, ok


@pytest.fixture
def books(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, admit("demo", "org-b", "partners", date(2020, 2, 1), headcount=12))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "org-b", 2020, date(2020, 2, 1)))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("40"), date(2020, 3, 1)))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 4, 1)))
    ok(ledger, PayFee("demo", "org-b", 2020, Decimal("250.50"), date(2020, 4, 15)))
    ok(ledger, ReverseEntry("demo", 5, "cheque bounced", date(2020, 5, 1)))
    runner.catch_up()
    return ledger


def rows(tb):
    return {(a["account"], a["unit"]): (a["debit"], a["credit"], a["balance"]) for a in tb["accounts"]}


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2020, 1, 31), {}),
        (date(2020, 2, 1), {("411", "EUR"): (35050, 0, 35050), ("7561", "EUR"): (0, 35050, -35050)}),
        (
            date(2020, 3, 1),
            {("411", "EUR"): (35050, 4000, 31050), ("512", "EUR"): (4000, 0, 4000), ("7561", "EUR"): (0, 35050, -35050)},
        ),
        (
            date(2020, 4, 30),
            {("411", "EUR"): (35050, 35050, 0), ("512", "EUR"): (35050, 0, 35050), ("7561", "EUR"): (0, 35050, -35050)},
        ),
        (
            None,
            {("411", "EUR"): (60100, 35050, 25050), ("512", "EUR"): (35050, 25050, 10000), ("7561", "EUR"): (0, 35050, -35050)},
        ),
    ],
)
def test_trial_balance_as_of(books, as_of, expected):
    tb = trial_balance(books.db, "demo", as_of=as_of)
    assert rows(tb) == expected
    assert tb["as_of"] == (as_of.isoformat() if as_of else None)
    debit = sum(d for d, _, _ in expected.values())
    assert tb["totals"] == ({"EUR": {"debit": debit, "credit": debit}} if expected else {})
    assert sum(b for _, _, b in rows(tb).values()) == 0


def test_trial_balance_carries_chart_labels(books):
    labels = {a["account"]: (a["label_fr"], a["label_en"]) for a in trial_balance(books.db, "demo")["accounts"]}
    assert labels["512"] == ("Banque", "Bank")
    assert labels["7561"][0] == "Cotisations sans contrepartie"


@pytest.mark.parametrize(
    ("account", "party", "as_of", "expected"),
    [
        ("411", "alice", date(2020, 2, 29), 10000),
        ("411", "alice", date(2020, 3, 1), 6000),
        ("411", "alice", None, 0),
        ("411", "org-b", date(2020, 4, 15), 0),
        ("411", "org-b", date(2020, 4, 30), 0),
        ("411", "org-b", None, 25050),  # the bounced cheque is owed again
        ("411", None, None, 25050),
        ("512", None, date(2020, 4, 15), 35050),
        ("512", None, None, 10000),
        ("7561", None, None, -35050),
        ("6571", None, None, 0),  # never used
    ],
)
def test_account_balance(books, account, party, as_of, expected):
    assert account_balance(books.db, "demo", account, party=party, as_of=as_of) == expected
    assert checked_balance(books.db, "demo", account, party=party, as_of=as_of) == expected


def test_checked_balance_asks_its_checks_in_the_balance_statement(books, monkeypatch):
    statements = []
    query = books.db.query
    monkeypatch.setattr(books.db, "query", lambda sql, params=(): statements.append(sql) or query(sql, params))
    assert checked_balance(books.db, "demo", "411", party="org-b") == 25050
    assert len(statements) == 1


@pytest.mark.parametrize(
    ("account", "party", "field", "listed"),
    [
        ("412", None, "account", "accounts of class 4: 401, 411, "),
        ("411", "carol", "party", "parties on 411: alice, org-b"),
        ("412", "carol", "account", "accounts of class 4: 401, 411, "),  # the account first, as the separate checks
    ],
)
def test_checked_balance_refuses_an_unknown_account_or_party_naming_what_exists(books, account, party, field, listed):
    for read in (checked_balance, lambda db, *a, **k: require_account_and_party(db, *a[:2], k.get("party"))):
        with pytest.raises(NotFound) as refused:
            read(books.db, "demo", account, party=party)
        assert refused.value.field == field
        assert listed in str(refused.value)


def test_other_units_and_cooperatives_are_not_mixed_in(books):
    assert account_balance(books.db, "demo", "512", unit="CREDIT") == 0
    assert trial_balance(books.db, "nobody")["accounts"] == []
    ok(books, found_association("other"))
    ok(books, admit("other", "alice", "founders", date(2020, 2, 1)))
    ok(books, CallFee("other", "alice", 2020, date(2020, 2, 1)))
    from projections.runner import ProjectionRunner

    ProjectionRunner(books).catch_up()
    assert account_balance(books.db, "other", "411", party="alice") == 10000
    assert account_balance(books.db, "demo", "411", party="alice") == 0
    assert rows(trial_balance(books.db, "demo"))[("411", "EUR")] == (60100, 35050, 25050)
