"""Sensor reward credits: members host sensors; each accepted day of readings earns the host
reward credits (unit CREDIT, minor unit 1/100 credit), redeemed for services or for money.

Rules (a refusal names its field and rule and writes nothing):
- SetSensorRewardTerms (dated, versioned) sets the credit rate per reading, the daily cap per
  host and the redemption rates, before any reading is accepted. Readings of day D use the terms
  in force on D; a redemption, those on its date. A new version is dated after the previous one
  and after every credited period and redemption, so it never changes what is recorded.
- A sensor has a host (a member on the days it measures) and a measured quantity; its period is
  one day, credited once (until that entry is reversed).
- Daily cap: a host's credits for one day, all its sensors together, never exceed the cap; a
  batch is credited up to it, and refused once it is reached.
- Credits redeemed never exceed credits earned, per host, on any date: a redemption is dated on
  or after the host's latest credit, and it (or a credit's reversal) is judged on its date and on
  every later date a move of the host's balance has (HostCredits.move_days), so a back-dated one
  cannot spend credits that a later redemption, refunded since, spent while it stood.

Rounding (each in the cooperative's favour, by less than one minor unit): credits earned =
readings × rate, rounded down to 1/100 credit; money paid = credits × money rate, rounded down
to the cent; credits for a service = price ÷ service rate, rounded up to 1/100 credit.

Compact state for hundreds of thousands of batches (domain/sensors_state.py): per sensor one int
used as a bitset (bit i: day registered_on + i credited); per host totals, credits per day since
its admission in an array (4 bytes a day) and its balance's moves netted per date. Bounded by the
dates allowed (1901..2199) and MAX_SENSORS.

Here: the commands and their deciders. The state and the events that build it are in
domain/sensors_state.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.money import CreditsIn, EurosIn, PerUnitIn, Unit, format_minor, parse_decimal, to_minor
from domain.roles import CLERK, FINANCIAL, MEMBERSHIP, STATUTES
from domain.rules import identifier, not_before, text, whole_number
from domain.sensors_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    CreditsRedeemedForMoney,
    CreditsRedeemedForService,
    HostCredits,
    ReadingsAccepted,
    Sensor,
    SensorRegistered,
    SensorRetired,
    SensorRewardTermsSet,
    SensorsState,
    Terms,
)

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_SENSORS = 50_000
MAX_TERMS_VERSIONS = 200
MAX_READINGS_PER_PERIOD = 1_000_000  # one reading a second is 86,400 a day
MAX_RATE = Decimal(1000)
MAX_RATE_PLACES = 6
MAX_DAILY_CAP_MINOR = 10_000_000  # 100,000 credits a day: per-day credits fit the 'i' array


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class SetSensorRewardTerms:
    coop: str
    effective_date: date
    credit_rate: PerUnitIn  # credits per accepted reading, e.g. "0.01"
    daily_cap: CreditsIn  # per host and day
    money_rate: PerUnitIn  # euros paid per credit redeemed for money
    service_rate: PerUnitIn  # euros of services one credit buys


@dataclass(frozen=True)
class RegisterSensor:
    coop: str
    sensor_id: str
    host_id: str  # a member
    quantity: str  # what it measures, e.g. "pm2.5", "no2", "noise"
    effective_date: date


@dataclass(frozen=True)
class RetireSensor:
    coop: str
    sensor_id: str
    effective_date: date  # readings of this day and later are refused


@dataclass(frozen=True)
class AcceptReadings:
    coop: str
    sensor_id: str
    period: date  # the day the readings were measured
    readings: int  # how many valid readings the batch holds
    effective_date: date  # when the credit counts in the books (on or after the period)


@dataclass(frozen=True)
class RedeemCreditsForMoney:
    coop: str
    host_id: str
    credits: CreditsIn
    effective_date: date


@dataclass(frozen=True)
class RedeemCreditsForService:
    coop: str
    host_id: str
    service: str
    price: EurosIn  # the service's price, paid in credits at the service rate
    effective_date: date


# ---------------------------------------------------------------- deciders


def _rate(value: Any, field: str) -> str:
    """An exact, canonical rate: "0.050" and "0.05" are the same rate, stored as "0.05"."""
    rate = parse_decimal(value, field)
    if rate <= 0:
        raise InvalidCommand(field, "positive", f"must be more than zero, got {rate}")
    if rate > MAX_RATE:
        raise InvalidCommand(field, "maximum", f"must be at most {MAX_RATE}, got {rate}")
    if rate != rate.quantize(Decimal(1).scaleb(-MAX_RATE_PLACES)):
        raise InvalidCommand(field, "precision", f"{rate} has more than {MAX_RATE_PLACES} decimal places")
    return format(rate.normalize(), "f")


def set_sensor_reward_terms(coop: Cooperative, cmd: SetSensorRewardTerms, meta: Meta) -> None:
    state = coop.sensors
    day = coop.check_effective_date(cmd.effective_date)
    credit_rate = _rate(cmd.credit_rate, "credit_rate")
    daily_cap_minor = to_minor(cmd.daily_cap, Unit.CREDIT, "daily_cap")
    if daily_cap_minor > MAX_DAILY_CAP_MINOR:
        raise InvalidCommand("daily_cap", "maximum", f"must be at most {format_minor(MAX_DAILY_CAP_MINOR, Unit.CREDIT)} credits")
    money_rate = _rate(cmd.money_rate, "money_rate")
    service_rate = _rate(cmd.service_rate, "service_rate")
    if state.terms and day <= state.terms[-1].effective_date:
        raise InvalidCommand(
            "effective_date",
            "after_previous_terms",
            f"the terms in force date from {state.terms[-1].effective_date}: date the new ones later",
        )
    if day <= state.terms_fixed_until:
        raise InvalidCommand(
            "effective_date",
            "not_retroactive",
            f"credits or redemptions up to {state.terms_fixed_until} were recorded under the terms in force: date the new "
            "ones later",
        )
    if len(state.terms) >= MAX_TERMS_VERSIONS:
        raise InvalidCommand("effective_date", "max_versions", f"at most {MAX_TERMS_VERSIONS} versions of the terms")
    coop.record(
        SensorRewardTermsSet,
        effective_date=day,
        meta=meta,
        credit_rate=credit_rate,
        daily_cap_minor=daily_cap_minor,
        money_rate=money_rate,
        service_rate=service_rate,
    )


def register_sensor(coop: Cooperative, cmd: RegisterSensor, meta: Meta) -> None:
    state = coop.sensors
    sensor_id = identifier(cmd.sensor_id, "sensor_id")
    if sensor_id in state.sensors:
        raise Conflict("sensor_id", "unique_sensor", f"sensor {sensor_id!r} is already registered")
    if len(state.sensors) >= MAX_SENSORS:
        raise InvalidCommand("sensor_id", "max_sensors", f"a cooperative registers at most {MAX_SENSORS} sensors")
    host = coop.member(cmd.host_id, "host_id")
    host.check_active("host_id")
    quantity = identifier(cmd.quantity, "quantity")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, host.admitted_on, "effective_date", f"{host.member_id}'s admission")
    coop.record(SensorRegistered, effective_date=day, meta=meta, sensor_id=sensor_id, host_id=host.member_id, quantity=quantity)


def retire_sensor(coop: Cooperative, cmd: RetireSensor, meta: Meta) -> None:
    sensor = coop.sensors.sensor(cmd.sensor_id)
    if sensor.retired_on is not None:
        raise Conflict("sensor_id", "retired_once", f"sensor {sensor.sensor_id} was retired on {sensor.retired_on}")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, sensor.registered_on, "effective_date", f"the registration of {sensor.sensor_id}")
    latest = sensor.latest_credited()
    if latest is not None and day <= latest:
        raise InvalidCommand(
            "effective_date", "after_credited_periods", f"{sensor.sensor_id} has readings credited for {latest}: retire it later"
        )
    coop.record(SensorRetired, effective_date=day, meta=meta, sensor_id=sensor.sensor_id)


def accept_readings(coop: Cooperative, cmd: AcceptReadings, meta: Meta) -> None:
    state = coop.sensors
    sensor = state.sensor(cmd.sensor_id)
    readings = whole_number(cmd.readings, "readings", minimum=1, maximum=MAX_READINGS_PER_PERIOD)
    day = coop.check_effective_date(cmd.effective_date)
    period = coop.check_effective_date(cmd.period, "period")
    if period > day:
        raise InvalidCommand("period", "period_over", f"readings of {period} are accepted from that day on, not on {day}")
    not_before(period, sensor.registered_on, "period", f"the registration of {sensor.sensor_id}")
    if sensor.retired_on is not None and period >= sensor.retired_on:
        raise InvalidCommand("period", "active_sensor", f"{sensor.sensor_id} was retired on {sensor.retired_on}")
    if not coop.members[sensor.host_id].is_member_on(period):
        raise InvalidCommand(
            "period", "host_member", f"{sensor.host_id}, host of {sensor.sensor_id}, is not a member on {period}"
        )
    terms = state.terms_on(period)
    if terms is None:
        raise InvalidCommand(
            "period", "terms_set", f"no reward terms are in force on {period}: set them first (SetSensorRewardTerms)"
        )
    if sensor.is_credited(period):
        raise Conflict("period", "credited_once", f"{sensor.sensor_id} is already credited for {period}")
    earned = readings * 100 * terms.credit_rate.numerator // terms.credit_rate.denominator
    if earned == 0:
        raise InvalidCommand(
            "readings", "earns_credits", f"{readings} readings at {terms.credit_rate} credit each earn less than 0.01 credit"
        )
    host = state.hosts.get(sensor.host_id)
    room = terms.daily_cap_minor - (host.credited_on(period) if host else 0)
    if room <= 0:
        raise InvalidCommand(
            "period",
            "daily_cap",
            f"{sensor.host_id} already has the daily cap of {format_minor(terms.daily_cap_minor, Unit.CREDIT)} credits for "
            f"{period}",
        )
    credits = min(earned, room)
    owed, contra = coop.chart.role("sensor_credits_owed"), coop.chart.role("sensor_credits_contra")
    coop.record_entry(
        ReadingsAccepted,
        effective_date=day,
        meta=meta,
        label=f"Crédits capteur {sensor.sensor_id} – relevés du {period.isoformat()}",
        postings=[[contra, None, Unit.CREDIT.value, credits], [owed, sensor.host_id, Unit.CREDIT.value, -credits]],
        sensor_id=sensor.sensor_id,
        host_id=sensor.host_id,
        period=period,
        readings=readings,
        earned_minor=earned,
        credits_minor=credits,
    )


def _redemption(
    coop: Cooperative, host_id: Any, effective_date: Any, field: str, credits_of: Any
) -> tuple[str, date, Terms, int]:
    """Checks shared by both redemptions. credits_of(terms) gives the credits spent, checked
    against the host's balance. Returns (host id, date, terms in force, credits spent)."""
    host = coop.member(host_id, "host_id")
    day = coop.check_effective_date(effective_date)
    credits = coop.sensors.hosts.get(host.member_id)
    if credits is not None and day < credits.last_credit_on:
        raise InvalidCommand(
            "effective_date",
            "after_latest_credit",
            f"{host.member_id}'s latest credit is dated {credits.last_credit_on}: date the redemption on or after it",
        )
    terms = coop.sensors.terms_on(day)
    if terms is None:
        raise InvalidCommand("effective_date", "terms_set", f"no reward terms are in force on {day}")
    # On its date and every later one with a move: never redeemed beyond what was earned then.
    spent, (balance, lowest_on) = credits_of(terms), credits.balance_from(day) if credits is not None else (0, day)
    if spent > balance:
        when = f" on {lowest_on}" if lowest_on != day else ""
        raise InvalidCommand(
            field,
            "credits_available",
            f"{host.member_id} has {format_minor(balance, Unit.CREDIT)} credits{when}, "
            f"fewer than {format_minor(spent, Unit.CREDIT)}",
        )
    return host.member_id, day, terms, spent


