"""Membership fees: called for a year from the schedule by headcount, then paid in parts.

A member is in good standing for a year once that year's fee is fully paid. Overpayment is
refused (never silently lost): the error says how much is still due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EurosIn, Unit, format_minor, to_minor
from domain.roles import FINANCIAL
from domain.rules import not_before, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext
    from domain.membership import Member


@dataclass
class FeeCall:
    """A year's fee for one member, as dated movements so any as-of date is exact.

    A reversed call or payment adds a negative movement; nothing is removed.
    """

    member_id: str
    year: int
    call_moves: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents)
    payments: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents)

    @property
    def called_cents(self) -> int:
        return sum(cents for _day, cents in self.call_moves)

    @property
    def paid_cents(self) -> int:
        return sum(cents for _day, cents in self.payments)

    @property
    def due_cents(self) -> int:
        return self.called_cents - self.paid_cents

    @property
    def fully_paid(self) -> bool:
        return self.called_cents > 0 and self.paid_cents == self.called_cents

    def called_by(self, day: date) -> int:
        return sum(cents for moved_on, cents in self.call_moves if moved_on <= day)

    def paid_by(self, day: date) -> int:
        return sum(cents for paid_on, cents in self.payments if paid_on <= day)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class CallFee:
    coop: str
    member_id: str
    year: int
    effective_date: date


@dataclass(frozen=True)
class PayFee:
    coop: str
    member_id: str
    year: int
    amount: EurosIn
    effective_date: date


# ---------------------------------------------------------------- events


class FeeCalled(FinancialEvent):
    member_id: str
    year: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "year": self.year, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        key = (effect["member_id"], effect["year"])
        call = coop.fee_calls.setdefault(key, FeeCall(effect["member_id"], effect["year"]))
        call.call_moves.append((day, sign * effect["amount_cents"]))
        assert call.called_cents >= 0, f"fee {key} called below zero"

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """What is called without this call must cover what is paid on `day` and on every later
        date recorded (call_moves, payments): a payment made after `day` and reversed since still
        was a payment of nothing called while it stood."""
        call = coop.fee_calls[(effect["member_id"], effect["year"])]
        if call.paid_cents:
            raise InvalidCommand(
                "entry_number", "fee_unpaid", f"the {call.year} fee of {call.member_id} has payments: reverse them first"
            )
        unpaid, unpaid_on = cls.lowest_from([*call.call_moves, *((paid_on, -cents) for paid_on, cents in call.payments)], day)
        if unpaid < effect["amount_cents"]:
            raise InvalidCommand(
                "entry_number",
                "fee_unpaid",
                f"the {call.year} fee of {call.member_id} had {format_minor(call.paid_by(unpaid_on), Unit.EUR)} EUR paid on "
                f"{unpaid_on} (this reversal counts from {day}): date it on or after the reversal of those payments",
            )


class FeePaid(FinancialEvent):
    member_id: str
    year: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "year": self.year, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        call = coop.fee_calls[(effect["member_id"], effect["year"])]
        call.payments.append((day, sign * effect["amount_cents"]))
        assert 0 <= call.paid_cents <= call.called_cents, f"fee {call} paid outside 0..called"


class FeeCallCarried(CoopEvent):
    """A founder's fee call, carried into a federation on its date (domain/federation_carry.py):
    what was called and paid by the day before. No entry: what is still due arrives on 411 with
    the founder's opening entry; PayFee collects it from here on."""

    member_id: str
    year: int  # the founder's fiscal year the fee was called for
    called_cents: int
    paid_cents: int
    founder: str
    founder_member_id: str

    def apply(self, coop: Cooperative) -> None:
        key = (self.member_id, self.year)
        assert key not in coop.fee_calls, f"fee {key} carried twice"
        call = FeeCall(self.member_id, self.year)
        call.call_moves.append((self.effective_date, self.called_cents))
        call.payments.append((self.effective_date, self.paid_cents))
        assert 0 <= call.paid_cents <= call.called_cents, f"carried fee {key} paid outside 0..called"
        coop.fee_calls[key] = call


# ---------------------------------------------------------------- deciders


def fee_for(coop: Cooperative, member: Member, day: date | None = None) -> int:
    """The member's fee from the schedule by headcount: their college's own schedule in force on
    `day` when it has one (SetCollegeRules, domain/governance.py), else the cooperative's."""
    schedule = coop.fee_schedule
    college = member.college_on(day) if day is not None else None
    if college is not None:
        for version in coop.college_rules.get(college, []):  # oldest first: the last one in force wins
            if version["effective_date"] <= day and version["fee_schedule"] is not None:
                schedule = version["fee_schedule"]
            elif version["effective_date"] <= day:
                schedule = coop.fee_schedule
    for bracket in schedule:
        hi = bracket["max_headcount"]
        if bracket["min_headcount"] <= member.headcount and (hi is None or member.headcount <= hi):
            return int(bracket["amount_cents"])
    raise AssertionError(f"fee schedule of {coop.slug} has no bracket for headcount {member.headcount}")


