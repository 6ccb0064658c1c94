"""Sensor reward credits: terms, sensors, what each host earned and redeemed, readings per day.

Credits carried from a founder by a federation (domain/sensors_carry.py) are kept per host apart
from the credits earned here (`carried_minor`): they were issued by the founder's readings.

The high-volume family: ReadingsAccepted (and its reversals) are summed per batch in memory and
written as one upsert per sensor, host and day, instead of one statement per event. Rare events
(terms, registrations, redemptions) are written as they come. Invariants are asserted after
each batch (no host redeemed more than it earned) and on read (the three running totals agree).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.sensors import (
    CreditsRedeemedForMoney,
    CreditsRedeemedForService,
    ReadingsAccepted,
    SensorRegistered,
    SensorRetired,
    SensorRewardTermsSet,
)
from domain.sensors_carry import SensorCarried, SensorCreditsCarried, SensorRewardTermsCarried
from ledger.db import Database, Tx
from projections.base import Projection

MAX_DAYS = 3_660  # a page of readings per day: ten years
_REDEMPTIONS = {"CreditsRedeemedForMoney": "money", "CreditsRedeemedForService": "service"}


class SensorsProjection(Projection):
    name = "sensors"
    tables = ("sensor_terms", "sensors", "sensor_totals", "sensor_hosts", "sensor_days", "sensor_redemptions")

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        sensors: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # periods, readings, credits
        days: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        hosts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # earned, service, money, cents

        def credit(coop: str, effect: dict[str, Any], sign: int) -> None:
            periods, readings, credits = sign, sign * effect["readings"], sign * effect["credits_minor"]
            for cell in (sensors[(coop, effect["sensor_id"])], days[(coop, effect["period"])]):
                cell[0] += periods
                cell[1] += readings
                cell[2] += credits
            hosts[(coop, effect["host_id"])][0] += credits

        def redeem(coop: str, host_id: str, kind: str, credits: int, cents: int) -> None:
            cell = hosts[(coop, host_id)]
            cell[1 if kind == "service" else 2] += credits
            cell[3] += cents

        for seq, e in batch:
            if isinstance(e, ReadingsAccepted):
                credit(e.coop, e.effect(), +1)
            elif isinstance(e, (SensorRewardTermsSet, SensorRewardTermsCarried)):
                self._terms(tx, e, seq)
            elif isinstance(e, (SensorRegistered, SensorCarried)):
                self._registered(tx, e)
            elif isinstance(e, SensorCreditsCarried):
                tx.execute(
                    "INSERT INTO sensor_hosts (coop, host_id, earned_minor, redeemed_service_minor, redeemed_money_minor, "
                    "paid_cents,"
                    " carried_minor) VALUES (?, ?, 0, 0, 0, 0, ?) ON CONFLICT (coop, host_id) DO UPDATE SET"
                    " carried_minor = sensor_hosts.carried_minor + excluded.carried_minor",
                    (e.coop, e.host_id, e.credits_minor),
                )
            elif isinstance(e, SensorRetired):
                tx.execute_one(
                    "UPDATE sensors SET retired_on = ? WHERE coop = ? AND sensor_id = ?",
                    (e.effective_date.isoformat(), e.coop, e.sensor_id),
                )
            elif isinstance(e, (CreditsRedeemedForMoney, CreditsRedeemedForService)):
                kind, cents = self._redeemed(tx, e)
                redeem(e.coop, e.host_id, kind, e.credits_minor, cents)
            elif isinstance(e, EntryReversed) and e.reversed_kind == "ReadingsAccepted":
                credit(e.coop, e.reversed_effect, -1)
            elif isinstance(e, EntryReversed) and e.reversed_kind in _REDEMPTIONS:
                cents = self._redemption_reversed(tx, e)
                effect = e.reversed_effect
                redeem(e.coop, effect["host_id"], _REDEMPTIONS[e.reversed_kind], -effect["credits_minor"], -cents)
        self._flush(tx, sensors, days, hosts)

    def _terms(self, tx: Tx, e: SensorRewardTermsSet | SensorRewardTermsCarried, seq: int) -> None:
        """The reward terms from their effective date: a dated row, the latest in force."""
        tx.execute(
            "INSERT INTO sensor_terms (coop, seq, effective_date, credit_rate, daily_cap_minor, money_rate, service_rate)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.coop, seq, e.effective_date.isoformat(), e.credit_rate, e.daily_cap_minor, e.money_rate, e.service_rate),
        )

    def _registered(self, tx: Tx, e: SensorRegistered | SensorCarried) -> None:
        """A new sensor, its totals at zero, and its host's row if it is the host's first sensor."""
        tx.execute(
            "INSERT INTO sensors (coop, sensor_id, host_id, quantity, registered_on, retired_on) VALUES (?, ?, ?, ?, ?, NULL)",
            (e.coop, e.sensor_id, e.host_id, e.quantity, e.effective_date.isoformat()),
        )
        tx.execute(
            "INSERT INTO sensor_totals (coop, sensor_id, periods, readings, credits_minor) VALUES (?, ?, 0, 0, 0)",
            (e.coop, e.sensor_id),
        )
        tx.execute(
            "INSERT INTO sensor_hosts (coop, host_id, earned_minor, redeemed_service_minor, redeemed_money_minor, "
            "paid_cents)"
            " VALUES (?, ?, 0, 0, 0, 0) ON CONFLICT (coop, host_id) DO NOTHING",
            (e.coop, e.host_id),
        )

    def _redeemed(self, tx: Tx, e: CreditsRedeemedForMoney | CreditsRedeemedForService) -> tuple[str, int]:
        """The redemption's row; returns its kind ("money" or "service") and the cents paid for it."""
        kind = _REDEMPTIONS[e.kind]
        cents = e.amount_cents if kind == "money" else 0
        tx.execute(
            "INSERT INTO sensor_redemptions (coop, number, host_id, kind, effective_date, credits_minor, "
            "amount_cents, service, reversed_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                e.coop,
                e.journal_number,
                e.host_id,
                kind,
                e.effective_date.isoformat(),
                e.credits_minor,
                cents,
                getattr(e, "service", None),
            ),
        )
        return kind, cents

    def _redemption_reversed(self, tx: Tx, e: EntryReversed) -> int:
        """Marks the redemption reversed; returns the cents it had paid, to take back from its host."""
        tx.execute_one(
            "UPDATE sensor_redemptions SET reversed_by = ? WHERE coop = ? AND number = ?", (e.journal_number, e.coop, e.reverses)
        )
        found = tx.execute("SELECT amount_cents FROM sensor_redemptions WHERE coop = ? AND number = ?", (e.coop, e.reverses))
        return int(found[0][0])

    def _flush(self, tx: Tx, sensors: dict, days: dict, hosts: dict) -> None:
        tx.executemany(
            "INSERT INTO sensor_totals (coop, sensor_id, periods, readings, credits_minor) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (coop, sensor_id) DO UPDATE SET periods = sensor_totals.periods + excluded.periods,"
            " readings = sensor_totals.readings + excluded.readings, credits_minor = sensor_totals.credits_minor + "
            "excluded.credits_minor",
            [(*key, *cell) for key, cell in sensors.items()],
        )
        tx.executemany(
            "INSERT INTO sensor_days (coop, day, periods, readings, credits_minor) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (coop, day) DO UPDATE SET periods = sensor_days.periods + excluded.periods,"
            " readings = sensor_days.readings + excluded.readings, credits_minor = sensor_days.credits_minor + "
            "excluded.credits_minor",
            [(*key, *cell) for key, cell in days.items()],
        )
        tx.executemany(
            "INSERT INTO sensor_hosts (coop, host_id, earned_minor, redeemed_service_minor, redeemed_money_minor, paid_cents)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (coop, host_id) DO UPDATE SET"
            " earned_minor = sensor_hosts.earned_minor + excluded.earned_minor,"
            " redeemed_service_minor = sensor_hosts.redeemed_service_minor + excluded.redeemed_service_minor,"
            " redeemed_money_minor = sensor_hosts.redeemed_money_minor + excluded.redeemed_money_minor,"
            " paid_cents = sensor_hosts.paid_cents + excluded.paid_cents",
            [(*key, *cell) for key, cell in hosts.items()],
        )
        for coop in sorted({coop for coop, _host in hosts}):
            wrong = tx.execute(
                "SELECT host_id FROM sensor_hosts WHERE coop = ? AND (redeemed_service_minor < 0 OR redeemed_money_minor < 0"
                " OR paid_cents < 0 OR redeemed_service_minor + redeemed_money_minor > earned_minor + carried_minor) LIMIT 5",
                (coop,),
            )
            if wrong:
                raise IntegrityViolation(f"{coop}: hosts {[r[0] for r in wrong]} redeemed more credits than they earned")


