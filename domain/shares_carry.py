"""Capital shares carried by a federation (domain/federation_carry.py): the moving members' shares.

A founder's capital account (role "capital", 1013) holds, per member, shares x the founder's share
value. The federation carries each moving member's shares held at the end of the day before, as
SharesCarried (domain/membership.py), converted to the federation's share value: the capital in
cents is what moves, so the federation's shares are capital / its share value, refused when that
does not divide exactly (a member would hold a fraction of a share) or when the federation has no
capital. So in the federation too, each member's capital balance = shares x share value, and
RedeemShares redeems what was carried.

Shares of members who left the founder are not carried (they do not move): their capital is an
open item the generic check refuses (redeem it in the founder first).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.errors import InvalidCommand
from domain.membership import SharesCarried
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.federation_carry import Carried, CarryContext


def _euros(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


def carry_shares(ctx: CarryContext) -> Carried:
    """Records SharesCarried in the federation for each moving member holding shares on the day
    before; returns the capital carried per founder-side member (a credit: negative)."""
    founder, new, day = ctx.founder, ctx.new, ctx.day
    last_day = date.fromordinal(day.toordinal() - 1)
    capital = founder.chart.roles.get("capital")
    carried: Carried = {}
    for member in founder.members.values():  # admission order
        held = member.shares_on(last_day)
        assert held == member.shares >= 0, "a founder has no event on or after its federation date"
        if not held or not member.is_member_on(day):
            continue  # a departed member's capital stays an open item: the generic check refuses it
        assert capital is not None and founder.share_value_cents is not None, f"{ctx.founder_slug} has shares but no capital"
        capital_cents = held * founder.share_value_cents
        new_id = ctx.party(member.member_id)
        what = (
            f"{ctx.founder_slug} member {member.member_id} holds {held} share(s) of {_euros(founder.share_value_cents)}"
            f" ({_euros(capital_cents)} of capital)"
        )
        value = new.share_value_cents
        if value is None:
            raise InvalidCommand(
                "share_value",
                "has_capital",
                f"{what}, but {new.slug} is an {new.legal_form.value} with no capital shares to carry them: "
                "federate into a SCIC, SCOP or CAE with a share value, or redeem the shares first",
            )
        if capital_cents % value:
            raise InvalidCommand(
                "share_value",
                "shares_convert_exactly",
                f"{what}: not a whole number of {new.slug}'s shares of {_euros(value)}; choose a share value "
                f"that divides every carried capital, or have {member.member_id} subscribe or redeem first",
            )
        shares = capital_cents // value
        assert shares > 0 and shares * value == capital_cents
        new.record(
            SharesCarried,
            effective_date=day,
            meta=ctx.meta,
            member_id=new_id,
            shares=shares,
            capital_cents=capital_cents,
            founder=ctx.founder_slug,
            founder_member_id=member.member_id,
            founder_shares=held,
        )
        carried[(capital, member.member_id, Unit.EUR.value)] = -capital_cents
    return carried
