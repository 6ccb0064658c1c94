"""The state of the donations family (domain/donations.py), kept on the Cooperative aggregate:
each gift with its dedicated movements when earmarked, the ids used, and each donor's kind; and
the events that build it, which are its only writers. The commands and deciders that record
these events are in domain/donations.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand
from domain.events import FinancialEvent
from domain.money import Unit, format_minor
from domain.personal import Personal
from domain.pots import Figures, Pot

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass
class Gift:
    """A donation or a crowdfunding payout; `purpose` is "project:<id>", "call:<id>" or None."""

    gift_id: str
    source: str  # "donation" or "crowdfunding"
    purpose: str | None
    received_on: date
    gross_cents: int
    pot: Pot = field(default_factory=Pot)  # dedicated movements, when earmarked
    receipt: Any = None  # the event that brought it in: its donors, should a federation carry it (donations_carry)

    @property
    def used_cents(self) -> int:
        return self.pot.totals.used_cents


@dataclass
class DonationsState:
    gifts: dict[str, Gift] = field(default_factory=dict)
    ids_used: set[str] = field(default_factory=set)  # a reversed gift's id is never reused: receipts name it
    donor_kinds: dict[str, str] = field(default_factory=dict)
    # gift id -> the date of the reversal that cancelled it: a tax receipt issued for it before is
    # flagged for correction (domain/tax_receipts.py)
    reversed: dict[str, date] = field(default_factory=dict)

    def forget(self, person_id: str) -> None:
        """A forgotten donor's name and address, in the receipts the gifts keep, read as erased
        (Cooperative.forget): each receipt naming them is replaced by its erased copy."""
        for gift in self.gifts.values():
            if gift.receipt is not None and any(p == person_id for _path, p in gift.receipt.persons()):
                gift.receipt = gift.receipt.forgotten_copy(person_id)


def donations_state(coop: Cooperative) -> DonationsState:
    """The family's state on the aggregate (made by its declaration, FAMILY in domain/donations.py)."""
    state: DonationsState = coop.donations  # type: ignore[attr-defined]
    return state


# ---------------------------------------------------------------- events


class _GiftReceived(FinancialEvent):
    """A gift came in. Its effect creates the Gift (and its pot when earmarked) and remembers
    its donors' kinds; undoing it is allowed only while nothing but the platform's fee was used."""

    abstract: ClassVar[bool] = True

    def apply(self, coop: Cooperative) -> None:
        super().apply(coop)
        donations_state(coop).gifts[self.effect()["gift_id"]].receipt = self

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        state, gift_id = donations_state(coop), effect["gift_id"]
        if sign < 0:  # check_reversible made sure nothing else was used
            del state.gifts[gift_id]
            state.reversed[gift_id] = day
            return
        gift = Gift(gift_id, effect["source"], effect["purpose"], day, effect["gross_cents"])
        state.gifts[gift_id] = gift
        state.ids_used.add(gift_id)
        state.donor_kinds.update(effect["donor_kinds"])
        if gift.purpose is not None:
            _move(gift, day, Figures(inflow_cents=effect["gross_cents"], used_cents=effect.get("fee_cents", 0)))

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Cancelling the gift removes it and its pot: nothing but the platform's fee may be used on
        `day` or any later recorded date (a use after `day`, even reversed since, was a use of
        nothing given while it stood)."""
        gift = donations_state(coop).gifts[effect["gift_id"]]
        if gift.used_cents > effect.get("fee_cents", 0):
            raise InvalidCommand(
                "entry_number",
                "donation_unused",
                f"{_eur(gift.used_cents)} of gift {gift.gift_id} was used on its purpose: reverse the uses first",
            )
        unused = gift.pot.lowest_from(day, lambda f: effect.get("fee_cents", 0) - f.used_cents)
        if unused < 0:
            raise InvalidCommand(
                "entry_number",
                "donation_unused",
                f"{_eur(-unused)} of gift {gift.gift_id} stood used on its purpose on a date from {day} on: "
                "date this reversal on or after the reversal of those uses",
            )


class DonationReceived(_GiftReceived):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("donor_id", ("donor_name", "donor_address")),)
    donation_id: str
    donor_id: str
    donor_name: str
    donor_kind: str
    donor_address: str | None
    method: str
    purpose: str | None
    amount_cents: int
    piece_ref: str | None

    def effect(self) -> dict[str, Any]:
        return {
            "gift_id": self.donation_id,
            "source": "donation",
            "purpose": self.purpose,
            "gross_cents": self.amount_cents,
            "donor_kinds": {self.donor_id: self.donor_kind},
        }


class CrowdfundingPayoutReceived(_GiftReceived):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("donor_id", ("donor_name", "donor_address"), within="backers"),)
    payout_id: str
    platform: str
    campaign: str
    purpose: str | None
    gross_cents: int
    fee_cents: int
    backers: list[dict[str, Any]]  # [{"donor_id", "donor_name", "donor_kind", "donor_address", "amount_cents"}]
    piece_ref: str | None

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents

    @property
    def anonymous_cents(self) -> int:
        return self.gross_cents - sum(b["amount_cents"] for b in self.backers)

    def effect(self) -> dict[str, Any]:
        return {
            "gift_id": self.payout_id,
            "source": "crowdfunding",
            "purpose": self.purpose,
            "gross_cents": self.gross_cents,
            "fee_cents": self.fee_cents,
            "donor_kinds": {b["donor_id"]: b["donor_kind"] for b in self.backers},
        }


class EarmarkedDonationUsed(FinancialEvent):
    donation_id: str
    purpose: str
    amount_cents: int
    piece_ref: str | None

    def effect(self) -> dict[str, Any]:
        return {"gift_id": self.donation_id, "purpose": self.purpose, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        _move(donations_state(coop).gifts[effect["gift_id"]], day, Figures(used_cents=sign * effect["amount_cents"]))


def _move(gift: Gift, day: date, delta: Figures) -> None:
    gift.pot.moves.append((day, delta))
    gift.pot.totals = gift.pot.totals + delta
    assert 0 <= gift.pot.totals.used_cents <= gift.pot.totals.inflow_cents, f"gift {gift.gift_id} used outside 0..dedicated"


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"
