"""Calls for projects and grants, drawn on a pot: the cooperation fund or one subsidy.

A call opens with an envelope, award bounds and a maximum number of laureates. The envelope
is RESERVED on its pot when the call opens: it must fit in what the pot has available on the
opening date and on every later date already recorded, so two calls can never promise the
same euro and every award the jury makes within the envelope is covered. Applications come
from members or non-members (a call may be `members_only`). The jury awards grants; grants
are paid in tranches, never beyond the award nor beyond the cash the pot has received; what
is not paid can be withdrawn; a call closes once every grant is paid or withdrawn, which
gives the unawarded envelope back to its pot. After closing nothing is awarded or paid.

Accounting (docs/decisions/0005-cooperation-fund-accounting.md): an award is an expense
(6571 / 6586) owed to the laureate (4686) and uses the dedicated resource (19x → 789x, or
487x → 7xx in the general plan); payments settle 4686; a withdrawal undoes the award's
unpaid remainder.

Here: the commands and their deciders. The state (calls, grants, the pots of domain/pots.py) and
the events that build it are in domain/grants_state.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.donations_state import donations_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.grants_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    Call,
    CallClosed,
    CallOpened,
    Grant,
    GrantApplicationRecorded,
    GrantAwarded,
    GrantPaid,
    GrantsState,
    GrantWithdrawn,
)
from domain.money import EUR, EurosIn, Unit, format_minor, to_minor
from domain.pots import FUND, pot_name, release_postings, subsidy_source
from domain.roles import CLERK, FINANCIAL
from domain.rules import identifier, not_before, text, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_LAUREATES = 1000
MAX_APPLICATIONS_PER_CALL = 5000


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class OpenCall:
    coop: str
    call_id: str
    title: str
    envelope: EurosIn
    min_award: EurosIn
    max_award: EurosIn
    max_laureates: int
    effective_date: date
    subsidy_id: str | None = None  # None: the cooperation fund
    members_only: bool = False


@dataclass(frozen=True)
class RecordApplication:
    coop: str
    call_id: str
    application_id: str
    project: str
    effective_date: date
    member_id: str | None = None  # None: a non-member applicant
    applicant: str | None = None  # required for a non-member; a member's name by default


@dataclass(frozen=True)
class AwardGrant:
    coop: str
    application_id: str
    amount: EurosIn
    effective_date: date


@dataclass(frozen=True)
class PayGrant:
    coop: str
    application_id: str
    amount: EurosIn
    effective_date: date


@dataclass(frozen=True)
class WithdrawGrant:
    coop: str
    application_id: str
    reason: str
    effective_date: date


@dataclass(frozen=True)
class CloseCall:
    coop: str
    call_id: str
    effective_date: date


# ---------------------------------------------------------------- deciders


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


def _applicant_ref(grant: Grant) -> str:
    """Who an entry's label names for the applicant: the member's id, or for an applicant from
    outside the application's id (the party of the grants payable). Never the applicant's name,
    which is personal data and labels are stored in clear."""
    return grant.member_id or grant.application_id


def _open_call(coop: Cooperative, call_id: Any) -> Call:
    call_id = identifier(call_id, "call_id")
    call = coop.grants.calls.get(call_id)
    if call is None:
        raise NotFound("call_id", "known_call", f"{coop.slug} has no call for projects {call_id!r}")
    if call.closed_on is not None:
        raise InvalidCommand("call_id", "call_open", f"call {call_id} closed on {call.closed_on}")
    return call


def _grant(coop: Cooperative, application_id: Any) -> tuple[Call, Grant]:
    """An awarded grant of a call still open."""
    application_id = identifier(application_id, "application_id")
    grant = coop.grants.grants.get(application_id)
    if grant is None:
        raise NotFound("application_id", "known_application", f"{coop.slug} has no application {application_id!r}")
    call = coop.grants.calls[grant.call_id]
    if call.closed_on is not None:
        raise InvalidCommand("application_id", "call_open", f"call {call.call_id} closed on {call.closed_on}")
    if grant.awarded_cents == 0:
        raise NotFound("application_id", "grant_awarded", f"no grant is awarded on application {application_id}")
    return call, grant


def _check_not_earmarked_elsewhere(coop: Cooperative, call_id: str) -> None:
    """A gift a federation carried for a founder's closed call is earmarked "call:<founder>.<id>"
    (domain/donations_carry.py): a new call under that id would take its place. Only carried gifts
    can name a call that does not exist (RecordDonation requires the call)."""
    for gift in donations_state(coop).gifts.values():  # bounded by the cooperative's gifts
        if gift.purpose == f"call:{call_id}":
            raise Conflict(
                "call_id",
                "earmarked_elsewhere",
                f"gift {gift.gift_id} is earmarked for a call {call_id!r} that stayed in a founder's books: "
                "choose another id for a call of this cooperative",
            )


def open_call(coop: Cooperative, cmd: OpenCall, meta: Meta) -> None:
    call_id = identifier(cmd.call_id, "call_id")
    if call_id in coop.grants.calls:
        raise Conflict("call_id", "unique_call", f"call {call_id!r} already exists in {coop.slug}")
    _check_not_earmarked_elsewhere(coop, call_id)
    title = text(cmd.title, "title", max_chars=200)
    envelope_cents = to_minor(cmd.envelope, Unit.EUR, "envelope")
    min_award_cents = to_minor(cmd.min_award, Unit.EUR, "min_award")
    max_award_cents = to_minor(cmd.max_award, Unit.EUR, "max_award")
    if max_award_cents < min_award_cents:
        raise InvalidCommand(
            "max_award", "award_bounds", f"{_eur(max_award_cents)} is below the minimum award {_eur(min_award_cents)}"
        )
    if max_award_cents > envelope_cents:
        raise InvalidCommand(
            "max_award", "within_envelope", f"{_eur(max_award_cents)} exceeds the envelope {_eur(envelope_cents)}"
        )
    max_laureates = whole_number(cmd.max_laureates, "max_laureates", minimum=1, maximum=MAX_LAUREATES)
    if not isinstance(cmd.members_only, bool):
        raise InvalidCommand("members_only", "boolean", "must be true or false")
    day = coop.check_effective_date(cmd.effective_date)
    source = FUND
    if cmd.subsidy_id is not None:
        subsidy = coop.subsidies.subsidy(cmd.subsidy_id)
        not_before(day, subsidy.granted_on, "effective_date", f"the grant of subsidy {subsidy.subsidy_id}")
        source = subsidy_source(subsidy.subsidy_id)
    available = coop.grants.pots[source].lowest_from(day, lambda f: f.available_cents)
    if envelope_cents > available:
        raise InvalidCommand(
            "envelope",
            "envelope_available",
            f"the envelope {_eur(envelope_cents)} exceeds the {_eur(max(available, 0))} {pot_name(source)} has available "
            f"from {day}",
        )
    coop.record(
        CallOpened,
        effective_date=day,
        meta=meta,
        call_id=call_id,
        title=title,
        source=source,
        envelope_cents=envelope_cents,
        min_award_cents=min_award_cents,
        max_award_cents=max_award_cents,
        max_laureates=max_laureates,
        members_only=cmd.members_only,
    )


def record_application(coop: Cooperative, cmd: RecordApplication, meta: Meta) -> None:
    call = _open_call(coop, cmd.call_id)
    application_id = identifier(cmd.application_id, "application_id")
    if application_id in coop.grants.grants:
        raise Conflict("application_id", "unique_application", f"application {application_id!r} already exists in {coop.slug}")
    if len(call.grants) >= MAX_APPLICATIONS_PER_CALL:
        raise InvalidCommand("call_id", "max_applications", f"a call takes at most {MAX_APPLICATIONS_PER_CALL} applications")
    project = text(cmd.project, "project", max_chars=200)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, call.opened_on, "effective_date", f"the opening of call {call.call_id}")
    member_id, applicant = None, cmd.applicant
    if cmd.member_id is not None:
        member = coop.member(cmd.member_id)
        not_before(day, member.admitted_on, "effective_date", f"{member.member_id}'s admission")
        if not member.is_member_on(day):
            raise InvalidCommand("member_id", "member_on_date", f"{member.member_id} left on {member.left_on}, before {day}")
        member_id, applicant = member.member_id, cmd.applicant or member.name
    elif call.members_only:
        raise InvalidCommand("member_id", "members_only", f"call {call.call_id} is open to members only")
    applicant = text(applicant, "applicant", max_chars=200) if applicant is not None else None
    if applicant is None:
        raise InvalidCommand("applicant", "required", "a non-member applicant needs a name")
    coop.record(
        GrantApplicationRecorded,
        effective_date=day,
        meta=meta,
        call_id=call.call_id,
        application_id=application_id,
        applicant=applicant,
        member_id=member_id,
        project=project,
    )


def award_grant(coop: Cooperative, cmd: AwardGrant, meta: Meta) -> None:
    application_id = identifier(cmd.application_id, "application_id")
    grant = coop.grants.grants.get(application_id)
    if grant is None:
        raise NotFound("application_id", "known_application", f"{coop.slug} has no application {application_id!r}")
    call = _open_call(coop, grant.call_id)
    if grant.awarded_cents:
        raise Conflict("application_id", "awarded_once", f"application {application_id} was already awarded a grant")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    if not call.min_award_cents <= amount_cents <= call.max_award_cents:
        raise InvalidCommand(
            "amount",
            "award_bounds",
            f"{_eur(amount_cents)} is outside the call's bounds {_eur(call.min_award_cents)} to {_eur(call.max_award_cents)}",
        )
    remaining = call.envelope_cents - call.awarded_cents
    if amount_cents > remaining:
        raise InvalidCommand(
            "amount", "envelope", f"{_eur(amount_cents)} exceeds the {_eur(remaining)} left in the envelope of {call.call_id}"
        )
    if call.laureates >= call.max_laureates:
        raise InvalidCommand(
            "application_id", "max_laureates", f"call {call.call_id} already has its {call.max_laureates} laureates"
        )
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, grant.applied_on, "effective_date", f"application {application_id}")
    coop.record_entry(
        GrantAwarded,
        effective_date=day,
        meta=meta,
        label=f"Aide attribuée – {call.title} – {_applicant_ref(grant)}",
        postings=[
            [coop.chart.role("grant_expense"), None, EUR, amount_cents],
            [coop.chart.role("grants_payable"), application_id, EUR, -amount_cents],
            *release_postings(coop, call.source, amount_cents),
        ],
        call_id=call.call_id,
        application_id=application_id,
        source=call.source,
        amount_cents=amount_cents,
    )


def pay_grant(coop: Cooperative, cmd: PayGrant, meta: Meta) -> None:
    call, grant = _grant(coop, cmd.application_id)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    if amount_cents > grant.outstanding_cents:
        raise InvalidCommand(
            "amount",
            "within_award",
            f"{_eur(amount_cents)} exceeds the {_eur(grant.outstanding_cents)} still to pay on grant {grant.application_id}",
        )
    day = coop.check_effective_date(cmd.effective_date)
    assert grant.awarded_on is not None
    not_before(day, grant.awarded_on, "effective_date", f"the award of grant {grant.application_id}")
    cash = coop.grants.pots[call.source].lowest_from(day, lambda f: f.cash_cents)
    if amount_cents > cash:
        raise InvalidCommand(
            "amount",
            "fund_covers",
            f"{pot_name(call.source)} holds {_eur(max(cash, 0))} from {day}, less than {_eur(amount_cents)}",
        )
    coop.record_entry(
        GrantPaid,
        effective_date=day,
        meta=meta,
        label=f"Versement de l'aide – {call.title} – {_applicant_ref(grant)}",
        postings=[
            [coop.chart.role("grants_payable"), grant.application_id, EUR, amount_cents],
            [coop.chart.role("bank"), None, EUR, -amount_cents],
        ],
        call_id=call.call_id,
        application_id=grant.application_id,
        source=call.source,
        amount_cents=amount_cents,
    )


def withdraw_grant(coop: Cooperative, cmd: WithdrawGrant, meta: Meta) -> None:
    call, grant = _grant(coop, cmd.application_id)
    remainder = grant.outstanding_cents
    if remainder == 0:
        raise InvalidCommand("application_id", "nothing_to_withdraw", f"grant {grant.application_id} has nothing left to pay")
    reason = text(cmd.reason, "reason", max_chars=200)
    day = coop.check_effective_date(cmd.effective_date)
    assert grant.last_on is not None
    not_before(day, grant.last_on, "effective_date", f"the latest movement of grant {grant.application_id}")
    coop.record_entry(
        GrantWithdrawn,
        effective_date=day,
        meta=meta,
        label=f"Retrait du solde non versé – {_applicant_ref(grant)} : {reason}",
        postings=[
            [coop.chart.role("grants_payable"), grant.application_id, EUR, remainder],
            [coop.chart.role("grant_expense"), None, EUR, -remainder],
            *release_postings(coop, call.source, -remainder),
        ],
        call_id=call.call_id,
        application_id=grant.application_id,
        source=call.source,
        amount_cents=remainder,
        reason=reason,
    )


def close_call(coop: Cooperative, cmd: CloseCall, meta: Meta) -> None:
    call = _open_call(coop, cmd.call_id)
    unsettled = sorted(g.application_id for g in call.grants.values() if g.outstanding_cents)
    if unsettled:
        raise InvalidCommand("call_id", "grants_settled", f"pay or withdraw the grants of {', '.join(unsettled[:5])} first")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, call.last_on, "effective_date", f"the latest movement of call {call.call_id}")
    coop.record(
        CallClosed, effective_date=day, meta=meta, call_id=call.call_id, released_cents=call.envelope_cents - call.awarded_cents
    )


FAMILY = register(
    Family(
        name="grants",
        commands={
            OpenCall: Handler(open_call, FINANCIAL),
            RecordApplication: Handler(record_application, CLERK | FINANCIAL),
            AwardGrant: Handler(award_grant, FINANCIAL),
            PayGrant: Handler(pay_grant, FINANCIAL),
            WithdrawGrant: Handler(withdraw_grant, FINANCIAL),
            CloseCall: Handler(close_call, FINANCIAL),
        },
        events={
            "CallOpened": Fact("call.opened", "activities"),
            "GrantApplicationRecorded": Fact("grant_application.recorded", "activities"),
            "GrantAwarded": Fact("grant.awarded", "entries", journal="OD"),
            "GrantPaid": Fact("grant.paid", "entries", journal="BQ"),
            "GrantWithdrawn": Fact("grant.withdrawn", "entries", journal="OD"),
            "CallClosed": Fact("call.closed", "activities"),
            "CallCarried": Fact("call.carried", "activities"),
            "GrantApplicationCarried": Fact("grant_application.carried", "activities"),
        },
        state=GrantsState,
        managed={"cooperation_fund": (AwardGrant, WithdrawGrant), "subsidy_dedicated": (AwardGrant, WithdrawGrant)},
    )
)
