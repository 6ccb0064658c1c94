"""Shared-employee hours carried by a federation (domain/federation_carry.py).

Hours logged and not yet rebilled are open items in unit HOUR: 841 per member structure (debit)
against 849 per employee (credit), the same numbers in both plans. The opening entry brings the
minutes; `SharedEmployeeCarried` rebuilds, in the federation on its date D, the employee with each
month still to rebill, minutes per structure and per day as they stood at the end of D-1, so that
RebillSharedHours rebills them there (once: rebilled_once) and LogSharedHours adds the days of D and
later to the running month (the 10-hour day and the 50 structures a month still hold).

The ethical minimum a month's rebilling must meet is the one in force at the month's end:
- a month that ended before D was worked for the founder: its minimum is the founder's at the
  month's end, carried with the month (MonthHours.minimum_cents), a fact the federation cannot change;
- the running month ends in the federation: its minimum is the federation's at its end.
So the founder's minimum in force on D-1 is carried too (`EthicalMinimumRateCarried`, dated D), and
founders carrying employees must have the same minimum (Conflict `same_ethical_minimum`: an employee
would otherwise be held to another floor by moving; set the same minimum before D).

Carried: each employee with a month still to rebill whose structures all move. A month with hours
for a structure that left the founder is not carried (it cannot be billed to a non-member): the
federation is then refused with `open_items_not_carried` on 841; rebill it in the founder first.
Employees with nothing to rebill stay behind (the federation engages them anew, at its minimum).
An employee id carried from two founders is refused (Conflict `unique_employee`). Employees are
parties on 849 and are renamed as the opening entry renames parties, so both agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import Conflict, InvalidCommand
from domain.events import CoopEvent
from domain.money import Unit, format_minor
from domain.personal import Personal
from domain.shared_hours import MAX_EMPLOYEES, last_day
from domain.shared_hours_state import MonthHours, SharedEmployee

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


class EthicalMinimumRateCarried(CoopEvent):
    """The ethical minimum in force in a founder the day before the federation, in force in the
    federation from its date."""

    hourly_rate_cents: int
    founder: str
    founder_effective_date: date  # when the founder set it

    def apply(self, coop: Cooperative) -> None:
        assert not coop.shared_hours.minimum_rates, "a minimum carried into a federation that has one"
        coop.shared_hours.minimum_rates.append((self.effective_date, self.hourly_rate_cents))


class SharedEmployeeCarried(CoopEvent):
    """A founder's shared employee with the months still to rebill. No entry: the minutes arrive
    on 841/849 with the founder's opening entry; RebillSharedHours rebills them from here."""

    # employee_id is the federation's (the founder's, renamed as its opening entry renames parties)
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("employee_id", ("name",)),)
    employee_id: str
    name: str
    hourly_pay_cents: int
    founder: str
    founder_employee_id: str
    founder_engaged_on: date
    # [{"period": "YYYY-MM", "structures": [[structure_id, minutes], ...], "days": [[day of month, minutes], ...],
    #   "minimum_cents": the founder's minimum at the month's end for a month over before the federation, else None}]
    months: list[dict[str, Any]]

    def apply(self, coop: Cooperative) -> None:
        state = coop.shared_hours
        assert self.employee_id not in state.employees, f"shared employee {self.employee_id} carried twice"
        employee = SharedEmployee(self.employee_id, self.name, self.hourly_pay_cents, self.effective_date)
        for m in self.months:
            month = MonthHours(
                {s: n for s, n in m["structures"]},
                {d: n for d, n in m["days"]},
                minimum_cents=m["minimum_cents"],
                to_rebill={s: [(self.effective_date, n)] for s, n in m["structures"]},
            )  # to rebill here from D on
            assert month.minutes > 0 and month.minutes == sum(month.minutes_by_day.values()), f"carried month {m} does not add up"
            employee.months[m["period"]] = month
        state.employees[self.employee_id] = employee


