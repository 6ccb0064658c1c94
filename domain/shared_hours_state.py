"""The state of the shared-employee hours family (domain/shared_hours.py), kept on the
Cooperative aggregate: the dated ethical minimum rates, and each employee with the hours of each
month, per structure and per day, and the minutes still to rebill as dated moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.events import FinancialEvent


@dataclass(slots=True)
class MonthHours:
    minutes_by_structure: dict[str, int] = field(default_factory=dict)
    minutes_by_day: dict[int, int] = field(default_factory=dict)  # day of the month -> minutes
    rebilled: bool = False
    # The minimum in force at the month's end in a founder's books, for a month that ended before
    # the federation that carried it (domain/shared_hours_carry.py); None: the minimum in force here.
    minimum_cents: int | None = None
    # Per structure, the minutes still to rebill as dated moves: + logged, - rebilled, and the
    # reversals the other way (dated on the reversal). A back-dated hours reversal or rebilling is
    # judged on every later date with them (to_rebill_from), so minutes are never rebilled twice
    # nor rebilled without being logged on any date.
    to_rebill: dict[str, list[tuple[date, int]]] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        return sum(self.minutes_by_structure.values())

    def to_rebill_from(self, structure_id: str, day: date) -> tuple[int, date]:
        """The least minutes of the structure still to rebill on `day` and on every later recorded date, and when."""
        return FinancialEvent.lowest_from(self.to_rebill.get(structure_id, []), day)


@dataclass(slots=True)
class SharedEmployee:
    employee_id: str
    name: str
    hourly_pay_cents: int
    engaged_on: date
    months: dict[str, MonthHours] = field(default_factory=dict)  # "YYYY-MM" -> hours


@dataclass
class SharedHoursState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""

    minimum_rates: list[tuple[date, int]] = field(default_factory=list)  # (from, cents per hour), oldest first
    employees: dict[str, SharedEmployee] = field(default_factory=dict)

    def minimum_on(self, day: date) -> int | None:
        found = None
        for since, cents in self.minimum_rates:
            if since <= day:
                found = cents
        return found

    def employee(self, employee_id: Any) -> SharedEmployee:
        employee = self.employees.get(employee_id) if isinstance(employee_id, str) else None
        if employee is None:
            raise NotFound("employee_id", "known_employee", f"no shared employee {employee_id!r} is engaged")
        return employee
