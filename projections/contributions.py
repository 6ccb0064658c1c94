"""Read model of success contributions: pledges and, per declared year, the result, what was
called (rate × result rounded down to the cent, nothing on a loss) and what was paid."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

from domain.contributions import (
    ContributionPaid,
    ContributionPledged,
    ContributionResultCancelled,
    ContributionResultDeclared,
    contribution_due_cents,
)
from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.funds_carry import ContributionPledgeCarried
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000


class ContributionsProjection(Projection):
    name = "contributions"
    tables = ("contribution_pledges", "contribution_years")
    handlers = {
        ContributionPledged: "pledged", ContributionResultDeclared: "declared", ContributionResultCancelled: "cancelled",
        ContributionPaid: "paid", EntryReversed: "reversed", ContributionPledgeCarried: "carried",
    }

    def pledged(self, tx: Tx, e: ContributionPledged, _seq: int) -> None:
        tx.execute(
            "INSERT INTO contribution_pledges (coop, pledge_id, member_id, rate_percent, first_year, years, pledged_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.pledge_id, e.member_id, e.rate_percent, e.first_year, e.years, e.effective_date.isoformat()),
        )

    def carried(self, tx: Tx, e: ContributionPledgeCarried, _seq: int) -> None:
        """A founder's pledge carried by a federation: pledged and declared on its date here."""
        day = e.effective_date.isoformat()
        tx.execute(
            "INSERT INTO contribution_pledges (coop, pledge_id, member_id, rate_percent, first_year, years, pledged_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.pledge_id, e.member_id, e.rate_percent, e.first_year, e.years, day),
        )
        tx.executemany(
            "INSERT INTO contribution_years (coop, pledge_id, year, result_cents, called_cents, paid_cents, declared_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e.coop, e.pledge_id, y["year"], y["result_cents"], y["called_cents"], y["paid_cents"], day) for y in e.declared],
        )

    def declared(self, tx: Tx, e: ContributionResultDeclared, _seq: int) -> None:
        tx.execute(
            "INSERT INTO contribution_years (coop, pledge_id, year, result_cents, called_cents, paid_cents, declared_on)"
            " VALUES (?, ?, ?, ?, ?, 0, ?)",
            (e.coop, e.pledge_id, e.year, e.result_cents, e.called_cents, e.effective_date.isoformat()),
        )

    def cancelled(self, tx: Tx, e: ContributionResultCancelled, _seq: int) -> None:
        tx.execute_one("DELETE FROM contribution_years WHERE coop = ? AND pledge_id = ? AND year = ? AND paid_cents = 0",
                       (e.coop, e.pledge_id, e.year))

    def paid(self, tx: Tx, e: ContributionPaid, _seq: int) -> None:
        self._pay(tx, e.coop, e.pledge_id, e.year, e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, _seq: int) -> None:
        if e.reversed_kind == "ContributionPaid":
            effect = e.reversed_effect
            self._pay(tx, e.coop, effect["pledge_id"], effect["year"], -effect["amount_cents"])

    def _pay(self, tx: Tx, coop: str, pledge_id: str, year: int, amount: int) -> None:
        tx.execute_one("UPDATE contribution_years SET paid_cents = paid_cents + ? WHERE coop = ? AND pledge_id = ? AND year = ?",
                       (amount, coop, pledge_id, year))
        called, paid = tx.execute("SELECT called_cents, paid_cents FROM contribution_years WHERE coop = ? AND pledge_id = ? AND year = ?",
                                  (coop, pledge_id, year))[0]
        assert 0 <= paid <= called, f"contribution {coop}/{pledge_id}/{year}: paid {paid} outside 0..{called}"


# ---------------------------------------------------------------- reading


def contribution_pledges(db: Database, coop: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Pledges by pledge_id after `after`, each with its declared years (at most 10) and totals."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        pledges = tx.execute(
            "SELECT pledge_id, member_id, rate_percent, first_year, years, pledged_on FROM contribution_pledges"
            " WHERE coop = ? AND pledge_id > ? ORDER BY pledge_id LIMIT ?",
            (coop, after, limit),
        )
        last = pledges[-1][0] if pledges else after
        years = tx.execute(
            "SELECT pledge_id, year, result_cents, called_cents, paid_cents, declared_on FROM contribution_years"
            " WHERE coop = ? AND pledge_id > ? AND pledge_id <= ? ORDER BY pledge_id, year",
            (coop, after, last),
        )
    by_pledge: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pledge_id, year, result, called, paid, declared_on in years:
        by_pledge[pledge_id].append({"year": int(year), "result_cents": int(result), "called_cents": int(called),
                                     "paid_cents": int(paid), "due_cents": int(called) - int(paid), "declared_on": declared_on})
    result = []
    for pledge_id, member_id, rate, first_year, n_years, pledged_on in pledges:
        declared = by_pledge[pledge_id]
        for y in declared:  # cheap: the rounding rule, checked again on read
            if y["called_cents"] != contribution_due_cents(Fraction(rate), y["result_cents"]) or not 0 <= y["paid_cents"] <= y["called_cents"]:
                raise IntegrityViolation(f"{coop}: pledge {pledge_id} year {y['year']} breaks the contribution rules")
        result.append({
            "coop": coop, "pledge_id": pledge_id, "member_id": member_id, "rate_percent": rate, "first_year": int(first_year),
            "last_year": int(first_year) + int(n_years) - 1, "pledged_on": pledged_on, "years": declared,
            "called_cents": sum(y["called_cents"] for y in declared), "paid_cents": sum(y["paid_cents"] for y in declared),
        })
    return result