# ---------------------------------------------------------------- reading


def host_credit_balances(db: Database, coop: str) -> list[dict[str, Any]]:
    """Each host: credits carried from a founder, earned here, redeemed (for services, for money),
    euros paid, balance."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT h.host_id, h.carried_minor, h.earned_minor, h.redeemed_service_minor, h.redeemed_money_minor, h.paid_cents,"
            " (SELECT COUNT(*) FROM sensors s WHERE s.coop = h.coop AND s.host_id = h.host_id)"
            " FROM sensor_hosts h WHERE h.coop = ? ORDER BY h.host_id",
            (coop,),
        )
    result = []
    for host_id, carried, earned, service, money, paid, sensors in rows:
        balance = int(carried) + int(earned) - int(service) - int(money)
        if balance < 0:
            raise IntegrityViolation(f"{coop}: host {host_id} redeemed more credits than earned")
        result.append(
            {
                "host_id": host_id,
                "sensors": int(sensors),
                "carried_minor": int(carried),
                "earned_minor": int(earned),
                "redeemed_service_minor": int(service),
                "redeemed_money_minor": int(money),
                "paid_cents": int(paid),
                "balance_minor": balance,
            }
        )
    return result


def active_sensors(db: Database, coop: str, on: date) -> list[dict[str, Any]]:
    """Sensors registered on or before `on` and not retired by then, with their totals so far."""
    day = on.isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT s.sensor_id, s.host_id, s.quantity, s.registered_on, t.periods, t.readings, t.credits_minor"
            " FROM sensors s JOIN sensor_totals t ON t.coop = s.coop AND t.sensor_id = s.sensor_id"
            " WHERE s.coop = ? AND s.registered_on <= ? AND (s.retired_on IS NULL OR s.retired_on > ?) ORDER BY s.sensor_id",
            (coop, day, day),
        )
    return [
        {
            "sensor_id": sid,
            "host_id": host,
            "quantity": quantity,
            "registered_on": registered,
            "periods_credited": int(periods),
            "readings": int(readings),
            "credits_minor": int(credits),
        }
        for sid, host, quantity, registered, periods, readings, credits in rows
    ]


def readings_accepted(db: Database, coop: str, *, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Per day of readings (at most MAX_DAYS, from `start`): sensor-days credited, readings, credits."""
    first, last = (start or date.min).isoformat(), (end or date.max).isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT day, periods, readings, credits_minor FROM sensor_days WHERE coop = ? AND day >= ? AND day <= ?"
            " AND periods <> 0 ORDER BY day LIMIT ?",
            (coop, first, last, MAX_DAYS),
        )
    days = [{"day": d, "periods": int(p), "readings": int(r), "credits_minor": int(c)} for d, p, r, c in rows]
    return {
        "coop": coop,
        "days": days,
        "periods": sum(d["periods"] for d in days),
        "readings": sum(d["readings"] for d in days),
        "credits_minor": sum(d["credits_minor"] for d in days),
    }


