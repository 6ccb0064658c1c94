"""The state of the sensor reward credits family (domain/sensors.py), kept on the Cooperative
aggregate: the dated terms, the sensors with the days they are credited for, and per host its
credits per day of readings and its balance's dated movements; and the events that build it.

The events are here, beside the state, because they are its only writers: each `apply` (or
`apply_effect`, which a reversal runs with sign -1) moves a sensor's days and its host's credits
together, and `check_reversible` says when undoing one would spend credits already redeemed. The
commands and the deciders that record these events are in domain/sensors.py.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True, slots=True)
class Terms:
    effective_date: date
    credit_rate: Fraction  # credits per reading
    daily_cap_minor: int  # 1/100 credits per host and day
    money_rate: Fraction  # EUR per credit
    service_rate: Fraction  # EUR of services per credit


@dataclass(slots=True)
class Sensor:
    sensor_id: str
    host_id: str
    quantity: str
    registered_on: date
    retired_on: date | None = None
    credited_days: int = 0  # bitset: bit i set when day registered_on + i is credited

    def is_credited(self, period: date) -> bool:
        return bool(self.credited_days >> (period.toordinal() - self.registered_on.toordinal()) & 1)

    def latest_credited(self) -> date | None:
        if not self.credited_days:
            return None
        return date.fromordinal(self.registered_on.toordinal() + self.credited_days.bit_length() - 1)


@dataclass(slots=True)
class HostCredits:
    origin: int  # ordinal of the host's admission: index 0 of per_day
    per_day: array = field(default_factory=lambda: array("i"))  # 1/100 credits credited per day of readings
    earned_minor: int = 0
    redeemed_minor: int = 0
    last_credit_on: date = date.min  # latest effective date of a credit
    # The balance's movements netted per entry date (credits +, redemptions -, reversals the
    # other way): bounded by the dates, so a back-dated redemption or reversal is judged on every
    # later date (balance_from) without keeping each batch. Two parallel arrays sorted by date, the
    # dates' ordinals and the net moved on each, no date moving nothing: a sensor network's host has
    # one a day, a million in all at a million readings, and a snapshot of them as arrays is read in
    # milliseconds, where as a dict of dates it took most of a cold load (docs/decisions/0011-snapshots.md).
    move_days: array = field(default_factory=lambda: array("i"))
    move_minor: array = field(default_factory=lambda: array("q"))

    @property
    def balance_minor(self) -> int:
        return self.earned_minor - self.redeemed_minor

    def move(self, day: date, credits_minor: int) -> None:
        ordinal, days = day.toordinal(), self.move_days
        # Moves mostly come in date order: the append, without a search, is the common case.
        index = bisect_left(days, ordinal) if days and days[-1] >= ordinal else len(days)
        if index < len(days) and days[index] == ordinal:
            net = self.move_minor[index] + credits_minor
            if net:
                self.move_minor[index] = net
            else:  # nothing moved that day: no date to judge on
                del days[index]
                del self.move_minor[index]
        elif credits_minor:
            days.insert(index, ordinal)
            self.move_minor.insert(index, credits_minor)

    def balance_from(self, day: date) -> tuple[int, date]:
        """The lowest balance on `day` and on every later date with a move, and when (the first
        such date; `day` when no later date is lower): FinancialEvent.lowest_from, on sorted moves."""
        days, amounts = self.move_days, self.move_minor
        split = bisect_right(days, day.toordinal())
        total = sum(amounts[:split])
        lowest, lowest_at = total, -1
        for index in range(split, len(days)):
            total += amounts[index]
            if total < lowest:
                lowest, lowest_at = total, index
        return lowest, day if lowest_at < 0 else date.fromordinal(days[lowest_at])

    def credited_on(self, period: date) -> int:
        index = period.toordinal() - self.origin
        return self.per_day[index] if index < len(self.per_day) else 0


@dataclass
class SensorsState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""

    terms: list[Terms] = field(default_factory=list)  # oldest first, strictly increasing dates
    terms_days: list[int] = field(default_factory=list)  # their ordinals, for bisect
    sensors: dict[str, Sensor] = field(default_factory=dict)
    hosts: dict[str, HostCredits] = field(default_factory=dict)
    terms_fixed_until: date = date.min  # latest credited period or redemption date

    def terms_on(self, day: date) -> Terms | None:
        index = bisect_right(self.terms_days, day.toordinal()) - 1
        return self.terms[index] if index >= 0 else None

    def sensor(self, sensor_id: Any) -> Sensor:
        sensor = self.sensors.get(sensor_id) if isinstance(sensor_id, str) else None
        if sensor is None:
            raise NotFound("sensor_id", "known_sensor", f"no sensor {sensor_id!r} is registered")
        return sensor

    def balance_minor(self, host_id: str) -> int:
        host = self.hosts.get(host_id)
        return host.balance_minor if host else 0


# ---------------------------------------------------------------- events


class SensorRewardTermsSet(CoopEvent):
    credit_rate: str
    daily_cap_minor: int
    money_rate: str
    service_rate: str

    def apply(self, coop: Cooperative) -> None:
        state = coop.sensors
        rates = Fraction(self.credit_rate), Fraction(self.money_rate), Fraction(self.service_rate)
        state.terms.append(Terms(self.effective_date, rates[0], self.daily_cap_minor, rates[1], rates[2]))
        state.terms_days.append(self.effective_date.toordinal())


class SensorRegistered(CoopEvent):
    sensor_id: str
    host_id: str
    quantity: str

    def apply(self, coop: Cooperative) -> None:
        coop.sensors.sensors[self.sensor_id] = Sensor(self.sensor_id, self.host_id, self.quantity, self.effective_date)


class SensorRetired(CoopEvent):
    sensor_id: str

    def apply(self, coop: Cooperative) -> None:
        coop.sensors.sensors[self.sensor_id].retired_on = self.effective_date


class ReadingsAccepted(FinancialEvent):
    sensor_id: str
    host_id: str
    period: date
    readings: int
    earned_minor: int  # readings × rate, before the daily cap
    credits_minor: int  # credited: earned, capped

    def effect(self) -> dict[str, Any]:
        return {
            "sensor_id": self.sensor_id,
            "host_id": self.host_id,
            "period": self.period.isoformat(),
            "readings": self.readings,
            "credits_minor": self.credits_minor,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        state = coop.sensors
        sensor = state.sensors[effect["sensor_id"]]
        period = date.fromisoformat(effect["period"])
        bit = 1 << (period.toordinal() - sensor.registered_on.toordinal())
        assert bool(sensor.credited_days & bit) == (sign < 0), f"{sensor.sensor_id} {period} credited twice or never"
        sensor.credited_days ^= bit
        host = state.hosts.get(sensor.host_id)
        if host is None:
            host = state.hosts[sensor.host_id] = HostCredits(coop.members[sensor.host_id].admitted_on.toordinal())
        index = period.toordinal() - host.origin
        if index >= len(host.per_day):
            host.per_day.frombytes(bytes(host.per_day.itemsize * (index + 1 - len(host.per_day))))  # zeros
        credits = sign * effect["credits_minor"]
        host.per_day[index] += credits
        host.earned_minor += credits
        host.move(day, credits)
        assert host.per_day[index] >= 0 and host.balance_minor >= 0, f"host {sensor.host_id} credits below zero"
        if sign > 0:
            host.last_credit_on = max(host.last_credit_on, day)
            state.terms_fixed_until = max(state.terms_fixed_until, period)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The host's balance without these credits from `day` on must stay >= 0 on `day` and on
        every later date with a move: credits redeemed after `day` and given back since were
        redeemed beyond what was earned while they stood."""
        balance, lowest_on = coop.sensors.hosts[effect["host_id"]].balance_from(day)
        if balance < effect["credits_minor"]:
            raise InvalidCommand(
                "entry_number",
                "credits_unspent",
                f"{effect['host_id']} has {format_minor(balance, Unit.CREDIT)} credits left on {lowest_on} (this reversal counts "
                f"from {day}), fewer than the {format_minor(effect['credits_minor'], Unit.CREDIT)} to cancel: reverse a "
                "redemption "
                "first, or date this after its reversal",
            )


class _Redemption(FinancialEvent):
    """Credits leave a host's balance (for money or for a service)."""

    abstract = True
    host_id: str
    credits_minor: int

    def effect(self) -> dict[str, Any]:
        return {"host_id": self.host_id, "credits_minor": self.credits_minor}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        state = coop.sensors
        host = state.hosts[effect["host_id"]]
        host.redeemed_minor += sign * effect["credits_minor"]
        host.move(day, -sign * effect["credits_minor"])
        assert 0 <= host.redeemed_minor <= host.earned_minor, f"host {effect['host_id']} redeemed more than earned"
        if sign > 0:
            state.terms_fixed_until = max(state.terms_fixed_until, day)


class CreditsRedeemedForMoney(_Redemption):
    amount_cents: int


class CreditsRedeemedForService(_Redemption):
    service: str
    price_cents: int
