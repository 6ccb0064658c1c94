"""Subsidies received through the ledger, on SQLite and PostgreSQL.

History of `demo` (hand-computed; EUR):
  #1 2021-01-10 Région grants S1 40,000 for local media   441/S1 +40000, 741 -40000, 6894 +40000, 194/S1 -40000
  #2 2021-01-20 Ville grants S2 5,000 for a festival
  #3 2021-02-01 S1 tranche 24,000                          512 +24000, 441/S1 -24000
  #4 2021-06-30 S1 used on workshops 15,000                194/S1 +15000, 7894 -15000
  C1 2021-07-01 call on S1: envelope 20,000 (awards 5,000-10,000, 4 laureates)
S1: to receive 16,000; unspent 40,000 - 15,000 = 25,000; available 25,000 - 20,000 = 5,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.grants import AwardGrant, OpenCall, PayGrant, RecordApplication
from domain.subsidies import ReceiveSubsidy, RecordSubsidy, UseSubsidy
from ledger.service import Ledger
from projections.balances import account_balance
from projections.subsidies import subsidies_overview
from tests.builders import dump_projections, found_association, found_scic, ok, stored_financial_events
from tests.ledger.test_contributions import assert_refused

D = Decimal


@pytest.fixture
def books(ledger: Ledger, runner) -> Ledger:
    ok(ledger, found_association())
    ok(ledger, RecordSubsidy("demo", "S1", "Région Occitanie", "Médias de proximité", D("40000"), date(2021, 1, 10)))
    ok(ledger, RecordSubsidy("demo", "S2", "Ville de Sète", "Festival", D("5000"), date(2021, 1, 20)))
    ok(ledger, ReceiveSubsidy("demo", "S1", D("24000"), date(2021, 2, 1)))
    ok(ledger, UseSubsidy("demo", "S1", D("15000"), "Ateliers", date(2021, 6, 30), piece_ref="B-1"))
    ok(ledger, OpenCall("demo", "C1", "Appel", D("20000"), D("5000"), D("10000"), 4, date(2021, 7, 1), subsidy_id="S1"))
    runner.catch_up()
    return ledger


def figures(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(
        row[k]
        for k in (
            "granted_cents",
            "received_cents",
            "to_receive_cents",
            "used_cents",
            "awarded_cents",
            "reserved_cents",
            "unspent_cents",
            "available_cents",
        )
    )


def test_entries_per_the_association_plan(books):
    granted, _s2, received, used = stored_financial_events(books, "demo")
    assert granted.postings == [
        ["441", "S1", "EUR", 4_000_000],
        ["741", None, "EUR", -4_000_000],
        ["6894", None, "EUR", 4_000_000],
        ["194", "S1", "EUR", -4_000_000],
    ]
    assert received.postings == [["512", None, "EUR", 2_400_000], ["441", "S1", "EUR", -2_400_000]]
    assert used.postings == [["194", "S1", "EUR", 1_500_000], ["7894", None, "EUR", -1_500_000]] and used.piece_ref == "B-1"


def test_granted_vs_received_and_dedicated_funds(books):
    rows = subsidies_overview(books.db, "demo")
    assert [(r["subsidy_id"], r["funder"], r["purpose"], r["granted_on"]) for r in rows] == [
        ("S1", "Région Occitanie", "Médias de proximité", "2021-01-10"),
        ("S2", "Ville de Sète", "Festival", "2021-01-20"),
    ]
    assert figures(rows[0]) == (4_000_000, 2_400_000, 1_600_000, 1_500_000, 0, 2_000_000, 2_500_000, 500_000)
    assert figures(rows[1]) == (500_000, 0, 500_000, 0, 0, 0, 500_000, 500_000)
    assert account_balance(books.db, "demo", "194", party="S1") == -2_500_000  # the unspent part
    assert account_balance(books.db, "demo", "441", party="S1") == 1_600_000  # still to receive
    june = subsidies_overview(books.db, "demo", as_of=date(2021, 6, 30))
    assert figures(june[0]) == (4_000_000, 2_400_000, 1_600_000, 1_500_000, 0, 0, 2_500_000, 2_500_000)
    assert [r["subsidy_id"] for r in subsidies_overview(books.db, "demo", as_of=date(2021, 1, 15))] == ["S1"]
    assert [r["subsidy_id"] for r in subsidies_overview(books.db, "demo", after="S1")] == ["S2"]


def test_receiving_the_rest_and_reversals(books, runner):
    ok(books, ReceiveSubsidy("demo", "S1", D("16000"), date(2021, 9, 1)))  # #5: all received
    assert_refused(books, ReceiveSubsidy("demo", "S1", D("0.01"), date(2021, 9, 2)), "amount", "within_granted", InvalidCommand)
    ok(books, ReverseEntry("demo", 4, "wrong subsidy", date(2021, 9, 3)))  # #6: the use is undone
    ok(books, ReverseEntry("demo", 2, "convention cancelled", date(2021, 9, 3)))  # #7: S2 untouched, cancelled
    runner.catch_up()
    rows = subsidies_overview(books.db, "demo")
    assert [r["subsidy_id"] for r in rows] == ["S1"]
    assert figures(rows[0]) == (4_000_000, 4_000_000, 0, 0, 0, 2_000_000, 4_000_000, 2_000_000)
    ok(books, RecordSubsidy("demo", "S2", "Ville de Sète", "Festival 2022", D("6000"), date(2021, 10, 1)))
    runner.catch_up()
    assert figures(subsidies_overview(books.db, "demo")[1])[0] == 600_000
    before = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == before


def test_a_scic_defers_the_subsidy_on_4876(ledger, runner):
    ok(ledger, found_scic())
    ok(ledger, RecordSubsidy("scic", "D1", "Département", "Médiation", D("40000"), date(2021, 1, 10)))
    ok(ledger, UseSubsidy("scic", "D1", D("12500.50"), "Ateliers", date(2021, 3, 31)))
    granted, used = stored_financial_events(ledger, "scic")
    assert granted.postings == [["441", "D1", "EUR", 4_000_000], ["4876", "D1", "EUR", -4_000_000]]
    assert used.postings == [["4876", "D1", "EUR", 1_250_050], ["741", None, "EUR", -1_250_050]]
    runner.catch_up()
    assert subsidies_overview(ledger.db, "scic")[0]["unspent_cents"] == 2_749_950
    assert account_balance(ledger.db, "scic", "4876") == -2_749_950


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    (
        "subsidy twice",
        RecordSubsidy("demo", "S1", "Région", "x", D("1"), date(2021, 3, 1)),
        "subsidy_id",
        "unique_subsidy",
        Conflict,
    ),
    ("no funder", RecordSubsidy("demo", "S9", "", "x", D("1"), date(2021, 3, 1)), "funder", "required", InvalidCommand),
    ("zero amount", RecordSubsidy("demo", "S9", "Région", "x", D("0"), date(2021, 3, 1)), "amount", "positive", InvalidCommand),
    ("unknown subsidy", ReceiveSubsidy("demo", "S9", D("1"), date(2021, 3, 1)), "subsidy_id", "known_subsidy", NotFound),
    (
        "received beyond granted",
        ReceiveSubsidy("demo", "S1", D("16000.01"), date(2021, 3, 1)),
        "amount",
        "within_granted",
        InvalidCommand,
    ),
    (
        "received before granted",
        ReceiveSubsidy("demo", "S2", D("1"), date(2021, 1, 19)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    (
        "use beyond available",
        UseSubsidy("demo", "S1", D("5000.01"), "x", date(2021, 7, 2)),
        "amount",
        "subsidy_available",
        InvalidCommand,
    ),
    (
        "use back-dated into a reserved envelope",
        UseSubsidy("demo", "S1", D("5000.01"), "x", date(2021, 6, 30)),
        "amount",
        "subsidy_available",
        InvalidCommand,
    ),
    (
        "use of an unknown subsidy",
        UseSubsidy("demo", "S9", D("1"), "x", date(2021, 7, 2)),
        "subsidy_id",
        "known_subsidy",
        NotFound,
    ),
    (
        "cancelling a subsidy with tranches",
        ReverseEntry("demo", 1, "x", date(2021, 7, 2)),
        "entry_number",
        "subsidy_untouched",
        InvalidCommand,
    ),
]


def test_every_rule_refuses_naming_field_and_rule_and_writes_nothing(books):
    for name, command, field, rule, kind in REFUSALS:  # one set of books: each refusal writes nothing
        try:
            assert_refused(books, command, field, rule, kind)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    ok(books, UseSubsidy("demo", "S1", D("5000"), "Ateliers d'été", date(2021, 7, 2)))  # exactly what was available


def test_a_tranche_that_paid_grants_cannot_be_reversed(books):
    ok(books, RecordApplication("demo", "C1", "A1", "P", date(2021, 7, 2), applicant="X"))
    ok(books, AwardGrant("demo", "A1", D("10000"), date(2021, 7, 3)))
    ok(books, PayGrant("demo", "A1", D("10000"), date(2021, 7, 4)))
    assert_refused(books, ReverseEntry("demo", 3, "bounced", date(2021, 7, 5)), "entry_number", "fund_covers", InvalidCommand)
