"""Governance: statutes over time, who may vote, college weights and general-assembly tallies.

Rules (docs/rules.md, Voting colleges, Voting rights and General assemblies): a SCIC has 3 or
more colleges, equal votes unless the statutes weight them, and then each college holds 10% to
50%; capital is never a weight; inside a college, one member, one vote. An association's statutes
decide everything. Weights are exact fractions of 100 (percent): no float ever enters a weight.

The arithmetic (who may vote, weights, tallies) is pure and lives in domain/voting.py: the
write side here (to refuse an ineligible vote) and the governance projection (to answer "as of
date D") call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from domain.cooperative import CollegeSpec, FeeBracket
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.roles import CLERK, GOVERNANCE, STATUTES
from domain.rules import identifier, not_before, text
from domain.statutes import fee_schedule_of, validate_colleges, validate_voting_policy
from domain.voting import CHOICES, Eligibility, college_policy, eligibility

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

ASSEMBLIES = {"ordinary": (Fraction(1, 2), True), "extraordinary": (Fraction(2, 3), False)}  # threshold, strict


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class AmendStatutes:
    coop: str
    effective_date: date
    colleges: list[CollegeSpec]
    reason: str


@dataclass(frozen=True)
class SetVotingPolicy:
    coop: str
    effective_date: date
    require_fee_paid: bool = True
    min_shares: int = 0
    empty_college_policy: str = "redistribute"  # or "unassigned"


@dataclass(frozen=True)
class SetCollegeRules:
    """A college's own rules from a date (its autonomy after a federation, or any statutes that
    give colleges their own fee and eligibility): a full version that replaces the college's
    previous one. A rule left out (None) follows the cooperative's policy and fee schedule."""

    coop: str
    college: str
    effective_date: date
    fee_schedule: list[FeeBracket] | None = None
    require_fee_paid: bool | None = None
    min_shares: int | None = None


@dataclass(frozen=True)
class RecordResolution:
    coop: str
    resolution_id: str
    title: str
    assembly: str  # "ordinary" (adopted above 1/2) or "extraordinary" (at least 2/3)
    vote_date: date
    threshold: str | None = None  # the statutes' own majority, e.g. "3/4" (adopted at or above)


@dataclass(frozen=True)
class CastVote:
    coop: str
    resolution_id: str
    member_id: str
    choice: str  # for, against, abstain, blank


# ---------------------------------------------------------------- events


class StatutesAmended(CoopEvent):
    colleges: list[dict[str, Any]]
    weighted: bool
    reason: str

    def apply(self, coop: Cooperative) -> None:
        coop.statutes.append(
            {"effective_date": self.effective_date, "colleges": [dict(c) for c in self.colleges], "weighted": self.weighted}
        )


class VotingPolicySet(CoopEvent):
    require_fee_paid: bool
    min_shares: int
    empty_college_policy: str

    def apply(self, coop: Cooperative) -> None:
        coop.policies.append(
            {
                "effective_date": self.effective_date,
                "require_fee_paid": self.require_fee_paid,
                "min_shares": self.min_shares,
                "empty_college_policy": self.empty_college_policy,
            }
        )


class CollegeRulesSet(CoopEvent):
    college: str
    fee_schedule: list[dict[str, Any]] | None  # brackets as in CooperativeFounded, or None: the coop's
    require_fee_paid: bool | None
    min_shares: int | None

    def apply(self, coop: Cooperative) -> None:
        coop.college_rules.setdefault(self.college, []).append(
            {
                "effective_date": self.effective_date,
                "fee_schedule": self.fee_schedule,
                "require_fee_paid": self.require_fee_paid,
                "min_shares": self.min_shares,
            }
        )


class ResolutionRecorded(CoopEvent):
    resolution_id: str
    title: str
    assembly: str
    threshold: str
    threshold_strict: bool

    def apply(self, coop: Cooperative) -> None:
        coop.resolutions[self.resolution_id] = {"vote_date": self.effective_date, "voters": {}}  # member -> college


