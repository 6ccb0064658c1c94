"""A federation carries its founders' shared-employee hours still to rebill (both stores;
domain/shared_hours_carry.py): the minutes arrive on 841/849 with the opening entry, and each employee
with the months still to rebill is rebuilt in the federation, so RebillSharedHours rebills them
there, once, at the minimum in force at the month's end (the founder's for a month over before the
federation, the federation's for the running month); the read side shows the same; what cannot be
carried is refused, writing nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.federation import FederateCooperatives
from domain.membership import AdmitMember, ResignMember
from domain.shared_hours import EngageSharedEmployee, LogSharedHours, RebillSharedHours, SetEthicalMinimumRate
from ledger.founder_books import read_founder_books
from projections.observatory_indicators import observatory
from projections.shared_hours import hours_by_structure
from tests.views import minimum_rates, rebillings, shared_employees

from .conftest import CommandRunner

START, DAY = date(2025, 1, 1), date(2025, 7, 15)  # mid-month: July runs across the federation date
FEE = [FeeBracket(1, None, Decimal(50))]


class Founders(CommandRunner):
    """The founders' set-up; commands accepted or refused as CommandRunner says."""

    prefix = "hours"

    def found(self, slug: str, structures: list[str], minimum: str, employee: str, pay: str) -> None:
        self.do(FoundCooperative(slug, f"Groupement {slug}", "association", START, [CollegeSpec("membres", "Membres")], FEE))
        self.do(*(AdmitMember(slug, s, f"Structure {s}", "organisation", "membres", START, 5) for s in structures))
        self.do(
            SetEthicalMinimumRate(slug, minimum, date(2025, 1, 2)),
            EngageSharedEmployee(slug, employee, f"Salarié {employee}", pay, date(2025, 1, 10)),
        )

    def log(self, slug: str, employee: str, *hours: tuple[str, date, str]) -> None:
        self.do(*(LogSharedHours(slug, employee, structure, day, h) for structure, day, h in hours))

    def federate(self, slug: str, founders: list[str]) -> Any:
        self.n += 1
        return self.ledger.execute(FederateCooperatives(slug, "Fédération", "association", DAY, founders, FEE), f"hours-{self.n}")


def _founder_a(f: Founders) -> None:
    """sh-a: minimum 12 EUR, 14 from 1 July; e-a1 paid 15 EUR an hour. May rebilled; June (S1 7.5 h,
    S2 4 h) and the first half of July (S1 10 h) still to rebill."""
    f.found("sh-a", ["S1", "S2"], "12", "e-a1", "15")
    f.log("sh-a", "e-a1", ("S1", date(2025, 5, 5), "3"))
    f.do(RebillSharedHours("sh-a", "e-a1", "2025-05", "45", "10", "0", date(2025, 5, 31)))
    f.log(
        "sh-a",
        "e-a1",
        ("S1", date(2025, 6, 2), "7.5"),
        ("S2", date(2025, 6, 3), "4"),
        ("S1", date(2025, 7, 1), "2"),
        ("S1", date(2025, 7, 14), "8"),
    )
    f.do(SetEthicalMinimumRate("sh-a", "14", date(2025, 7, 1)))


def _founder_b(f: Founders) -> None:
    """sh-b: minimum 14 EUR; e-b1 paid 16 EUR an hour, 5 h for S3 in July."""
    f.found("sh-b", ["S3"], "14", "e-b1", "16")
    f.log("sh-b", "e-b1", ("S3", date(2025, 7, 10), "5"))


def _hours(ledger: Any, slug: str) -> tuple[dict[str, int], dict[str, int]]:
    """Write side: minutes still to rebill per structure and per employee."""
    structures: dict[str, int] = defaultdict(int)
    employees: dict[str, int] = defaultdict(int)
    for employee in ledger.cooperative(slug).shared_hours.employees.values():
        for month in employee.months.values():
            if not month.rebilled:
                for structure, minutes in month.minutes_by_structure.items():
                    structures[structure] += minutes
                    employees[employee.employee_id] += minutes
    return {s: m for s, m in structures.items() if m}, {e: m for e, m in employees.items() if m}


