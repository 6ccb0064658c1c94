"""Earmarked gifts carried by a federation (domain/federation_carry.py).

A founder's earmarked gift (domain/donations.py) with an unspent part at the end of D-1 is an
open item on the dedicated account (196 fonds dédiés in the association plan, 4877 in the general
plan; party: the gift). The opening entry brings the money; `EarmarkedGiftCarried` rebuilds the
gift in the federation's DonationsState, so `UseEarmarkedDonation` spends it there on its purpose
only and up to what was unspent, exactly as the founder would have.

Choices, each with a test in tests/federation/test_carry_donations.py:
- Plans: the opening entry copies accounts as they are. When the founder's dedicated account is
  not the federation's (an association's 196 into a general-plan SCIC, whose gifts live on 4877,
  or the reverse), a use in the federation would release the federation's account while the money
  sits on the founder's: refused (field `legal_form`, rule `same_dedicated_account`) whenever such
  a founder has a gift to carry. No mapping: an opening entry is the founder's books, unchanged.
- Purpose: a project's is carried as the founder wrote it ("project:<id>"). A call's depends on
  the call: an open call is carried into the federation under its own id (domain/funds_carry.py,
  which runs first), so the gift keeps "call:<id>" and funds that very call; a call the founder
  closed stays in its books, so the gift's purpose becomes "call:<founder>.<id>": still usable for
  it (a use names its purpose and never needed the call to exist), never for a call the federation
  or another founder has under the same id, and OpenCall refuses that id in the federation
  (domain/grants.py, rule `earmarked_elsewhere`). Any other purpose is refused (earmarked_purpose).
- Ids: the gift keeps its id (renamed only as the opening entry renames its party, so the two
  always agree); an id already carried from another founder is refused (Conflict, field
  `founders[i]`, rule `unique_gift`); the id is then used in the federation (RecordDonation with
  it is refused, as for a reversed gift).
- Donors: the founder received the gift and issues its tax receipts; the carried event keeps the
  donors as the founder recorded them (who gave, how much, how), for the trail, but the
  federation's per-donor yearly list (projections/donations.py donor_receipts) does NOT count it,
  and the donors' kinds stay the founder's (its donor ids are its own).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.donations import CrowdfundingPayoutReceived, DonationReceived, _eur, _move
from domain.donations_state import Gift, donations_state
from domain.errors import Conflict, InvalidCommand
from domain.events import CoopEvent
from domain.money import Unit
from domain.personal import Personal
from domain.pots import Figures

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


class EarmarkedGiftCarried(CoopEvent):
    """A founder's earmarked gift, carried into a federation on its date with what was unspent
    the day before. No entry: the unspent money arrives on the dedicated account with the
    founder's opening entry (`opening_journal_number`); UseEarmarkedDonation spends it from here."""

    # The donors' ids are the founder's, not renamed (module docstring): their identities are sealed
    # under those ids here, where another person may hold the same id.
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("donor_id", ("donor_name", "donor_address"), within="donors"),)
    gift_id: str
    source: str  # "donation" or "crowdfunding"
    purpose: str  # "project:<id>" or "call:<id>", as the founder recorded it
    received_on: date  # in the founder's books
    gross_cents: int
    fee_cents: int  # the platform's fee of a crowdfunding payout, else 0
    unspent_cents: int  # dedicated in the federation from its date
    method: str  # transfer | cheque | card | cash | platform
    platform: str | None
    campaign: str | None
    donors: list[dict[str, Any]]  # [{"donor_id", "donor_name", "donor_kind", "donor_address", "amount_cents"}], the founder's
    anonymous_cents: int  # unitemised backers of a payout
    founder: str
    founder_gift_id: str
    founder_journal_number: int  # the founder's entry that received it (receipts are the founder's)
    opening_journal_number: int  # the federation's entry that holds its unspent part

    def apply(self, coop: Cooperative) -> None:
        state = donations_state(coop)
        assert self.gift_id not in state.ids_used, f"gift {self.gift_id} carried twice"
        assert self.unspent_cents > 0, f"gift {self.gift_id} carried with nothing unspent"
        gift = Gift(self.gift_id, self.source, self.purpose, self.received_on, self.gross_cents, receipt=self)
        _move(gift, self.effective_date, Figures(inflow_cents=self.unspent_cents))
        state.gifts[self.gift_id] = gift
        state.ids_used.add(self.gift_id)