def _year(coop: Cooperative, member: Member, value: Any, day: date) -> int:
    year = whole_number(value, "year", minimum=1901, maximum=2199)
    first = coop.fiscal_year_of(member.admitted_on)
    if year < first:
        raise InvalidCommand("year", "member_year", f"{member.member_id} was admitted in fiscal year {first}, after {year}")
    if year > coop.fiscal_year_of(day) + 1:
        raise InvalidCommand("year", "not_too_early", f"a fee for {year} can be called at most one year ahead of {day}")
    return year


def call_fee(coop: Cooperative, cmd: CallFee, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    day = coop.check_effective_date(cmd.effective_date)
    member.check_active()
    not_before(day, member.admitted_on, "effective_date", f"{member.member_id}'s admission")
    year = _year(coop, member, cmd.year, day)
    existing = coop.fee_calls.get((member.member_id, year))
    if existing is not None and existing.called_cents > 0:
        raise Conflict("year", "fee_called_once", f"the {year} fee of {member.member_id} is already called")
    amount = fee_for(coop, member, day)
    receivable, income = coop.chart.role("members_receivable"), coop.chart.role("fee_income")
    coop.record_entry(
        FeeCalled,
        effective_date=day,
        meta=meta,
        label=f"Cotisation {year} – {member.member_id}",
        postings=[[receivable, member.member_id, Unit.EUR.value, amount], [income, None, Unit.EUR.value, -amount]],
        member_id=member.member_id,
        year=year,
        amount_cents=amount,
    )


def pay_fee(coop: Cooperative, cmd: PayFee, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    year = whole_number(cmd.year, "year", minimum=1901, maximum=2199)
    call = coop.fee_calls.get((member.member_id, year))
    if call is None or call.called_cents == 0:
        raise NotFound("year", "fee_called", f"no {year} fee has been called for {member.member_id}")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, member.admitted_on, "effective_date", f"{member.member_id}'s admission")
    # Due on its date and on every later date a payment has: a payment dated before a later one's
    # reversal must not stand beside it (paid twice in between). A fee may be paid ahead of its call,
    # so what is called counts whatever its date.
    due, due_on = FeePaid.lowest_from([(date.min, call.called_cents), *((d, -c) for d, c in call.payments)], day)
    if amount_cents > due:
        when = "" if due_on == day else f" on {due_on}"
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{format_minor(amount_cents, Unit.EUR)} EUR exceeds the {format_minor(max(due, 0), Unit.EUR)} EUR "
            f"still due{when} on the {year} fee of {member.member_id}",
        )
    bank, receivable = coop.chart.role("bank"), coop.chart.role("members_receivable")
    coop.record_entry(
        FeePaid,
        effective_date=day,
        meta=meta,
        label=f"Règlement cotisation {year} – {member.member_id}",
        postings=[[bank, None, Unit.EUR.value, amount_cents], [receivable, member.member_id, Unit.EUR.value, -amount_cents]],
        member_id=member.member_id,
        year=year,
        amount_cents=amount_cents,
    )


def in_good_standing(coop: Cooperative, member_id: str, year: int) -> bool:
    call = coop.fee_calls.get((member_id, year))
    return call is not None and call.fully_paid


def carry_fee_calls(ctx: CarryContext) -> Carried:
    """Carries the moving members' fee calls (domain/federation_carry.py): those with something
    still due, whatever their year, and those of the running fiscal year or later even when paid,
    so the federation knows who is in good standing. Calls of members who left the founder are
    not carried: their dues stay a refusal of the federation (settle them first)."""
    founder, day = ctx.founder, ctx.day
    last_day = date.fromordinal(day.toordinal() - 1)
    running_year = founder.fiscal_year_of(day)
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    receivable = founder.chart.role("members_receivable")
    carried: dict[tuple[str, str | None, str], int] = {}
    for (member_id, year), call in sorted(founder.fee_calls.items()):
        called, paid = call.called_by(last_day), call.paid_by(last_day)
        assert called == call.called_cents and paid == call.paid_cents, "a founder has no event on or after its federation date"
        if member_id not in moving or called == 0 or (called == paid and year < running_year):
            continue
        ctx.new.record(
            FeeCallCarried,
            effective_date=day,
            meta=ctx.meta,
            member_id=ctx.party(member_id),
            year=year,
            called_cents=called,
            paid_cents=paid,
            founder=ctx.founder_slug,
            founder_member_id=member_id,
        )
        if called != paid:
            key = (receivable, member_id, Unit.EUR.value)
            carried[key] = carried.get(key, 0) + called - paid
    return carried


FAMILY = register(
    Family(
        name="fees",
        commands={CallFee: Handler(call_fee, FINANCIAL), PayFee: Handler(pay_fee, FINANCIAL)},
        events={
            "FeeCalled": Fact("fee.called", "entries", journal="VT"),
            "FeePaid": Fact("fee.paid", "entries", journal="BQ"),
            "FeeCallCarried": Fact("fee_call.carried", "membership"),
        },
        managed={"members_receivable": (CallFee, PayFee)},
        carriers=("domain.fees:carry_fee_calls",),
        carry_order=10,
    )
)
