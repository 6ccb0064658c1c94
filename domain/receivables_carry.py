"""Certification fees and subscription bills carried by a federation (domain/federation_carry.py).

Beside fee calls (domain/fees.py), a member's balance on 411 (party = member) holds the unpaid
part of its certification fees and of its subscription bills. The opening entry brings the
amounts; the events here rebuild what collecting them needs, in the federation on its date D, so
that PayCertificationFee and PaySubscription collect there and refuse overpayment (no_overpayment)
as the founder would have. The carrier returns the dues per member on 411; the generic check adds
them to the fee calls' and compares the sum with each member's balance.

Certifications (`CertificationCarried`): each certification of a moving member with a fee still
due, or in force on D (even when paid, so the federation knows who is certified and can renew it),
with its dates (grant, expiry, revocation), renewals and what was billed and paid by D-1. The
fees billed are the founder's income (in its opening result line): the federation's deferred-fee
cut-off (projections/certifications.py `deferred_fees`) counts only the fees it bills itself.
The certification terms are not carried: paying needs none; the federation sets its own
(SetCertificationTerms) before it grants or renews.

Subscriptions (`SubscriptionCarried`, with `SubscriptionPlanCarried` for its plan): each
subscription of a moving member with a bill still due, or running on D (not cancelled: a
cancellation is dated on its first day without cover, so before D), with EVERY bill as it stood
(period, date, amount, paid), so that:
- PaySubscription collects what is due, in parts;
- a running subscription goes on: the federation bills its later periods, and a period the founder
  billed stays billed once (period_billed_once); it may cancel it. A period the founder never
  billed may be billed by the federation, its successor, as the founder could have;
- the revenue of the carried bills is the founder's: no revenue move in the federation's months.
A plan is carried once: the same plan id from two founders is refused (Conflict `unique_plan`)
unless both define it alike (name, kind, period, fixed part, revenue rate).

Ids: a certification or subscription id carried from two founders is refused (Conflict
`unique_certification`, `unique_subscription`). A member who left the founder does not move: its
dues stay a refusal of the federation (settle them first), nothing of it is carried.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.certifications_state import Certification
from domain.errors import Conflict
from domain.events import CoopEvent
from domain.money import Unit
from domain.subscriptions_state import Bill, Subscription

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext

_PLAN_FIELDS = ("name", "kind", "period", "fixed_cents", "revenue_rate")


class CertificationCarried(CoopEvent):
    """A founder's certification as it stood the day before the federation. No entry: its fee
    still due arrives on 411 with the founder's opening entry; PayCertificationFee collects it."""

    certification_id: str
    member_id: str
    granted_on: date
    expires_on: date
    revoked_on: date | None
    renewals: list[list[Any]]  # [[renewed on (ISO), previous expiry (ISO), fee cents], ...]
    billed_cents: int
    paid_cents: int
    founder: str
    founder_member_id: str

    def apply(self, coop: Cooperative) -> None:
        state = coop.certifications
        assert self.certification_id not in state.certifications, f"certification {self.certification_id} carried twice"
        day = self.effective_date  # the fees billed and paid by D-1 count here from D on
        cert = Certification(
            self.certification_id,
            self.member_id,
            self.granted_on,
            self.expires_on,
            [(day, self.billed_cents)],
            [(day, self.paid_cents)],
            self.revoked_on,
            [(date.fromisoformat(on), date.fromisoformat(previous), fee) for on, previous, fee in self.renewals],
        )
        assert 0 <= cert.paid_cents <= cert.billed_cents and cert.granted_on < cert.expires_on, f"carried {cert} does not hold"
        state.certifications[cert.certification_id] = cert
        state.by_member.setdefault(cert.member_id, []).append(cert.certification_id)


class SubscriptionPlanCarried(CoopEvent):
    """A founder's subscription plan, defined in the federation on its date (for the subscriptions carried)."""

    plan_id: str
    name: str
    plan_kind: str
    period: str
    fixed_cents: int
    revenue_rate: str
    founder: str
    founder_defined_on: date

    def apply(self, coop: Cooperative) -> None:
        assert self.plan_id not in coop.subscriptions.plans, f"plan {self.plan_id} carried twice"
        coop.subscriptions.plans[self.plan_id] = {
            "plan_id": self.plan_id,
            "name": self.name,
            "kind": self.plan_kind,
            "period": self.period,
            "fixed_cents": self.fixed_cents,
            "revenue_rate": self.revenue_rate,
            "defined_on": self.effective_date,
        }


class SubscriptionCarried(CoopEvent):
    """A founder's subscription with every bill as it stood the day before the federation. No
    entry: what is still due arrives on 411 with the founder's opening entry."""

    subscription_id: str
    member_id: str
    plan_id: str
    starts_on: date
    ends_on: date | None
    bills: list[dict[str, Any]]  # [{"period", "billed_on" (ISO), "amount_cents", "paid_cents"}], by period
    founder: str
    founder_member_id: str

    def apply(self, coop: Cooperative) -> None:
        state = coop.subscriptions
        assert self.subscription_id not in state.subscriptions and self.plan_id in state.plans, (
            f"subscription {self.subscription_id}"
        )
        sub = Subscription(self.subscription_id, self.member_id, self.plan_id, self.starts_on, self.ends_on)
        for bill in self.bills:
            paid = [(self.effective_date, bill["paid_cents"])]  # what was paid by D-1 counts here from D on
            sub.bills[bill["period"]] = Bill(date.fromisoformat(bill["billed_on"]), bill["amount_cents"], paid)
            assert 0 <= bill["paid_cents"] <= bill["amount_cents"], f"carried bill {bill} paid outside 0..billed"
        state.subscriptions[self.subscription_id] = sub