def redeem_credits_for_money(coop: Cooperative, cmd: RedeemCreditsForMoney, meta: Meta) -> None:
    credits_minor = to_minor(cmd.credits, Unit.CREDIT, "credits")
    host_id, day, terms, _ = _redemption(coop, cmd.host_id, cmd.effective_date, "credits", lambda _terms: credits_minor)
    # credits/100 credits × rate EUR/credit × 100 cents/EUR, rounded down to the cent.
    amount_cents = credits_minor * terms.money_rate.numerator // terms.money_rate.denominator
    if amount_cents == 0:
        raise InvalidCommand(
            "credits",
            "redeems_to_a_cent",
            f"{format_minor(credits_minor, Unit.CREDIT)} credits at {terms.money_rate} EUR are worth less than 0.01 EUR",
        )
    ch = coop.chart
    coop.record_entry(
        CreditsRedeemedForMoney,
        effective_date=day,
        meta=meta,
        label=f"Conversion de {format_minor(credits_minor, Unit.CREDIT)} crédits en euros – {host_id}",
        postings=[
            [ch.role("sensor_credits_owed"), host_id, Unit.CREDIT.value, credits_minor],
            [ch.role("sensor_credits_contra"), None, Unit.CREDIT.value, -credits_minor],
            [ch.role("sensor_rewards_expense"), None, Unit.EUR.value, amount_cents],
            [ch.role("bank"), None, Unit.EUR.value, -amount_cents],
        ],
        host_id=host_id,
        credits_minor=credits_minor,
        amount_cents=amount_cents,
    )


