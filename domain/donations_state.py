"""The state of the donations family (domain/donations.py), kept on the Cooperative aggregate:
each gift with its dedicated movements when earmarked, the ids used, and each donor's kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.pots import Pot

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


def donations_state(coop: Cooperative) -> DonationsState:
    """The family's state on the aggregate (made by its declaration, FAMILY in domain/donations.py)."""
    state: DonationsState = coop.donations  # type: ignore[attr-defined]
    return state
