"""Open items of the cooperation fund, the subsidies and the calls for projects, carried by a
federation (domain/federation_carry.py).

What backs the managed balances of these families:
- the cooperation fund (`cooperation_fund`: 195, or 4875 in the general plan; no party) is the
  fund's *pot* (domain/pots.py): its unspent part is inflow - used - awarded;
- each subsidy (`subsidy_dedicated`: 194 / 4876, party = the subsidy id) is a Subsidy and a pot
  of its own, whose unspent part is the balance;
- what the pots have promised lives in the open calls for projects that draw on them (the
  unawarded envelope is reserved on the pot) and in their grants (4686 per application: awarded,
  not yet paid).

So the carrier records, dated on the federation date, the founder's pots as they stood the day
before (their figures summed over history: unspent, available, cash and committed come out the
same), every subsidy with something still open, and every call still open with all its
applications. In the federation UseSubsidy, ReceiveSubsidy, OpenCall, AwardGrant, PayGrant,
WithdrawGrant and CloseCall then work on them, with the founder's limits (nothing used beyond what
is available, nothing paid beyond the award or the pot's cash). The money itself arrives with the
founder's opening entry. Founders' funds merge into the federation's one cooperation fund.

Ids are kept (subsidy and application ids are renamed like the opening entry's parties only in
the rare case where they equal a member id renamed under "prefix", so the books and the state
name them alike). A subsidy, call or application id already carried from another founder is a
Conflict naming `founders[i]`.

Not carried (the federation is refused with rule `open_items_not_carried`): a dedicated balance
held on an account the federation's chart does not use for it (a founder and a federation of
different charts, e.g. an association's 195 into a SCIC's 4875): spend it or federate into a
cooperative of the same chart.

The contributions family's other carrier, for success-contribution pledges, is in
domain/contributions_carry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from domain.contributions_carry import ContributionPledgeCarried, carry_contribution_pledges  # noqa: F401  (the pledges' carrier, kept apart; re-exported)
from domain.errors import InvalidCommand
from domain.events import CoopEvent
from domain.federation_carry import check_unique
from domain.grants_state import Call, Grant
from domain.money import EUR, Unit, format_minor
from domain.personal import Personal
from domain.pots import FUND, Figures, Pot, move_pot, subsidy_source
from domain.subsidies import Subsidy

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


# ---------------------------------------------------------------- events


class CooperationFundCarried(CoopEvent):
    """A founder's cooperation fund, carried into a federation on its date: the pot's figures by
    the day before (history summed), added to the federation's fund. No entry: the unspent part
    arrives on 195 / 4875 with the founder's opening entry."""

    inflow_cents: int
    received_cents: int
    used_cents: int
    reserved_cents: int
    awarded_cents: int
    paid_cents: int
    founder: str

    def figures(self) -> Figures:
        return Figures(
            self.inflow_cents, self.received_cents, self.used_cents, self.reserved_cents, self.awarded_cents, self.paid_cents
        )

    def pot_source(self) -> str:
        return FUND

    def apply(self, coop: Cooperative) -> None:
        move_pot(coop, FUND, self.figures(), +1, self.effective_date)


class SubsidyCarried(CoopEvent):
    """A founder's subsidy with something still open (unspent, to receive or committed), carried
    into a federation: granted on the federation date as far as the federation knows, with the
    founder's figures by the day before. The unspent part arrives on 194 / 4876 and what the funder
    still owes on 441 with the opening entry."""

    subsidy_id: str
    funder: str
    purpose: str
    granted_cents: int
    received_cents: int
    used_cents: int
    reserved_cents: int  # the unawarded envelopes of its open calls (carried with them)
    awarded_cents: int
    paid_cents: int
    calls_opened: int
    founder: str
    founder_subsidy_id: str

    def figures(self) -> Figures:
        return Figures(
            self.granted_cents, self.received_cents, self.used_cents, self.reserved_cents, self.awarded_cents, self.paid_cents
        )

    def pot_source(self) -> str:
        return subsidy_source(self.subsidy_id)

    def apply(self, coop: Cooperative) -> None:
        source = self.pot_source()
        assert self.subsidy_id not in coop.subsidies.subsidies and source not in coop.grants.pots, f"{source} carried twice"
        assert 0 <= self.received_cents <= self.granted_cents, f"carried subsidy {self.subsidy_id} received outside 0..granted"
        coop.subsidies.subsidies[self.subsidy_id] = Subsidy(
            self.subsidy_id,
            self.funder,
            self.purpose,
            self.granted_cents,
            self.effective_date,
            received_cents=self.received_cents,
            used_cents=self.used_cents,
        )
        coop.grants.pots[source] = Pot(calls_opened=self.calls_opened)
        move_pot(coop, source, self.figures(), +1, self.effective_date)