def _hours_in_books(ledger: Any, slug: str) -> tuple[dict[str, int], dict[str, int]]:
    books = read_founder_books(ledger, ledger.cooperative(slug)).balances  # the journal, replayed
    to_rebill = {party: amount for (account, party, _unit), amount in books.items() if account == "841" and amount}
    contra = {party: -amount for (account, party, _unit), amount in books.items() if account == "849" and amount}
    return to_rebill, contra


def _read_side_agrees(ledger: Any, runner: Any, slug: str) -> None:
    runner.catch_up()
    to_rebill, _employees = _hours(ledger, slug)
    rows = hours_by_structure(ledger.db, slug)
    assert {r["structure_id"]: r["to_rebill_minutes"] for r in rows if r["to_rebill_minutes"]} == to_rebill
    logged: dict[str, int] = defaultdict(int)
    for employee in ledger.cooperative(slug).shared_hours.employees.values():
        for month in employee.months.values():
            for structure, minutes in month.minutes_by_structure.items():
                logged[structure] += minutes
    assert {r["structure_id"]: r["logged_minutes"] for r in rows} == dict(logged)


def test_hours_are_rebilled_in_the_federation_once_at_the_minimum_of_the_months_end(ledger, runner, make_ledger):
    f = Founders(ledger)
    _founder_a(f)
    _founder_b(f)
    result = f.federate("sh-fed", ["sh-a", "sh-b"])
    assert result.accepted, result.error and result.error.as_dict()

    # Write side: the employees with their months still to rebill (May was rebilled: it stays behind).
    state = ledger.cooperative("sh-fed").shared_hours
    assert make_ledger().cooperative("sh-fed").shared_hours == state  # the same state, replayed from the stored events
    assert state.minimum_rates == [(DAY, 14_00)]
    months = {
        e.employee_id: {p: (m.minutes_by_structure, m.minimum_cents) for p, m in e.months.items()}
        for e in state.employees.values()
    }
    assert months == {
        "e-a1": {"2025-06": ({"S1": 450, "S2": 240}, 12_00), "2025-07": ({"S1": 600}, None)},
        "e-b1": {"2025-07": ({"S3": 300}, None)},
    }
    assert state.employees["e-a1"].months["2025-06"].to_rebill == {"S1": [(DAY, 450)], "S2": [(DAY, 240)]}  # to rebill from D on
    assert {e.employee_id: (e.hourly_pay_cents, e.engaged_on) for e in state.employees.values()} == {
        "e-a1": (15_00, DAY),
        "e-b1": (16_00, DAY),
    }
    assert (
        _hours(ledger, "sh-fed")
        == _hours_in_books(ledger, "sh-fed")
        == ({"S1": 1050, "S2": 240, "S3": 300}, {"e-a1": 1290, "e-b1": 300})
    )
    _read_side_agrees(ledger, runner, "sh-fed")

    # June ended in sh-a: its minimum is sh-a's on 30 June, 12 EUR (not the federation's 14).
    rebill = lambda employee, period, gross, day: RebillSharedHours("sh-fed", employee, period, gross, "20", "0", day)  # noqa: E731
    assert f.refused(rebill("e-a1", "2025-06", "136", DAY)).rule == "ethical_minimum"  # 11.83 EUR an hour
    f.do(rebill("e-a1", "2025-06", "150", DAY))  # 13.04 EUR an hour: under 14, over 12
    assert f.refused(rebill("e-a1", "2025-06", "150", DAY)).rule == "rebilled_once"
    assert f.refused(rebill("e-a1", "2025-05", "45", DAY)).rule == "hours_logged"  # rebilled by sh-a: not carried
    # July goes on here: days from the federation date, 10 hours a day with the carried ones.
    assert f.refused(LogSharedHours("sh-fed", "e-a1", "S1", date(2025, 7, 14), "1")).rule == "not_before_founding"
    f.log("sh-fed", "e-a1", ("S1", date(2025, 7, 15), "9"))
    assert f.refused(LogSharedHours("sh-fed", "e-a1", "S2", date(2025, 7, 15), "1.5")).rule == "day_total"
    assert _hours(ledger, "sh-fed") == _hours_in_books(ledger, "sh-fed") == ({"S1": 1140, "S3": 300}, {"e-a1": 1140, "e-b1": 300})
    _read_side_agrees(ledger, runner, "sh-fed")

    # July ends in the federation: its minimum, 14 EUR an hour, for the carried and the new hours (19 h).
    assert f.refused(rebill("e-a1", "2025-07", "266", date(2025, 7, 30))).rule == "not_before"
    assert f.refused(rebill("e-a1", "2025-07", "265.99", date(2025, 7, 31))).rule == "ethical_minimum"
    f.do(rebill("e-a1", "2025-07", "266", date(2025, 7, 31)), rebill("e-b1", "2025-07", "80", date(2025, 7, 31)))
    assert f.refused(LogSharedHours("sh-fed", "e-a1", "S1", date(2025, 7, 31), "1")).rule == "month_rebilled"
    assert _hours(ledger, "sh-fed") == _hours_in_books(ledger, "sh-fed") == ({}, {})
    _read_side_agrees(ledger, runner, "sh-fed")
    assert [
        (r["employee_id"], r["period"], r["minutes"], [(s["structure_id"], s["minutes"]) for s in r["shares"]])
        for r in rebillings(ledger.db, "sh-fed")
    ] == [
        ("e-a1", "2025-06", 690, [("S1", 450), ("S2", 240)]),
        ("e-a1", "2025-07", 1140, [("S1", 1140)]),
        ("e-b1", "2025-07", 300, [("S3", 300)]),
    ]
    assert [(e["employee_id"], e["hourly_pay_cents"], e["engaged_on"]) for e in shared_employees(ledger.db, "sh-fed")] == [
        ("e-a1", 15_00, DAY.isoformat()),
        ("e-b1", 16_00, DAY.isoformat()),
    ]
    assert minimum_rates(ledger.db, "sh-fed") == [{"effective_date": DAY.isoformat(), "hourly_rate_cents": 14_00}]
    (hours,) = [
        i
        for i in observatory(ledger.db, "sh-fed", today=date(2025, 7, 31), position=0)["indicators"]
        if i["id"] == "shared_hours"
    ]
    series = {s["key"]: s["values"] for s in hours["series"]}
    assert (
        hours["value"]["logged_minutes"] == hours["value"]["rebilled_minutes"] == 690 + 1140 + 300
    )  # carried hours count as logged here
    assert series["logged_minutes"] == series["rebilled_minutes"] == [690 + 1140 + 300]


