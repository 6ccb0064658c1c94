"""What the activity reads answer (api/routes_activities.py): certifications, calls for projects,
the cooperation fund, subsidies, sensor hosts' credits and shared-employee hours.

Amounts follow the wire's convention (api/wire.py): euros end in `_eur`, sensor reward credits in
`_credits`, shared hours in `_hours`. The projections give integers of minor units under
`_cents`/`_minor`/`_minutes` names; `rename_minor_fields` turns each row into these fields.

A field that may be null defaults to None, so the schema does not list it as required: FastAPI
drops null members from the examples it publishes, which must still validate. Answers carry it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.wire import Amount, WireModel, rename_minor_fields
from domain.money import Unit

COOP = Field(description="The cooperative's identifier.")


class CertificationHeld(WireModel):
    """A certification that covers a provider on the date asked, and its fee."""

    coop: str = COOP
    certification_id: str = Field(description="The certification's identifier.")
    member_id: str = Field(description="The certified provider (a member).")
    granted_on: str = Field(description="Day it was first granted, YYYY-MM-DD.")
    expires_on: str = Field(description="First day it is no longer valid, YYYY-MM-DD.")
    valid_until: str = Field(description="Last day it is valid, YYYY-MM-DD (the day before expires_on).")
    revoked_on: str | None = Field(None, description="Day it was revoked, YYYY-MM-DD; null if never.")
    revocation_reason: str | None = Field(None, description="Why it was revoked; null if never.")
    ends_on: str = Field(description="First day it no longer covers: the earlier of expiry and revocation.")
    renewals: int = Field(description="How many times it was renewed.")
    billed_eur: Amount = Field(description="Fees billed for it (grant and renewals).")
    paid_eur: Amount = Field(description="Of those fees, paid.")
    due_eur: Amount = Field(description="Of those fees, still due.")


class CertifiedProviders(WireModel):
    """The providers certified on a date, one certification each."""

    coop: str = COOP
    on: str = Field(description="The date asked, YYYY-MM-DD.")
    certified: list[CertificationHeld] = Field(description="By member_id.")


class CallForProjects(WireModel):
    """A call for projects: its envelope and bounds, and what was awarded and paid under it."""

    coop: str = COOP
    call_id: str = Field(description="The call's identifier.")
    title: str = Field(description="Its title.")
    source: str = Field(description="What funds it: `fund` (the cooperation fund) or `subsidy:<subsidy_id>`.")
    status: str = Field(description="open or closed.")
    envelope_eur: Amount = Field(description="The call's envelope.")
    min_award_eur: Amount = Field(description="Smallest grant a laureate can be awarded.")
    max_award_eur: Amount = Field(description="Largest grant a laureate can be awarded.")
    max_laureates: int = Field(description="How many laureates it can have at most.")
    members_only: bool = Field(description="Whether only members may apply.")
    opened_on: str = Field(description="Day it opened, YYYY-MM-DD.")
    closed_on: str | None = Field(None, description="Day it closed, YYYY-MM-DD; null while open.")
    applications: int = Field(description="Applications received.")
    laureates: int = Field(description="Applications awarded a grant not withdrawn.")
    awarded_eur: Amount = Field(description="Grants awarded, net of withdrawals.")
    paid_eur: Amount = Field(description="Of those grants, paid.")
    remaining_eur: Amount = Field(description="Envelope not yet awarded.")
    outstanding_eur: Amount = Field(description="Awarded, not yet paid.")


class CallsForProjects(WireModel):
    """Calls for projects by call_id (open ones unless include_closed)."""

    coop: str = COOP
    calls: list[CallForProjects] = Field(description="One page of calls, by call_id.")


class CooperationFund(WireModel):
    """The cooperation fund as of a date: what it received and holds, what is committed and what is free."""

    coop: str = COOP
    as_of: str | None = Field(None, description="The inclusive date asked, YYYY-MM-DD; null for everything recorded.")
    contributions_called_eur: Amount = Field(description="Contributions to the fund called so far.")
    received_eur: Amount = Field(description="Contributions received.")
    balance_eur: Amount = Field(description="Cash the fund holds.")
    committed_eur: Amount = Field(description="Grants awarded not yet paid, plus unawarded envelopes of open calls.")
    available_eur: Amount = Field(description="What a new call could still commit.")
    reserved_eur: Amount = Field(description="Unawarded envelopes of open calls.")
    awarded_eur: Amount = Field(description="Grants awarded from the fund.")
    paid_eur: Amount = Field(description="Grants paid from the fund.")
    unspent_eur: Amount = Field(description="Balance of the fund's dedicated account.")


class Subsidy(WireModel):
    """A subsidy granted to the cooperative, and what became of it."""

    coop: str = COOP
    subsidy_id: str = Field(description="The subsidy's identifier.")
    funder: str = Field(description="Who grants it.")
    purpose: str = Field(description="What it is granted for.")
    granted_on: str = Field(description="Day it was granted, YYYY-MM-DD.")
    granted_eur: Amount = Field(description="Amount granted.")
    received_eur: Amount = Field(description="Of it, received.")
    to_receive_eur: Amount = Field(description="Of it, still to receive.")
    used_eur: Amount = Field(description="Used directly on its purpose.")
    awarded_eur: Amount = Field(description="Awarded by the calls it funds.")
    grants_paid_eur: Amount = Field(description="Grants paid from it.")
    reserved_eur: Amount = Field(description="Unawarded envelopes of the open calls it funds.")
    unspent_eur: Amount = Field(description="Its dedicated funds: received, not yet used or paid.")
    available_eur: Amount = Field(description="Unspent less the open envelopes.")


class Subsidies(WireModel):
    """Subsidies granted on or before a date, by subsidy_id."""

    coop: str = COOP
    subsidies: list[Subsidy] = Field(description="One page of subsidies, by subsidy_id.")


class SensorHostCredits(WireModel):
    """A sensor host's reward credits, and the euros paid for those redeemed for money."""

    host_id: str = Field(description="The host (a member).")
    sensors: int = Field(description="Sensors it hosts.")
    carried_credits: Amount = Field(description="Credits carried from a founder (a federation's opening).")
    earned_credits: Amount = Field(description="Credits earned here from readings.")
    redeemed_service_credits: Amount = Field(description="Credits redeemed for services.")
    redeemed_money_credits: Amount = Field(description="Credits redeemed for money.")
    paid_eur: Amount = Field(description="Euros paid for the credits redeemed for money.")
    balance_credits: Amount = Field(description="Credits held: carried + earned - redeemed.")