class CallCarried(CoopEvent):
    """A founder's call for projects still open, carried into a federation (its applications
    follow, one GrantApplicationCarried each). Its envelope is already reserved on its pot by the
    pot's carried figures: this moves no pot."""

    call_id: str
    title: str
    source: str  # the federation's pot: "fund" or "subsidy:<id>"
    envelope_cents: int
    min_award_cents: int
    max_award_cents: int
    max_laureates: int
    members_only: bool
    founder: str

    def apply(self, coop: Cooperative) -> None:
        assert self.call_id not in coop.grants.calls and self.source in coop.grants.pots, f"call {self.call_id} carried badly"
        day = self.effective_date
        coop.grants.calls[self.call_id] = Call(
            self.call_id,
            self.title,
            self.source,
            self.envelope_cents,
            self.min_award_cents,
            self.max_award_cents,
            self.max_laureates,
            self.members_only,
            opened_on=day,
            last_on=day,
        )


class GrantApplicationCarried(CoopEvent):
    """An application to a carried call, with its grant as it stood the day before the federation
    (awarded, withdrawn, paid). What is still owed to the laureate arrives on 4686 with the opening
    entry; PayGrant or WithdrawGrant settle it from here on."""

    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("member_id", ("applicant",)),)
    call_id: str
    application_id: str
    applicant: str
    member_id: str | None  # the applicant's id in the federation; None for a non-member or a member who did not move
    project: str
    awarded_cents: int
    withdrawn_cents: int
    paid_cents: int
    founder: str
    founder_application_id: str

    def apply(self, coop: Cooperative) -> None:
        assert self.application_id not in coop.grants.grants, f"application {self.application_id} carried twice"
        day = self.effective_date
        touched = day if self.awarded_cents else None
        grant = Grant(
            self.application_id,
            self.call_id,
            self.applicant,
            self.member_id,
            day,
            self.awarded_cents,
            self.withdrawn_cents,
            self.paid_cents,
            awarded_on=touched,
            last_on=touched,
            project=self.project,
        )
        assert 0 <= grant.paid_cents <= grant.net_cents <= grant.awarded_cents, f"carried grant {grant} out of bounds"
        call = coop.grants.calls[self.call_id]
        call.grants[self.application_id] = grant
        coop.grants.grants[self.application_id] = grant
        assert call.awarded_cents <= call.envelope_cents and call.laureates <= call.max_laureates, (
            f"carried call {call.call_id} overfull"
        )


# ---------------------------------------------------------------- carriers

_FIGURES = ("inflow_cents", "received_cents", "used_cents", "reserved_cents", "awarded_cents", "paid_cents")


def _is_open(figures: Figures) -> bool:
    """Something is left to do on the pot: unspent, promised, or still to receive."""
    return bool(figures.unspent_cents or figures.committed_cents or figures.inflow_cents != figures.received_cents)


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


def _same_account(ctx: CarryContext, role: str, unspent: int, what: str) -> None:
    """The federation keeps the dedicated balance on the account the founder's books hold it on."""
    here, there = ctx.founder.chart.role(role), ctx.new.chart.role(role)
    if unspent and here != there:
        raise InvalidCommand(
            ctx.field,
            "open_items_not_carried",
            f"{ctx.founder_slug} holds {_eur(unspent)} of {what} unspent on {here}, but {ctx.new.slug} "
            f"({ctx.new.legal_form.value}) keeps it on {there}: the federation cannot carry it into another chart; "
            "use it before federating, or federate into a cooperative of the same chart",
        )


def _grant_fields(grant: Grant) -> dict[str, Any]:
    return {"awarded_cents": grant.awarded_cents, "withdrawn_cents": grant.withdrawn_cents, "paid_cents": grant.paid_cents}


def _carry_fund(ctx: CarryContext, drawn_on: set[str], sources: dict[str, str], carried: Carried) -> None:
    """Whether the founder's cooperation fund is carried: when something is left on it or an open
    call draws on it; it then merges into the federation's fund."""
    founder, new, day = ctx.founder, ctx.new, ctx.day
    fund = founder.grants.pots[FUND].totals
    if _is_open(fund) or FUND in drawn_on:
        _same_account(ctx, "cooperation_fund", fund.unspent_cents, "its cooperation fund")
        new.record(
            CooperationFundCarried,
            effective_date=day,
            meta=ctx.meta,
            founder=ctx.founder_slug,
            **{name: getattr(fund, name) for name in _FIGURES},
        )
        sources[FUND] = FUND
        carried[(founder.chart.role("cooperation_fund"), None, EUR)] = -fund.unspent_cents