def redeem_credits_for_service(coop: Cooperative, cmd: RedeemCreditsForService, meta: Meta) -> None:
    service = text(cmd.service, "service", max_chars=200)
    price_cents = to_minor(cmd.price, Unit.EUR, "price")
    # price cents ÷ rate EUR/credit = 1/100 credits, rounded up: the host pays the full price.
    host_id, day, _, credits_minor = _redemption(
        coop,
        cmd.host_id,
        cmd.effective_date,
        "price",
        lambda t: -(-price_cents * t.service_rate.denominator // t.service_rate.numerator),
    )
    ch = coop.chart
    coop.record_entry(
        CreditsRedeemedForService,
        effective_date=day,
        meta=meta,
        label=f"Crédits utilisés pour « {service} » – {host_id}"[:500],
        postings=[
            [ch.role("sensor_credits_owed"), host_id, Unit.CREDIT.value, credits_minor],
            [ch.role("sensor_credits_contra"), None, Unit.CREDIT.value, -credits_minor],
        ],
        host_id=host_id,
        credits_minor=credits_minor,
        service=service,
        price_cents=price_cents,
    )


FAMILY = register(
    Family(
        name="sensors",
        commands={
            SetSensorRewardTerms: Handler(set_sensor_reward_terms, STATUTES | FINANCIAL),
            RegisterSensor: Handler(register_sensor, MEMBERSHIP),
            RetireSensor: Handler(retire_sensor, MEMBERSHIP),
            AcceptReadings: Handler(accept_readings, CLERK),
            RedeemCreditsForMoney: Handler(redeem_credits_for_money, FINANCIAL),
            RedeemCreditsForService: Handler(redeem_credits_for_service, FINANCIAL),
        },
        events={
            "SensorRewardTermsSet": Fact("sensor_reward_terms.set", "activities"),
            "SensorRegistered": Fact("sensor.registered", "activities"),
            "SensorRetired": Fact("sensor.retired", "activities"),
            "ReadingsAccepted": Fact("readings.accepted", "entries", journal="OD"),
            "CreditsRedeemedForMoney": Fact("credits.redeemed_for_money", "entries", journal="BQ"),
            "CreditsRedeemedForService": Fact("credits.redeemed_for_service", "entries", journal="OD"),
            "SensorRewardTermsCarried": Fact("sensor_reward_terms.carried", "activities"),
            "SensorCarried": Fact("sensor.carried", "activities"),
            "SensorCreditsCarried": Fact("sensor_credits.carried", "activities"),
        },
        state=SensorsState,
        managed={
            "sensor_credits_owed": (AcceptReadings, RedeemCreditsForMoney, RedeemCreditsForService),
            "sensor_credits_contra": (AcceptReadings, RedeemCreditsForMoney, RedeemCreditsForService),
        },
        carriers=("domain.sensors_carry:carry_sensor_credits",),
        carry_order=80,
    )
)
