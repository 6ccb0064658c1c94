"""The state of the sensor reward credits family (domain/sensors.py), kept on the Cooperative
aggregate: the dated terms, the sensors with the days they are credited for, and per host its
credits per day of readings and its balance's dated movements."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from domain.errors import NotFound
from domain.events import FinancialEvent


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
    # later date (balance_from) without keeping each batch.
    moves: dict[date, int] = field(default_factory=dict)

    @property
    def balance_minor(self) -> int:
        return self.earned_minor - self.redeemed_minor

    def move(self, day: date, credits_minor: int) -> None:
        net = self.moves.get(day, 0) + credits_minor
        if net:
            self.moves[day] = net
        else:
            self.moves.pop(day, None)  # nothing moved that day: no date to judge on

    def balance_from(self, day: date) -> tuple[int, date]:
        """The lowest balance on `day` and on every later date with a move, and when."""
        return FinancialEvent.lowest_from(self.moves.items(), day)

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
