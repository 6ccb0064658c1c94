"""Shared-employee hours through the ledger, on SQLite and PostgreSQL: every rule refuses with
its field and rule and writes nothing; rebilling at cost, reversal, read functions checked
against figures computed by hand and against a rebuild.

The books (fixture `hours`): SCIC "scic" founded 2020-01-01 (general plan); organisations
org-a, org-b, org-c admitted 2020-02-01, the person emma too; ethical minimum 12.00 EUR an hour
from 2020-02-01; zoe engaged 2020-02-01 at 14.00 EUR. February 2020: org-a 3 h on the 3rd and
4 h 30 on the 4th (entries 1, 2), org-b 2 h 30 on the 3rd (entry 3), org-c 2 h on the 5th
(entry 4): 12 h.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.membership import ResignMember
from domain.shared_hours import EngageSharedEmployee, LogSharedHours, RebillSharedHours, SetEthicalMinimumRate
from ledger.service import Ledger
from projections.balances import account_balance, trial_balance
from projections.shared_hours import hours_by_structure
from tests.builders import admit, dump_projections, found_scic, new_key, stored_event_count, stored_financial_events
from tests.ledger.test_sensors import all_ok
from tests.views import minimum_rates, rebillings, shared_employees

FEB1, FEB3, FEB4, FEB5, FEB29 = date(2020, 2, 1), date(2020, 2, 3), date(2020, 2, 4), date(2020, 2, 5), date(2020, 2, 29)
MAR2, MAR31 = date(2020, 3, 2), date(2020, 3, 31)


def log(structure: str, day: date, hours: str, employee: str = "zoe") -> LogSharedHours:
    return LogSharedHours("scic", employee, structure, day, hours)


def rebill(gross: str, charges: str, expenses: str, period: str = "2020-02", day: date = MAR2) -> RebillSharedHours:
    return RebillSharedHours("scic", "zoe", period, gross, charges, expenses, day)


@pytest.fixture
def hours(ledger: Ledger) -> Ledger:
    numbers = all_ok(
        ledger,
        [
            found_scic(),
            *(admit("scic", org, "beneficiaries", FEB1, headcount=8) for org in ("org-a", "org-b", "org-c")),
            admit("scic", "emma", "employees", FEB1),
            SetEthicalMinimumRate("scic", "12.00", FEB1),
            EngageSharedEmployee("scic", "zoe", "Zoé Martin", "14.00", FEB1),
            log("org-a", FEB3, "3"),
            log("org-a", FEB4, "4.5"),
            log("org-b", FEB3, "2.5"),
            log("org-c", FEB5, "2"),
        ],
    )
    assert numbers[-4:] == [(1,), (2,), (3,), (4,)]
    return ledger


def test_rebilling_at_cost_posts_payroll_billing_and_clears_the_hours(hours, runner):
    # Cost: 205.30 + 88.70 + 6.00 = 300.00 EUR for 12 h, 25.00 EUR an hour:
    # org-a 7.5 h = 187.50, org-b 2.5 h = 62.50, org-c 2 h = 50.00.
    result = all_ok(hours, [rebill("205.30", "88.70", "6.00")])
    assert result == [(5,)]
    entry = stored_financial_events(hours, "scic")[-1]
    assert entry.kind == "SharedHoursRebilled" and entry.effective_date == MAR2
    assert entry.postings == [
        ["641", None, "EUR", 20530],
        ["645", None, "EUR", 8870],
        ["625", None, "EUR", 600],
        ["421", "zoe", "EUR", -21130],
        ["431", None, "EUR", -8870],
        ["4118", "org-a", "EUR", 18750],
        ["4118", "org-b", "EUR", 6250],
        ["4118", "org-c", "EUR", 5000],
        ["7084", None, "EUR", -30000],
        ["849", "zoe", "HOUR", 720],
        ["841", "org-a", "HOUR", -450],
        ["841", "org-b", "HOUR", -150],
        ["841", "org-c", "HOUR", -120],
    ]
    runner.catch_up()
    tb = trial_balance(hours.db, "scic")
    assert tb["totals"] == {"EUR": {"debit": 60000, "credit": 60000}, "HOUR": {"debit": 1440, "credit": 1440}}
    assert account_balance(hours.db, "scic", "841", unit="HOUR") == 0  # nothing left to rebill
    assert account_balance(hours.db, "scic", "7084") == -30000
    assert (
        account_balance(hours.db, "scic", "641")
        + account_balance(hours.db, "scic", "645")
        + account_balance(hours.db, "scic", "625")
        == 30000
    )
    assert hours_by_structure(hours.db, "scic") == [
        {"structure_id": "org-a", "logged_minutes": 450, "rebilled_minutes": 450, "billed_cents": 18750, "to_rebill_minutes": 0},
        {"structure_id": "org-b", "logged_minutes": 150, "rebilled_minutes": 150, "billed_cents": 6250, "to_rebill_minutes": 0},
        {"structure_id": "org-c", "logged_minutes": 120, "rebilled_minutes": 120, "billed_cents": 5000, "to_rebill_minutes": 0},
    ]
    (rebilling,) = rebillings(hours.db, "scic")
    assert (rebilling["number"], rebilling["cost_cents"], rebilling["hourly_cost_rate"], rebilling["reversed_by"]) == (
        5,
        30000,
        "25",
        None,
    )
    assert [s["billed_cents"] for s in rebilling["shares"]] == [18750, 6250, 5000]
    assert shared_employees(hours.db, "scic") == [
        {"employee_id": "zoe", "name": "Zoé Martin", "hourly_pay_cents": 1400, "engaged_on": "2020-02-01"}
    ]
    assert minimum_rates(hours.db, "scic") == [{"effective_date": "2020-02-01", "hourly_rate_cents": 1200}]


def test_reversing_a_rebilling_reopens_the_month_and_a_rebuild_agrees(hours, runner):
    all_ok(hours, [rebill("200", "0", "0")])  # 5
    blocked = hours.execute(ReverseEntry("scic", 3, "wrong structure", MAR2), new_key())
    assert (blocked.error.field, blocked.error.rule) == ("entry_number", "month_not_rebilled")
    all_ok(
        hours,
        [
            ReverseEntry("scic", 5, "charges missing", MAR2),  # 6
            ReverseEntry("scic", 3, "wrong structure", MAR2),  # 7: org-b's 2 h 30 go
            log("org-c", date(2020, 2, 20), "0.5"),  # 8: org-c now 2 h 30
            log("org-a", MAR2, "1"),  # 9: March, not rebilled
            # 10 h for 200.00 + 80.00 + 0.01 = 280.01 EUR: org-a 7.5 h = 210.0075 EUR, org-c 2.5 h =
            # 70.0025 EUR; floors 210.00 + 70.00 leave a cent, which goes to org-a (.75 > .25).
            rebill("200", "80", "0.01", day=MAR31),  # 10
        ],
    )
    runner.catch_up()
    assert [(r["number"], r["cost_cents"], r["reversed_by"]) for r in rebillings(hours.db, "scic")] == [
        (5, 20000, 6),
        (10, 28001, None),
    ]
    assert [s["billed_cents"] for s in rebillings(hours.db, "scic", after=5)[0]["shares"]] == [21001, 7000]
    assert hours_by_structure(hours.db, "scic", period="2020-02") == [
        {"structure_id": "org-a", "logged_minutes": 450, "rebilled_minutes": 450, "billed_cents": 21001, "to_rebill_minutes": 0},
        {"structure_id": "org-c", "logged_minutes": 150, "rebilled_minutes": 150, "billed_cents": 7000, "to_rebill_minutes": 0},
    ]
    assert hours_by_structure(hours.db, "scic", period="2020-03") == [
        {"structure_id": "org-a", "logged_minutes": 60, "rebilled_minutes": 0, "billed_cents": 0, "to_rebill_minutes": 60}
    ]
    assert account_balance(hours.db, "scic", "841", party="org-a", unit="HOUR") == 60
    assert account_balance(hours.db, "scic", "4118", party="org-b") == 0
    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    (
        "minimum not after the previous",
        SetEthicalMinimumRate("scic", "13", FEB1),
        "effective_date",
        "after_previous_rate",
        InvalidCommand,
    ),
    ("minimum over-precise", SetEthicalMinimumRate("scic", "12.005", MAR2), "hourly_rate", "precision", InvalidCommand),
    (
        "employee engaged twice",
        EngageSharedEmployee("scic", "zoe", "Zoé", "14", FEB1),
        "employee_id",
        "unique_employee",
        Conflict,
    ),
    (
        "pay below the minimum",
        EngageSharedEmployee("scic", "yan", "Yan", "11.99", FEB1),
        "hourly_pay",
        "ethical_minimum",
        InvalidCommand,
    ),
    (
        "engaged before any minimum",
        EngageSharedEmployee("scic", "yan", "Yan", "14", date(2020, 1, 15)),
        "hourly_pay",
        "minimum_rate_set",
        InvalidCommand,
    ),
    ("employee without a name", EngageSharedEmployee("scic", "yan", "", "14", FEB1), "name", "required", InvalidCommand),
    ("unknown employee", log("org-a", FEB3, "1", employee="yan"), "employee_id", "known_employee", NotFound),
    ("unknown structure", log("org-z", FEB3, "1"), "structure_id", "known_member", NotFound),
    ("a person is not a structure", log("emma", FEB3, "1"), "structure_id", "structure", InvalidCommand),
    ("hours in part-minutes", log("org-a", FEB3, "0.01"), "hours", "precision", InvalidCommand),
    ("no hours", log("org-a", FEB3, "0"), "hours", "positive", InvalidCommand),
    ("hours as a float", log("org-a", FEB3, 1.5), "hours", "decimal", InvalidCommand),  # type: ignore[arg-type]
    ("day over 10 h", log("org-a", MAR2, "9.05"), "hours", "day_total", InvalidCommand),  # 1 h + 9 h 03
    ("day before the engagement", log("org-a", date(2020, 1, 31), "1"), "day", "not_before", InvalidCommand),
    ("day before founding", log("org-a", date(2019, 12, 31), "1"), "day", "not_before_founding", InvalidCommand),
    ("structure that left", log("org-c", date(2020, 2, 20), "1"), "day", "structure_member", InvalidCommand),
    ("hours in a rebilled month", log("org-a", FEB29, "1"), "day", "month_rebilled", Conflict),
    (
        "rebill an unknown employee",
        RebillSharedHours("scic", "yan", "2020-02", "300", "0", "0", MAR2),
        "employee_id",
        "known_employee",
        NotFound,
    ),
    ("rebill a malformed month", rebill("300", "0", "0", period="02-2020"), "period", "month", InvalidCommand),
    (
        "rebill a month without hours",
        rebill("300", "0", "0", period="2020-04", day=date(2020, 4, 30)),
        "period",
        "hours_logged",
        InvalidCommand,
    ),
    ("rebill a month twice", rebill("300", "0", "0"), "period", "rebilled_once", Conflict),
    (
        "rebill before the month ends",
        rebill("300", "0", "0", period="2020-03", day=date(2020, 3, 30)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("rebill without gross pay", rebill("0", "0", "0", period="2020-03", day=MAR31), "gross_pay", "positive", InvalidCommand),
    (
        "negative charges",
        rebill("100", "-1", "0", period="2020-03", day=MAR31),
        "employer_charges",
        "non_negative",
        InvalidCommand,
    ),
    ("over-precise expenses", rebill("100", "0", "1.001", period="2020-03", day=MAR31), "expenses", "precision", InvalidCommand),
    # March: 1 h; 12.00 EUR is the least gross pay at the 12.00 EUR minimum.
    (
        "gross pay below the minimum",
        rebill("11.99", "0", "0", period="2020-03", day=MAR31),
        "gross_pay",
        "ethical_minimum",
        InvalidCommand,
    ),
    (
        "undo hours of a rebilled month",
        ReverseEntry("scic", 1, "typo", MAR31),
        "entry_number",
        "month_not_rebilled",
        InvalidCommand,
    ),
]


@pytest.fixture
def full(hours: Ledger) -> Ledger:
    """The books above, plus: entry 5 rebills February; entry 6 logs 1 h for org-a on
    2020-03-02; org-c resigned 2020-02-15 (after its hours of the 5th)."""
    all_ok(hours, [rebill("300", "0", "0"), log("org-a", MAR2, "1"), ResignMember("scic", "org-c", date(2020, 2, 15))])
    return hours


def test_every_rule_refuses_naming_field_and_rule_and_writes_nothing(full):
    # One store for all the cases (a refusal changes nothing, so each case sees the same books).
    for name, command, field, rule, error_type in REFUSALS:
        coop = full.cooperative("scic")
        before = (full.position(), stored_event_count(full), coop.version, coop.journal.last_number)
        result = full.execute(command, new_key())
        assert not result.accepted and result.position is None and result.journal_numbers == (), name
        assert isinstance(result.error, error_type), (name, result.error)
        assert (result.error.field, result.error.rule) == (field, rule), (name, result.error.message)
        coop = full.cooperative("scic")
        assert (full.position(), stored_event_count(full), coop.version, coop.journal.last_number) == before, name
