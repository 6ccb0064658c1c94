"""The state of the membership family (domain/membership.py), kept on the Cooperative aggregate
(`coop.members`): each member with its college and its shares, as dated histories; and the events
that build it, which are its only writers. The commands and deciders that record these events are
in domain/membership.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand
from domain.events import CoopEvent, FinancialEvent
from domain.personal import Personal

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


class MemberKind(str, Enum):
    PERSON = "person"
    ORGANISATION = "organisation"


class MemberStatus(str, Enum):
    ACTIVE = "active"
    RESIGNED = "resigned"
    EXCLUDED = "excluded"
    FEDERATED = "federated"  # moved into a federation with its cooperative's other members (domain/federation.py)


@dataclass
class Member:
    member_id: str
    name: str
    kind: MemberKind
    college: str
    headcount: int
    admitted_on: date
    status: MemberStatus = MemberStatus.ACTIVE
    left_on: date | None = None
    shares: int = 0
    last_change_on: date | None = None  # dated changes must not go back in time
    # Dated history, so eligibility "on date D" is exact whatever the recording order.
    college_history: list[tuple[date, str]] = field(default_factory=list)  # (from, college)
    share_moves: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- shares)

    def college_on(self, day: date) -> str | None:
        current = None
        for since, college in self.college_history:
            if since <= day:
                current = college
        return current

    def is_member_on(self, day: date) -> bool:
        return self.admitted_on <= day and (self.left_on is None or day < self.left_on)

    def shares_on(self, day: date) -> int:
        return sum(delta for moved_on, delta in self.share_moves if moved_on <= day)

    def check_active(self, field: str = "member_id") -> None:
        if self.status is not MemberStatus.ACTIVE:
            raise InvalidCommand(field, "active_member", f"member {self.member_id!r} {self.status.value} on {self.left_on}")


# ---------------------------------------------------------------- events


class MemberAdmitted(CoopEvent):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("member_id", ("name",)),)
    member_id: str
    name: str
    member_kind: str
    college: str
    headcount: int

    def apply(self, coop: Cooperative) -> None:
        coop.members[self.member_id] = Member(
            member_id=self.member_id,
            name=self.name,
            kind=MemberKind(self.member_kind),
            college=self.college,
            headcount=self.headcount,
            admitted_on=self.effective_date,
            last_change_on=self.effective_date,
            college_history=[(self.effective_date, self.college)],
        )


class MemberTransferred(CoopEvent):
    member_id: str
    from_college: str
    to_college: str

    def apply(self, coop: Cooperative) -> None:
        member = coop.members[self.member_id]
        member.college = self.to_college
        member.last_change_on = self.effective_date
        member.college_history.append((self.effective_date, self.to_college))


class MemberResigned(CoopEvent):
    member_id: str

    def apply(self, coop: Cooperative) -> None:
        member = coop.members[self.member_id]
        member.status = MemberStatus.RESIGNED
        member.left_on = member.last_change_on = self.effective_date


class MemberExcluded(CoopEvent):
    # An exclusion's reason describes the person (what they did): sealed with their identity.
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("member_id", ("reason",)),)
    member_id: str
    reason: str

    def apply(self, coop: Cooperative) -> None:
        member = coop.members[self.member_id]
        member.status = MemberStatus.EXCLUDED
        member.left_on = member.last_change_on = self.effective_date


class SharesSubscribed(FinancialEvent):
    member_id: str
    shares: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "shares": self.shares}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        member = coop.members[effect["member_id"]]
        member.shares += sign * effect["shares"]
        member.share_moves.append((day, sign * effect["shares"]))

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The shares must still be held on `day` and on every later date a move has (share_moves),
        or the member would hold fewer than none between this reversal and a later subscription."""
        member, shares = coop.members[effect["member_id"]], effect["shares"]
        held, held_on = cls.lowest_from(member.share_moves, day)
        if held < shares:
            raise InvalidCommand(
                "entry_number",
                "shares_still_held",
                f"{member.member_id} holds {held} share(s) on {held_on}, fewer than the {shares} to cancel from {day}",
            )


class SharesRedeemed(FinancialEvent):
    member_id: str
    shares: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "shares": self.shares}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        member = coop.members[effect["member_id"]]
        member.shares -= sign * effect["shares"]
        member.share_moves.append((day, -sign * effect["shares"]))


class SharesCarried(CoopEvent):
    """A member's capital shares, carried into a federation on its date (domain/shares_carry.py):
    the founder's `founder_shares` were worth `capital_cents`, which make `shares` shares at the
    federation's share value. No entry: the capital arrives on 1013 with the founder's opening
    entry; RedeemShares redeems these shares from here on and eligibility counts them."""

    member_id: str  # in the federation
    shares: int  # at the federation's share value
    capital_cents: int  # = shares x the federation's share value = founder_shares x the founder's
    founder: str
    founder_member_id: str
    founder_shares: int

    def apply(self, coop: Cooperative) -> None:
        member = coop.members[self.member_id]
        assert self.shares > 0 and not member.share_moves, f"shares of {self.member_id} carried twice or empty"
        member.shares += self.shares
        member.share_moves.append((self.effective_date, self.shares))
