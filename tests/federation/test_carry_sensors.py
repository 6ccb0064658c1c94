"""A federation carries its founders' unredeemed sensor credits (both stores; domain/sensors_carry.py):
the credits arrive on 8018/8091 with the opening entry, and the hosts' balances, their sensors in
service and the reward terms are rebuilt in the federation, so redemptions spend them there and
refuse to spend more; the read side shows the same; what cannot be carried is refused, writing nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.federation import FederateCooperatives
from domain.membership import AdmitMember, ResignMember
from domain.sensors import (
    AcceptReadings,
    RedeemCreditsForMoney,
    RedeemCreditsForService,
    RegisterSensor,
    RetireSensor,
    SetSensorRewardTerms,
)
from ledger.founder_books import read_founder_books
from projections.observatory_indicators import observatory
from projections.sensors import active_sensors, credits_summary, host_credit_balances
from tests.views import reward_terms

from .conftest import CommandRunner

START, DAY = date(2025, 1, 1), date(2025, 7, 1)
FEB, MAR, APR = date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)
FEE = [FeeBracket(1, None, Decimal(50))]


class Founders(CommandRunner):
    """The founders' set-up; commands accepted or refused as CommandRunner says."""

    prefix = "sensors"

    def found(self, slug: str, members: list[str], rate: str = "0.01", money: str = "0.50") -> None:
        self.do(FoundCooperative(slug, f"Capteurs {slug}", "association", START, [CollegeSpec("membres", "Membres")], FEE))
        self.do(*(AdmitMember(slug, m, f"Hôte {m}", "person", "membres", START, 1) for m in members))
        self.do(SetSensorRewardTerms(slug, FEB, rate, "5", money, "0.80"))

    def federate(self, slug: str, founders: list[str]) -> Any:
        self.n += 1
        return self.ledger.execute(
            FederateCooperatives(slug, "Fédération", "association", DAY, founders, FEE), f"sensors-{self.n}"
        )


def _founder_a(f: Founders) -> None:
    """cap-a: alice hosts s-a1 (and s-a3, retired), bob s-a2. alice earns 3 credits and redeems 1
    for money: 2 left; bob earns 2."""
    f.found("cap-a", ["alice", "bob"])
    f.do(
        RegisterSensor("cap-a", "s-a1", "alice", "pm2.5", FEB),
        RegisterSensor("cap-a", "s-a2", "bob", "no2", FEB),
        RegisterSensor("cap-a", "s-a3", "alice", "noise", FEB),
        AcceptReadings("cap-a", "s-a1", MAR, 300, MAR),
        AcceptReadings("cap-a", "s-a2", MAR, 200, MAR),
        RedeemCreditsForMoney("cap-a", "alice", "1", APR),
        RetireSensor("cap-a", "s-a3", APR),
    )


def _founder_b(f: Founders) -> None:
    """cap-b: dan hosts s-b1, earns 4 credits and spends 1 on a service worth 0.80 EUR: 3 left."""
    f.found("cap-b", ["dan"])
    f.do(
        RegisterSensor("cap-b", "s-b1", "dan", "pm10", FEB),
        AcceptReadings("cap-b", "s-b1", MAR, 400, MAR),
        RedeemCreditsForService("cap-b", "dan", "Atelier", "0.80", APR),
    )


def _balances(ledger: Any, slug: str) -> dict[str, int]:
    """Write side: each host's credits not redeemed."""
    return {h: c.balance_minor for h, c in ledger.cooperative(slug).sensors.hosts.items() if c.balance_minor}


def _owed_in_books(ledger: Any, slug: str) -> dict[str | None, int]:
    books = read_founder_books(ledger, ledger.cooperative(slug)).balances  # the journal, replayed
    return {
        party: -amount if account == "8018" else amount
        for (account, party, unit), amount in books.items()
        if account in ("8018", "8091") and amount and unit == "CREDIT"
    }


