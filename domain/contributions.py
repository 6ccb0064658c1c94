"""Success contributions and the cooperation fund they feed.

The fund is a *pot* (domain/pots.py): dated movements of money a call for projects may draw
on (a subsidy is a pot too). The calls that draw on it are in domain/grants.py, the subsidies in
domain/subsidies.py.

A member whose project succeeded pledges a share of its yearly result to the fund, for a few
years (3 by default) from a first year.

Declaring a year's result calls rate × result; nothing is called on a loss. Years outside the
pledge are refused; a year is declared once (a wrong declaration is cancelled, then declared
again, as long as nothing was paid on it). Payments never exceed what was called and go into
the cooperation fund, the pot its calls for projects draw on (domain/grants.py).

ROUNDING RULE: called = rate_percent × result / 100, rounded DOWN to the cent (floor), so the
contributor never pays more than the exact share it pledged; a result of zero or below calls
nothing. The rate is an exact percentage ("5", "2.5", "10/3"), kept as a fraction.

Accounting (docs/decisions/0005-cooperation-fund-accounting.md): a pledge is voluntary and
cannot be enforced, so a call is no receivable; income is recognised when paid and dedicated
to the fund at once (512 / 7551, 6895 / 195 for an association; 512 / 4875 in the general plan).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EUR, EurosIn, PercentIn, Unit, format_minor, parse_decimal, to_minor
from domain.pots import FUND, Figures, inflow_postings, move_pot
from domain.roles import FINANCIAL
from domain.rules import identifier, not_before, text, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

DEFAULT_PLEDGE_YEARS = 3
MAX_PLEDGE_YEARS = 10
HUNDRED = Fraction(100)
# "5", "2.5", "0.125" or "10/3": bounded sizes, so a rate is never a huge number to compute with.
RATE = re.compile(r"^\d{1,3}(\.\d{1,6})?$|^\d{1,6}/\d{1,6}$")


# ---------------------------------------------------------------- success contributions


def contribution_due_cents(rate_percent: Fraction, result_cents: int) -> int:
    """The ROUNDING RULE: rate × result rounded down to the cent; nothing on a loss."""
    if result_cents <= 0:
        return 0
    return math.floor(rate_percent * result_cents / HUNDRED)


@dataclass
class ContributionYear:
    """One declared year of a pledge."""

    result_cents: int  # negative for a loss
    called_cents: int
    declared_on: date
    paid_cents: int = 0


@dataclass
class Pledge:
    pledge_id: str
    member_id: str
    rate_percent: Fraction
    first_year: int
    years: int
    pledged_on: date
    declared: dict[int, ContributionYear] = field(default_factory=dict)  # at most `years` entries

    def covers(self, year: int) -> bool:
        return self.first_year <= year < self.first_year + self.years


@dataclass
class ContributionsState:
    pledges: dict[str, Pledge] = field(default_factory=dict)

    def pledge(self, pledge_id: Any) -> Pledge:
        pledge_id = identifier(pledge_id, "pledge_id")
        try:
            return self.pledges[pledge_id]
        except KeyError:
            raise NotFound("pledge_id", "known_pledge", f"no contribution pledge {pledge_id!r}") from None


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class PledgeContribution:
    coop: str
    pledge_id: str
    member_id: str
    rate_percent: PercentIn  # of the yearly result: "5", "2.5", "10/3"
    first_year: int
    effective_date: date
    years: int = DEFAULT_PLEDGE_YEARS


@dataclass(frozen=True)
class DeclareContributionResult:
    coop: str
    pledge_id: str
    year: int
    result: EurosIn  # negative for a loss
    effective_date: date


@dataclass(frozen=True)
class CancelContributionResult:
    coop: str
    pledge_id: str
    year: int
    reason: str
    effective_date: date


@dataclass(frozen=True)
class PayContribution:
    coop: str
    pledge_id: str
    year: int
    amount: EurosIn
    effective_date: date


# ---------------------------------------------------------------- events


class ContributionPledged(CoopEvent):
    pledge_id: str
    member_id: str
    rate_percent: str  # str(Fraction): "5", "5/2", "10/3"
    first_year: int
    years: int

    def apply(self, coop: Cooperative) -> None:
        coop.contributions.pledges[self.pledge_id] = Pledge(
            self.pledge_id, self.member_id, Fraction(self.rate_percent), self.first_year, self.years, self.effective_date
        )


class ContributionResultDeclared(CoopEvent):
    pledge_id: str
    member_id: str
    year: int
    result_cents: int
    called_cents: int  # contribution_due_cents(rate, result): 0 on a loss

    def apply(self, coop: Cooperative) -> None:
        pledge = coop.contributions.pledges[self.pledge_id]
        pledge.declared[self.year] = ContributionYear(self.result_cents, self.called_cents, self.effective_date)


class ContributionResultCancelled(CoopEvent):
    pledge_id: str
    year: int
    reason: str

    def apply(self, coop: Cooperative) -> None:
        del coop.contributions.pledges[self.pledge_id].declared[self.year]


class ContributionPaid(FinancialEvent):
    pledge_id: str
    member_id: str
    year: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        # The date lets a reversal check the fund from then on.
        return {
            "pledge_id": self.pledge_id,
            "year": self.year,
            "amount_cents": self.amount_cents,
            "paid_on": self.effective_date.isoformat(),
        }

    @classmethod
    def pot_movement(cls, effect: dict[str, Any]) -> tuple[str, Figures]:
        amount = effect["amount_cents"]
        return FUND, Figures(inflow_cents=amount, received_cents=amount)

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        year = coop.contributions.pledges[effect["pledge_id"]].declared[effect["year"]]
        year.paid_cents += sign * effect["amount_cents"]
        assert 0 <= year.paid_cents <= year.called_cents, f"contribution {effect} paid outside 0..called"
        move_pot(coop, *cls.pot_movement(effect), sign, day)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The money leaves the fund from `day`, the reversal's date, on (not from the payment's date,
        `paid_on` in the effect: until `day` it was there): the fund must keep it available and in
        cash on `day` and every later recorded date."""
        fund = coop.grants.pots[FUND]
        room = min(fund.lowest_from(day, lambda f: f.available_cents), fund.lowest_from(day, lambda f: f.cash_cents))
        if effect["amount_cents"] > room:
            raise InvalidCommand(
                "entry_number",
                "fund_covers",
                f"the cooperation fund has committed or paid this contribution from {day} on: "
                f"only {_eur(max(room, 0))} of it could be taken back",
            )


