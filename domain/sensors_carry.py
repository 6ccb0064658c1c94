"""Sensor reward credits carried by a federation (domain/federation_carry.py).

A founder's unredeemed credits are open items on 8018 (party: the host, a member; credit balance)
against 8091 (no party; debit balance), in unit CREDIT; the same numbers in both plans. The
opening entry brings the balances; the events here rebuild, in the federation on its date D, what
redeeming them needs, so that RedeemCreditsForMoney / RedeemCreditsForService spend them there and
refuse to spend more (credits_available), as the founder would have:
- `SensorCreditsCarried`: each moving host's unredeemed balance at the end of D-1 (a host that
  left the founder does not move: its credits stay a refusal of the federation, redeem them first);
- `SensorRewardTermsCarried`: the reward terms in force on D-1 (redemptions are priced at the terms
  in force on their date), dated D. Founders that carry sensors or credits must have the same terms
  (rates and daily cap): a host's credits would otherwise change value by moving. Different terms
  are refused (Conflict `same_reward_terms`): set the same terms in the founders before D. A founder
  without terms carries none (then the federation sets its own with SetSensorRewardTerms);
- `SensorCarried`: each sensor not retired whose host moves, registered in the federation on D
  (its readings of D and later are accepted there; those of earlier days were the founder's).
  A sensor id already carried from another founder is refused (Conflict `unique_sensor`).
The per-day credits of the founder's hosts are not carried: the daily cap applies to days of
readings, and the federation accepts readings of D and later only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from domain.errors import Conflict, InvalidCommand
from domain.events import CoopEvent
from domain.money import Unit
from domain.sensors import MAX_SENSORS
from domain.sensors_state import HostCredits, Sensor, Terms

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


class SensorRewardTermsCarried(CoopEvent):
    """The reward terms in force in a founder the day before the federation, in force in the
    federation from its date (rates as exact decimal text, as SensorRewardTermsSet)."""

    credit_rate: str
    daily_cap_minor: int
    money_rate: str
    service_rate: str
    founder: str
    founder_effective_date: date  # when the founder set them

    def apply(self, coop: Cooperative) -> None:
        state = coop.sensors
        assert not state.terms, "reward terms carried into a federation that has terms"
        rates = Fraction(self.credit_rate), Fraction(self.money_rate), Fraction(self.service_rate)
        state.terms.append(Terms(self.effective_date, rates[0], self.daily_cap_minor, rates[1], rates[2]))
        state.terms_days.append(self.effective_date.toordinal())


class SensorCarried(CoopEvent):
    """A founder's sensor in service, registered in the federation on its date."""

    sensor_id: str
    host_id: str
    quantity: str
    founder: str
    founder_host_id: str
    founder_registered_on: date

    def apply(self, coop: Cooperative) -> None:
        assert self.sensor_id not in coop.sensors.sensors, f"sensor {self.sensor_id} carried twice"
        coop.sensors.sensors[self.sensor_id] = Sensor(self.sensor_id, self.host_id, self.quantity, self.effective_date)


class SensorCreditsCarried(CoopEvent):
    """A host's credits not yet redeemed in a founder the day before the federation. No entry:
    the balance arrives on 8018 with the founder's opening entry; redemptions spend it from here."""

    host_id: str
    credits_minor: int
    founder: str
    founder_host_id: str

    def apply(self, coop: Cooperative) -> None:
        state = coop.sensors
        assert self.host_id not in state.hosts and self.credits_minor > 0, f"host {self.host_id} credits carried twice or empty"
        origin = coop.members[self.host_id].admitted_on.toordinal()  # index 0 of per_day, as ReadingsAccepted sets it
        host = state.hosts[self.host_id] = HostCredits(
            origin, earned_minor=self.credits_minor, last_credit_on=self.effective_date
        )
        host.move(self.effective_date, self.credits_minor)  # earned here from D on


def _rate_text(rate: Fraction) -> str:
    """A rate back to its canonical decimal text ("0.05"): rates have at most 6 decimal places."""
    value = Decimal(rate.numerator) / Decimal(rate.denominator)
    assert Fraction(value) == rate, f"rate {rate} is not a short decimal"
    return format(value.normalize(), "f")


