"""Sensor reward credits through the ledger, on SQLite and PostgreSQL: every rule refuses with
its field and rule and writes nothing; accepted paths, reversals, batches, and the projection's
read functions, checked against figures computed by hand and against a rebuild.

The books (fixture `credits`): association "demo" founded 2020-01-01; alice and bob admitted
2020-02-01; terms from 2020-02-01: 0.001 credit a reading, cap 2 credits a host and day,
0.50 EUR a credit in money, 0.80 EUR of services a credit. alice hosts s1 and s2, bob s3.
Entries: 1 s1 2020-02-03, 1,440 readings -> 1.44; 2 s2 same day, 1,440 -> 0.56 (cap);
3 s3 2020-02-03, 900 -> 0.90. Accepted on 2020-02-04. alice holds 2.00 credits, bob 0.90.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.membership import ResignMember
from domain.sensors import (
    AcceptReadings,
    RedeemCreditsForMoney,
    RedeemCreditsForService,
    RegisterSensor,
    RetireSensor,
    SetSensorRewardTerms,
)
from ledger.service import Ledger
from projections.balances import account_balance, trial_balance
from projections.sensors import active_sensors, credits_summary, host_credit_balances, readings_accepted
from tests.builders import admit, dump_projections, found_association, new_key, ok, stored_event_count, stored_financial_events
from tests.views import redemptions, reward_terms

D = Decimal
FEB1, FEB3, FEB4, FEB10, MAR1 = date(2020, 2, 1), date(2020, 2, 3), date(2020, 2, 4), date(2020, 2, 10), date(2020, 3, 1)


def terms(
    day: date = FEB1, rate: str = "0.001", cap: str = "2", money: str = "0.50", service: str = "0.80"
) -> SetSensorRewardTerms:
    return SetSensorRewardTerms("demo", day, rate, cap, money, service)


def all_ok(ledger: Ledger, commands: list[Any]) -> list[tuple[int, ...]]:
    """Executes commands in one batch (one transaction: fixtures stay fast on PostgreSQL);
    each must be accepted. Returns their journal numbers."""
    results = ledger.execute_batch([(c, new_key("setup"), "test") for c in commands])
    refused = [(type(c).__name__, r.error.as_dict()) for c, r in zip(commands, results, strict=True) if not r.accepted]
    assert not refused, refused
    return [r.journal_numbers for r in results]


@pytest.fixture
def credits(ledger: Ledger) -> Ledger:
    numbers = all_ok(
        ledger,
        [
            found_association(),
            admit("demo", "alice", "founders", FEB1),
            admit("demo", "bob", "users", FEB1),
            terms(),
            *(
                RegisterSensor("demo", s, host, quantity, FEB1)
                for s, host, quantity in [("s1", "alice", "pm2.5"), ("s2", "alice", "no2"), ("s3", "bob", "noise")]
            ),
            *(AcceptReadings("demo", s, FEB3, n, FEB4) for s, n in [("s1", 1440), ("s2", 1440), ("s3", 900)]),
        ],
    )
    assert numbers[-3:] == [(1,), (2,), (3,)]
    return ledger


def balance(ledger: Ledger, host: str) -> int:
    return ledger.cooperative("demo").sensors.balance_minor(host)


# ---------------------------------------------------------------- accepted paths


def test_credits_are_posted_per_host_and_capped_per_day(credits, runner):
    entries = stored_financial_events(credits, "demo")
    assert [e.postings for e in entries] == [
        [["8091", None, "CREDIT", 144], ["8018", "alice", "CREDIT", -144]],
        [["8091", None, "CREDIT", 56], ["8018", "alice", "CREDIT", -56]],
        [["8091", None, "CREDIT", 90], ["8018", "bob", "CREDIT", -90]],
    ]
    assert [(e.earned_minor, e.credits_minor) for e in entries] == [(144, 144), (144, 56), (90, 90)]
    assert (balance(credits, "alice"), balance(credits, "bob")) == (200, 90)
    runner.catch_up()
    assert account_balance(credits.db, "demo", "8018", party="alice", unit="CREDIT") == -200
    assert account_balance(credits.db, "demo", "8091", unit="CREDIT") == 290
    assert trial_balance(credits.db, "demo")["totals"] == {"CREDIT": {"debit": 290, "credit": 290}}


def test_redemptions_move_credits_and_euros_and_the_projection_follows(credits, runner):
    money = ok(credits, RedeemCreditsForMoney("demo", "alice", D("1.25"), FEB10))  # 4: 1.25 × 0.50 = 0.625 -> 0.62 EUR
    service = ok(credits, RedeemCreditsForService("demo", "bob", "Atelier", D("0.70"), FEB10))  # 5: 0.70 ÷ 0.80 = 0.875 -> 0.88
    assert (money.journal_numbers, service.journal_numbers) == ((4,), (5,))
    assert money.events == ("CreditsRedeemedForMoney",) and service.events == ("CreditsRedeemedForService",)
    fourth, fifth = stored_financial_events(credits, "demo")[3:]
    assert fourth.postings == [
        ["8018", "alice", "CREDIT", 125],
        ["8091", None, "CREDIT", -125],
        ["6588", None, "EUR", 62],
        ["512", None, "EUR", -62],
    ]
    assert fifth.postings == [["8018", "bob", "CREDIT", 88], ["8091", None, "CREDIT", -88]]
    runner.catch_up()
    assert host_credit_balances(credits.db, "demo") == [
        {
            "host_id": "alice",
            "sensors": 2,
            "carried_minor": 0,
            "earned_minor": 200,
            "redeemed_service_minor": 0,
            "redeemed_money_minor": 125,
            "paid_cents": 62,
            "balance_minor": 75,
        },
        {
            "host_id": "bob",
            "sensors": 1,
            "carried_minor": 0,
            "earned_minor": 90,
            "redeemed_service_minor": 88,
            "redeemed_money_minor": 0,
            "paid_cents": 0,
            "balance_minor": 2,
        },
    ]
    assert credits_summary(credits.db, "demo") == {
        "coop": "demo",
        "sensors": 3,
        "hosts": 2,
        "readings": 1440 + 1440 + 900,
        "issued_minor": 290,
        "carried_minor": 0,
        "redeemed_service_minor": 88,
        "redeemed_money_minor": 125,
        "outstanding_minor": 77,
        "paid_cents": 62,
    }
    assert [
        (r["number"], r["kind"], r["credits_minor"], r["amount_cents"], r["service"]) for r in redemptions(credits.db, "demo")
    ] == [(4, "money", 125, 62, None), (5, "service", 88, 0, "Atelier")]
    assert [r["number"] for r in redemptions(credits.db, "demo", host_id="bob")] == [5]
    assert redemptions(credits.db, "demo", after=4, limit=1)[0]["number"] == 5
    assert account_balance(credits.db, "demo", "8018", party="alice", unit="CREDIT") == -75
    assert account_balance(credits.db, "demo", "512") == -62


def test_read_functions_by_day_sensor_and_terms(credits, runner):
    ok(credits, AcceptReadings("demo", "s1", FEB4, 500, FEB10))  # 0.50
    ok(credits, RetireSensor("demo", "s2", MAR1))
    ok(credits, terms(day=MAR1, rate="0.002"))
    runner.catch_up()
    assert readings_accepted(credits.db, "demo") == {
        "coop": "demo",
        "periods": 4,
        "readings": 4280,
        "credits_minor": 340,
        "days": [
            {"day": "2020-02-03", "periods": 3, "readings": 3780, "credits_minor": 290},
            {"day": "2020-02-04", "periods": 1, "readings": 500, "credits_minor": 50},
        ],
    }
    assert readings_accepted(credits.db, "demo", start=FEB4)["days"] == [
        {"day": "2020-02-04", "periods": 1, "readings": 500, "credits_minor": 50}
    ]
    assert [s["sensor_id"] for s in active_sensors(credits.db, "demo", date(2020, 2, 29))] == ["s1", "s2", "s3"]
    on_march_1 = active_sensors(credits.db, "demo", MAR1)
    assert [(s["sensor_id"], s["periods_credited"], s["credits_minor"]) for s in on_march_1] == [("s1", 2, 194), ("s3", 1, 90)]
    assert active_sensors(credits.db, "demo", date(2020, 1, 31)) == []
    assert [(t["effective_date"], t["credit_rate"], t["daily_cap_minor"]) for t in reward_terms(credits.db, "demo")] == [
        ("2020-02-01", "0.001", 200),
        ("2020-03-01", "0.002", 200),
    ]


def test_reversals_through_the_ledger_and_a_rebuild_agree(credits, runner):
    ok(credits, RedeemCreditsForMoney("demo", "bob", D("0.90"), FEB10))  # 4: 0.45 EUR
    blocked = credits.execute(ReverseEntry("demo", 3, "sensor was faulty", FEB10), new_key())
    assert (blocked.error.field, blocked.error.rule) == ("entry_number", "credits_unspent")
    ok(credits, ReverseEntry("demo", 4, "transfer bounced", FEB10))  # 5
    ok(credits, ReverseEntry("demo", 3, "sensor was faulty", FEB10))  # 6
    ok(credits, AcceptReadings("demo", "s3", FEB3, 800, FEB10))  # 7: the day can be credited again
    assert balance(credits, "bob") == 80
    runner.catch_up()
    summary = credits_summary(credits.db, "demo")
    assert (summary["issued_minor"], summary["redeemed_money_minor"], summary["paid_cents"]) == (280, 0, 0)
    assert redemptions(credits.db, "demo")[0]["reversed_by"] == 5
    assert readings_accepted(credits.db, "demo")["days"] == [
        {"day": "2020-02-03", "periods": 3, "readings": 3680, "credits_minor": 280}
    ]
    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental


def test_a_batch_of_readings_with_duplicates_refusals_and_a_reversal(credits, runner):
    items: list[tuple[Any, str, str]] = []
    for day in range(5, 25):  # s1 and s3, 20 days each: 1.44 and 0.90 credits a day
        items.append((AcceptReadings("demo", "s1", date(2020, 2, day), 1440, MAR1), f"s1-{day}", "sensor-gateway"))
        items.append((AcceptReadings("demo", "s3", date(2020, 2, day), 900, MAR1), f"s3-{day}", "sensor-gateway"))
    items.append((AcceptReadings("demo", "s1", date(2020, 2, 5), 1440, MAR1), "s1-5", "sensor-gateway"))  # same key: duplicate
    items.append((AcceptReadings("demo", "s1", date(2020, 2, 5), 10, MAR1), "again", "sensor-gateway"))  # credited once
    items.append((ReverseEntry("demo", 4, "duplicate upload", MAR1), "rev", "treasurer"))  # reverses the batch's first entry
    count = stored_event_count(credits)
    results = credits.execute_batch(items)
    assert all(r.accepted for r in results[:40]) and [r.journal_numbers for r in results[:2]] == [(4,), (5,)]
    assert results[40].duplicate and results[40].position == results[0].position
    assert (results[41].error.field, results[41].error.rule) == ("period", "credited_once")
    assert results[42].journal_numbers == (44,)
    assert stored_event_count(credits) == count + 2 * 41
    # alice: 2.00 + 20 × 1.44 - 1.44 (reversed) = 29.36; bob: 0.90 + 20 × 0.90 = 18.90.
    assert (balance(credits, "alice"), balance(credits, "bob")) == (2936, 1890)
    runner.catch_up()
    assert [(h["host_id"], h["earned_minor"]) for h in host_credit_balances(credits.db, "demo")] == [
        ("alice", 2936),
        ("bob", 1890),
    ]
    assert readings_accepted(credits.db, "demo")["periods"] == 3 + 39


# ---------------------------------------------------------------- refusals


REFUSALS: list[tuple[str, Any, str, str, type]] = [
    ("unknown sensor", AcceptReadings("demo", "s9", FEB4, 10, FEB10), "sensor_id", "known_sensor", NotFound),
    ("no readings", AcceptReadings("demo", "s1", FEB4, 0, FEB10), "readings", "range", InvalidCommand),
    ("readings not a number", AcceptReadings("demo", "s1", FEB4, "ten", FEB10), "readings", "integer", InvalidCommand),
    ("period not over", AcceptReadings("demo", "s1", FEB10, 10, FEB4), "period", "period_over", InvalidCommand),
    (
        "period before registration",
        AcceptReadings("demo", "s1", date(2020, 1, 31), 10, FEB4),
        "period",
        "not_before",
        InvalidCommand,
    ),
    (
        "period before founding",
        AcceptReadings("demo", "s1", date(2019, 12, 31), 10, FEB4),
        "period",
        "not_before_founding",
        InvalidCommand,
    ),
    (
        "acceptance before founding",
        AcceptReadings("demo", "s1", FEB4, 10, date(2019, 12, 31)),
        "effective_date",
        "not_before_founding",
        InvalidCommand,
    ),
    ("retired sensor", AcceptReadings("demo", "s2", date(2020, 2, 20), 10, MAR1), "period", "active_sensor", InvalidCommand),
    (
        "host no longer a member",
        AcceptReadings("demo", "s3", date(2020, 2, 25), 10, MAR1),
        "period",
        "host_member",
        InvalidCommand,
    ),
    ("sensor day credited twice", AcceptReadings("demo", "s1", FEB3, 10, FEB10), "period", "credited_once", Conflict),
    ("less than a hundredth", AcceptReadings("demo", "s1", FEB4, 9, FEB10), "readings", "earns_credits", InvalidCommand),
    ("daily cap reached", AcceptReadings("demo", "s4", FEB3, 10, FEB10), "period", "daily_cap", InvalidCommand),
    ("sensor registered twice", RegisterSensor("demo", "s1", "bob", "pm10", FEB10), "sensor_id", "unique_sensor", Conflict),
    ("malformed sensor id", RegisterSensor("demo", "s 9", "bob", "pm10", FEB10), "sensor_id", "identifier", InvalidCommand),
    ("unknown host", RegisterSensor("demo", "s9", "carol", "pm10", FEB10), "host_id", "known_member", NotFound),
    ("host who left", RegisterSensor("demo", "s9", "bob", "pm10", MAR1), "host_id", "active_member", InvalidCommand),
    ("malformed quantity", RegisterSensor("demo", "s9", "alice", "", FEB10), "quantity", "identifier", InvalidCommand),
    (
        "registered before admission",
        RegisterSensor("demo", "s9", "alice", "pm10", date(2020, 1, 20)),
        "effective_date",
        "not_before",
        InvalidCommand,
    ),
    ("retire an unknown sensor", RetireSensor("demo", "s9", MAR1), "sensor_id", "known_sensor", NotFound),
    ("retire twice", RetireSensor("demo", "s2", MAR1), "sensor_id", "retired_once", Conflict),
    ("retire before registration", RetireSensor("demo", "s1", date(2020, 1, 31)), "effective_date", "not_before", InvalidCommand),
    ("retire over credited days", RetireSensor("demo", "s1", FEB3), "effective_date", "after_credited_periods", InvalidCommand),
    ("zero credit rate", terms(day=MAR1, rate="0"), "credit_rate", "positive", InvalidCommand),
    ("over-precise rate", terms(day=MAR1, money="0.1234567"), "money_rate", "precision", InvalidCommand),
    ("rate too high", terms(day=MAR1, service="1001"), "service_rate", "maximum", InvalidCommand),
    ("float rate", terms(day=MAR1, rate=0.5), "credit_rate", "decimal", InvalidCommand),  # type: ignore[arg-type]
    ("cap over-precise", terms(day=MAR1, cap="1.001"), "daily_cap", "precision", InvalidCommand),
    ("terms before the previous", terms(day=date(2020, 1, 20)), "effective_date", "after_previous_terms", InvalidCommand),
    ("terms over credited days", terms(day=FEB3), "effective_date", "not_retroactive", InvalidCommand),
    ("redeem for an unknown host", RedeemCreditsForMoney("demo", "carol", D("1"), FEB10), "host_id", "known_member", NotFound),
    ("redeem nothing", RedeemCreditsForMoney("demo", "alice", D("0"), FEB10), "credits", "positive", InvalidCommand),
    ("redeem a thousandth", RedeemCreditsForMoney("demo", "alice", D("0.001"), FEB10), "credits", "precision", InvalidCommand),
    (
        "redeem more than held",
        RedeemCreditsForMoney("demo", "alice", D("1.51"), FEB10),
        "credits",
        "credits_available",
        InvalidCommand,
    ),
    (
        "redeem under a cent",
        RedeemCreditsForMoney("demo", "alice", D("0.01"), FEB10),
        "credits",
        "redeems_to_a_cent",
        InvalidCommand,
    ),  # 0.005 EUR
    (
        "redeem before the credit",
        RedeemCreditsForMoney("demo", "alice", D("1"), FEB3),
        "effective_date",
        "after_latest_credit",
        InvalidCommand,
    ),
    (
        "redeem before any terms",
        RedeemCreditsForMoney("demo", "carl", D("1"), date(2020, 1, 25)),
        "effective_date",
        "terms_set",
        InvalidCommand,
    ),
    (
        "service without a name",
        RedeemCreditsForService("demo", "bob", "", D("0.10"), FEB10),
        "service",
        "required",
        InvalidCommand,
    ),
    (
        "service over the balance",
        RedeemCreditsForService("demo", "bob", "Atelier", D("0.73"), FEB10),
        "price",
        "credits_available",
        InvalidCommand,
    ),
    ("undo credits already spent", ReverseEntry("demo", 5, "bad data", MAR1), "entry_number", "credits_unspent", InvalidCommand),
]


@pytest.fixture
def full(credits: Ledger) -> Ledger:
    """The books above, plus: carl admitted 2020-01-20 (no credits); s4 for alice; s2 retired
    2020-02-15; bob resigned 2020-02-25; entry 4: s1 2020-02-05, 2,000 readings -> 2.00 credits;
    entry 5: s1 2020-02-06 -> 2.00; entry 6: alice redeems 4.50 credits for money: 1.50 left."""
    all_ok(
        credits,
        [
            admit("demo", "carl", "users", date(2020, 1, 20)),
            RegisterSensor("demo", "s4", "alice", "o3", FEB1),
            RetireSensor("demo", "s2", date(2020, 2, 15)),
            ResignMember("demo", "bob", date(2020, 2, 25)),
            AcceptReadings("demo", "s1", date(2020, 2, 5), 2000, FEB10),
            AcceptReadings("demo", "s1", date(2020, 2, 6), 2000, FEB10),
            RedeemCreditsForMoney("demo", "alice", D("4.50"), FEB10),
        ],
    )
    assert balance(credits, "alice") == 200 + 400 - 450
    return credits


def test_every_rule_refuses_naming_field_and_rule_and_writes_nothing(full):
    # One store for all the cases (a refusal changes nothing, so each case sees the same books).
    for name, command, field, rule, error_type in REFUSALS:
        coop = full.cooperative("demo")
        before = (full.position(), stored_event_count(full), coop.version, coop.journal.last_number, balance(full, "alice"))
        result = full.execute(command, new_key())
        assert not result.accepted and result.position is None and result.journal_numbers == (), name
        assert isinstance(result.error, error_type), (name, result.error)
        assert (result.error.field, result.error.rule) == (field, rule), (name, result.error.message)
        coop = full.cooperative("demo")
        assert (
            full.position(),
            stored_event_count(full),
            coop.version,
            coop.journal.last_number,
            balance(full, "alice"),
        ) == before, name
