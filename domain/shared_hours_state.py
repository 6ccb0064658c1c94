"""The state of the shared-employee hours family (domain/shared_hours.py), kept on the
Cooperative aggregate: the dated ethical minimum rates, and each employee with the hours of each
month, per structure and per day, and the minutes still to rebill as dated moves; and the events
that build it, which are its only writers. The commands and deciders that record these events
are in domain/shared_hours.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent
from domain.personal import Personal, pseudonym

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_DAY_MINUTES = 10 * 60  # an employee's day, all structures together


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


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

    def forget(self, person_id: str) -> None:
        """A forgotten shared employee's name reads as erased (Cooperative.forget)."""
        employee = self.employees.get(person_id)
        if employee is not None:
            employee.name = pseudonym(person_id)

    def employee(self, employee_id: Any) -> SharedEmployee:
        employee = self.employees.get(employee_id) if isinstance(employee_id, str) else None
        if employee is None:
            raise NotFound("employee_id", "known_employee", f"no shared employee {employee_id!r} is engaged")
        return employee


# ---------------------------------------------------------------- events


class EthicalMinimumRateSet(CoopEvent):
    hourly_rate_cents: int

    def apply(self, coop: Cooperative) -> None:
        coop.shared_hours.minimum_rates.append((self.effective_date, self.hourly_rate_cents))


class SharedEmployeeEngaged(CoopEvent):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("employee_id", ("name",)),)
    employee_id: str
    name: str
    hourly_pay_cents: int

    def apply(self, coop: Cooperative) -> None:
        coop.shared_hours.employees[self.employee_id] = SharedEmployee(
            self.employee_id, self.name, self.hourly_pay_cents, self.effective_date
        )


class SharedHoursLogged(FinancialEvent):
    employee_id: str
    structure_id: str
    period: str
    minutes: int

    def effect(self) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "structure_id": self.structure_id,
            "day": self.effective_date.isoformat(),
            "minutes": self.minutes,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        worked = date.fromisoformat(effect["day"])
        month = coop.shared_hours.employees[effect["employee_id"]].months.setdefault(period_of(worked), MonthHours())
        assert not month.rebilled, "hours changed in a rebilled month"
        minutes = sign * effect["minutes"]
        by_structure, by_day = month.minutes_by_structure, month.minutes_by_day
        by_structure[effect["structure_id"]] = by_structure.get(effect["structure_id"], 0) + minutes
        by_day[worked.day] = by_day.get(worked.day, 0) + minutes
        month.to_rebill.setdefault(effect["structure_id"], []).append((day, minutes))
        assert by_structure[effect["structure_id"]] >= 0 and 0 <= by_day[worked.day] <= MAX_DAY_MINUTES
        if by_structure[effect["structure_id"]] == 0:
            del by_structure[effect["structure_id"]]  # a structure without hours is not billed

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The hours leave their month by the day worked, but the minutes still to rebill lose them
        from `day` on: they must stay >= 0 on `day` and every later recorded date, or a rebilling
        that stood after `day` and was reversed since billed minutes this reversal removes."""
        period = period_of(date.fromisoformat(effect["day"]))
        month = coop.shared_hours.employees[effect["employee_id"]].months[period]
        if month.rebilled:
            raise InvalidCommand(
                "entry_number",
                "month_not_rebilled",
                f"{period} of {effect['employee_id']} is rebilled: reverse the rebilling first",
            )
        left, left_on = month.to_rebill_from(effect["structure_id"], day)
        if left < effect["minutes"]:
            raise InvalidCommand(
                "entry_number",
                "month_not_rebilled",
                f"{period} of {effect['employee_id']} stood rebilled on {left_on}, by a rebilling reversed since (this "
                f"reversal counts from {day}): date it on or after the reversal of that rebilling",
            )


class SharedHoursRebilled(FinancialEvent):
    employee_id: str
    period: str
    minutes: int
    gross_pay_cents: int
    employer_charges_cents: int
    expenses_cents: int
    cost_cents: int
    hourly_cost_rate: str  # exact EUR per hour, as a fraction: cost ÷ hours
    shares: list[list[Any]]  # [[structure_id, minutes, billed cents], ...] by structure id

    def effect(self) -> dict[str, Any]:
        return {"employee_id": self.employee_id, "period": self.period}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        month = coop.shared_hours.employees[effect["employee_id"]].months[effect["period"]]
        assert month.rebilled == (sign < 0), f"{effect} rebilled twice or never"
        month.rebilled = sign > 0
        for structure, minutes in month.minutes_by_structure.items():  # unchanged while rebilled: what it billed
            month.to_rebill[structure].append((day, -sign * minutes))
            assert month.to_rebill_from(structure, day)[0] >= 0, f"{effect}: {structure} rebilled beyond its hours"