def _carry_subsidies(ctx: CarryContext, open_calls: list[Call], sources: dict[str, str], carried: Carried) -> None:
    """Which subsidies are carried, under which id: those with something left on their pot or an
    open call drawing on it, refused when the id is taken or the chart holds them elsewhere."""
    founder, new, day = ctx.founder, ctx.new, ctx.day
    drawn_on = {call.source for call in open_calls}
    for subsidy_id in sorted(founder.subsidies.subsidies):
        subsidy, source = founder.subsidies.subsidies[subsidy_id], subsidy_source(subsidy_id)
        figures = founder.grants.pots[source].totals
        assert (figures.inflow_cents, figures.received_cents, figures.used_cents) == (
            subsidy.granted_cents,
            subsidy.received_cents,
            subsidy.used_cents,
        ), f"subsidy {subsidy_id} disagrees with its pot"
        if not (_is_open(figures) or source in drawn_on):
            continue
        new_id = ctx.party(subsidy_id)
        check_unique(ctx, new.subsidies.subsidies, SubsidyCarried, "subsidy_id", new_id, "subsidy", "unique_subsidy")
        _same_account(ctx, "subsidy_dedicated", figures.unspent_cents, f"subsidy {subsidy_id}")
        new.record(
            SubsidyCarried,
            effective_date=day,
            meta=ctx.meta,
            subsidy_id=new_id,
            funder=subsidy.funder,
            purpose=subsidy.purpose,
            granted_cents=figures.inflow_cents,
            received_cents=figures.received_cents,
            used_cents=figures.used_cents,
            reserved_cents=figures.reserved_cents,
            awarded_cents=figures.awarded_cents,
            paid_cents=figures.paid_cents,
            calls_opened=sum(1 for c in open_calls if c.source == source),
            founder=ctx.founder_slug,
            founder_subsidy_id=subsidy_id,
        )
        sources[source] = subsidy_source(new_id)
        carried[(founder.chart.role("subsidy_dedicated"), subsidy_id, EUR)] = -figures.unspent_cents


def _carry_calls(ctx: CarryContext, open_calls: list[Call], sources: dict[str, str]) -> None:
    """Each open call, on the federation's pot its source became, with all its applications under
    their federation ids (an applicant stays a member only if it moves), refused when an id is taken."""
    founder, new, day, meta = ctx.founder, ctx.new, ctx.day, ctx.meta
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    for call in open_calls:
        check_unique(ctx, new.grants.calls, CallCarried, "call_id", call.call_id, "call for projects", "unique_call")
        applications = {ctx.party(a): g for a, g in sorted(call.grants.items())}
        for application_id in applications:
            check_unique(
                ctx,
                new.grants.grants,
                GrantApplicationCarried,
                "application_id",
                application_id,
                "application",
                "unique_application",
            )
        new.record(
            CallCarried,
            effective_date=day,
            meta=meta,
            call_id=call.call_id,
            title=call.title,
            source=sources[call.source],
            envelope_cents=call.envelope_cents,
            min_award_cents=call.min_award_cents,
            max_award_cents=call.max_award_cents,
            max_laureates=call.max_laureates,
            members_only=call.members_only,
            founder=ctx.founder_slug,
        )
        for application_id, grant in applications.items():
            new.record(
                GrantApplicationCarried,
                effective_date=day,
                meta=meta,
                call_id=call.call_id,
                application_id=application_id,
                applicant=grant.applicant,
                member_id=ctx.party(grant.member_id) if grant.member_id in moving else None,
                project=grant.project,
                founder=ctx.founder_slug,
                founder_application_id=grant.application_id,
                **_grant_fields(grant),
            )


def carry_funds(ctx: CarryContext) -> Carried:
    """Carries the founder's cooperation fund, its open subsidies and its open calls for projects
    with their applications (see the module's docstring for what is not carried)."""
    founder, day = ctx.founder, ctx.day
    open_calls = [founder.grants.calls[c] for c in sorted(founder.grants.calls) if founder.grants.calls[c].closed_on is None]
    sources: dict[str, str] = {}  # the founder's pot -> the federation's
    carried: Carried = {}
    assert all(moved_on < day for pot in founder.grants.pots.values() for moved_on, _f in pot.moves), (
        "a founder has no event on or after its federation date: its pots stand as they did the day before"
    )
    _carry_fund(ctx, {call.source for call in open_calls}, sources, carried)
    _carry_subsidies(ctx, open_calls, sources, carried)
    _carry_calls(ctx, open_calls, sources)
    return carried
