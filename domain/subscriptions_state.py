"""The state of the subscriptions family (domain/subscriptions.py), kept on the Cooperative
aggregate: the plans as defined, and each subscription with its bills and their dated payments;
and the events that build it, which are its only writers. The commands and deciders that record
these events are in domain/subscriptions.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass
class Bill:
    """A period's bill; its payments are dated movements (a reversed payment adds a negative one),
    so a back-dated payment or reversal is judged on every later date."""

    billed_on: date
    amount_cents: int
    payments: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents paid)

    @property
    def paid_cents(self) -> int:
        return sum(cents for _day, cents in self.payments)

    def unpaid_from(self, day: date) -> tuple[int, date]:
        """The least still due (billed - paid) on `day` and on every later recorded date, and when."""
        return FinancialEvent.lowest_from(
            [(self.billed_on, self.amount_cents), *((on, -cents) for on, cents in self.payments)], day
        )


@dataclass
class Subscription:
    subscription_id: str
    member_id: str
    plan_id: str
    starts_on: date
    ends_on: date | None = None  # first day no longer covered, once cancelled
    bills: dict[str, Bill] = field(default_factory=dict)  # period label -> bill


@dataclass
class SubscriptionsState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""

    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # plan_id -> the plan as defined
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    def subscription(self, subscription_id: Any) -> Subscription:
        try:
            return self.subscriptions[subscription_id]
        except (KeyError, TypeError):
            raise NotFound("subscription_id", "known_subscription", f"no subscription {subscription_id!r}") from None


# ---------------------------------------------------------------- events


class SubscriptionPlanDefined(CoopEvent):
    plan_id: str
    name: str
    plan_kind: str
    period: str
    fixed_cents: int
    revenue_rate: str  # exact fraction as text, "1/20"

    def apply(self, coop: Cooperative) -> None:
        coop.subscriptions.plans[self.plan_id] = {
            "plan_id": self.plan_id,
            "name": self.name,
            "kind": self.plan_kind,
            "period": self.period,
            "fixed_cents": self.fixed_cents,
            "revenue_rate": self.revenue_rate,
            "defined_on": self.effective_date,
        }


class SubscriptionStarted(CoopEvent):
    subscription_id: str
    member_id: str
    plan_id: str

    def apply(self, coop: Cooperative) -> None:
        subscription = Subscription(self.subscription_id, self.member_id, self.plan_id, self.effective_date)
        coop.subscriptions.subscriptions[self.subscription_id] = subscription


class SubscriptionCancelled(CoopEvent):
    subscription_id: str
    member_id: str
    reason: str

    def apply(self, coop: Cooperative) -> None:
        coop.subscriptions.subscriptions[self.subscription_id].ends_on = self.effective_date


class SubscriptionBilled(FinancialEvent):
    subscription_id: str
    member_id: str
    plan_id: str
    period: str
    declared_revenue_cents: int | None  # None for a project-holder plan
    fixed_cents: int
    revenue_share_cents: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"subscription_id": self.subscription_id, "period": self.period, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        bills = coop.subscriptions.subscriptions[effect["subscription_id"]].bills
        if sign > 0:
            assert effect["period"] not in bills, f"period {effect['period']} billed twice"
            bills[effect["period"]] = Bill(day, effect["amount_cents"])
        else:
            bill = bills.pop(effect["period"])
            assert bill.amount_cents == effect["amount_cents"] and bill.paid_cents == 0, f"reversed bill {bill} does not match"

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Nothing may be paid on the bill on `day` or on any later recorded date: a payment made
        after `day` and refunded since was a payment of nothing billed while it stood."""
        bill = coop.subscriptions.subscriptions[effect["subscription_id"]].bills[effect["period"]]
        unpaid, unpaid_on = bill.unpaid_from(day)
        if unpaid < bill.amount_cents:
            paid = bill.amount_cents - unpaid
            raise InvalidCommand(
                "entry_number",
                "bill_unpaid",
                f"period {effect['period']} of {effect['subscription_id']} has {format_minor(paid, Unit.EUR)} EUR paid "
                f"on {unpaid_on} (this reversal counts from {day}): reverse those payments first, "
                "or date this after their reversal",
            )


class SubscriptionPaid(FinancialEvent):
    subscription_id: str
    member_id: str
    period: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"subscription_id": self.subscription_id, "period": self.period, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        """A payment's reversal (dated on or after it) takes back only what it added: paid stays
        within 0..billed on every date, nothing to check."""
        bill = coop.subscriptions.subscriptions[effect["subscription_id"]].bills[effect["period"]]
        bill.payments.append((day, sign * effect["amount_cents"]))
        assert 0 <= bill.paid_cents <= bill.amount_cents, f"bill {bill} paid outside 0..billed"
