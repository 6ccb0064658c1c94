"""What the observatory answers (GET /v1/coops/{coop}/observatory, and the page's event stream):
ten indicators, each with its definition, current value(s) and monthly series. Amounts in the
wire's form (api/wire.py): `_eur`, `_credits`, `_hours` fields; a series says its unit, its
values are Amounts for EUR, CREDIT and HOUR, integers for counts, decimal strings for percents.

The projection (projections/observatory_indicators.py) answers integers of minor units;
`observatory_answer` converts it, and the route checks it against `Observatory` once per build.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from api.answers.queries import BilingualText, GovernanceFlag
from api.wire import Amount, WireModel, amount, rename_minor_fields
from domain.money import Unit

PERCENT = 'A percentage with two decimals as text ("97.66"); None when nothing was called.'
SERIES_UNITS = {"EUR": Unit.EUR, "CREDIT": Unit.CREDIT, "minutes": Unit.HOUR}
SERIES_KEY_SUFFIXES = {"_cents": "_eur", "_minor": "_credits", "_minutes": "_hours"}


class ObservatorySeries(WireModel):
    key: str = Field(description="The series' name (members:<college>, paid_eur, logged_hours...).")
    label: BilingualText = Field(description="Its label in both languages.")
    unit: Literal["count", "percent", "EUR", "CREDIT", "HOUR"] = Field(
        description="The unit of its values: counts are integers, percents decimal strings, the others Amounts."
    )
    values: list[Amount | int | str | None] = Field(description="One value per month of `months`; None: no figure.")


class _Indicator(WireModel):
    title: BilingualText = Field(description="Its title in both languages.")
    definition: BilingualText = Field(description="What it counts and how, in both languages.")
    series: list[ObservatorySeries] = Field(description="Its monthly series.")


class ObservatoryCollege(WireModel):
    code: str = Field(description="The college's code.")
    name: str = Field(description="Its name.")
    members: int = Field(description="Its members on the day.")
    in_good_standing: int = Field(description="Those whose fee of the fiscal year is fully paid.")


class MembersValue(WireModel):
    colleges: list[ObservatoryCollege] = Field(description="Each college's members.")
    members: int = Field(description="Members on the day.")
    in_good_standing: int = Field(description="Members whose fee of the fiscal year is fully paid.")


class FeesValue(WireModel):
    year: int = Field(description="The fiscal year.")
    called_eur: Amount = Field(description="Fees called for it, in euros.")
    paid_eur: Amount = Field(description="Fees paid of them, in euros.")
    rate_percent: str | None = Field(None, description=PERCENT)


class FundValue(WireModel):
    balance_eur: Amount = Field(description="The cooperation fund's cash, in euros.")
    committed_eur: Amount = Field(description="Awarded but not paid yet, in euros.")
    available_eur: Amount = Field(description="What may still be awarded, in euros.")
    received_eur: Amount = Field(description="Contributions received, in euros.")
    paid_eur: Amount = Field(description="Grants paid, in euros.")


class ObservatoryCall(WireModel):
    call_id: str = Field(description="The call's id.")
    title: str = Field(description="Its title.")
    status: str = Field(description="open or closed.")
    envelope_eur: Amount = Field(description="Its envelope, in euros.")
    awarded_eur: Amount = Field(description="Awarded, in euros.")
    paid_eur: Amount = Field(description="Paid, in euros.")
    remaining_eur: Amount = Field(description="Envelope not awarded, in euros.")
    laureates: int = Field(description="Laureates.")
    max_laureates: int | None = Field(None, description="The most laureates it may have; None: no limit.")


class CallsValue(WireModel):
    calls: int = Field(description="Calls for projects.")
    open: int = Field(description="Those open.")
    envelope_eur: Amount = Field(description="Their envelopes, in euros.")
    awarded_eur: Amount = Field(description="Awarded, in euros.")
    paid_eur: Amount = Field(description="Paid, in euros.")
    remaining_eur: Amount = Field(description="Not awarded, in euros.")
    laureates: int = Field(description="Laureates.")
    listed: list[ObservatoryCall] = Field(description="The first calls, one by one.")


class ObservatorySubsidy(WireModel):
    subsidy_id: str = Field(description="The subsidy's id.")
    funder: str = Field(description="Who grants it.")
    purpose: str | None = Field(None, description="What it is for.")
    granted_eur: Amount = Field(description="Granted, in euros.")
    received_eur: Amount = Field(description="Received, in euros.")


class SubsidiesValue(WireModel):
    subsidies: int = Field(description="Subsidies granted.")
    granted_eur: Amount = Field(description="Granted, in euros.")
    received_eur: Amount = Field(description="Received, in euros.")
    to_receive_eur: Amount = Field(description="Granted and not received yet, in euros.")
    listed: list[ObservatorySubsidy] = Field(description="The first subsidies, one by one.")


class ExpiringCertification(WireModel):
    member_id: str = Field(description="The certified provider.")
    valid_until: str = Field(description="Its last valid day (YYYY-MM-DD).")


class CertificationsValue(WireModel):
    certified: int = Field(description="Providers certified on the day.")
    expiring_within_90_days: int = Field(description="Certifications ending within 90 days.")
    expiring: list[ExpiringCertification] = Field(description="Those, one by one.")


class SubscriptionPeriod(WireModel):
    period: str = Field(description="The period billed.")
    billed_eur: Amount = Field(description="Billed, in euros.")
    paid_eur: Amount = Field(description="Paid, in euros.")


class SubscriptionsValue(WireModel):
    billed_eur: Amount = Field(description="Subscriptions billed, in euros.")
    paid_eur: Amount = Field(description="Paid of them, in euros.")
    periods: list[SubscriptionPeriod] = Field(description="The last periods, one by one.")


class SensorsValue(WireModel):
    active_sensors: int = Field(description="Sensors active on the day.")
    sensors: int = Field(description="Sensors ever registered.")
    hosts: int = Field(description="Their hosts.")
    readings: int = Field(description="Readings accepted.")
    issued_credits: Amount = Field(description="Reward credits issued.")
    redeemed_credits: Amount = Field(description="Credits redeemed, for services or money.")
    outstanding_credits: Amount = Field(description="Credits held by hosts.")


class ObservatoryHoursStructure(WireModel):
    structure_id: str = Field(description="The member structure.")
    logged_hours: Amount = Field(description="Hours logged for it.")
    rebilled_hours: Amount = Field(description="Hours rebilled to it.")
    billed_eur: Amount = Field(description="What those rebillings bill, in euros.")
    to_rebill_hours: Amount | None = Field(None, description="Hours logged and not rebilled yet.")


class SharedHoursValue(WireModel):
    structures: list[ObservatoryHoursStructure] = Field(description="The first structures, one by one.")
    logged_hours: Amount = Field(description="Hours logged.")
    rebilled_hours: Amount = Field(description="Hours rebilled.")
    billed_eur: Amount = Field(description="What the rebillings bill, in euros.")


class ObservatoryGovernanceCollege(WireModel):
    code: str = Field(description="The college's code.")
    name: str = Field(description="Its name.")
    members: int = Field(description="Its members.")
    eligible_members: int = Field(description="Those who may vote.")
    statutory_weight: str = Field(description='Its weight in the statutes, an exact fraction of 100 ("100/3").')
    effective_weight: str = Field(description="Its weight once empty colleges are accounted for, exact.")
    statutory_percent: str | None = Field(None, description="The statutory weight in percent, two decimals.")
    effective_percent: str | None = Field(None, description="The effective weight in percent, two decimals.")


class GovernanceValue(WireModel):
    colleges: list[ObservatoryGovernanceCollege] = Field(description="Each college's weights.")
    unassigned_weight: str | None = Field(None, description="Weight nobody holds, an exact fraction of 100.")
    flags: list[GovernanceFlag] = Field(description="Legal bounds the weights break.")


class MembersIndicator(_Indicator):
    id: Literal["members"] = Field(description="The indicator.")
    value: MembersValue = Field(description="Its figures on the day.")


class FeesIndicator(_Indicator):
    id: Literal["fees"] = Field(description="The indicator.")
    value: FeesValue = Field(description="Its figures on the day.")


class FundIndicator(_Indicator):
    id: Literal["fund"] = Field(description="The indicator.")
    value: FundValue = Field(description="Its figures on the day.")


class CallsIndicator(_Indicator):
    id: Literal["calls"] = Field(description="The indicator.")
    value: CallsValue = Field(description="Its figures on the day.")


class SubsidiesIndicator(_Indicator):
    id: Literal["subsidies"] = Field(description="The indicator.")
    value: SubsidiesValue = Field(description="Its figures on the day.")


class CertificationsIndicator(_Indicator):
    id: Literal["certifications"] = Field(description="The indicator.")
    value: CertificationsValue = Field(description="Its figures on the day.")


class SubscriptionsIndicator(_Indicator):
    id: Literal["subscriptions"] = Field(description="The indicator.")
    value: SubscriptionsValue = Field(description="Its figures on the day.")


class SensorsIndicator(_Indicator):
    id: Literal["sensors"] = Field(description="The indicator.")
    value: SensorsValue = Field(description="Its figures on the day.")


class SharedHoursIndicator(_Indicator):
    id: Literal["shared_hours"] = Field(description="The indicator.")
    value: SharedHoursValue = Field(description="Its figures on the day.")


class GovernanceIndicator(_Indicator):
    id: Literal["governance"] = Field(description="The indicator.")
    value: GovernanceValue = Field(description="Its figures on the day.")


Indicator = Annotated[
    MembersIndicator
    | FeesIndicator
    | FundIndicator
    | CallsIndicator
    | SubsidiesIndicator
    | CertificationsIndicator
    | SubscriptionsIndicator
    | SensorsIndicator
    | SharedHoursIndicator
    | GovernanceIndicator,
    Field(discriminator="id"),
]


class ObservatoryLastEvent(WireModel):
    name: str = Field(description="The cooperative's name.")
    position: int = Field(description="The position of its last event in the log.")
    recorded_at: str | None = Field(None, description="When it was recorded (ISO 8601, UTC).")
    head: str | None = Field(None, description="The event chain's head there (N:HASH).")


class Observatory(WireModel):
    coop: str = Field(description="The cooperative's id.")
    name: str = Field(description="Its name.")
    as_of: str = Field(description="The day the figures are for (YYYY-MM-DD).")
    fiscal_year: int = Field(description="The fiscal year that day falls in.")
    position: int = Field(description="How far the views were in the log when reading began.")
    last_event: ObservatoryLastEvent | None = Field(None, description="The cooperative's last event.")
    public: bool = Field(description="Whether anyone may read the indicators without a key that day.")
    months: list[str] = Field(description="The series' months (YYYY-MM), oldest first: two years at most.")
    indicators: list[Indicator] = Field(description="The ten indicators, in a fixed order.")
    generated_at: str = Field(description="When this answer was built (ISO 8601, UTC).")


def _series(series: dict[str, Any]) -> dict[str, Any]:
    unit = SERIES_UNITS.get(series["unit"])
    if unit is None:  # counts and percents are not amounts
        return series
    key = series["key"]
    for minor, wire in SERIES_KEY_SUFFIXES.items():
        if key.endswith(minor):
            key = key.removesuffix(minor) + wire
    values = [None if v is None else amount(v, unit) for v in series["values"]]
    return {**series, "key": key, "unit": unit.value, "values": values}


def _value(value: dict[str, Any]) -> dict[str, Any]:
    """An indicator's value, its rows' too, with `_cents`, `_minor` (credits) and `_minutes` amounts
    in the wire's form."""
    rows = {
        k: [rename_minor_fields(r) for r in v] for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)
    }
    return {**rename_minor_fields(value), **rows}


def observatory_answer(report: dict[str, Any]) -> dict[str, Any]:
    """The projection's observatory in the wire's form."""
    indicators = [
        {**ind, "value": _value(ind["value"]), "series": [_series(s) for s in ind["series"]]} for ind in report["indicators"]
    ]
    return {**report, "indicators": indicators}