def test_hosts_redeem_their_carried_credits_in_the_federation_and_no_more(ledger, runner, make_ledger):
    f = Founders(ledger)
    _founder_a(f)
    _founder_b(f)
    result = f.federate("cap-fed", ["cap-a", "cap-b"])
    assert result.accepted, result.error and result.error.as_dict()

    # Write side: balances, sensors in service, terms; the same credits as the books hold.
    fed = ledger.cooperative("cap-fed")
    assert make_ledger().cooperative("cap-fed").sensors == fed.sensors  # the same state, replayed from the stored events
    assert _balances(ledger, "cap-fed") == {"alice": 200, "bob": 200, "dan": 300}
    alice = fed.sensors.hosts["alice"]  # the balance's dated moves: carried on D
    assert (list(alice.move_days), list(alice.move_minor)) == ([DAY.toordinal()], [200])
    assert _owed_in_books(ledger, "cap-fed") == {"alice": 200, "bob": 200, "dan": 300, None: 700}
    assert {s: (x.host_id, x.registered_on) for s, x in fed.sensors.sensors.items()} == {
        "s-a1": ("alice", DAY),
        "s-a2": ("bob", DAY),
        "s-b1": ("dan", DAY),
    }  # s-a3 was retired: it stays behind
    (terms,) = fed.sensors.terms
    assert (terms.effective_date, str(terms.credit_rate), terms.daily_cap_minor, str(terms.money_rate)) == (
        DAY,
        "1/100",
        500,
        "1/2",
    )

    # What a founder would have refused, the federation refuses, writing nothing.
    later = date(2025, 7, 2)
    assert f.refused(RedeemCreditsForMoney("cap-fed", "alice", "2.01", later)).rule == "credits_available"
    assert (
        f.refused(RedeemCreditsForService("cap-fed", "dan", "Atelier", "2.41", later)).rule == "credits_available"
    )  # 3.02 credits
    assert f.refused(AcceptReadings("cap-fed", "s-a3", DAY, 100, DAY)).rule == "known_sensor"
    assert f.refused(AcceptReadings("cap-fed", "s-a1", date(2025, 6, 30), 100, DAY)).rule == "not_before_founding"
    # ... and accepts what it would have accepted: all of the credits, and new ones from the carried sensors.
    f.do(
        RedeemCreditsForMoney("cap-fed", "alice", "2", later),
        RedeemCreditsForService("cap-fed", "dan", "Atelier", "2.40", later),
        AcceptReadings("cap-fed", "s-a1", DAY, 100, later),
        AcceptReadings("cap-fed", "s-a2", DAY, 600, later),
        AcceptReadings("cap-fed", "s-b1", DAY, 900, later),
    )
    assert f.refused(AcceptReadings("cap-fed", "s-a2", DAY, 100, later)).rule == "credited_once"
    f.do(RedeemCreditsForMoney("cap-fed", "alice", "1", date(2025, 7, 3)))
    assert f.refused(RedeemCreditsForMoney("cap-fed", "alice", "0.01", date(2025, 7, 3))).rule == "credits_available"
    balances = _balances(ledger, "cap-fed")
    assert balances == {"bob": 200 + 500, "dan": 500}  # bob: 6 credits read on D, capped at 5; dan: 9, capped at 5
    owed = _owed_in_books(ledger, "cap-fed")
    assert owed == {**balances, None: sum(balances.values())}
    runner.catch_up()

    # Read side = write side.
    hosts = {h["host_id"]: h for h in host_credit_balances(ledger.db, "cap-fed")}
    assert {h: r["balance_minor"] for h, r in hosts.items() if r["balance_minor"]} == balances
    assert (hosts["alice"]["carried_minor"], hosts["alice"]["earned_minor"], hosts["alice"]["redeemed_money_minor"]) == (
        200,
        100,
        300,
    )
    assert (hosts["dan"]["carried_minor"], hosts["dan"]["earned_minor"], hosts["dan"]["redeemed_service_minor"]) == (
        300,
        500,
        300,
    )
    summary = credits_summary(ledger.db, "cap-fed")
    assert (summary["carried_minor"], summary["outstanding_minor"], summary["sensors"]) == (700, sum(balances.values()), 3)
    assert summary["issued_minor"] == sum(h["earned_minor"] for h in hosts.values()) == 1100
    assert [(s["sensor_id"], s["host_id"], s["registered_on"]) for s in active_sensors(ledger.db, "cap-fed", DAY)] == [
        (s, x.host_id, x.registered_on.isoformat()) for s, x in sorted(ledger.cooperative("cap-fed").sensors.sensors.items())
    ]
    assert [
        (t["effective_date"], t["credit_rate"], t["daily_cap_minor"], t["money_rate"], t["service_rate"])
        for t in reward_terms(ledger.db, "cap-fed")
    ] == [(DAY.isoformat(), "0.01", 500, "0.5", "0.8")]
    (sensors,) = [
        i for i in observatory(ledger.db, "cap-fed", today=date(2025, 7, 3), position=0)["indicators"] if i["id"] == "sensors"
    ]
    assert (sensors["value"]["active_sensors"], sensors["value"]["outstanding_minor"]) == (3, sum(balances.values()))
    assert {s["key"]: s["values"] for s in sensors["series"]}["active_sensors"] == [3]  # carried sensors are in service from July


def test_what_cannot_be_carried_is_refused_and_writes_nothing(ledger, runner):
    f = Founders(ledger)
    _founder_a(f)
    _founder_b(f)
    # A host who left keeps 3 credits in cap-c: they cannot move; the federation says so.
    f.found("cap-c", ["carol", "eve"])
    f.do(
        RegisterSensor("cap-c", "s-c1", "carol", "pm2.5", FEB),
        AcceptReadings("cap-c", "s-c1", MAR, 300, MAR),
        ResignMember("cap-c", "carol", date(2025, 5, 1)),
    )
    error = f.refused_federation("fed-1", ["cap-a", "cap-c"])
    assert (error.field, error.rule) == ("founders[1]", "open_items_not_carried")
    assert "8018" in error.message and "carol" in error.message and "3.00 CREDIT" in error.message
    # Other terms: a host's credits would change value by moving.
    f.found("cap-d", ["gus"], money="0.40")
    f.do(RegisterSensor("cap-d", "s-d1", "gus", "pm2.5", FEB))
    error = f.refused_federation("fed-2", ["cap-a", "cap-d"])
    assert (error.field, error.rule, error.kind) == ("founders[1]", "same_reward_terms", "conflict")
    # A sensor id two founders use.
    f.found("cap-e", ["hal"])
    f.do(RegisterSensor("cap-e", "s-b1", "hal", "pm2.5", FEB))
    error = f.refused_federation("fed-3", ["cap-b", "cap-e"])
    assert (error.field, error.rule, error.kind) == ("founders[1]", "unique_sensor", "conflict")
    # Once carol redeemed her credits in her founder, nothing is stranded: the federation goes through.
    f.do(RedeemCreditsForMoney("cap-c", "carol", "3", date(2025, 6, 1)))
    result = f.federate("fed-4", ["cap-a", "cap-c"])
    assert result.accepted, result.error and result.error.as_dict()
    assert _balances(ledger, "fed-4") == {"alice": 200, "bob": 200}
    assert set(ledger.cooperative("fed-4").sensors.sensors) == {"s-a1", "s-a2"}  # carol's s-c1 stays behind with her
