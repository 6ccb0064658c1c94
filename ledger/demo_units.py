"""Demo commands for the families counted in units other than euros: sensor credits, shared hours.
`add(command, **fields)` appends one command with a fixed idempotency key (see ledger/demo.py).

The cluster runs a citizen air-quality and noise network: members host sensors, each day of
readings earns the host reward credits (0.001 credit a reading, at most 2 credits a host and
day), redeemed at 0.50 EUR a credit or for the cluster's workshops at 0.80 EUR a credit. The
SCIC shares a digital mediator between a social centre, a nursing home and a town, rebilled
each month at cost (ethical minimum 13.50 EUR an hour; she is paid 15.20 EUR).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta


def commands(add: Callable[..., None], *, cluster: str, scic: str) -> None:
    _cluster_sensors(add, cluster)
    _scic_shared_mediator(add, scic)


def _days(first: str, count: int) -> list[date]:
    start = date.fromisoformat(first)
    return [start + timedelta(days=i) for i in range(count)]


def _readings(add: Callable[..., None], coop: str, sensor_id: str, first: str, count: int) -> None:
    """A week of readings, one a minute (1,440 a day) minus some downtime; accepted next day."""
    for i, day in enumerate(_days(first, count)):
        readings = 1440 - (i * 37) % 120
        add(
            "AcceptReadings",
            coop=coop,
            sensor_id=sensor_id,
            period=day.isoformat(),
            readings=readings,
            effective_date=(day + timedelta(days=1)).isoformat(),
        )


def _cluster_sensors(add: Callable[..., None], coop: str) -> None:
    add(
        "SetSensorRewardTerms",
        coop=coop,
        effective_date="2025-04-01",
        credit_rate="0.001",
        daily_cap="2",
        money_rate="0.50",
        service_rate="0.80",
    )
    for sensor_id, host_id, quantity, day in [
        ("CAP-PM-01", "MED-02", "pm2.5", "2025-04-10"),
        ("CAP-NO2-01", "MED-02", "no2", "2025-04-10"),
        ("CAP-PM-02", "REC-01", "pm10", "2025-04-15"),
        ("CAP-BRUIT-01", "PUB-02", "noise", "2025-07-01"),
        ("CAP-PM-03", "IND-01", "pm2.5", "2025-09-15"),
    ]:
        add("RegisterSensor", coop=coop, sensor_id=sensor_id, host_id=host_id, quantity=quantity, effective_date=day)
    # Radio Garrigue hosts two sensors: 1.44 + 1.44 credits a day, capped at 2 (the second
    # sensor's day is credited 0.56 or so).
    _readings(add, coop, "CAP-PM-01", "2025-04-14", 7)
    _readings(add, coop, "CAP-NO2-01", "2025-04-14", 7)
    _readings(add, coop, "CAP-PM-02", "2025-04-16", 7)
    add("RedeemCreditsForMoney", coop=coop, host_id="MED-02", credits="10", effective_date="2025-05-02")  # 5.00 EUR
    add(
        "RedeemCreditsForService",
        coop=coop,
        host_id="REC-01",
        service="Atelier de calibration des capteurs",
        price="6.40",
        effective_date="2025-05-12",
    )  # 8 credits
    _readings(add, coop, "CAP-BRUIT-01", "2025-07-01", 7)
    _readings(add, coop, "CAP-PM-03", "2025-09-15", 7)
    add(
        "RedeemCreditsForService",
        coop=coop,
        host_id="IND-01",
        service="Atelier « Mesurer l'air de sa rue »",
        price="3.20",
        effective_date="2025-10-01",
    )  # 4 credits
    # New terms for 2026: 0.0012 credit a reading.
    add(
        "SetSensorRewardTerms",
        coop=coop,
        effective_date="2026-01-01",
        credit_rate="0.0012",
        daily_cap="2",
        money_rate="0.50",
        service_rate="0.80",
    )
    _readings(add, coop, "CAP-PM-03", "2026-01-05", 7)
    _readings(add, coop, "CAP-BRUIT-01", "2026-02-02", 7)
    add("RedeemCreditsForMoney", coop=coop, host_id="PUB-02", credits="12", effective_date="2026-02-15")  # 6.00 EUR
    add("RetireSensor", coop=coop, sensor_id="CAP-NO2-01", effective_date="2026-03-01")


# (month, gross pay, employer charges, expenses, rebilled on): 62.25 hours a month at 15.20 EUR.
_MONTHS = [
    ("2025-04", "2025-04-07", "946.20", "397.40", "38.60", "2025-05-05"),
    ("2025-05", "2025-05-05", "946.20", "397.40", "52.10", "2025-06-04"),
    ("2025-06", "2025-06-02", "946.20", "397.40", "0", "2025-07-03"),
]


def _scic_shared_mediator(add: Callable[..., None], coop: str) -> None:
    add("SetEthicalMinimumRate", coop=coop, hourly_rate="13.50", effective_date="2025-03-01")
    add(
        "EngageSharedEmployee",
        coop=coop,
        employee_id="CN-01",
        name="Nadia Benali",
        hourly_pay="15.20",
        effective_date="2025-04-01",
    )
    for period, first_monday, gross, charges, expenses, rebilled_on in _MONTHS:
        for monday in _days(first_monday, 21)[::7]:  # three weeks a month
            tuesday, thursday = monday + timedelta(days=1), monday + timedelta(days=3)
            for day, structure_id, hours in [
                (monday, "BEN-01", "7"),
                (tuesday, "BEN-02", "3.5"),
                (tuesday, "PAR-01", "3.5"),
                (thursday, "PAR-01", "6.75"),
            ]:
                add("LogSharedHours", coop=coop, employee_id="CN-01", structure_id=structure_id, day=day.isoformat(), hours=hours)
        add(
            "RebillSharedHours",
            coop=coop,
            employee_id="CN-01",
            period=period,
            gross_pay=gross,
            employer_charges=charges,
            expenses=expenses,
            effective_date=rebilled_on,
        )