def _open_months(ctx: CarryContext, employee: SharedEmployee, moving: set[str]) -> list[dict[str, Any]]:
    """The employee's months still to rebill whose structures all move, as carried."""
    months = []
    for period, month in sorted(employee.months.items()):
        if month.rebilled or month.minutes == 0 or not set(month.minutes_by_structure) <= moving:
            continue
        end = last_day(period)
        minimum = ctx.founder.shared_hours.minimum_on(end) if end < ctx.day else None
        assert end >= ctx.day or minimum is not None, "hours are logged after an engagement, which needs a minimum"
        months.append(
            {
                "period": period,
                "minimum_cents": minimum,
                "structures": [[s, n] for s, n in sorted(month.minutes_by_structure.items()) if n],
                "days": [[d, n] for d, n in sorted(month.minutes_by_day.items()) if n],
            }
        )
    return months


def _carry_minimum(ctx: CarryContext) -> None:
    rates = ctx.founder.shared_hours.minimum_rates
    assert rates, "an employee is engaged under a minimum"
    since, cents = rates[-1]  # all dated before D: the minimum in force on D-1
    carried = ctx.new.shared_hours.minimum_rates
    if not carried:
        ctx.new.record(
            EthicalMinimumRateCarried,
            effective_date=ctx.day,
            meta=ctx.meta,
            hourly_rate_cents=cents,
            founder=ctx.founder_slug,
            founder_effective_date=since,
        )
    elif carried[-1][1] != cents:
        raise Conflict(
            ctx.field,
            "same_ethical_minimum",
            f"{ctx.founder_slug}'s ethical minimum ({format_minor(cents, Unit.EUR)} EUR an hour) differs from the one "
            f"another founder carries into {ctx.new.slug} ({format_minor(carried[-1][1], Unit.EUR)} EUR): its shared "
            "employees would be held to another floor; set the same minimum in the founders before the federation date",
        )


def carry_shared_hours(ctx: CarryContext) -> Carried:
    """Carries the founder's shared employees with hours still to rebill (module docstring);
    returns the minutes per structure on 841 and per employee on 849."""
    founder, new, day = ctx.founder, ctx.new, ctx.day
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    employees = [(e, _open_months(ctx, e, moving)) for _id, e in sorted(founder.shared_hours.employees.items())]
    employees = [(e, months) for e, months in employees if months]
    if not employees:
        return {}
    to_rebill, contra = founder.chart.role("shared_hours_to_rebill"), founder.chart.role("shared_hours_contra")
    assert (to_rebill, contra) == (new.chart.role("shared_hours_to_rebill"), new.chart.role("shared_hours_contra")), (
        "841/849 in both plans"
    )
    _carry_minimum(ctx)
    carried: dict[tuple[str, str | None, str], int] = {}
    hour = Unit.HOUR.value
    for employee, months in employees:
        employee_id = ctx.party(employee.employee_id)
        if employee_id in new.shared_hours.employees:
            raise Conflict(
                ctx.field,
                "unique_employee",
                f"{ctx.founder_slug}'s shared employee {employee_id!r} has the id of an "
                f"employee another founder carries into {new.slug}: one account on {contra} would mix their hours; "
                "rebill one founder's hours before the federation date",
            )
        if len(new.shared_hours.employees) >= MAX_EMPLOYEES:
            raise InvalidCommand(ctx.field, "max_employees", f"the founders carry more than {MAX_EMPLOYEES} shared employees")
        new.record(
            SharedEmployeeCarried,
            effective_date=day,
            meta=ctx.meta,
            employee_id=employee_id,
            name=employee.name,
            hourly_pay_cents=employee.hourly_pay_cents,
            founder=ctx.founder_slug,
            founder_employee_id=employee.employee_id,
            founder_engaged_on=employee.engaged_on,
            months=[{**m, "structures": [[ctx.party(s), n] for s, n in m["structures"]]} for m in months],
        )
        for month in months:
            for structure, minutes in month["structures"]:
                carried[(to_rebill, structure, hour)] = carried.get((to_rebill, structure, hour), 0) + minutes
                carried[(contra, employee.employee_id, hour)] = carried.get((contra, employee.employee_id, hour), 0) - minutes
    return carried