class VoteCast(CoopEvent):
    resolution_id: str
    member_id: str
    college: str
    choice: str

    def apply(self, coop: Cooperative) -> None:
        coop.resolutions[self.resolution_id]["voters"][self.member_id] = self.college


# ---------------------------------------------------------------- deciders


def member_eligibility(coop: Cooperative, member_id: str, day: date) -> Eligibility:
    """Eligibility computed from the write model (same rules as the projection)."""
    member = coop.member(member_id)
    policy = coop.policy_on(day)
    assert policy is not None, f"no voting policy in force on {day}"
    college = member.college_on(day)
    if college is not None:  # a college's own rules (SetCollegeRules) override the cooperative's
        policy = college_policy(policy, coop.college_rules.get(college, []), day)
    year = coop.fiscal_year_of(day)
    call = coop.fee_calls.get((member.member_id, year))
    return eligibility(
        member_id=member.member_id,
        college=member.college_on(day),
        admitted_on=member.admitted_on,
        left_on=member.left_on,
        left_as=member.status.value if member.left_on else None,
        fee_called_cents=call.called_by(day) if call else 0,
        fee_paid_cents=call.paid_by(day) if call else 0,
        shares=member.shares_on(day),
        policy=policy,
        day=day,
        fee_year=year,
    )


def _colleges_from(member: Any, day: date) -> set[str]:
    """Every college the member sits in on `day` or later (empty once they have left)."""
    if member.left_on is not None and member.left_on <= day:
        return set()
    colleges = {college for since, college in member.college_history if since > day}
    current = member.college_on(day)
    return colleges | ({current} if current else set())


def amend_statutes(coop: Cooperative, cmd: AmendStatutes, meta: Meta) -> None:
    day = coop.check_effective_date(cmd.effective_date)
    last = coop.statutes[-1]["effective_date"]
    not_before(day, last, "effective_date", "the statutes in force")
    reason = text(cmd.reason, "reason")
    colleges, weighted = validate_colleges(cmd.colleges, coop.legal_form)
    kept = {c["code"] for c in colleges}
    stranded = sorted(m.member_id for m in coop.members.values() if _colleges_from(m, day) - kept)
    if stranded:
        raise InvalidCommand(
            "colleges",
            "members_placed",
            f"members {', '.join(stranded[:10])} are in colleges this amendment abolishes: transfer them first",
        )
    # A vote already cast in a college on or after `day` must stay countable under the statutes
    # of its vote date (a member may have been transferred out since, by a back-dated transfer).
    voted_in = sorted(
        {college for r in coop.resolutions.values() if r["vote_date"] >= day for college in r["voters"].values()} - kept
    )
    if voted_in:
        raise InvalidCommand(
            "colleges",
            "votes_cast",
            f"votes were cast in colleges {', '.join(voted_in)} on or after {day}: this amendment cannot abolish them",
        )
    coop.record(StatutesAmended, effective_date=day, meta=meta, colleges=colleges, weighted=weighted, reason=reason)


def set_voting_policy(coop: Cooperative, cmd: SetVotingPolicy, meta: Meta) -> None:
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, coop.policies[-1]["effective_date"], "effective_date", "the policy in force")
    policy = validate_voting_policy(cmd.require_fee_paid, cmd.min_shares, cmd.empty_college_policy, coop.legal_form)
    coop.record(VotingPolicySet, effective_date=day, meta=meta, **policy)


def set_college_rules(coop: Cooperative, cmd: SetCollegeRules, meta: Meta) -> None:
    college = identifier(cmd.college, "college")
    day = coop.check_effective_date(cmd.effective_date)
    if not coop.college_exists_from(college, day):
        raise NotFound("college", "known_college", f"{college!r} is not a college of {coop.slug} from {day} on")
    earlier = coop.college_rules.get(college, [])
    if earlier:
        not_before(day, earlier[-1]["effective_date"], "effective_date", f"the rules of college {college} in force")
    schedule = None if cmd.fee_schedule is None else fee_schedule_of(cmd.fee_schedule)
    if cmd.require_fee_paid is not None and not isinstance(cmd.require_fee_paid, bool):
        raise InvalidCommand("require_fee_paid", "boolean", "must be true, false or left out")
    min_shares = cmd.min_shares
    if min_shares is not None:
        validate_voting_policy(True, min_shares, "redistribute", coop.legal_form)  # same bounds as the coop's rule
    coop.record(
        CollegeRulesSet,
        effective_date=day,
        meta=meta,
        college=college,
        fee_schedule=schedule,
        require_fee_paid=cmd.require_fee_paid,
        min_shares=min_shares,
    )