def _same(a: Terms, b: Terms) -> bool:
    return (a.credit_rate, a.daily_cap_minor, a.money_rate, a.service_rate) == (
        b.credit_rate,
        b.daily_cap_minor,
        b.money_rate,
        b.service_rate,
    )


def _carry_terms(ctx: CarryContext, terms: Terms) -> None:
    carried = ctx.new.sensors.terms
    if not carried:
        ctx.new.record(
            SensorRewardTermsCarried,
            effective_date=ctx.day,
            meta=ctx.meta,
            credit_rate=_rate_text(terms.credit_rate),
            daily_cap_minor=terms.daily_cap_minor,
            money_rate=_rate_text(terms.money_rate),
            service_rate=_rate_text(terms.service_rate),
            founder=ctx.founder_slug,
            founder_effective_date=terms.effective_date,
        )
    elif not _same(carried[-1], terms):
        other = carried[-1]
        raise Conflict(
            ctx.field,
            "same_reward_terms",
            f"{ctx.founder_slug}'s sensor reward terms ({terms.credit_rate} credit a reading, cap "
            f"{terms.daily_cap_minor}, {terms.money_rate} EUR / {terms.service_rate} EUR a credit) differ from those "
            f"another founder carries into {ctx.new.slug} ({other.credit_rate}, {other.daily_cap_minor}, "
            f"{other.money_rate} / {other.service_rate}): the hosts' credits would change value; set the same "
            "terms in the founders before the federation date",
        )


def carry_sensor_credits(ctx: CarryContext) -> Carried:
    """Carries the moving hosts' unredeemed credits, their sensors in service and the reward
    terms (module docstring); returns the credits per host on 8018 and their total on 8091."""
    founder, new, day = ctx.founder, ctx.new, ctx.day
    state = founder.sensors
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    sensors = [s for _id, s in sorted(state.sensors.items()) if s.retired_on is None and s.host_id in moving]
    hosts = [(host_id, h.balance_minor) for host_id, h in sorted(state.hosts.items()) if h.balance_minor and host_id in moving]
    if not sensors and not hosts:
        return {}
    assert all(h.last_credit_on < day for h in state.hosts.values()), "a founder has no event on or after its federation date"
    owed, contra = founder.chart.role("sensor_credits_owed"), founder.chart.role("sensor_credits_contra")
    assert (owed, contra) == (new.chart.role("sensor_credits_owed"), new.chart.role("sensor_credits_contra")), (
        "8018/8091 in both plans"
    )
    terms = state.terms[-1] if state.terms else None  # all dated before D: the terms in force on D-1
    if terms is not None:
        _carry_terms(ctx, terms)
    for sensor in sensors:
        if sensor.sensor_id in new.sensors.sensors:
            raise Conflict(
                ctx.field,
                "unique_sensor",
                f"{ctx.founder_slug}'s sensor {sensor.sensor_id!r} has the id of a sensor "
                f"another founder carries into {new.slug}: sensor ids must be unique in the federation; retire one first",
            )
        if len(new.sensors.sensors) >= MAX_SENSORS:
            raise InvalidCommand(ctx.field, "max_sensors", f"the founders carry more than {MAX_SENSORS} sensors in service")
        new.record(
            SensorCarried,
            effective_date=day,
            meta=ctx.meta,
            sensor_id=sensor.sensor_id,
            host_id=ctx.party(sensor.host_id),
            quantity=sensor.quantity,
            founder=ctx.founder_slug,
            founder_host_id=sensor.host_id,
            founder_registered_on=sensor.registered_on,
        )
    carried: dict[tuple[str, str | None, str], int] = {}
    for host_id, balance in hosts:
        assert balance > 0
        new.record(
            SensorCreditsCarried,
            effective_date=day,
            meta=ctx.meta,
            host_id=ctx.party(host_id),
            credits_minor=balance,
            founder=ctx.founder_slug,
            founder_host_id=host_id,
        )
        carried[(owed, host_id, Unit.CREDIT.value)] = -balance  # a credit balance: owed to the host
    total = sum(balance for _host, balance in hosts)
    if total:
        carried[(contra, None, Unit.CREDIT.value)] = total
    return carried
