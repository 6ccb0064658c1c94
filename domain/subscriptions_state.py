"""The state of the subscriptions family (domain/subscriptions.py), kept on the Cooperative
aggregate: the plans as defined, and each subscription with its bills and their dated payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.events import FinancialEvent


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
