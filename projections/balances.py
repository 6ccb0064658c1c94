"""Balances per account × party × unit, by day, so any as-of date is a sum over days.

The trial balance sums to zero per unit; that is asserted on every read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.errors import IntegrityViolation
from domain.events import FinancialEvent
from ledger.db import Database, Tx
from projections.base import Projection


class BalancesProjection(Projection):
    name = "balances"
    tables = ("account_balances_by_day",)

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        # Sum the batch in memory first: a rebuild then writes one row per (account, day)
        # instead of one per posting.
        deltas: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for _position, e in batch:
            if not isinstance(e, FinancialEvent):
                continue
            day = e.effective_date.isoformat()
            for account, party, unit, amount in e.postings:
                cell = deltas[(e.coop, account, party or "", unit, day)]
                if amount > 0:
                    cell[0] += amount
                else:
                    cell[1] -= amount
        tx.executemany(
            "INSERT INTO account_balances_by_day (coop, account, party, unit, day, debit, credit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (coop, account, party, unit, day) DO UPDATE SET"
            " debit = account_balances_by_day.debit + excluded.debit,"
            " credit = account_balances_by_day.credit + excluded.credit",
            [(*key, debit, credit) for key, (debit, credit) in deltas.items()],
        )


def trial_balance(db: Database, coop: str, *, as_of: date | None = None) -> dict[str, Any]:
    """Debit, credit and balance totals per account and unit as of a date (inclusive)."""
    day = (as_of or date.max).isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT b.account, b.unit, SUM(b.debit), SUM(b.credit), a.label_fr, a.label_en"
            " FROM account_balances_by_day b LEFT JOIN accounts a ON a.coop = b.coop AND a.number = b.account"
            " WHERE b.coop = ? AND b.day <= ? GROUP BY b.account, b.unit, a.label_fr, a.label_en"
            " ORDER BY b.unit, b.account",
            (coop, day),
        )
    accounts = []
    totals: dict[str, dict[str, int]] = {}
    for account, unit, debit, credit, label_fr, label_en in rows:
        debit, credit = int(debit), int(credit)
        accounts.append({
            "account": account, "label_fr": label_fr, "label_en": label_en, "unit": unit,
            "debit": debit, "credit": credit, "balance": debit - credit,
        })
        t = totals.setdefault(unit, {"debit": 0, "credit": 0})
        t["debit"] += debit
        t["credit"] += credit
    for unit, t in totals.items():
        if t["debit"] != t["credit"]:
            raise IntegrityViolation(f"{coop}: trial balance in {unit} does not balance: {t}")
    return {"coop": coop, "as_of": as_of.isoformat() if as_of else None, "accounts": accounts, "totals": totals}


def account_balance(
    db: Database, coop: str, account: str, *, party: str | None = None, unit: str = "EUR", as_of: date | None = None
) -> int:
    """Balance (debit − credit, minor units) of an account, optionally one party's, as of a date."""
    day = (as_of or date.max).isoformat()
    sql = "SELECT COALESCE(SUM(debit - credit), 0) FROM account_balances_by_day WHERE coop = ? AND account = ? AND unit = ? AND day <= ?"
    params: list[Any] = [coop, account, unit, day]
    if party is not None:
        sql += " AND party = ?"
        params.append(party)
    with db.read() as tx:
        return int(tx.execute(sql, params)[0][0])