# ---------------------------------------------------------------- deciders


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


def _rate(value: Any) -> Fraction:
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int, Decimal)):
        raise InvalidCommand(
            "rate_percent", "exact_rate", f'must be an exact percentage such as "5", "2.5" or "10/3", got {value!r}'
        )
    written = str(value).strip()
    if not RATE.match(written):
        raise InvalidCommand("rate_percent", "exact_rate", f"{written!r} is not a percentage such as 5, 2.5 or 10/3")
    try:
        rate = Fraction(written)
    except ZeroDivisionError:
        raise InvalidCommand("rate_percent", "exact_rate", f"{written!r} divides by zero") from None
    if not 0 < rate <= HUNDRED:
        raise InvalidCommand("rate_percent", "rate_range", f"must be more than 0% and at most 100%, got {written}%")
    return rate


def _signed_cents(value: Any, field_name: str) -> int:
    """Decimal euros that may be negative (a loss), as cents; same precision rules as amounts."""
    amount = parse_decimal(value, field_name)
    cents = to_minor(abs(amount), Unit.EUR, field_name, allow_zero=True)
    return -cents if amount < 0 else cents


def _declared(pledge: Pledge, value: Any) -> tuple[int, ContributionYear]:
    year = whole_number(value, "year", minimum=1901, maximum=2199)
    declared = pledge.declared.get(year)
    if declared is None:
        raise NotFound("year", "declared_year", f"no result is declared for {year} on pledge {pledge.pledge_id}")
    return year, declared


def pledge_contribution(coop: Cooperative, cmd: PledgeContribution, meta: Meta) -> None:
    pledge_id = identifier(cmd.pledge_id, "pledge_id")
    if pledge_id in coop.contributions.pledges:
        raise Conflict("pledge_id", "unique_pledge", f"pledge {pledge_id!r} already exists in {coop.slug}")
    member = coop.member(cmd.member_id)
    rate = _rate(cmd.rate_percent)
    first_year = whole_number(cmd.first_year, "first_year", minimum=1901, maximum=2199 - MAX_PLEDGE_YEARS)
    years = whole_number(cmd.years, "years", minimum=1, maximum=MAX_PLEDGE_YEARS)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, member.admitted_on, "effective_date", f"{member.member_id}'s admission")
    if not member.is_member_on(day):
        raise InvalidCommand("member_id", "member_on_date", f"{member.member_id} left on {member.left_on}, before {day}")
    coop.record(
        ContributionPledged,
        effective_date=day,
        meta=meta,
        pledge_id=pledge_id,
        member_id=member.member_id,
        rate_percent=str(rate),
        first_year=first_year,
        years=years,
    )