def record_resolution(coop: Cooperative, cmd: RecordResolution, meta: Meta) -> None:
    resolution_id = identifier(cmd.resolution_id, "resolution_id")
    if resolution_id in coop.resolutions:
        raise Conflict("resolution_id", "unique_resolution", f"resolution {resolution_id!r} already exists")
    title = text(cmd.title, "title")
    if cmd.assembly not in ASSEMBLIES:
        raise InvalidCommand("assembly", "known_assembly", f"{cmd.assembly!r} is not 'ordinary' or 'extraordinary'")
    threshold, strict = ASSEMBLIES[cmd.assembly]
    if cmd.threshold is not None:
        try:
            threshold, strict = Fraction(str(cmd.threshold).strip()), False
        except (ValueError, ZeroDivisionError):
            raise InvalidCommand("threshold", "fraction", f"{cmd.threshold!r} is not a fraction such as 2/3") from None
        if not Fraction(1, 2) <= threshold <= 1:
            raise InvalidCommand("threshold", "majority", f"a majority is between 1/2 and 1, got {threshold}")
    day = coop.check_effective_date(cmd.vote_date, "vote_date")
    coop.record(
        ResolutionRecorded,
        effective_date=day,
        meta=meta,
        resolution_id=resolution_id,
        title=title,
        assembly=cmd.assembly,
        threshold=str(threshold),
        threshold_strict=strict,
    )


def cast_vote(coop: Cooperative, cmd: CastVote, meta: Meta) -> None:
    resolution = coop.resolutions.get(cmd.resolution_id)
    if resolution is None:
        raise NotFound("resolution_id", "known_resolution", f"no resolution {cmd.resolution_id!r} in {coop.slug}")
    member = coop.member(cmd.member_id)
    if cmd.choice not in CHOICES:
        raise InvalidCommand("choice", "known_choice", f"{cmd.choice!r} is not one of {', '.join(CHOICES)}")
    if member.member_id in resolution["voters"]:
        raise Conflict("member_id", "one_vote", f"{member.member_id} has already voted on {cmd.resolution_id}")
    day = resolution["vote_date"]
    verdict = member_eligibility(coop, member.member_id, day)
    if not verdict.eligible:
        why = "; ".join(r["detail"] for r in verdict.reasons if not r["ok"])
        raise InvalidCommand("member_id", "eligible_voter", f"{member.member_id} may not vote on {day}: {why}")
    assert verdict.college is not None
    coop.record(
        VoteCast,
        effective_date=day,
        meta=meta,
        resolution_id=cmd.resolution_id,
        member_id=member.member_id,
        college=verdict.college,
        choice=cmd.choice,
    )


FAMILY = register(
    Family(
        name="governance",
        commands={
            AmendStatutes: Handler(amend_statutes, STATUTES),
            SetVotingPolicy: Handler(set_voting_policy, STATUTES),
            SetCollegeRules: Handler(set_college_rules, STATUTES),
            RecordResolution: Handler(record_resolution, GOVERNANCE),
            CastVote: Handler(cast_vote, GOVERNANCE | CLERK),
        },
        events={
            "StatutesAmended": Fact("statutes.amended", "governance"),
            "VotingPolicySet": Fact("voting_policy.set", "governance"),
            "ResolutionRecorded": Fact("resolution.recorded", "governance"),
            "VoteCast": Fact("vote.cast", "governance"),
            "CollegeRulesSet": Fact("college_rules.set", "governance"),
        },
    )
)
