"""Membership: admission into a college, transfers, resignation, exclusion, capital shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.membership_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    Member,
    MemberAdmitted,
    MemberExcluded,
    MemberKind,
    MemberResigned,
    MemberStatus,
    MemberTransferred,
    SharesCarried,
    SharesRedeemed,
    SharesSubscribed,
)
from domain.money import Unit
from domain.roles import FINANCIAL, MEMBERSHIP
from domain.rules import identifier, not_before, text, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_SHARES_PER_COMMAND = 1_000_000


def check_member_on(member: Member, day: date, field: str = "member_id") -> None:
    """The member belongs to the cooperative on `day` (admitted, not yet left), whatever the
    order of recording: a back-dated subscription of a member who has left since is history."""
    if not member.is_member_on(day):
        left = f", left on {member.left_on}" if member.left_on else ""
        raise InvalidCommand(
            field, "member_on_date", f"{member.member_id} is not a member on {day} (admitted on {member.admitted_on}{left})"
        )


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class AdmitMember:
    coop: str
    member_id: str
    name: str
    kind: str
    college: str
    effective_date: date
    headcount: int = 1  # people in an organisation; it picks the fee bracket


@dataclass(frozen=True)
class TransferMember:
    coop: str
    member_id: str
    college: str
    effective_date: date


@dataclass(frozen=True)
class ResignMember:
    coop: str
    member_id: str
    effective_date: date


@dataclass(frozen=True)
class ExcludeMember:
    coop: str
    member_id: str
    effective_date: date
    reason: str


@dataclass(frozen=True)
class SubscribeShares:
    coop: str
    member_id: str
    shares: int
    effective_date: date


@dataclass(frozen=True)
class RedeemShares:
    coop: str
    member_id: str
    shares: int
    effective_date: date


# ---------------------------------------------------------------- deciders


def _college(coop: Cooperative, code: Any, day: date) -> str:
    """A college that exists on `day` and is not abolished by a later amendment."""
    code = identifier(code, "college")
    if not coop.college_exists_from(code, day):
        known = ", ".join(coop.colleges_on(day))
        raise NotFound("college", "known_college", f"{code!r} is not a college of {coop.slug} from {day} on (colleges: {known})")
    return code


def _dated_change(coop: Cooperative, member: Member, day: Any) -> date:
    day = coop.check_effective_date(day)
    assert member.last_change_on is not None
    not_before(day, member.last_change_on, "effective_date", f"{member.member_id}'s last change")
    # A transfer or departure dated on or before a vote the member cast would change, after the
    # fact, the college (or the right) that vote was counted under.
    for resolution_id, resolution in sorted(coop.resolutions.items()):
        if member.member_id in resolution["voters"] and resolution["vote_date"] >= day:
            raise InvalidCommand(
                "effective_date",
                "after_votes_cast",
                f"{member.member_id} voted on {resolution_id} on {resolution['vote_date']}: date this change after that vote",
            )
    return day


def admit_member(coop: Cooperative, cmd: AdmitMember, meta: Meta) -> None:
    member_id = identifier(cmd.member_id, "member_id")
    if member_id in coop.members:
        raise Conflict("member_id", "unique_member", f"member {member_id!r} already exists in {coop.slug}")
    name = text(cmd.name, "name")
    try:
        kind = MemberKind(cmd.kind)
    except ValueError:
        raise InvalidCommand("kind", "member_kind", f"{cmd.kind!r} is not 'person' or 'organisation'") from None
    day = coop.check_effective_date(cmd.effective_date)
    college = _college(coop, cmd.college, day)
    headcount = whole_number(cmd.headcount, "headcount", minimum=1, maximum=10**7)
    if kind is MemberKind.PERSON and headcount != 1:
        raise InvalidCommand("headcount", "person_headcount", "a person's headcount is 1")
    coop.record(
        MemberAdmitted,
        effective_date=day,
        meta=meta,
        member_id=member_id,
        name=name,
        member_kind=kind.value,
        college=college,
        headcount=headcount,
    )


def transfer_member(coop: Cooperative, cmd: TransferMember, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    member.check_active()
    day = _dated_change(coop, member, cmd.effective_date)
    college = _college(coop, cmd.college, day)
    if college == member.college:
        raise InvalidCommand("college", "different_college", f"{member.member_id} is already in college {college}")
    coop.record(
        MemberTransferred,
        effective_date=day,
        meta=meta,
        member_id=member.member_id,
        from_college=member.college,
        to_college=college,
    )


def resign_member(coop: Cooperative, cmd: ResignMember, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    member.check_active()
    day = _dated_change(coop, member, cmd.effective_date)
    coop.record(MemberResigned, effective_date=day, meta=meta, member_id=member.member_id)


def exclude_member(coop: Cooperative, cmd: ExcludeMember, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    member.check_active()
    reason = text(cmd.reason, "reason")
    day = _dated_change(coop, member, cmd.effective_date)
    coop.record(MemberExcluded, effective_date=day, meta=meta, member_id=member.member_id, reason=reason)


def _shares_command(coop: Cooperative, cmd: SubscribeShares | RedeemShares) -> tuple[Member, int, date, int]:
    if not coop.legal_form.has_capital or coop.share_value_cents is None:
        raise InvalidCommand("coop", "has_capital", f"{coop.slug} is an {coop.legal_form.value}: it has no capital shares")
    member = coop.member(cmd.member_id)
    shares = whole_number(cmd.shares, "shares", minimum=1, maximum=MAX_SHARES_PER_COMMAND)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, member.admitted_on, "effective_date", f"{member.member_id}'s admission")
    return member, shares, day, shares * coop.share_value_cents


def subscribe_shares(coop: Cooperative, cmd: SubscribeShares, meta: Meta) -> None:
    member, shares, day, amount = _shares_command(coop, cmd)
    member.check_active()
    bank, capital = coop.chart.role("bank"), coop.chart.role("capital")
    coop.record_entry(
        SharesSubscribed,
        effective_date=day,
        meta=meta,
        label=f"Souscription de {shares} part(s) sociale(s) – {member.member_id}",
        postings=[[bank, None, Unit.EUR.value, amount], [capital, member.member_id, Unit.EUR.value, -amount]],
        member_id=member.member_id,
        shares=shares,
        amount_cents=amount,
    )


def redeem_shares(coop: Cooperative, cmd: RedeemShares, meta: Meta) -> None:
    member, shares, day, amount = _shares_command(coop, cmd)
    # Held on its date and on every later date a move has: a back-dated redemption must not leave
    # the member with fewer than no shares between it and a later subscription.
    held, held_on = SharesRedeemed.lowest_from(member.share_moves, day)
    if shares > held:
        raise InvalidCommand(
            "shares", "shares_held", f"{member.member_id} holds {held} share(s) on {held_on}, cannot redeem {shares} from {day}"
        )
    bank, capital = coop.chart.role("bank"), coop.chart.role("capital")
    coop.record_entry(
        SharesRedeemed,
        effective_date=day,
        meta=meta,
        label=f"Remboursement de {shares} part(s) sociale(s) – {member.member_id}",
        postings=[[capital, member.member_id, Unit.EUR.value, amount], [bank, None, Unit.EUR.value, -amount]],
        member_id=member.member_id,
        shares=shares,
        amount_cents=amount,
    )


FAMILY = register(
    Family(
        name="membership",
        commands={
            AdmitMember: Handler(admit_member, MEMBERSHIP),
            TransferMember: Handler(transfer_member, MEMBERSHIP),
            ResignMember: Handler(resign_member, MEMBERSHIP),
            ExcludeMember: Handler(exclude_member, MEMBERSHIP),
            SubscribeShares: Handler(subscribe_shares, FINANCIAL),
            RedeemShares: Handler(redeem_shares, FINANCIAL),
        },
        events={
            "MemberAdmitted": Fact("member.admitted", "membership"),
            "MemberTransferred": Fact("member.transferred", "membership"),
            "MemberResigned": Fact("member.resigned", "membership"),
            "MemberExcluded": Fact("member.excluded", "membership"),
            "SharesSubscribed": Fact("shares.subscribed", "entries", journal="BQ"),
            "SharesRedeemed": Fact("shares.redeemed", "entries", journal="BQ"),
            "SharesCarried": Fact("shares.carried", "membership"),
        },
        managed={"capital": (SubscribeShares, RedeemShares)},
        carriers=("domain.shares_carry:carry_shares",),
        carry_order=30,
    )
)