class SensorNetworkCredits(WireModel):
    """The sensor network's totals: credits issued, carried, redeemed and outstanding."""

    coop: str = COOP
    sensors: int = Field(description="Sensors registered.")
    hosts: int = Field(description="Sensor hosts.")
    readings: int = Field(description="Readings accepted.")
    issued_credits: Amount = Field(description="Credits issued here.")
    carried_credits: Amount = Field(description="Credits carried from founders.")
    redeemed_service_credits: Amount = Field(description="Credits redeemed for services.")
    redeemed_money_credits: Amount = Field(description="Credits redeemed for money.")
    outstanding_credits: Amount = Field(description="Credits held by hosts.")
    paid_eur: Amount = Field(description="Euros paid for the credits redeemed for money.")


class SensorCredits(WireModel):
    """Sensor hosts' credit balances and the network's totals."""

    coop: str = COOP
    hosts: list[SensorHostCredits] = Field(description="Every host, by host_id.")
    summary: SensorNetworkCredits = Field(description="The network's totals.")


class StructureHours(WireModel):
    """A member structure's shared-employee hours: logged, rebilled and billed."""

    structure_id: str = Field(description="The member structure.")
    logged_hours: Amount = Field(description="Hours logged for it.")
    rebilled_hours: Amount = Field(description="Of those hours, rebilled by the rebillings in force.")
    billed_eur: Amount = Field(description="What those rebillings billed it.")
    to_rebill_hours: Amount = Field(description="Hours logged, not yet rebilled.")


class SharedHours(WireModel):
    """Shared-employee hours per member structure, for one month or all."""

    coop: str = COOP
    period: str | None = Field(None, description="The month asked, YYYY-MM; null for every month.")
    structures: list[StructureHours] = Field(description="By structure_id.")


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rename_minor_fields(row) for row in rows]


def certified_providers(coop: str, on: str, rows: list[dict[str, Any]]) -> CertifiedProviders:
    return CertifiedProviders(coop=coop, on=on, certified=_rows(rows))


def calls_for_projects(coop: str, rows: list[dict[str, Any]]) -> CallsForProjects:
    return CallsForProjects(coop=coop, calls=_rows(rows))


def cooperation_fund(fund: dict[str, Any]) -> CooperationFund:
    return CooperationFund(**rename_minor_fields(fund))


def subsidies(coop: str, rows: list[dict[str, Any]]) -> Subsidies:
    return Subsidies(coop=coop, subsidies=_rows(rows))


def sensor_credits(coop: str, hosts: list[dict[str, Any]], summary: dict[str, Any]) -> SensorCredits:
    # `_minor` is the hundredth of a reward credit here; `paid_cents` stays euros.
    return SensorCredits(
        coop=coop,
        hosts=[rename_minor_fields(h, minor_unit=Unit.CREDIT) for h in hosts],
        summary=rename_minor_fields(summary, minor_unit=Unit.CREDIT),
    )


def shared_hours(coop: str, period: str | None, rows: list[dict[str, Any]]) -> SharedHours:
    return SharedHours(coop=coop, period=period, structures=_rows(rows))
