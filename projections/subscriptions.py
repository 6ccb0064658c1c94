"""Read model of subscriptions: plans, subscriptions, bills per period, and what members owe
on any date (dated moves: bills, payments and their reversals).

A subscription carried by a federation (domain/receivables_carry.py) is listed with every bill
as it stood in its founder: the founder's billing date, the plan's fixed part and the rest as the
revenue share (the declared revenue stays in the founder's books: NULL here); what was billed
and paid on its bills is one move (period "") on the federation date, so what a member owes here
matches 411. No route or report reads these tables yet: the tests check them through tests/views.py."""

from __future__ import annotations

from datetime import date

from domain.corrections import EntryReversed
from domain.receivables_carry import SubscriptionCarried, SubscriptionPlanCarried
from domain.subscriptions import (
    SubscriptionBilled,
    SubscriptionCancelled,
    SubscriptionPaid,
    SubscriptionPlanDefined,
    SubscriptionStarted,
    period_range,
)
from ledger.db import Tx
from projections.base import Projection

_OWN_ENTRIES = {"SubscriptionBilled", "SubscriptionPaid"}


class SubscriptionsProjection(Projection):
    name = "subscriptions"
    tables = ("subscription_plans", "subscriptions", "subscription_bills", "subscription_moves")
    handlers = {
        SubscriptionPlanDefined: "plan_defined",
        SubscriptionStarted: "started",
        SubscriptionCancelled: "cancelled",
        SubscriptionBilled: "billed",
        SubscriptionPaid: "paid",
        SubscriptionPlanCarried: "plan_defined",
        SubscriptionCarried: "carried",
        EntryReversed: "reversed",
    }

    def plan_defined(self, tx: Tx, e: SubscriptionPlanDefined | SubscriptionPlanCarried, _seq: int) -> None:
        tx.execute(
            "INSERT INTO subscription_plans (coop, plan_id, name, plan_kind, period, fixed_cents, revenue_rate, defined_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.plan_id, e.name, e.plan_kind, e.period, e.fixed_cents, e.revenue_rate, e.effective_date.isoformat()),
        )

    def started(self, tx: Tx, e: SubscriptionStarted, _seq: int) -> None:
        tx.execute(
            "INSERT INTO subscriptions (coop, subscription_id, member_id, plan_id, starts_on, ends_on, cancel_reason)"
            " VALUES (?, ?, ?, ?, ?, NULL, NULL)",
            (e.coop, e.subscription_id, e.member_id, e.plan_id, e.effective_date.isoformat()),
        )

    def carried(self, tx: Tx, e: SubscriptionCarried, seq: int) -> None:
        tx.execute(
            "INSERT INTO subscriptions (coop, subscription_id, member_id, plan_id, starts_on, ends_on, cancel_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (
                e.coop,
                e.subscription_id,
                e.member_id,
                e.plan_id,
                e.starts_on.isoformat(),
                e.ends_on.isoformat() if e.ends_on else None,
            ),
        )
        plan = tx.execute(
            "SELECT period, fixed_cents FROM subscription_plans WHERE coop = ? AND plan_id = ?", (e.coop, e.plan_id)
        )
        assert plan, f"carried subscription {e.coop} {e.subscription_id} of an unknown plan"
        period, fixed = plan[0][0], int(plan[0][1])
        for bill in e.bills:
            first, after = period_range(period, bill["period"])
            amount, paid = bill["amount_cents"], bill["paid_cents"]
            assert 0 < amount and fixed <= amount and 0 <= paid <= amount, (
                f"carried bill {e.subscription_id} {bill} does not add up"
            )
            tx.execute(
                "INSERT INTO subscription_bills (coop, subscription_id, period, member_id, period_start, period_end, billed_on,"
                " declared_revenue_cents, fixed_cents, revenue_share_cents, amount_cents, paid_cents)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                (
                    e.coop,
                    e.subscription_id,
                    bill["period"],
                    e.member_id,
                    first.isoformat(),
                    after.isoformat(),
                    bill["billed_on"],
                    fixed,
                    amount - fixed,
                    amount,
                    paid,
                ),
            )
        if e.bills:  # one move per event (its position keys it): every carried bill, period ""
            billed, paid = sum(b["amount_cents"] for b in e.bills), sum(b["paid_cents"] for b in e.bills)
            self._move(tx, e.coop, seq, e.subscription_id, "", e.member_id, e.effective_date, billed, paid)

    def cancelled(self, tx: Tx, e: SubscriptionCancelled, _seq: int) -> None:
        tx.execute_one(
            "UPDATE subscriptions SET ends_on = ?, cancel_reason = ? WHERE coop = ? AND subscription_id = ? AND ends_on IS NULL",
            (e.effective_date.isoformat(), e.reason, e.coop, e.subscription_id),
        )

    def billed(self, tx: Tx, e: SubscriptionBilled, seq: int) -> None:
        period = tx.execute(
            "SELECT p.period FROM subscriptions s JOIN subscription_plans p ON p.coop = s.coop AND p.plan_id = s.plan_id"
            " WHERE s.coop = ? AND s.subscription_id = ?",
            (e.coop, e.subscription_id),
        )
        assert period, f"bill of an unknown subscription {e.coop} {e.subscription_id}"
        first, after = period_range(period[0][0], e.period)
        assert e.fixed_cents + e.revenue_share_cents == e.amount_cents > 0, f"bill {e.subscription_id} {e.period} does not add up"
        tx.execute(
            "INSERT INTO subscription_bills (coop, subscription_id, period, member_id, period_start, period_end, billed_on,"
            " declared_revenue_cents, fixed_cents, revenue_share_cents, amount_cents, paid_cents) VALUES (?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, 0)",
            (
                e.coop,
                e.subscription_id,
                e.period,
                e.member_id,
                first.isoformat(),
                after.isoformat(),
                e.effective_date.isoformat(),
                e.declared_revenue_cents,
                e.fixed_cents,
                e.revenue_share_cents,
                e.amount_cents,
            ),
        )
        self._move(tx, e.coop, seq, e.subscription_id, e.period, e.member_id, e.effective_date, e.amount_cents, 0)

    def paid(self, tx: Tx, e: SubscriptionPaid, seq: int) -> None:
        self._pay(tx, e.coop, e.subscription_id, e.period, e.amount_cents)
        self._move(tx, e.coop, seq, e.subscription_id, e.period, e.member_id, e.effective_date, 0, e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        if e.reversed_kind not in _OWN_ENTRIES:
            return
        effect = e.reversed_effect
        key = (e.coop, effect["subscription_id"], effect["period"])
        found = tx.execute("SELECT member_id FROM subscription_bills WHERE coop = ? AND subscription_id = ? AND period = ?", key)
        assert found, f"reversal {e.journal_number} of a bill not projected: {key}"
        member_id, cents = found[0][0], effect["amount_cents"]
        if e.reversed_kind == "SubscriptionPaid":
            self._pay(tx, *key, -cents)
            self._move(tx, e.coop, seq, key[1], key[2], member_id, e.effective_date, 0, -cents)
        else:
            tx.execute_one(
                "DELETE FROM subscription_bills WHERE coop = ? AND subscription_id = ? AND period = ? AND paid_cents = 0", key
            )
            self._move(tx, e.coop, seq, key[1], key[2], member_id, e.effective_date, -cents, 0)

    def _pay(self, tx: Tx, coop: str, subscription_id: str, period: str, cents: int) -> None:
        key = (coop, subscription_id, period)
        rows = tx.execute(
            "SELECT amount_cents, paid_cents FROM subscription_bills WHERE coop = ? AND subscription_id = ? AND period = ?", key
        )
        assert rows, f"payment of a bill not projected: {key}"
        amount, paid = rows[0]
        assert 0 <= paid + cents <= amount, f"bill {key}: paid {paid + cents} outside 0..{amount}"
        tx.execute_one(
            "UPDATE subscription_bills SET paid_cents = ? WHERE coop = ? AND subscription_id = ? AND period = ?",
            (paid + cents, *key),
        )

    def _move(
        self, tx: Tx, coop: str, seq: int, subscription_id: str, period: str, member_id: str, day: date, billed: int, paid: int
    ) -> None:
        tx.execute(
            "INSERT INTO subscription_moves (coop, seq, subscription_id, period, member_id, day, billed_cents, paid_cents)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (coop, seq, subscription_id, period, member_id, day.isoformat(), billed, paid),
        )
