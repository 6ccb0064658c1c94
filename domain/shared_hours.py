"""Shared-employee hours: an employee the cooperative shares between member structures logs
hours per structure and day; each month is rebilled to the structures at cost.

Rules (docs/rules.md, Shared employees; each refusal names its field and rule):
- The cooperative sets its ethical minimum hourly rate (SetEthicalMinimumRate, dated and
  versioned). Engaging an employee at an hourly pay below the minimum in force is refused, and
  so is rebilling a month whose gross pay ÷ hours worked falls below the minimum in force at the
  month's end.
- Hours are logged per member structure (an organisation, a member on that day) and day, in
  whole minutes; an employee's day, all structures together, is at most 10 hours.
- A month is rebilled once (until that entry is reversed) and after its last day; hours of a
  rebilled month are refused, and cannot be reversed before the rebilling is. Both are judged on
  their date and every later recorded one (MonthHours.to_rebill): a back-dated rebilling or hours
  reversal never rebills minutes twice, nor minutes not logged, on any date.
- Rebilling at cost: cost = gross pay + employer charges + expenses; hourly cost rate = cost ÷
  hours worked; each structure is billed its hours × rate; the total billed equals the cost to
  the cent (the staff lending stays non-profit: margin 0).

Rounding rule (largest remainder): each structure first gets its exact share cost × its minutes
÷ all minutes, rounded down to the cent; the cents left over (fewer than the number of
structures) go one each to the structures with the largest discarded fractions, ties broken by
structure id in ascending order. So no share is off its exact value by a cent or more, and the
shares add up to the cost exactly.

Entry of a rebilling, one per employee and month, balanced per unit:
EUR  debit 641 gross pay, 645 employer charges, 625 expenses; credit 421 (the employee: pay
     and expenses) and 431 (charges) — the month's payroll cost;
     debit 4118 per structure its share; credit 7084 the cost — the rebilling;
HOUR debit 849 (the employee) every minute; credit 841 per structure its minutes — the hours
     logged (debit 841, credit 849) are cleared, so 841 shows the hours still to rebill.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from domain.errors import Conflict, InvalidCommand
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.membership import MemberKind
from domain.money import EurosIn, HoursIn, Unit, format_minor, to_minor
from domain.roles import CLERK, FINANCIAL, STATUTES
from domain.rules import identifier, not_before, text
from domain.shared_hours_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    MAX_DAY_MINUTES,
    EthicalMinimumRateSet,
    MonthHours,
    SharedEmployee,
    SharedEmployeeEngaged,
    SharedHoursLogged,
    SharedHoursRebilled,
    SharedHoursState,
    period_of,
)

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_STRUCTURES_PER_MONTH = 50  # bounds the lines of a rebilling entry
MAX_EMPLOYEES = 1_000
MAX_RATE_VERSIONS = 200
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def last_day(period: str) -> date:
    year, month = int(period[:4]), int(period[5:])
    return date(year, month, monthrange(year, month)[1])


def allocate(cost_cents: int, minutes_by_structure: dict[str, int]) -> dict[str, int]:
    """Splits a cost between structures pro rata of their minutes, by largest remainder."""
    total = sum(minutes_by_structure.values())
    assert total > 0 and cost_cents >= 0
    shares = {s: cost_cents * m // total for s, m in minutes_by_structure.items()}
    left = cost_cents - sum(shares.values())
    by_remainder = sorted(minutes_by_structure, key=lambda s: (-(cost_cents * minutes_by_structure[s] % total), s))
    for structure in by_remainder[:left]:
        shares[structure] += 1
    assert sum(shares.values()) == cost_cents
    return shares


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class SetEthicalMinimumRate:
    coop: str
    hourly_rate: EurosIn  # per hour, gross
    effective_date: date


@dataclass(frozen=True)
class EngageSharedEmployee:
    coop: str
    employee_id: str
    name: str
    hourly_pay: EurosIn  # per hour, gross
    effective_date: date


@dataclass(frozen=True)
class LogSharedHours:
    coop: str
    employee_id: str
    structure_id: str  # a member organisation
    day: date  # the day worked, also the entry's effective date
    hours: HoursIn  # in whole minutes: "7.5" is 7 h 30


@dataclass(frozen=True)
class RebillSharedHours:
    coop: str
    employee_id: str
    period: str  # "YYYY-MM"
    gross_pay: EurosIn  # the month's gross pay
    employer_charges: EurosIn
    expenses: EurosIn  # reimbursed to the employee
    effective_date: date


# ---------------------------------------------------------------- deciders


def set_ethical_minimum_rate(coop: Cooperative, cmd: SetEthicalMinimumRate, meta: Meta) -> None:
    state = coop.shared_hours
    rate_cents = to_minor(cmd.hourly_rate, Unit.EUR, "hourly_rate")
    day = coop.check_effective_date(cmd.effective_date)
    if state.minimum_rates and day <= state.minimum_rates[-1][0]:
        raise InvalidCommand(
            "effective_date",
            "after_previous_rate",
            f"the minimum in force dates from {state.minimum_rates[-1][0]}: date the new one later",
        )
    if len(state.minimum_rates) >= MAX_RATE_VERSIONS:
        raise InvalidCommand("effective_date", "max_versions", f"at most {MAX_RATE_VERSIONS} versions of the minimum rate")
    coop.record(EthicalMinimumRateSet, effective_date=day, meta=meta, hourly_rate_cents=rate_cents)


def engage_shared_employee(coop: Cooperative, cmd: EngageSharedEmployee, meta: Meta) -> None:
    state = coop.shared_hours
    employee_id = identifier(cmd.employee_id, "employee_id")
    if employee_id in state.employees:
        raise Conflict("employee_id", "unique_employee", f"{employee_id!r} is already engaged")
    if len(state.employees) >= MAX_EMPLOYEES:
        raise InvalidCommand("employee_id", "max_employees", f"at most {MAX_EMPLOYEES} shared employees")
    name = text(cmd.name, "name")
    pay_cents = to_minor(cmd.hourly_pay, Unit.EUR, "hourly_pay")
    day = coop.check_effective_date(cmd.effective_date)
    minimum = state.minimum_on(day)
    if minimum is None:
        raise InvalidCommand(
            "hourly_pay",
            "minimum_rate_set",
            f"no ethical minimum rate is in force on {day}: set it first (SetEthicalMinimumRate)",
        )
    if pay_cents < minimum:
        raise InvalidCommand(
            "hourly_pay",
            "ethical_minimum",
            f"{format_minor(pay_cents, Unit.EUR)} EUR an hour is below the cooperative's ethical minimum of "
            f"{format_minor(minimum, Unit.EUR)} EUR",
        )
    coop.record(
        SharedEmployeeEngaged, effective_date=day, meta=meta, employee_id=employee_id, name=name, hourly_pay_cents=pay_cents
    )


def log_shared_hours(coop: Cooperative, cmd: LogSharedHours, meta: Meta) -> None:
    employee = coop.shared_hours.employee(cmd.employee_id)
    structure = coop.member(cmd.structure_id, "structure_id")
    if structure.kind is not MemberKind.ORGANISATION:
        raise InvalidCommand(
            "structure_id", "structure", f"{structure.member_id} is a person: hours are logged for member structures"
        )
    minutes = to_minor(cmd.hours, Unit.HOUR, "hours")
    day = coop.check_effective_date(cmd.day, "day")
    not_before(day, employee.engaged_on, "day", f"the engagement of {employee.employee_id}")
    if not structure.is_member_on(day):
        raise InvalidCommand("day", "structure_member", f"{structure.member_id} is not a member on {day}")
    period = period_of(day)
    month = employee.months.get(period) or MonthHours()
    if month.rebilled:
        raise Conflict("day", "month_rebilled", f"{period} of {employee.employee_id} is already rebilled")
    worked = month.minutes_by_day.get(day.day, 0)
    if worked + minutes > MAX_DAY_MINUTES:
        raise InvalidCommand(
            "hours",
            "day_total",
            f"{employee.employee_id} has {format_minor(worked, Unit.HOUR)} logged on {day}; a day is at most "
            f"{format_minor(MAX_DAY_MINUTES, Unit.HOUR)}",
        )
    if structure.member_id not in month.minutes_by_structure and len(month.minutes_by_structure) >= MAX_STRUCTURES_PER_MONTH:
        raise InvalidCommand(
            "structure_id", "max_structures", f"at most {MAX_STRUCTURES_PER_MONTH} structures a month per employee"
        )
    to_rebill, contra = coop.chart.role("shared_hours_to_rebill"), coop.chart.role("shared_hours_contra")
    coop.record_entry(
        SharedHoursLogged,
        effective_date=day,
        meta=meta,
        label=f"Heures de {employee.employee_id} pour {structure.name} le {day.isoformat()}",
        postings=[
            [to_rebill, structure.member_id, Unit.HOUR.value, minutes],
            [contra, employee.employee_id, Unit.HOUR.value, -minutes],
        ],
        employee_id=employee.employee_id,
        structure_id=structure.member_id,
        period=period,
        minutes=minutes,
    )


def rebill_shared_hours(coop: Cooperative, cmd: RebillSharedHours, meta: Meta) -> None:
    state = coop.shared_hours
    employee = state.employee(cmd.employee_id)
    if not isinstance(cmd.period, str) or not PERIOD.match(cmd.period):
        raise InvalidCommand("period", "month", f"{cmd.period!r} is not a month written YYYY-MM")
    month = employee.months.get(cmd.period)
    if month is None or month.minutes == 0:
        raise InvalidCommand("period", "hours_logged", f"no hours of {employee.employee_id} are logged in {cmd.period}")
    if month.rebilled:
        raise Conflict("period", "rebilled_once", f"{cmd.period} of {employee.employee_id} is already rebilled")
    gross_cents = to_minor(cmd.gross_pay, Unit.EUR, "gross_pay")
    charges_cents = to_minor(cmd.employer_charges, Unit.EUR, "employer_charges", allow_zero=True)
    expenses_cents = to_minor(cmd.expenses, Unit.EUR, "expenses", allow_zero=True)
    day = coop.check_effective_date(cmd.effective_date)
    end = last_day(cmd.period)
    not_before(day, end, "effective_date", f"the end of {cmd.period}")
    for structure, logged in sorted(month.minutes_by_structure.items()):
        left, left_on = month.to_rebill_from(structure, day)  # on its date and every later one: rebilled once
        if left < logged:
            raise Conflict(
                "effective_date",
                "rebilled_once",
                f"{cmd.period} of {employee.employee_id} stood rebilled on {left_on}, "
                f"by a rebilling reversed since: date this one on or after that reversal",
            )
    minutes = month.minutes
    minimum = month.minimum_cents if month.minimum_cents is not None else state.minimum_on(end)
    assert minimum is not None, "hours are logged only after an engagement, which needs a minimum (carried with the hours)"
    if gross_cents * 60 < minimum * minutes:  # gross ÷ hours < minimum, compared exactly
        raise InvalidCommand(
            "gross_pay",
            "ethical_minimum",
            f"{format_minor(gross_cents, Unit.EUR)} EUR for {format_minor(minutes, Unit.HOUR)} worked is below the ethical "
            "minimum "
            f"of {format_minor(minimum, Unit.EUR)} EUR an hour",
        )
    cost = gross_cents + charges_cents + expenses_cents
    billed = allocate(cost, month.minutes_by_structure)
    structures = sorted(month.minutes_by_structure)
    role, eur, hour, who = coop.chart.role, Unit.EUR.value, Unit.HOUR.value, employee.employee_id
    lines = [
        [role("shared_wages"), None, eur, gross_cents],
        [role("shared_social_charges"), None, eur, charges_cents],
        [role("shared_expenses"), None, eur, expenses_cents],
        [role("shared_wages_payable"), who, eur, -(gross_cents + expenses_cents)],
        [role("shared_social_payable"), None, eur, -charges_cents],
        *([role("shared_rebill_receivable"), s, eur, billed[s]] for s in structures),
        [role("shared_rebill_income"), None, eur, -cost],
        [role("shared_hours_contra"), who, hour, minutes],
        *([role("shared_hours_to_rebill"), s, hour, -month.minutes_by_structure[s]] for s in structures),
    ]
    coop.record_entry(
        SharedHoursRebilled,
        effective_date=day,
        meta=meta,
        label=f"Refacturation au coût de {who} – {cmd.period}",
        postings=[line for line in lines if line[3] != 0],  # no zero lines: no charges, a share under a cent
        employee_id=who,
        period=cmd.period,
        minutes=minutes,
        gross_pay_cents=gross_cents,
        employer_charges_cents=charges_cents,
        expenses_cents=expenses_cents,
        cost_cents=cost,
        hourly_cost_rate=str(Fraction(cost * 60, minutes * 100)),
        shares=[[s, month.minutes_by_structure[s], billed[s]] for s in structures],
    )


FAMILY = register(
    Family(
        name="shared_hours",
        commands={
            SetEthicalMinimumRate: Handler(set_ethical_minimum_rate, STATUTES),
            EngageSharedEmployee: Handler(engage_shared_employee, STATUTES | FINANCIAL),
            LogSharedHours: Handler(log_shared_hours, CLERK),
            RebillSharedHours: Handler(rebill_shared_hours, FINANCIAL),
        },
        events={
            "EthicalMinimumRateSet": Fact("ethical_minimum_rate.set", "activities"),
            "SharedEmployeeEngaged": Fact("shared_employee.engaged", "activities"),
            "SharedHoursLogged": Fact("shared_hours.logged", "entries", journal="OD"),
            "SharedHoursRebilled": Fact("shared_hours.rebilled", "entries", journal="VT"),
            "EthicalMinimumRateCarried": Fact("ethical_minimum_rate.carried", "activities"),
            "SharedEmployeeCarried": Fact("shared_employee.carried", "activities"),
        },
        state=SharedHoursState,
        managed={
            "shared_hours_to_rebill": (LogSharedHours, RebillSharedHours),
            "shared_hours_contra": (LogSharedHours, RebillSharedHours),
        },
        carriers=("domain.shared_hours_carry:carry_shared_hours",),
        carry_order=90,
    )
)
