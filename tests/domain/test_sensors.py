"""Sensor reward credits, pure rules: terms, sensors, credits per day and cap, redemptions,
rounding, reversal, compact state.

Books are built in memory through the deciders (no store). Figures are computed by hand:
unless a test says otherwise the terms are 0.001 credit a reading, a cap of 2 credits a host
and day, 0.50 EUR a credit in money, 0.80 EUR of services a credit. 1 credit = 100 minor units.
`Books` is reused by the shared-hours domain tests.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import membership, sensors
from domain.corrections import ReverseEntry
from domain.sensors import (
    AcceptReadings,
    RedeemCreditsForMoney,
    RedeemCreditsForService,
    RegisterSensor,
    RetireSensor,
    SetSensorRewardTerms,
)
from tests import builders
from tests.builders import admit

D = Decimal
FEB1, MAR1 = date(2020, 2, 1), date(2020, 3, 1)


class Books(builders.Books):
    def refused(self, command: Any) -> tuple[str, str]:  # type: ignore[override]
        """Runs a command that must be refused; checks nothing changed; returns (field, rule)."""
        error = super().refused(command)
        return error.field, error.rule

    def admit(self, member_id: str, day: date = FEB1, *, headcount: int = 1) -> None:
        self.do(admit(self.slug, member_id, self.member_college(), day, headcount=headcount))


def terms(
    slug: str = "c", day: date = FEB1, rate: str = "0.001", cap: str = "2", money: str = "0.50", service: str = "0.80"
) -> SetSensorRewardTerms:
    return SetSensorRewardTerms(slug, day, rate, cap, money, service)  # decimal text, as from JSON


def books_with_sensors(legal_form: str = "association") -> Books:
    """alice hosts s1 and s2, bob hosts s3 (all registered 2020-02-01); terms from 2020-02-01."""
    b = Books(legal_form)
    b.admit("alice")
    b.admit("bob")
    b.do(terms())
    b.do(RegisterSensor("c", "s1", "alice", "pm2.5", FEB1))
    b.do(RegisterSensor("c", "s2", "alice", "no2", FEB1))
    b.do(RegisterSensor("c", "s3", "bob", "noise", FEB1))
    return b


def accept(sensor: str, period: date, readings: int, day: date | None = None) -> AcceptReadings:
    return AcceptReadings("c", sensor, period, readings, day or period + timedelta(days=1))


def credited(b: Books) -> list[int]:
    return [e.credits_minor for e in b.entries if e.kind == "ReadingsAccepted"]


# ---------------------------------------------------------------- crediting a day


def test_a_day_of_readings_credits_the_host_rounded_down():
    b = books_with_sensors()
    (event,) = b.do(accept("s1", date(2020, 2, 3), 1439))
    # 1,439 readings × 0.001 = 1.439 credits, rounded down to 1.43 credits.
    assert (event.earned_minor, event.credits_minor, event.host_id) == (143, 143, "alice")
    assert event.postings == [["8091", None, "CREDIT", 143], ["8018", "alice", "CREDIT", -143]]
    assert event.effective_date == date(2020, 2, 4) and event.period == date(2020, 2, 3)
    assert b.coop.sensors.balance_minor("alice") == 143


def test_the_daily_cap_counts_every_sensor_of_a_host():
    b = books_with_sensors()
    day = date(2020, 2, 3)
    b.do(accept("s1", day, 1440))  # 1.44 credits
    (second,) = b.do(accept("s2", day, 1440))  # earns 1.44, only 0.56 left under the 2-credit cap
    assert (second.earned_minor, second.credits_minor) == (144, 56)
    b.do(RegisterSensor("c", "s4", "alice", "o3", FEB1))
    assert b.refused(accept("s4", day, 1440)) == ("period", "daily_cap")
    (other_host,) = b.do(accept("s3", day, 1440))  # bob's cap is his own
    (next_day,) = b.do(accept("s4", day + timedelta(days=1), 1440))  # so is the next day
    assert (other_host.credits_minor, next_day.credits_minor) == (144, 144)
    assert b.coop.sensors.balance_minor("alice") == 144 + 56 + 144


def test_a_sensor_day_is_credited_once_until_reversed():
    b = books_with_sensors()
    b.do(accept("s1", date(2020, 2, 3), 1000))  # entry 1: 1.00 credit
    assert b.refused(accept("s1", date(2020, 2, 3), 900, date(2020, 2, 10))) == ("period", "credited_once")
    b.do(ReverseEntry("c", 1, "count was wrong", date(2020, 2, 10)))
    assert b.coop.sensors.balance_minor("alice") == 0
    (again,) = b.do(accept("s1", date(2020, 2, 3), 900, date(2020, 2, 10)))
    assert again.credits_minor == 90 and again.journal_number == 3


def test_a_reversed_credit_frees_room_under_the_cap():
    b = books_with_sensors()
    day = date(2020, 2, 3)
    b.do(accept("s1", day, 2000))  # entry 1: earns 2.00, the whole cap
    assert b.refused(accept("s2", day, 10)) == ("period", "daily_cap")
    b.do(ReverseEntry("c", 1, "faulty sensor", date(2020, 2, 5)))
    (event,) = b.do(accept("s2", day, 1500, date(2020, 2, 5)))
    assert event.credits_minor == 150


def test_readings_use_the_terms_in_force_on_their_day():
    b = books_with_sensors()
    b.do(accept("s1", date(2020, 2, 28), 1000, date(2020, 2, 28)))  # 1.00 under the first terms
    b.do(terms(day=MAR1, rate="0.0015", cap="1.2"))
    (late,) = b.do(accept("s2", date(2020, 2, 29), 1000, date(2020, 3, 2)))  # still the first terms
    (new,) = b.do(accept("s1", date(2020, 3, 2), 1000, date(2020, 3, 3)))  # 1.50, capped at 1.20
    assert (late.credits_minor, new.earned_minor, new.credits_minor) == (100, 150, 120)


@pytest.mark.parametrize(
    ("rate", "readings", "expected"),
    [
        ("0.001", 1, None),  # 0.001 credit: less than 0.01, refused
        ("0.001", 10, 1),
        ("0.001", 19, 1),  # 0.019 -> 0.01
        ("0.003", 333, 99),  # 0.999 -> 0.99
        ("1.234567", 3, 370),  # 3.703701 -> 3.70
        ("0.0125", 80, 100),  # exactly 1.00
    ],
)
def test_credit_rounding_is_down_to_the_hundredth(rate, readings, expected):
    b = Books()
    b.admit("alice")
    b.do(terms(rate=rate, cap="1000"))
    b.do(RegisterSensor("c", "s1", "alice", "pm10", FEB1))
    if expected is None:
        assert b.refused(accept("s1", date(2020, 2, 3), readings)) == ("readings", "earns_credits")
    else:
        assert b.do(accept("s1", date(2020, 2, 3), readings))[0].credits_minor == expected


# ---------------------------------------------------------------- refusals


def test_readings_need_terms_in_force_on_their_day():
    b = Books()
    b.admit("alice")
    b.do(RegisterSensor("c", "s1", "alice", "pm10", FEB1))
    b.do(terms(day=date(2020, 2, 10)))
    assert b.refused(accept("s1", date(2020, 2, 9), 100)) == ("period", "terms_set")
    assert b.do(accept("s1", date(2020, 2, 10), 100))[0].credits_minor == 10


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (accept("nope", date(2020, 2, 3), 100), ("sensor_id", "known_sensor")),
        (accept("s1", date(2020, 2, 3), 0), ("readings", "range")),
        (accept("s1", date(2020, 2, 3), 1_000_001), ("readings", "range")),
        (AcceptReadings("c", "s1", date(2020, 2, 3), "100", date(2020, 2, 4)), ("readings", "integer")),
        (accept("s1", date(2020, 2, 5), 100, date(2020, 2, 4)), ("period", "period_over")),
        (accept("s1", date(2020, 1, 31), 100), ("period", "not_before")),  # before registration
        (accept("s1", date(2019, 12, 31), 100), ("period", "not_before_founding")),
        (AcceptReadings("c", "s1", "2020-02-03", 100, date(2020, 2, 4)), ("period", "date")),
        (accept("s1", date(2020, 2, 3), 100, date(2019, 12, 31)), ("effective_date", "not_before_founding")),
    ],
)
def test_bad_readings_are_refused(command, expected):
    assert books_with_sensors().refused(command) == expected


def test_readings_of_a_day_the_host_was_not_a_member_are_refused():
    b = books_with_sensors()
    b.do(membership.ResignMember("c", "bob", MAR1))
    assert b.refused(accept("s3", MAR1, 100)) == ("period", "host_member")
    assert b.do(accept("s3", date(2020, 2, 29), 100, date(2020, 3, 5)))[0].credits_minor == 10  # late, but bob was a member


def test_retired_sensors_take_no_readings_from_their_retirement_on():
    b = books_with_sensors()
    b.do(accept("s1", date(2020, 2, 10), 100))
    assert b.refused(RetireSensor("c", "s1", date(2020, 2, 10))) == ("effective_date", "after_credited_periods")
    assert b.refused(RetireSensor("c", "s1", date(2020, 1, 31))) == ("effective_date", "not_before")
    assert b.refused(RetireSensor("c", "nope", MAR1)) == ("sensor_id", "known_sensor")
    b.do(RetireSensor("c", "s1", date(2020, 2, 11)))
    assert b.refused(RetireSensor("c", "s1", MAR1)) == ("sensor_id", "retired_once")
    assert b.refused(accept("s1", date(2020, 2, 11), 100)) == ("period", "active_sensor")
    assert b.do(accept("s1", date(2020, 2, 9), 100, MAR1))[0].credits_minor == 10  # before retirement: still due


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (RegisterSensor("c", "s1", "bob", "pm10", FEB1), ("sensor_id", "unique_sensor")),
        (RegisterSensor("c", "bad id", "alice", "pm10", FEB1), ("sensor_id", "identifier")),
        (RegisterSensor("c", "s9", "ghost", "pm10", FEB1), ("host_id", "known_member")),
        (RegisterSensor("c", "s9", "alice", "pm 10", FEB1), ("quantity", "identifier")),
        (RegisterSensor("c", "s9", "alice", "pm10", date(2020, 1, 31)), ("effective_date", "not_before")),
    ],
)
def test_bad_registrations_are_refused(command, expected):
    assert books_with_sensors().refused(command) == expected


def test_a_member_who_left_cannot_host_a_new_sensor():
    b = books_with_sensors()
    b.do(membership.ResignMember("c", "bob", MAR1))
    assert b.refused(RegisterSensor("c", "s9", "bob", "pm10", MAR1)) == ("host_id", "active_member")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"rate": "0"}, ("credit_rate", "positive")),
        ({"rate": "-0.1"}, ("credit_rate", "positive")),
        ({"rate": "0.0000001"}, ("credit_rate", "precision")),
        ({"rate": "1000.000001"}, ("credit_rate", "maximum")),
        ({"cap": "0"}, ("daily_cap", "positive")),
        ({"cap": "0.001"}, ("daily_cap", "precision")),
        ({"cap": "100000.01"}, ("daily_cap", "maximum")),
        ({"money": "0"}, ("money_rate", "positive")),
        ({"service": "abc"}, ("service_rate", "decimal")),
        ({"day": date(2019, 12, 1)}, ("effective_date", "not_before_founding")),
    ],
)
def test_bad_terms_are_refused(kwargs, expected):
    b = Books()
    assert b.refused(terms(**kwargs)) == expected


def test_terms_are_versions_that_never_change_what_is_recorded():
    b = books_with_sensors()
    assert b.refused(SetSensorRewardTerms("c", MAR1, 0.1, D(1), D(1), D(1))) == ("credit_rate", "decimal")  # a float
    assert b.refused(terms(day=FEB1)) == ("effective_date", "after_previous_terms")
    b.do(accept("s1", date(2020, 2, 20), 100, date(2020, 2, 21)))
    assert b.refused(terms(day=date(2020, 2, 20))) == ("effective_date", "not_retroactive")
    (event,) = b.do(terms(day=date(2020, 2, 21), rate="0.0500", money="0.5"))
    assert (event.credit_rate, event.money_rate, event.daily_cap_minor) == ("0.05", "0.5", 200)


# ---------------------------------------------------------------- redemptions


def books_with_credits() -> Books:
    """alice earns 2.00 credits (2020-02-03, accepted 2020-02-04) and 1.50 (2020-02-04, accepted
    2020-02-05): 3.50 credits; entries 1 and 2."""
    b = books_with_sensors()
    b.do(accept("s1", date(2020, 2, 3), 2000))
    b.do(accept("s1", date(2020, 2, 4), 1500))
    assert b.coop.sensors.balance_minor("alice") == 350
    return b


def test_money_redemption_moves_credits_and_euros_rounded_down():
    b = books_with_credits()
    (event,) = b.do(RedeemCreditsForMoney("c", "alice", D("1.01"), date(2020, 2, 10)))
    # 1.01 credits × 0.50 EUR = 0.505 EUR, rounded down: 0.50 EUR.
    assert (event.credits_minor, event.amount_cents) == (101, 50)
    assert event.postings == [
        ["8018", "alice", "CREDIT", 101],
        ["8091", None, "CREDIT", -101],
        ["6588", None, "EUR", 50],
        ["512", None, "EUR", -50],
    ]
    assert b.coop.sensors.balance_minor("alice") == 249
    assert b.refused(RedeemCreditsForMoney("c", "alice", D("0.01"), date(2020, 2, 10))) == ("credits", "redeems_to_a_cent")
    assert b.refused(RedeemCreditsForMoney("c", "alice", D("2.50"), date(2020, 2, 10))) == ("credits", "credits_available")
    b.do(RedeemCreditsForMoney("c", "alice", D("2.49"), date(2020, 2, 10)))  # all that is left: 1.24 EUR
    assert b.entries[-1].amount_cents == 124 and b.coop.sensors.balance_minor("alice") == 0


def test_service_redemption_costs_the_price_in_credits_rounded_up():
    b = books_with_credits()
    b.do(terms(day=date(2020, 2, 6), service="0.30"))
    (event,) = b.do(RedeemCreditsForService("c", "alice", "Atelier capteurs", D("1.00"), date(2020, 2, 10)))
    # 1.00 EUR ÷ 0.30 EUR a credit = 3.333... credits, rounded up: 3.34 credits.
    assert (event.credits_minor, event.price_cents, event.service) == (334, 100, "Atelier capteurs")
    assert event.postings == [["8018", "alice", "CREDIT", 334], ["8091", None, "CREDIT", -334]]
    assert b.coop.sensors.balance_minor("alice") == 16
    assert b.refused(RedeemCreditsForService("c", "alice", "Atelier", D("0.05"), date(2020, 2, 10))) == (
        "price",
        "credits_available",
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (RedeemCreditsForMoney("c", "ghost", D("1"), date(2020, 2, 10)), ("host_id", "known_member")),
        (RedeemCreditsForMoney("c", "alice", D("0"), date(2020, 2, 10)), ("credits", "positive")),
        (RedeemCreditsForMoney("c", "alice", D("0.001"), date(2020, 2, 10)), ("credits", "precision")),
        (RedeemCreditsForMoney("c", "bob", D("0.10"), date(2020, 2, 10)), ("credits", "credits_available")),  # never credited
        (RedeemCreditsForMoney("c", "alice", D("1"), date(2020, 2, 4)), ("effective_date", "after_latest_credit")),
        (RedeemCreditsForService("c", "alice", " ", D("1"), date(2020, 2, 10)), ("service", "required")),
        (RedeemCreditsForService("c", "alice", "Atelier", D("-1"), date(2020, 2, 10)), ("price", "positive")),
    ],
)
def test_bad_redemptions_are_refused(command, expected):
    assert books_with_credits().refused(command) == expected


def test_redemptions_need_terms_in_force_on_their_date():
    b = Books()
    b.admit("alice")
    b.do(terms(day=date(2020, 2, 10)))
    # Credits come after the terms, so only a host without credits can be dated before them.
    assert b.refused(RedeemCreditsForMoney("c", "alice", D("1"), date(2020, 2, 9))) == ("effective_date", "terms_set")
    assert b.refused(RedeemCreditsForMoney("c", "alice", D("1"), date(2020, 2, 10))) == ("credits", "credits_available")


def test_reversals_keep_redeemed_at_most_earned():
    b = books_with_credits()
    b.do(RedeemCreditsForMoney("c", "alice", D("3"), date(2020, 2, 10)))  # entry 3
    # Undoing the 2.00-credit day would leave 1.50 earned for 3.00 redeemed.
    assert b.refused(ReverseEntry("c", 1, "bad data", date(2020, 2, 11))) == ("entry_number", "credits_unspent")
    b.do(ReverseEntry("c", 3, "transfer failed", date(2020, 2, 11)))  # entry 4: 3.00 back
    assert b.entries[-1].postings == [
        ["8018", "alice", "CREDIT", -300],
        ["8091", None, "CREDIT", 300],
        ["6588", None, "EUR", -150],
        ["512", None, "EUR", 150],
    ]
    b.do(ReverseEntry("c", 1, "bad data", date(2020, 2, 11)))
    assert b.coop.sensors.balance_minor("alice") == 150
    assert not b.coop.sensors.sensors["s1"].is_credited(date(2020, 2, 3))


def test_a_scic_uses_the_same_memo_accounts():
    b = books_with_sensors("scic")
    (event,) = b.do(accept("s1", date(2020, 2, 3), 1000))
    assert event.postings == [["8091", None, "CREDIT", 100], ["8018", "alice", "CREDIT", -100]]
    (paid,) = b.do(RedeemCreditsForMoney("c", "alice", D("1"), date(2020, 2, 5)))
    assert [p[0] for p in paid.postings] == ["8018", "8091", "6588", "512"]


# ---------------------------------------------------------------- compact state


def test_state_per_sensor_and_host_is_a_bitset_and_a_day_array():
    b = books_with_sensors()
    first = date(2020, 2, 1)
    for i in range(0, 400, 3):  # every third day for 400 days
        b.do(accept("s1", first + timedelta(days=i), 1000, first + timedelta(days=i + 1)))
    sensor, host = b.coop.sensors.sensors["s1"], b.coop.sensors.hosts["alice"]
    assert sensor.credited_days == sum(1 << i for i in range(0, 400, 3))
    assert sensor.latest_credited() == first + timedelta(days=399)
    assert len(host.per_day) == 400 and host.per_day.itemsize == 4  # alice was admitted 2020-02-01
    assert sum(host.per_day) == host.earned_minor == 134 * 100
    assert set(b.coop.sensors.hosts) == {"alice"}


def test_bounds_on_sensors_and_terms_versions(monkeypatch):
    b = books_with_sensors()  # three sensors, one version of the terms
    monkeypatch.setattr(sensors, "MAX_SENSORS", 3)
    monkeypatch.setattr(sensors, "MAX_TERMS_VERSIONS", 2)
    assert b.refused(RegisterSensor("c", "s4", "alice", "pm10", FEB1)) == ("sensor_id", "max_sensors")
    b.do(terms(day=date(2020, 2, 2)))
    assert b.refused(terms(day=date(2020, 2, 3))) == ("effective_date", "max_versions")
