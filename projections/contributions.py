"""Read model of success contributions: pledges and, per declared year, the result, what was
called (rate × result rounded down to the cent, nothing on a loss) and what was paid. The
cooperation fund reads the years (projections/grants.py); the pledges are read by the tests only
(tests/views.py)."""

from __future__ import annotations

from domain.contributions import ContributionPaid, ContributionPledged, ContributionResultCancelled, ContributionResultDeclared
from domain.corrections import EntryReversed
from domain.funds_carry import ContributionPledgeCarried
from ledger.db import Tx
from projections.base import Projection


class ContributionsProjection(Projection):
    name = "contributions"
    tables = ("contribution_pledges", "contribution_years")
    handlers = {
        ContributionPledged: "pledged",
        ContributionResultDeclared: "declared",
        ContributionResultCancelled: "cancelled",
        ContributionPaid: "paid",
        EntryReversed: "reversed",
        ContributionPledgeCarried: "carried",
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
        tx.execute_one(
            "DELETE FROM contribution_years WHERE coop = ? AND pledge_id = ? AND year = ? AND paid_cents = 0",
            (e.coop, e.pledge_id, e.year),
        )

    def paid(self, tx: Tx, e: ContributionPaid, _seq: int) -> None:
        self._pay(tx, e.coop, e.pledge_id, e.year, e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, _seq: int) -> None:
        if e.reversed_kind == "ContributionPaid":
            effect = e.reversed_effect
            self._pay(tx, e.coop, effect["pledge_id"], effect["year"], -effect["amount_cents"])

    def _pay(self, tx: Tx, coop: str, pledge_id: str, year: int, amount: int) -> None:
        tx.execute_one(
            "UPDATE contribution_years SET paid_cents = paid_cents + ? WHERE coop = ? AND pledge_id = ? AND year = ?",
            (amount, coop, pledge_id, year),
        )
        called, paid = tx.execute(
            "SELECT called_cents, paid_cents FROM contribution_years WHERE coop = ? AND pledge_id = ? AND year = ?",
            (coop, pledge_id, year),
        )[0]
        assert 0 <= paid <= called, f"contribution {coop}/{pledge_id}/{year}: paid {paid} outside 0..{called}"