def declare_contribution_result(coop: Cooperative, cmd: DeclareContributionResult, meta: Meta) -> None:
    pledge = coop.contributions.pledge(cmd.pledge_id)
    year = whole_number(cmd.year, "year", minimum=1901, maximum=2199)
    if not pledge.covers(year):
        raise InvalidCommand(
            "year",
            "pledge_year",
            f"pledge {pledge.pledge_id} covers {pledge.first_year} to {pledge.first_year + pledge.years - 1}, not {year}",
        )
    if year in pledge.declared:
        raise Conflict("year", "declared_once", f"the {year} result of pledge {pledge.pledge_id} is already declared")
    result_cents = _signed_cents(cmd.result, "result")
    day = coop.check_effective_date(cmd.effective_date)
    if day < date(year + 1, 1, 1):
        raise InvalidCommand(
            "effective_date", "year_ended", f"the {year} result can be declared from {year + 1}-01-01 on, not {day}"
        )
    not_before(day, pledge.pledged_on, "effective_date", f"pledge {pledge.pledge_id}")
    coop.record(
        ContributionResultDeclared,
        effective_date=day,
        meta=meta,
        pledge_id=pledge.pledge_id,
        member_id=pledge.member_id,
        year=year,
        result_cents=result_cents,
        called_cents=contribution_due_cents(pledge.rate_percent, result_cents),
    )


def cancel_contribution_result(coop: Cooperative, cmd: CancelContributionResult, meta: Meta) -> None:
    pledge = coop.contributions.pledge(cmd.pledge_id)
    year, declared = _declared(pledge, cmd.year)
    if declared.paid_cents:
        raise InvalidCommand(
            "year", "contribution_unpaid", f"{_eur(declared.paid_cents)} was paid on {year}: reverse the payments first"
        )
    reason = text(cmd.reason, "reason", max_chars=200)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, declared.declared_on, "effective_date", f"the declaration of {year}")
    coop.record(ContributionResultCancelled, effective_date=day, meta=meta, pledge_id=pledge.pledge_id, year=year, reason=reason)


def pay_contribution(coop: Cooperative, cmd: PayContribution, meta: Meta) -> None:
    pledge = coop.contributions.pledge(cmd.pledge_id)
    year, declared = _declared(pledge, cmd.year)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    due = declared.called_cents - declared.paid_cents
    if amount_cents > due:
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{_eur(amount_cents)} exceeds the {_eur(due)} still due on the {year} contribution of pledge {pledge.pledge_id}",
        )
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, declared.declared_on, "effective_date", f"the declaration of {year}")
    member = coop.members[pledge.member_id]
    coop.record_entry(
        ContributionPaid,
        effective_date=day,
        meta=meta,
        label=f"Contribution de réussite {year} – {member.member_id}",
        postings=inflow_postings(coop, FUND, [coop.chart.role("bank"), None, EUR, amount_cents], amount_cents),
        pledge_id=pledge.pledge_id,
        member_id=pledge.member_id,
        year=year,
        amount_cents=amount_cents,
    )


FAMILY = register(
    Family(
        name="contributions",
        commands={
            PledgeContribution: Handler(pledge_contribution, FINANCIAL),
            DeclareContributionResult: Handler(declare_contribution_result, FINANCIAL),
            CancelContributionResult: Handler(cancel_contribution_result, FINANCIAL),
            PayContribution: Handler(pay_contribution, FINANCIAL),
        },
        events={
            "ContributionPledged": Fact("contribution.pledged", "activities"),
            "ContributionResultDeclared": Fact("contribution_result.declared", "activities"),
            "ContributionResultCancelled": Fact("contribution_result.cancelled", "activities"),
            "ContributionPaid": Fact("contribution.paid", "entries", journal="BQ"),
            "CooperationFundCarried": Fact("cooperation_fund.carried", "activities"),
            "ContributionPledgeCarried": Fact("contribution_pledge.carried", "activities"),
        },
        state=ContributionsState,
        managed={"cooperation_fund": (PayContribution,)},
        carriers=("domain.funds_carry:carry_funds", "domain.contributions_carry:carry_contribution_pledges"),
        carry_order=40,
    )
)
