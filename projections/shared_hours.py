"""Shared-employee hours: minimum rates, employees, hours logged per structure and month, and
each rebilling with its shares. A reversed rebilling stays listed with `reversed_by` set, so
the month can be rebilled again and both appear; totals count only rebillings in force. An
employee carried by a federation (domain/shared_hours_carry.py) is engaged on its date, with the
minutes its months still to rebill held, as logged hours of those months.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.shared_hours import EthicalMinimumRateSet, SharedEmployeeEngaged, SharedHoursLogged, SharedHoursRebilled, period_of
from domain.shared_hours_carry import EthicalMinimumRateCarried, SharedEmployeeCarried
from ledger.db import Database, Tx
from projections.base import Projection


class SharedHoursProjection(Projection):
    name = "shared_hours"
    tables = ("shared_minimum_rates", "shared_employees", "shared_hours", "shared_rebills", "shared_rebill_lines")
    identity_columns = (("shared_employees", "employee_id", ("name",)),)

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        # Hours logged are summed per batch: one upsert per employee, structure and month.
        logged: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for seq, e in batch:
            if isinstance(e, SharedHoursLogged):
                logged[(e.coop, e.employee_id, e.structure_id, e.period)] += e.minutes
            elif isinstance(e, SharedEmployeeCarried):
                self._employee(tx, e)
                for month in e.months:
                    for structure, minutes in month["structures"]:
                        logged[(e.coop, e.employee_id, structure, month["period"])] += minutes
            elif isinstance(e, (EthicalMinimumRateSet, EthicalMinimumRateCarried)):
                tx.execute(
                    "INSERT INTO shared_minimum_rates (coop, seq, effective_date, hourly_rate_cents) VALUES (?, ?, ?, ?)",
                    (e.coop, seq, e.effective_date.isoformat(), e.hourly_rate_cents),
                )
            elif isinstance(e, SharedEmployeeEngaged):
                self._employee(tx, e)
            elif isinstance(e, SharedHoursRebilled):
                self._rebilled(tx, e)
            elif isinstance(e, EntryReversed) and e.reversed_kind == "SharedHoursLogged":
                effect = e.reversed_effect
                period = period_of(date.fromisoformat(effect["day"]))
                logged[(e.coop, effect["employee_id"], effect["structure_id"], period)] -= effect["minutes"]
            elif isinstance(e, EntryReversed) and e.reversed_kind == "SharedHoursRebilled":
                tx.execute_one(
                    "UPDATE shared_rebills SET reversed_by = ? WHERE coop = ? AND number = ? AND reversed_by IS NULL",
                    (e.journal_number, e.coop, e.reverses),
                )
        tx.executemany(
            "INSERT INTO shared_hours (coop, employee_id, structure_id, period, logged_minutes) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (coop, employee_id, structure_id, period) DO UPDATE SET"
            " logged_minutes = shared_hours.logged_minutes + excluded.logged_minutes",
            [(*key, minutes) for key, minutes in logged.items()],
        )
        for coop in sorted({key[0] for key in logged}):
            negative = tx.execute(
                "SELECT employee_id, structure_id, period FROM shared_hours WHERE coop = ? AND logged_minutes < 0 LIMIT 5",
                (coop,),
            )
            if negative:
                raise IntegrityViolation(f"{coop}: hours logged below zero for {negative}")

    def _employee(self, tx: Tx, e: SharedEmployeeEngaged | SharedEmployeeCarried) -> None:
        tx.execute(
            "INSERT INTO shared_employees (coop, employee_id, name, hourly_pay_cents, engaged_on) VALUES (?, ?, ?, ?, ?)",
            (e.coop, e.employee_id, e.name, e.hourly_pay_cents, e.effective_date.isoformat()),
        )

    def _rebilled(self, tx: Tx, e: SharedHoursRebilled) -> None:
        billed = sum(cents for _s, _m, cents in e.shares)
        minutes = sum(m for _s, m, _c in e.shares)
        if (billed, minutes) != (
            e.cost_cents,
            e.minutes,
        ) or e.cost_cents != e.gross_pay_cents + e.employer_charges_cents + e.expenses_cents:
            raise IntegrityViolation(f"{e.coop}: rebilling {e.journal_number} bills {billed} cents for a cost of {e.cost_cents}")
        tx.execute(
            "INSERT INTO shared_rebills (coop, number, employee_id, period, effective_date, minutes, gross_pay_cents,"
            " employer_charges_cents, expenses_cents, cost_cents, hourly_cost_rate, reversed_by) VALUES (?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, NULL)",
            (
                e.coop,
                e.journal_number,
                e.employee_id,
                e.period,
                e.effective_date.isoformat(),
                e.minutes,
                e.gross_pay_cents,
                e.employer_charges_cents,
                e.expenses_cents,
                e.cost_cents,
                e.hourly_cost_rate,
            ),
        )
        tx.executemany(
            "INSERT INTO shared_rebill_lines (coop, number, structure_id, minutes, billed_cents) VALUES (?, ?, ?, ?, ?)",
            [(e.coop, e.journal_number, structure, m, cents) for structure, m, cents in e.shares],
        )


# ---------------------------------------------------------------- reading


def hours_by_structure(db: Database, coop: str, *, period: str | None = None) -> list[dict[str, Any]]:
    """Per member structure (one month, or all): minutes logged, minutes rebilled and cents billed
    by the rebillings in force, minutes still to rebill."""
    month = " AND period = ?" if period else ""
    params: tuple[Any, ...] = (coop, period) if period else (coop,)
    with db.read() as tx:
        logged = tx.execute(
            f"SELECT structure_id, SUM(logged_minutes) FROM shared_hours WHERE coop = ?{month} GROUP BY structure_id",
            params,  # noqa: S608
        )
        rebilled = tx.execute(
            "SELECT l.structure_id, SUM(l.minutes), SUM(l.billed_cents) FROM shared_rebill_lines l JOIN shared_rebills r"
            " ON r.coop = l.coop AND r.number = l.number WHERE r.coop = ? AND r.reversed_by IS NULL"
            f"{month.replace('period', 'r.period')} GROUP BY l.structure_id",  # noqa: S608
            params,
        )
    rows: dict[str, dict[str, Any]] = {}
    for structure, minutes in logged:
        rows[structure] = {"structure_id": structure, "logged_minutes": int(minutes), "rebilled_minutes": 0, "billed_cents": 0}
    for structure, minutes, cents in rebilled:
        row = rows.get(structure)
        if row is None or int(minutes) > row["logged_minutes"]:
            raise IntegrityViolation(f"{coop}: {structure} is rebilled for more minutes than it logged")
        row.update(rebilled_minutes=int(minutes), billed_cents=int(cents))
    for row in rows.values():
        row["to_rebill_minutes"] = row["logged_minutes"] - row["rebilled_minutes"]
    return [rows[s] for s in sorted(rows) if rows[s]["logged_minutes"] or rows[s]["billed_cents"]]