def _receipt(gift: Gift) -> dict[str, Any]:
    """What the founder recorded when it received the gift (or carried it, for a federation of
    federations): how, from whom, and under which journal number of its own."""
    r = gift.receipt
    if isinstance(r, EarmarkedGiftCarried):
        return {
            "method": r.method,
            "platform": r.platform,
            "campaign": r.campaign,
            "fee_cents": r.fee_cents,
            "donors": [dict(d) for d in r.donors],
            "anonymous_cents": r.anonymous_cents,
            "founder_journal_number": r.opening_journal_number,
        }
    if isinstance(r, CrowdfundingPayoutReceived):
        return {
            "method": "platform",
            "platform": r.platform,
            "campaign": r.campaign,
            "fee_cents": r.fee_cents,
            "donors": [dict(b) for b in r.backers],
            "anonymous_cents": r.anonymous_cents,
            "founder_journal_number": r.journal_number,
        }
    assert isinstance(r, DonationReceived), f"gift {gift.gift_id} has no receipt"
    return {
        "method": r.method,
        "platform": None,
        "campaign": None,
        "fee_cents": 0,
        "anonymous_cents": 0,
        "donors": [
            {
                "donor_id": r.donor_id,
                "donor_name": r.donor_name,
                "donor_kind": r.donor_kind,
                "donor_address": r.donor_address,
                "amount_cents": r.amount_cents,
            }
        ],
        "founder_journal_number": r.journal_number,
    }


def _opening_number(ctx: CarryContext) -> int:
    """The federation's opening entry of this founder (recorded before the carriers run)."""
    numbers = [
        e.journal_number for e in ctx.new.pending_events if e.kind == "FederationOpeningCarried" and e.founder == ctx.founder_slug
    ]  # type: ignore[attr-defined]
    assert len(numbers) == 1, f"{ctx.founder_slug} has {len(numbers)} opening entries"
    return numbers[0]


def _carried_purpose(ctx: CarryContext, purpose: str) -> str:
    """The gift's purpose in the federation (module docstring): a call the founder closed is
    named after the founder, so no call of the federation can ever take its place."""
    kind, _, target = purpose.partition(":")
    if kind != "call":
        return purpose
    call = ctx.founder.grants.calls.get(target)
    if call is not None and call.closed_on is None:  # carried under its id by domain/funds_carry.py
        assert target in ctx.new.grants.calls, f"open call {target} of {ctx.founder_slug} was not carried before its gifts"
        return purpose
    return f"call:{ctx.founder_slug}.{target}"


def carry_earmarked_gifts(ctx: CarryContext) -> Carried:
    """Carries the founder's earmarked gifts with an unspent part at the end of D-1 (module
    docstring). Unrestricted gifts and spent ones hold nothing on the dedicated account: left."""
    founder, new = ctx.founder, ctx.new
    gifts = [
        g for _id, g in sorted(donations_state(founder).gifts.items()) if g.purpose is not None and g.pot.totals.unspent_cents
    ]
    if not gifts:
        return {}
    account, theirs = founder.chart.role("donation_dedicated"), new.chart.role("donation_dedicated")
    if account != theirs:
        unspent = sum(g.pot.totals.unspent_cents for g in gifts)
        raise InvalidCommand(
            "legal_form",
            "same_dedicated_account",
            f"{ctx.founder_slug} ({founder.legal_form.value}) holds {_eur(unspent)} of earmarked gifts unspent on {account}, "
            f"but a {new.legal_form.value} keeps them on {theirs}: the opening entry copies accounts as they are, so the gifts "
            f"could not be used there. Federate under a legal form with the same chart, or use the gifts first",
        )
    taken = set(donations_state(new).ids_used)  # carried from the founders before this one
    opening = _opening_number(ctx)
    carried: dict[tuple[str, str | None, str], int] = {}
    for gift in gifts:
        unspent = gift.pot.totals.unspent_cents
        assert 0 < unspent <= gift.pot.totals.inflow_cents, f"gift {gift.gift_id} unspent outside 0..dedicated"
        assert max(day for day, _f in gift.pot.moves) < ctx.day, "a founder has no event on or after its federation date"
        gift_id = ctx.party(gift.gift_id)  # as the opening entry names the party of the dedicated account
        if gift_id in taken:
            raise Conflict(
                ctx.field,
                "unique_gift",
                f"{ctx.founder_slug}'s earmarked gift {gift_id!r} has the id of a gift "
                f"another founder carries into {new.slug}: gift ids must be unique in the federation",
            )
        new.record(
            EarmarkedGiftCarried,
            effective_date=ctx.day,
            meta=ctx.meta,
            gift_id=gift_id,
            source=gift.source,
            purpose=_carried_purpose(ctx, gift.purpose),
            received_on=gift.received_on,
            gross_cents=gift.gross_cents,
            unspent_cents=unspent,
            **_receipt(gift),
            founder=ctx.founder_slug,
            founder_gift_id=gift.gift_id,
            opening_journal_number=opening,
        )
        carried[(account, gift.gift_id, Unit.EUR.value)] = -unspent  # a credit, as the books
    return carried
