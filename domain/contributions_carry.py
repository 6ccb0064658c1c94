"""Success-contribution pledges carried by a federation (domain/federation_carry.py), the
carrier of the contributions family (domain/contributions.py) beside its cooperation fund's
(domain/funds_carry.py).

Success-contribution pledges of moving members with something left (a year to declare, or a
declared year not fully paid) are carried too, with every year already declared (so a year paid in
the founder is not declared again): DeclareContributionResult and PayContribution go on in the
federation, into its fund. A pledge is no receivable (docs/decisions/0005): those of members who
left stay in the founder's sealed books, and nothing refuses the federation for them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from domain.contributions import ContributionYear, Pledge
from domain.events import CoopEvent
from domain.federation_carry import check_unique

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


class ContributionPledgeCarried(CoopEvent):
    """A moving member's success-contribution pledge with something left, carried into a
    federation with its declared years (called and paid by the day before), as if pledged and
    declared on the federation date. No entry: a call is no receivable."""

    pledge_id: str
    member_id: str
    rate_percent: str
    first_year: int
    years: int
    declared: list[dict[str, int]]  # [{"year", "result_cents", "called_cents", "paid_cents"}]
    founder: str
    founder_member_id: str

    def apply(self, coop: Cooperative) -> None:
        assert self.pledge_id not in coop.contributions.pledges, f"pledge {self.pledge_id} carried twice"
        day = self.effective_date
        pledge = Pledge(self.pledge_id, self.member_id, Fraction(self.rate_percent), self.first_year, self.years, day)
        for y in self.declared:
            assert pledge.covers(y["year"]) and 0 <= y["paid_cents"] <= y["called_cents"], (
                f"carried pledge {self.pledge_id} year {y}"
            )
            pledge.declared[y["year"]] = ContributionYear(y["result_cents"], y["called_cents"], day, y["paid_cents"])
        coop.contributions.pledges[self.pledge_id] = pledge


def carry_contribution_pledges(ctx: CarryContext) -> Carried:
    """Carries the moving members' pledges with a year left to declare or to pay (see the module's
    docstring). Books nothing and returns nothing: a pledge is not on the books."""
    founder, day = ctx.founder, ctx.day
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    for pledge_id in sorted(founder.contributions.pledges):
        pledge = founder.contributions.pledges[pledge_id]
        assert all(y.declared_on < day for y in pledge.declared.values()), (
            "a founder has no event on or after its federation date"
        )
        left = len(pledge.declared) < pledge.years or any(y.paid_cents < y.called_cents for y in pledge.declared.values())
        if pledge.member_id not in moving or not left:
            continue
        check_unique(
            ctx, ctx.new.contributions.pledges, ContributionPledgeCarried, "pledge_id", pledge_id, "pledge", "unique_pledge"
        )
        ctx.new.record(
            ContributionPledgeCarried,
            effective_date=day,
            meta=ctx.meta,
            pledge_id=pledge_id,
            member_id=ctx.party(pledge.member_id),
            rate_percent=str(pledge.rate_percent),
            first_year=pledge.first_year,
            years=pledge.years,
            founder=ctx.founder_slug,
            founder_member_id=pledge.member_id,
            declared=[
                {"year": year, "result_cents": y.result_cents, "called_cents": y.called_cents, "paid_cents": y.paid_cents}
                for year, y in sorted(pledge.declared.items())
            ],
        )
    return {}