def _add(carried: dict[tuple[str, str | None, str], int], key: tuple[str, str | None, str], cents: int) -> None:
    if cents:
        carried[key] = carried.get(key, 0) + cents


def _carry_certifications(ctx: CarryContext, moving: set[str], receivable: str, carried: dict[Any, int]) -> None:
    founder, new, day = ctx.founder, ctx.new, ctx.day
    for member_id, ids in sorted(founder.certifications.by_member.items()):
        for cid in ids:
            cert = founder.certifications.certifications[cid]
            due = cert.billed_cents - cert.paid_cents
            if member_id not in moving or not (due or cert.certified_on(day)):
                continue
            assert cert.last_change_on < day, "a founder has no event on or after its federation date"
            if cid in new.certifications.certifications:
                raise Conflict(
                    ctx.field,
                    "unique_certification",
                    f"{ctx.founder_slug}'s certification {cid!r} has the id of a "
                    f"certification another founder carries into {new.slug}: certification ids must be unique there",
                )
            new.record(
                CertificationCarried,
                effective_date=day,
                meta=ctx.meta,
                certification_id=cid,
                member_id=ctx.party(member_id),
                granted_on=cert.granted_on,
                expires_on=cert.expires_on,
                revoked_on=cert.revoked_on,
                renewals=[[on.isoformat(), previous.isoformat(), fee] for on, previous, fee in cert.renewals],
                billed_cents=cert.billed_cents,
                paid_cents=cert.paid_cents,
                founder=ctx.founder_slug,
                founder_member_id=member_id,
            )
            _add(carried, (receivable, member_id, Unit.EUR.value), due)


def _carry_plan(ctx: CarryContext, plan: dict[str, Any]) -> None:
    existing = ctx.new.subscriptions.plans.get(plan["plan_id"])
    if existing is None:
        ctx.new.record(
            SubscriptionPlanCarried,
            effective_date=ctx.day,
            meta=ctx.meta,
            plan_id=plan["plan_id"],
            name=plan["name"],
            plan_kind=plan["kind"],
            period=plan["period"],
            fixed_cents=plan["fixed_cents"],
            revenue_rate=plan["revenue_rate"],
            founder=ctx.founder_slug,
            founder_defined_on=plan["defined_on"],
        )
    elif any(existing[f] != plan[f] for f in _PLAN_FIELDS):
        raise Conflict(
            ctx.field,
            "unique_plan",
            f"{ctx.founder_slug}'s subscription plan {plan['plan_id']!r} differs from the plan "
            f"of that id another founder carries into {ctx.new.slug}: plan ids must name one plan there",
        )


def _carry_subscriptions(ctx: CarryContext, moving: set[str], receivable: str, carried: dict[Any, int]) -> None:
    founder, new, day = ctx.founder, ctx.new, ctx.day
    for sid, sub in sorted(founder.subscriptions.subscriptions.items()):
        due = sum(b.amount_cents - b.paid_cents for b in sub.bills.values())
        if sub.member_id not in moving or not (due or sub.ends_on is None):
            continue
        assert sub.ends_on is None or sub.ends_on < day, "a cancellation is dated on its first day without cover, before D"
        assert all(b.billed_on < day for b in sub.bills.values()), "a founder has no event on or after its federation date"
        if sid in new.subscriptions.subscriptions:
            raise Conflict(
                ctx.field,
                "unique_subscription",
                f"{ctx.founder_slug}'s subscription {sid!r} has the id of a "
                f"subscription another founder carries into {new.slug}: subscription ids must be unique there",
            )
        _carry_plan(ctx, founder.subscriptions.plans[sub.plan_id])
        bills = [
            {"period": p, "billed_on": b.billed_on.isoformat(), "amount_cents": b.amount_cents, "paid_cents": b.paid_cents}
            for p, b in sorted(sub.bills.items())
        ]
        new.record(
            SubscriptionCarried,
            effective_date=day,
            meta=ctx.meta,
            subscription_id=sid,
            member_id=ctx.party(sub.member_id),
            plan_id=sub.plan_id,
            starts_on=sub.starts_on,
            ends_on=sub.ends_on,
            bills=bills,
            founder=ctx.founder_slug,
            founder_member_id=sub.member_id,
        )
        _add(carried, (receivable, sub.member_id, Unit.EUR.value), due)


def carry_member_receivables(ctx: CarryContext) -> Carried:
    """Carries the moving members' certifications and subscriptions (module docstring); returns
    what they still owe on them per member on 411 (fee calls are carried by domain/fees.py)."""
    moving = {m.member_id for m in ctx.founder.members.values() if m.is_member_on(ctx.day)}
    receivable = ctx.founder.chart.role("members_receivable")
    assert receivable == ctx.new.chart.role("members_receivable"), "411 in both plans"
    carried: dict[tuple[str, str | None, str], int] = {}
    _carry_certifications(ctx, moving, receivable, carried)
    _carry_subscriptions(ctx, moving, receivable, carried)
    return carried