def credits_summary(db: Database, coop: str) -> dict[str, Any]:
    """Credits issued here, carried from founders, redeemed (services, money), outstanding; euros
    paid; sensors and hosts."""
    with db.read() as tx:
        issued, carried, service, money, paid, hosts = tx.execute(
            "SELECT COALESCE(SUM(earned_minor), 0), COALESCE(SUM(carried_minor), 0), COALESCE(SUM(redeemed_service_minor), 0),"
            " COALESCE(SUM(redeemed_money_minor), 0), COALESCE(SUM(paid_cents), 0), COUNT(*) FROM sensor_hosts WHERE coop = ?",
            (coop,),
        )[0]
        by_sensor, readings = tx.execute(
            "SELECT COALESCE(SUM(credits_minor), 0), COALESCE(SUM(readings), 0) FROM sensor_totals WHERE coop = ?", (coop,)
        )[0]
        by_day, readings_by_day = tx.execute(
            "SELECT COALESCE(SUM(credits_minor), 0), COALESCE(SUM(readings), 0) FROM sensor_days WHERE coop = ?", (coop,)
        )[0]
        sensors = tx.execute("SELECT COUNT(*) FROM sensors WHERE coop = ?", (coop,))[0][0]
    if not int(issued) == int(by_sensor) == int(by_day) or int(readings) != int(readings_by_day):
        raise IntegrityViolation(f"{coop}: credits issued per host {issued}, per sensor {by_sensor}, per day {by_day} differ")
    issued, carried, service, money = int(issued), int(carried), int(service), int(money)
    return {
        "coop": coop,
        "sensors": int(sensors),
        "hosts": int(hosts),
        "readings": int(readings),
        "issued_minor": issued,
        "carried_minor": carried,
        "redeemed_service_minor": service,
        "redeemed_money_minor": money,
        "outstanding_minor": carried + issued - service - money,
        "paid_cents": int(paid),
    }