def test_what_cannot_be_carried_is_refused_and_writes_nothing(ledger, runner):
    f = Founders(ledger)
    _founder_a(f)
    # June's hours for S5, a structure that left sh-c: they cannot be billed in the federation.
    f.found("sh-c", ["S5", "S6"], "14", "e-c1", "16")
    f.log("sh-c", "e-c1", ("S5", date(2025, 6, 5), "6"), ("S6", date(2025, 7, 1), "2"))
    f.do(ResignMember("sh-c", "S5", date(2025, 6, 20)))
    error = f.refused_federation("fed-1", ["sh-a", "sh-c"])
    assert (error.field, error.rule) == ("founders[1]", "open_items_not_carried")
    assert "841" in error.message and "S5" in error.message and "RebillSharedHours" in error.message
    # Another ethical minimum: the employees would be held to another floor by moving.
    f.found("sh-d", ["S7"], "13", "e-d1", "16")
    f.log("sh-d", "e-d1", ("S7", date(2025, 7, 1), "2"))
    error = f.refused_federation("fed-2", ["sh-a", "sh-d"])
    assert (error.field, error.rule, error.kind) == ("founders[1]", "same_ethical_minimum", "conflict")
    # An employee id two founders carry.
    f.found("sh-e", ["S8"], "14", "e-a1", "16")
    f.log("sh-e", "e-a1", ("S8", date(2025, 7, 1), "2"))
    error = f.refused_federation("fed-3", ["sh-a", "sh-e"])
    assert (error.field, error.rule, error.kind) == ("founders[1]", "unique_employee", "conflict")
    # Once sh-c rebilled June, only July (S6, still a member) is open: the federation goes through.
    f.do(RebillSharedHours("sh-c", "e-c1", "2025-06", "96", "0", "0", date(2025, 6, 30)))
    result = f.federate("fed-4", ["sh-a", "sh-c"])
    assert result.accepted, result.error and result.error.as_dict()
    assert (
        _hours(ledger, "fed-4")
        == _hours_in_books(ledger, "fed-4")
        == ({"S1": 1050, "S2": 240, "S6": 120}, {"e-a1": 1290, "e-c1": 120})
    )
