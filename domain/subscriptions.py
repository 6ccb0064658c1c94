"""Subscriptions: plans defined by the cooperative, members subscribed to a plan, each period
billed once, then paid in parts; never more than billed.

A provider plan bills a fixed part per period plus a share (the plan's revenue rate) of the
revenue the provider declares it generated on the platform in that period; a project-holder
plan bills its fixed part only. Periods are calendar periods named by their label:
"2026-03" (monthly), "2026-Q1" (quarterly), "2026" (yearly).

Rounding rule: revenue share = declared revenue × rate, rounded to the nearest cent, halves
rounded up (all amounts are positive, so "up" is away from zero). The bill is fixed part +
revenue share, exactly; nothing else is rounded. A period overlapping the subscription is
billed in full (no pro rata): a subscription starting on 15 March owes March's fixed part.

Postings: members_receivable (411, party = member) against subscription_income (706); a
payment: bank (512) against members_receivable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.membership import check_member_on
from domain.money import EurosIn, RateIn, Unit, format_minor, parse_rate, share_half_up, to_minor
from domain.roles import FINANCIAL, MEMBERSHIP, STATUTES
from domain.rules import identifier, not_before, text
from domain.subscriptions_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    Bill,
    Subscription,
    SubscriptionBilled,
    SubscriptionCancelled,
    SubscriptionPaid,
    SubscriptionPlanDefined,
    SubscriptionsState,
    SubscriptionStarted,
)

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

PLAN_KINDS = ("provider", "project_holder")
PERIODS = ("monthly", "quarterly", "yearly")
_LABELS = {
    "monthly": (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), '"2026-03"'),
    "quarterly": (re.compile(r"^(\d{4})-Q([1-4])$"), '"2026-Q1"'),
    "yearly": (re.compile(r"^(\d{4})$"), '"2026"'),
}


# ---------------------------------------------------------------- periods


def period_range(period: str, label: Any, field: str = "period") -> tuple[date, date]:
    """[first day, first day after) of a calendar period named by its label."""
    pattern, example = _LABELS[period]
    match = pattern.match(label) if isinstance(label, str) else None
    if match is None or not 1901 <= int(match.group(1)) <= 2199:
        raise InvalidCommand(field, "period_label", f"{label!r} is not a {period} period label such as {example}")
    year = int(match.group(1))
    if period == "yearly":
        return date(year, 1, 1), date(year + 1, 1, 1)
    first_month = int(match.group(2)) if period == "monthly" else 3 * int(match.group(2)) - 2
    months = 1 if period == "monthly" else 3
    end_year, end_month = divmod(first_month - 1 + months, 12)
    return date(year, first_month, 1), date(year + end_year, end_month + 1, 1)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class DefineSubscriptionPlan:
    coop: str
    plan_id: str
    name: str
    kind: str  # provider | project_holder
    period: str  # monthly | quarterly | yearly
    fixed_amount: EurosIn  # per period, 0 allowed for a provider plan with a revenue rate
    effective_date: date
    revenue_rate: RateIn = "0"  # share of the declared revenue, provider plans only


@dataclass(frozen=True)
class StartSubscription:
    coop: str
    subscription_id: str
    member_id: str
    plan_id: str
    effective_date: date  # the first day covered


@dataclass(frozen=True)
class CancelSubscription:
    coop: str
    subscription_id: str
    effective_date: date  # the first day no longer covered
    reason: str


@dataclass(frozen=True)
class BillSubscription:
    coop: str
    subscription_id: str
    period: str  # "2026-03", "2026-Q1" or "2026", as the plan's period
    effective_date: date
    declared_revenue: EurosIn | None = None  # required for provider plans only


@dataclass(frozen=True)
class PaySubscription:
    coop: str
    subscription_id: str
    period: str
    amount: EurosIn
    effective_date: date


# ---------------------------------------------------------------- deciders


def _overlaps(starts_on: date, ends_on: date | None, first: date, after: date) -> bool:
    """Whether the period [first, after) shares a day with the subscription [starts_on, ends_on)."""
    return max(first, starts_on) < (after if ends_on is None else min(after, ends_on))


def define_plan(coop: Cooperative, cmd: DefineSubscriptionPlan, meta: Meta) -> None:
    plan_id = identifier(cmd.plan_id, "plan_id")
    if plan_id in coop.subscriptions.plans:
        raise Conflict("plan_id", "unique_plan", f"plan {plan_id!r} is already defined; define a new plan to change prices")
    name = text(cmd.name, "name")
    if cmd.kind not in PLAN_KINDS:
        raise InvalidCommand("kind", "plan_kind", f"{cmd.kind!r} is not one of {', '.join(PLAN_KINDS)}")
    if cmd.period not in PERIODS:
        raise InvalidCommand("period", "plan_period", f"{cmd.period!r} is not one of {', '.join(PERIODS)}")
    fixed_cents = to_minor(cmd.fixed_amount, Unit.EUR, "fixed_amount", allow_zero=True)
    rate = parse_rate(cmd.revenue_rate, "revenue_rate")
    if cmd.kind == "project_holder" and rate:
        raise InvalidCommand(
            "revenue_rate", "flat_rate_plan", "a project-holder plan is a flat subscription: its revenue rate is 0"
        )
    if fixed_cents == 0 and rate == 0:
        raise InvalidCommand("fixed_amount", "something_to_bill", "a plan needs a fixed amount, a revenue rate, or both")
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(
        SubscriptionPlanDefined,
        effective_date=day,
        meta=meta,
        plan_id=plan_id,
        name=name,
        plan_kind=cmd.kind,
        period=cmd.period,
        fixed_cents=fixed_cents,
        revenue_rate=str(rate),
    )


def start_subscription(coop: Cooperative, cmd: StartSubscription, meta: Meta) -> None:
    state = coop.subscriptions
    subscription_id = identifier(cmd.subscription_id, "subscription_id")
    if subscription_id in state.subscriptions:
        raise Conflict("subscription_id", "unique_subscription", f"subscription {subscription_id!r} already exists")
    member = coop.member(cmd.member_id)
    plan = state.plans.get(cmd.plan_id)
    if plan is None:
        raise NotFound("plan_id", "known_plan", f"no subscription plan {cmd.plan_id!r}")
    day = coop.check_effective_date(cmd.effective_date)
    check_member_on(member, day)
    not_before(day, plan["defined_on"], "effective_date", f"the definition of plan {cmd.plan_id}")
    for other in state.subscriptions.values():
        # The new subscription is open-ended: it overlaps any of the same plan not ended by `day`.
        if (
            other.member_id == member.member_id
            and other.plan_id == cmd.plan_id
            and (other.ends_on is None or other.ends_on > day)
        ):
            raise Conflict(
                "plan_id",
                "one_subscription_per_plan",
                f"{member.member_id} is subscribed to {cmd.plan_id} by {other.subscription_id} on {day}",
            )
    coop.record(
        SubscriptionStarted,
        effective_date=day,
        meta=meta,
        subscription_id=subscription_id,
        member_id=member.member_id,
        plan_id=cmd.plan_id,
    )


def cancel_subscription(coop: Cooperative, cmd: CancelSubscription, meta: Meta) -> None:
    sub = coop.subscriptions.subscription(cmd.subscription_id)
    if sub.ends_on is not None:
        raise Conflict("subscription_id", "cancelled_once", f"{sub.subscription_id} already ends on {sub.ends_on}")
    reason = text(cmd.reason, "reason")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, sub.starts_on, "effective_date", f"the start of {sub.subscription_id}")
    period = coop.subscriptions.plans[sub.plan_id]["period"]
    billed_after = sorted(label for label in sub.bills if not _overlaps(sub.starts_on, day, *period_range(period, label)))
    if billed_after:
        raise InvalidCommand(
            "effective_date",
            "billed_after_end",
            f"{', '.join(billed_after)} of {sub.subscription_id} would fall "
            f"outside it once ended on {day}: reverse those bills first",
        )
    coop.record(
        SubscriptionCancelled,
        effective_date=day,
        meta=meta,
        subscription_id=sub.subscription_id,
        member_id=sub.member_id,
        reason=reason,
    )


def bill_subscription(coop: Cooperative, cmd: BillSubscription, meta: Meta) -> None:
    sub = coop.subscriptions.subscription(cmd.subscription_id)
    plan = coop.subscriptions.plans[sub.plan_id]
    member = coop.member(sub.member_id)
    first, after = period_range(plan["period"], cmd.period)
    if not _overlaps(sub.starts_on, sub.ends_on, first, after):
        ends = f"to {sub.ends_on}" if sub.ends_on else "on"
        raise InvalidCommand(
            "period", "period_in_subscription", f"{cmd.period} is outside {sub.subscription_id} (from {sub.starts_on} {ends})"
        )
    if member.left_on is not None and first >= member.left_on:
        raise InvalidCommand("period", "member_left", f"{cmd.period} starts after {member.member_id} left on {member.left_on}")
    if cmd.period in sub.bills:
        raise Conflict("period", "period_billed_once", f"{cmd.period} of {sub.subscription_id} is already billed")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, first, "effective_date", f"the start of {cmd.period}")
    rate = Fraction(plan["revenue_rate"])
    if rate and day < after:
        raise InvalidCommand(
            "effective_date", "period_ended", f"the revenue of {cmd.period} is known once it has ended: bill it from {after} on"
        )
    if plan["kind"] == "provider":
        if cmd.declared_revenue is None:
            raise InvalidCommand(
                "declared_revenue", "required", f"plan {sub.plan_id} bills a share of the provider's declared revenue"
            )
        revenue_cents = to_minor(cmd.declared_revenue, Unit.EUR, "declared_revenue", allow_zero=True)
        share = share_half_up(revenue_cents, rate)
    else:
        if cmd.declared_revenue is not None:
            raise InvalidCommand(
                "declared_revenue", "not_applicable", f"plan {sub.plan_id} is a flat project-holder subscription"
            )
        revenue_cents, share = None, 0
    amount = plan["fixed_cents"] + share
    if amount == 0:
        raise InvalidCommand("declared_revenue", "nothing_to_bill", f"{cmd.period} comes to 0.00 EUR: nothing to bill")
    receivable, income = coop.chart.role("members_receivable"), coop.chart.role("subscription_income")
    coop.record_entry(
        SubscriptionBilled,
        effective_date=day,
        meta=meta,
        label=f"Abonnement {plan['name']} {cmd.period} – {member.member_id}",
        postings=[[receivable, member.member_id, Unit.EUR.value, amount], [income, None, Unit.EUR.value, -amount]],
        subscription_id=sub.subscription_id,
        member_id=member.member_id,
        plan_id=sub.plan_id,
        period=cmd.period,
        declared_revenue_cents=revenue_cents,
        fixed_cents=plan["fixed_cents"],
        revenue_share_cents=share,
        amount_cents=amount,
    )


def pay_subscription(coop: Cooperative, cmd: PaySubscription, meta: Meta) -> None:
    sub = coop.subscriptions.subscription(cmd.subscription_id)
    bill = sub.bills.get(cmd.period) if isinstance(cmd.period, str) else None
    if bill is None:
        raise NotFound("period", "period_billed", f"{cmd.period!r} of {sub.subscription_id} is not billed")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, bill.billed_on, "effective_date", f"the bill of {cmd.period}")
    due, due_on = bill.unpaid_from(day)  # on its date and every later one: never paid beyond billed
    if amount_cents > due:
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{format_minor(amount_cents, Unit.EUR)} EUR exceeds the "
            f"{format_minor(due, Unit.EUR)} EUR still due on {cmd.period} of {sub.subscription_id}"
            + (f" as of {due_on}" if due_on != day else ""),
        )
    member = coop.member(sub.member_id)
    bank, receivable = coop.chart.role("bank"), coop.chart.role("members_receivable")
    coop.record_entry(
        SubscriptionPaid,
        effective_date=day,
        meta=meta,
        label=f"Règlement abonnement {cmd.period} – {member.member_id}",
        postings=[[bank, None, Unit.EUR.value, amount_cents], [receivable, member.member_id, Unit.EUR.value, -amount_cents]],
        subscription_id=sub.subscription_id,
        member_id=member.member_id,
        period=cmd.period,
        amount_cents=amount_cents,
    )


FAMILY = register(
    Family(
        name="subscriptions",
        commands={
            DefineSubscriptionPlan: Handler(define_plan, STATUTES | FINANCIAL),
            StartSubscription: Handler(start_subscription, MEMBERSHIP | FINANCIAL),
            CancelSubscription: Handler(cancel_subscription, MEMBERSHIP | FINANCIAL),
            BillSubscription: Handler(bill_subscription, FINANCIAL),
            PaySubscription: Handler(pay_subscription, FINANCIAL),
        },
        events={
            "SubscriptionPlanDefined": Fact("subscription_plan.defined", "activities"),
            "SubscriptionStarted": Fact("subscription.started", "activities"),
            "SubscriptionCancelled": Fact("subscription.cancelled", "activities"),
            "SubscriptionBilled": Fact("subscription.billed", "entries", journal="VT"),
            "SubscriptionPaid": Fact("subscription.paid", "entries", journal="BQ"),
            "SubscriptionPlanCarried": Fact("subscription_plan.carried", "activities"),
            "SubscriptionCarried": Fact("subscription.carried", "activities"),
        },
        state=SubscriptionsState,
        managed={"members_receivable": (PaySubscription,)},
        carriers=("domain.receivables_carry:carry_member_receivables",),
        carry_order=20,
    )
)
