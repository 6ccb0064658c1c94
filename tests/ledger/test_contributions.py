"""Success contributions and the cooperation fund through the ledger, on SQLite and PostgreSQL.

History of `demo` (hand-computed; amounts in EUR):
  P-A  alice pledges 5% for 2020-2022; 2020 result 100,000.07 -> calls 5,000.0035 -> 5,000.00
  P-B  org-b pledges 10/3% for 2020-2021; 2020 result -3,000.00 (a loss) -> calls nothing
  #1   2021-04-01 alice pays 3,000.00   512 +3000, 7551 -3000, 6895 +3000, 195 -3000
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.contributions import CancelContributionResult, DeclareContributionResult, PayContribution, PledgeContribution
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import OpenCall
from domain.membership import ResignMember
from ledger.service import Ledger
from projections.balances import account_balance
from projections.grants import cooperation_fund
from tests.builders import (
    admit,
    dump_projections,
    found_association,
    found_scic,
    new_key,
    ok,
    stored_event_count,
    stored_financial_events,
)
from tests.views import contribution_pledges

D = Decimal
FEB1, MAR1 = date(2020, 2, 1), date(2020, 3, 1)


def assert_refused(ledger: Ledger, command: Any, field: str, rule: str, kind: type, coop: str = "demo") -> None:
    """Refused with this field, rule and error kind, and nothing written: no event, no receipt,
    no journal number, the aggregate's version and the log's position unchanged."""
    state = ledger.cooperative(coop)
    before = (ledger.position(), stored_event_count(ledger), state.version, state.journal.last_number)
    result = ledger.execute(command, new_key())
    assert not result.accepted and result.position is None and result.journal_numbers == ()
    assert isinstance(result.error, kind), result.error
    assert (result.error.field, result.error.rule) == (field, rule), result.error.message
    state = ledger.cooperative(coop)
    assert (ledger.position(), stored_event_count(ledger), state.version, state.journal.last_number) == before


@pytest.fixture
def books(ledger: Ledger, runner) -> Ledger:
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", FEB1))
    ok(ledger, admit("demo", "org-b", "partners", FEB1, headcount=12))
    ok(ledger, PledgeContribution("demo", "P-A", "alice", "5", 2020, MAR1))
    ok(ledger, PledgeContribution("demo", "P-B", "org-b", "10/3", 2020, MAR1, years=2))
    ok(ledger, DeclareContributionResult("demo", "P-A", 2020, D("100000.07"), date(2021, 3, 1)))
    ok(ledger, DeclareContributionResult("demo", "P-B", 2020, D("-3000.00"), date(2021, 3, 2)))
    ok(ledger, PayContribution("demo", "P-A", 2020, D("3000"), date(2021, 4, 1)))
    runner.catch_up()
    return ledger


def test_a_pledge_calls_and_payments_are_recorded_and_posted(books):
    (entry,) = stored_financial_events(books, "demo")
    assert (entry.journal_number, entry.kind) == (1, "ContributionPaid")
    assert entry.postings == [
        ["512", None, "EUR", 300_000],
        ["7551", None, "EUR", -300_000],
        ["6895", None, "EUR", 300_000],
        ["195", None, "EUR", -300_000],
    ]
    year = books.cooperative("demo").contributions.pledges["P-A"].declared[2020]
    assert (year.result_cents, year.called_cents, year.paid_cents) == (10_000_007, 500_000, 300_000)
    assert books.cooperative("demo").contributions.pledges["P-B"].declared[2020].called_cents == 0


def test_projections_show_pledges_and_the_fund(books, runner):
    pledges = contribution_pledges(books.db, "demo")
    assert [(p["pledge_id"], p["member_id"], p["rate_percent"], p["first_year"], p["last_year"]) for p in pledges] == [
        ("P-A", "alice", "5", 2020, 2022),
        ("P-B", "org-b", "10/3", 2020, 2021),
    ]
    assert pledges[0]["years"] == [
        {
            "year": 2020,
            "result_cents": 10_000_007,
            "called_cents": 500_000,
            "paid_cents": 300_000,
            "due_cents": 200_000,
            "declared_on": "2021-03-01",
        }
    ]
    assert (pledges[1]["called_cents"], pledges[1]["years"][0]["result_cents"]) == (0, -300_000)
    assert [p["pledge_id"] for p in contribution_pledges(books.db, "demo", after="P-A")] == ["P-B"]
    fund = cooperation_fund(books.db, "demo")
    assert (fund["contributions_called_cents"], fund["received_cents"], fund["balance_cents"]) == (500_000, 300_000, 300_000)
    assert (fund["committed_cents"], fund["available_cents"], fund["unspent_cents"]) == (0, 300_000, 300_000)
    assert cooperation_fund(books.db, "demo", as_of=date(2021, 3, 31))["balance_cents"] == 0
    assert account_balance(books.db, "demo", "195") == -fund["unspent_cents"]


def test_paying_the_rest_then_reversing_a_payment(books, runner):
    ok(books, PayContribution("demo", "P-A", 2020, D("2000"), date(2021, 5, 1)))  # entry 2
    assert_refused(
        books, PayContribution("demo", "P-A", 2020, D("0.01"), date(2021, 5, 2)), "amount", "no_overpayment", InvalidCommand
    )
    ok(books, ReverseEntry("demo", 1, "cheque bounced", date(2021, 5, 3)))  # entry 3
    reversal = stored_financial_events(books, "demo")[-1]
    assert reversal.postings == [
        ["512", None, "EUR", -300_000],
        ["7551", None, "EUR", 300_000],
        ["6895", None, "EUR", -300_000],
        ["195", None, "EUR", 300_000],
    ]
    runner.catch_up()
    assert contribution_pledges(books.db, "demo")[0]["years"][0]["paid_cents"] == 200_000
    assert cooperation_fund(books.db, "demo")["balance_cents"] == 200_000
    assert cooperation_fund(books.db, "demo", as_of=date(2021, 5, 1))["balance_cents"] == 500_000
    ok(books, PayContribution("demo", "P-A", 2020, D("3000"), date(2021, 5, 4)))  # due again
    runner.catch_up()
    before = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == before


def test_a_payment_the_fund_has_committed_cannot_be_reversed(books):
    ok(books, OpenCall("demo", "C1", "Appel", D("2500"), D("500"), D("1000"), 5, date(2021, 4, 2)))
    assert_refused(books, ReverseEntry("demo", 1, "bounced", date(2021, 4, 3)), "entry_number", "fund_covers", InvalidCommand)


def test_cancelling_a_declaration_and_declaring_again(books, runner):
    assert_refused(
        books,
        CancelContributionResult("demo", "P-A", 2020, "restated", date(2021, 5, 1)),
        "year",
        "contribution_unpaid",
        InvalidCommand,
    )
    ok(books, CancelContributionResult("demo", "P-B", 2020, "the loss was a profit", date(2021, 5, 1)))
    ok(books, DeclareContributionResult("demo", "P-B", 2020, D("3000.00"), date(2021, 5, 2)))  # 10/3% = 100.00
    runner.catch_up()
    assert contribution_pledges(books.db, "demo")[1]["years"][0]["called_cents"] == 10_000


def test_a_scic_defers_its_fund_on_4875(ledger, runner):
    ok(ledger, found_scic())
    ok(ledger, admit("scic", "emma", "employees", FEB1))
    ok(ledger, PledgeContribution("scic", "P1", "emma", "2.5", 2020, MAR1))
    ok(ledger, DeclareContributionResult("scic", "P1", 2020, D("4321.09"), date(2021, 2, 1)))  # 108.02725 -> 108.02
    ok(ledger, PayContribution("scic", "P1", 2020, D("108.02"), date(2021, 2, 2)))
    (entry,) = stored_financial_events(ledger, "scic")
    assert entry.postings == [["512", None, "EUR", 10_802], ["4875", None, "EUR", -10_802]]
    runner.catch_up()
    assert cooperation_fund(ledger.db, "scic")["available_cents"] == 10_802
    assert account_balance(ledger.db, "scic", "4875") == -10_802


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    ("unknown pledge", PayContribution("demo", "P-X", 2020, D("1"), date(2021, 5, 1)), "pledge_id", "known_pledge", NotFound),
    ("pledge twice", PledgeContribution("demo", "P-A", "alice", "5", 2020, MAR1), "pledge_id", "unique_pledge", Conflict),
    ("float rate", PledgeContribution("demo", "P-C", "alice", 5.0, 2020, MAR1), "rate_percent", "exact_rate", InvalidCommand),
    (
        "rate above 100%",
        PledgeContribution("demo", "P-C", "alice", "100.5", 2020, MAR1),
        "rate_percent",
        "rate_range",
        InvalidCommand,
    ),
    ("unknown member", PledgeContribution("demo", "P-C", "zoe", "5", 2020, MAR1), "member_id", "known_member", NotFound),
    ("too many years", PledgeContribution("demo", "P-C", "alice", "5", 2020, MAR1, years=11), "years", "range", InvalidCommand),
    (
        "pledge before admission",
        PledgeContribution("demo", "P-C", "alice", "5", 2020, date(2020, 1, 31)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    (
        "year after the pledge",
        DeclareContributionResult("demo", "P-B", 2022, D("1"), date(2023, 1, 1)),
        "year",
        "pledge_year",
        InvalidCommand,
    ),
    (
        "year before the pledge",
        DeclareContributionResult("demo", "P-A", 2019, D("1"), date(2021, 1, 1)),
        "year",
        "pledge_year",
        InvalidCommand,
    ),
    (
        "year declared twice",
        DeclareContributionResult("demo", "P-A", 2020, D("1"), date(2021, 6, 1)),
        "year",
        "declared_once",
        Conflict,
    ),
    (
        "year not over",
        DeclareContributionResult("demo", "P-A", 2021, D("1"), date(2021, 12, 31)),
        "effective_date",
        "year_ended",
        InvalidCommand,
    ),
    (
        "over-precise result",
        DeclareContributionResult("demo", "P-A", 2021, D("1.005"), date(2022, 1, 2)),
        "result",
        "precision",
        InvalidCommand,
    ),
    (
        "overpayment by a cent",
        PayContribution("demo", "P-A", 2020, D("2000.01"), date(2021, 5, 1)),
        "amount",
        "no_overpayment",
        InvalidCommand,
    ),
    (
        "payment on a loss",
        PayContribution("demo", "P-B", 2020, D("0.01"), date(2021, 5, 1)),
        "amount",
        "no_overpayment",
        InvalidCommand,
    ),
    (
        "payment of an undeclared year",
        PayContribution("demo", "P-A", 2021, D("1"), date(2022, 5, 1)),
        "year",
        "declared_year",
        NotFound,
    ),
    (
        "payment before the declaration",
        PayContribution("demo", "P-A", 2020, D("1"), date(2021, 2, 28)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    (
        "cancel an undeclared year",
        CancelContributionResult("demo", "P-A", 2021, "x", date(2022, 1, 1)),
        "year",
        "declared_year",
        NotFound,
    ),
]


def test_every_rule_refuses_naming_field_and_rule_and_writes_nothing(books):
    # One set of books for all of them: each refusal is checked to write nothing, so the next
    # one meets the same books (and PostgreSQL schemas are slow to make).
    for name, command, field, rule, kind in REFUSALS:
        try:
            assert_refused(books, command, field, rule, kind)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_a_member_who_left_cannot_pledge_from_then_on(books):
    ok(books, ResignMember("demo", "org-b", date(2021, 6, 30)))
    assert_refused(
        books,
        PledgeContribution("demo", "P-C", "org-b", "5", 2021, date(2021, 7, 1)),
        "member_id",
        "member_on_date",
        InvalidCommand,
    )
