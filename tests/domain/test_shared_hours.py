"""Shared-employee hours, pure rules: ethical minimum, engagement, hours per structure and day,
rebilling at cost with largest-remainder shares, reversal.

Books are built in memory through the deciders (see tests/domain/test_sensors.py). Figures are
computed by hand. Unless a test says otherwise: minimum 12.00 EUR an hour from 2020-02-01,
employee "zoe" engaged 2020-02-01 at 14.00 EUR an hour; member structures org-a, org-b, org-c
(organisations) and the person alice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.membership import ResignMember
from domain.shared_hours import EngageSharedEmployee, LogSharedHours, RebillSharedHours, SetEthicalMinimumRate, allocate, last_day
from tests.domain.test_sensors import Books

D = Decimal
FEB1, FEB3, FEB4 = date(2020, 2, 1), date(2020, 2, 3), date(2020, 2, 4)
FEB29, MAR2 = date(2020, 2, 29), date(2020, 3, 2)


def books() -> Books:
    b = Books()
    for org in ("org-a", "org-b", "org-c"):
        b.admit(org, headcount=12)
    b.admit("alice")
    b.do(SetEthicalMinimumRate("c", "12.00", FEB1))
    b.do(EngageSharedEmployee("c", "zoe", "Zoé Martin", "14.00", FEB1))
    return b


def log(structure: str, day: date, hours: str, employee: str = "zoe") -> LogSharedHours:
    return LogSharedHours("c", employee, structure, day, hours)


def rebill(
    gross: str = "300", charges: str = "120", expenses: str = "0", period: str = "2020-02", day: date = FEB29
) -> RebillSharedHours:
    return RebillSharedHours("c", "zoe", period, gross, charges, expenses, day)


# ---------------------------------------------------------------- largest remainder


@pytest.mark.parametrize(
    ("cost", "minutes", "expected"),
    [
        (100, {"a": 1, "b": 1, "c": 1}, {"a": 34, "b": 33, "c": 33}),  # 33.33 each; the cent left goes to "a" (ties by id)
        (
            1000,
            {"a": 60, "b": 120, "c": 180},
            {"a": 167, "b": 333, "c": 500},
        ),  # 166.67, 333.33, 500: "a" has the largest remainder
        (1, {"x": 1, "y": 1}, {"x": 1, "y": 0}),
        (999, {"b": 2, "a": 1}, {"a": 333, "b": 666}),  # exact
        (10, {"a": 7, "b": 7, "c": 7}, {"a": 4, "b": 3, "c": 3}),
        (0, {"a": 5}, {"a": 0}),
    ],
)
def test_largest_remainder_shares_add_up_to_the_cost(cost, minutes, expected):
    assert allocate(cost, minutes) == expected


def test_no_share_is_a_cent_or_more_off_its_exact_value():
    minutes = {"a": 37, "b": 101, "c": 2, "d": 450}
    cost = 123_457
    shares = allocate(cost, minutes)
    total = sum(minutes.values())
    assert sum(shares.values()) == cost
    for structure, m in minutes.items():
        assert abs(shares[structure] * total - cost * m) < total  # |share - exact| < 1 cent


def test_last_day_of_a_month():
    assert [last_day(p) for p in ("2020-02", "2021-02", "2020-12")] == [date(2020, 2, 29), date(2021, 2, 28), date(2020, 12, 31)]


# ---------------------------------------------------------------- minimum rate and engagement


def test_engagement_below_the_ethical_minimum_is_refused():
    b = books()
    assert b.refused(EngageSharedEmployee("c", "yan", "Yan", "11.99", FEB1)) == ("hourly_pay", "ethical_minimum")
    (event,) = b.do(EngageSharedEmployee("c", "yan", "Yan", "12", FEB1))  # exactly the minimum
    assert (event.hourly_pay_cents, event.employee_id) == (1200, "yan")
    b.do(SetEthicalMinimumRate("c", "13.10", MAR2))
    assert b.refused(EngageSharedEmployee("c", "xia", "Xia", "13", MAR2)) == ("hourly_pay", "ethical_minimum")
    assert b.do(EngageSharedEmployee("c", "xia", "Xia", "13", FEB29))[0].hourly_pay_cents == 1300  # before the rise


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (EngageSharedEmployee("c", "zoe", "Zoé", "14", FEB1), ("employee_id", "unique_employee")),
        (EngageSharedEmployee("c", "no id", "X", "14", FEB1), ("employee_id", "identifier")),
        (EngageSharedEmployee("c", "yan", " ", "14", FEB1), ("name", "required")),
        (EngageSharedEmployee("c", "yan", "Yan", "14.001", FEB1), ("hourly_pay", "precision")),
        (EngageSharedEmployee("c", "yan", "Yan", "14", date(2019, 12, 31)), ("effective_date", "not_before_founding")),
        (SetEthicalMinimumRate("c", "13", FEB1), ("effective_date", "after_previous_rate")),
        (SetEthicalMinimumRate("c", "0", MAR2), ("hourly_rate", "positive")),
    ],
)
def test_bad_engagements_and_rates_are_refused(command, expected):
    assert books().refused(command) == expected


def test_an_engagement_needs_a_minimum_in_force():
    b = Books()
    b.do(SetEthicalMinimumRate("c", "12", MAR2))
    assert b.refused(EngageSharedEmployee("c", "yan", "Yan", "14", FEB1)) == ("hourly_pay", "minimum_rate_set")


# ---------------------------------------------------------------- logging hours


def test_logged_hours_are_minutes_on_the_hour_memo_accounts():
    b = books()
    (event,) = b.do(log("org-a", FEB3, "7.5"))
    assert (event.minutes, event.period, event.effective_date) == (450, "2020-02", FEB3)
    assert event.postings == [["841", "org-a", "HOUR", 450], ["849", "zoe", "HOUR", -450]]


def test_a_day_is_at_most_ten_hours_all_structures_together():
    b = books()
    b.do(log("org-a", FEB3, "6"))  # 360 minutes
    b.do(log("org-b", FEB3, "3.95"))  # 237 minutes: 9 h 57
    assert b.do(log("org-c", FEB3, "0.05"))[0].minutes == 3  # exactly 10 h
    assert b.refused(log("org-a", FEB3, "0.05")) == ("hours", "day_total")
    assert b.do(log("org-a", FEB4, "10"))[0].minutes == 600  # another day


def test_bad_logs_are_refused():
    b = books()
    cases = [
        (log("org-a", FEB3, "7", employee="ghost"), ("employee_id", "known_employee")),
        (log("ghost", FEB3, "7"), ("structure_id", "known_member")),
        (log("alice", FEB3, "7"), ("structure_id", "structure")),  # a person is not a structure
        (log("org-a", FEB3, "0"), ("hours", "positive")),
        (log("org-a", FEB3, "1.01"), ("hours", "precision")),  # 60.6 minutes
        (log("org-a", FEB3, "10.05"), ("hours", "day_total")),
        (log("org-a", date(2020, 1, 31), "1"), ("day", "not_before")),  # before the engagement
        (log("org-a", date(2019, 12, 31), "1"), ("day", "not_before_founding")),
    ]
    assert [b.refused(command) for command, _ in cases] == [expected for _, expected in cases]


def test_hours_for_a_structure_that_has_left_are_refused():
    b = books()
    b.do(ResignMember("c", "org-c", date(2020, 2, 15)))
    assert b.refused(log("org-c", date(2020, 2, 15), "2")) == ("day", "structure_member")
    assert b.do(log("org-c", date(2020, 2, 14), "2"))[0].minutes == 120


# ---------------------------------------------------------------- rebilling at cost


def books_with_hours() -> Books:
    """February 2020: org-a 7 h 30 (450 min), org-b 2 h 30 (150), org-c 2 h (120): 720 minutes, 12 h."""
    b = books()
    b.do(log("org-a", FEB3, "7.5"))
    b.do(log("org-b", FEB3, "2.5"))
    b.do(log("org-c", FEB4, "2"))
    return b


def test_rebilling_bills_each_structure_its_hours_at_cost_to_the_cent():
    b = books_with_hours()
    (event,) = b.do(rebill(gross="200.00", charges="86.01", expenses="13.99"))
    # Cost 200.00 + 86.01 + 13.99 = 300.00 EUR for 12 h: 25.00 EUR an hour.
    # org-a 7.5 h = 187.50; org-b 2.5 h = 62.50; org-c 2 h = 50.00.
    assert (event.cost_cents, event.minutes, event.hourly_cost_rate) == (30000, 720, "25")
    assert event.shares == [["org-a", 450, 18750], ["org-b", 150, 6250], ["org-c", 120, 5000]]
    assert event.postings == [
        ["641", None, "EUR", 20000],
        ["645", None, "EUR", 8601],
        ["625", None, "EUR", 1399],
        ["421", "zoe", "EUR", -21399],
        ["431", None, "EUR", -8601],
        ["4118", "org-a", "EUR", 18750],
        ["4118", "org-b", "EUR", 6250],
        ["4118", "org-c", "EUR", 5000],
        ["7084", None, "EUR", -30000],
        ["849", "zoe", "HOUR", 720],
        ["841", "org-a", "HOUR", -450],
        ["841", "org-b", "HOUR", -150],
        ["841", "org-c", "HOUR", -120],
    ]


def test_rebilling_rounds_by_largest_remainder():
    b = books_with_hours()
    (event,) = b.do(rebill(gross="200.00", charges="0", expenses="0.01"))
    # Cost 200.01 EUR = 20,001 cents over 720 minutes: exact shares 12,500.625 (org-a),
    # 4,166.875 (org-b), 3,333.5 (org-c); floors 12,500 + 4,166 + 3,333 = 19,999; the two cents
    # left go to org-b (.875) and org-a (.625).
    assert event.shares == [["org-a", 450, 12501], ["org-b", 150, 4167], ["org-c", 120, 3333]]
    assert event.hourly_cost_rate == "6667/400"  # 200.01 EUR ÷ 12 h = 16.6675 EUR an hour, exactly
    assert ["645", None, "EUR", 0] not in event.postings and not any(p[3] == 0 for p in event.postings)


def test_a_month_is_rebilled_once_then_closed_to_new_hours():
    b = books_with_hours()
    b.do(rebill())  # entry 4
    assert b.refused(rebill()) == ("period", "rebilled_once")
    assert b.refused(log("org-a", date(2020, 2, 20), "1")) == ("day", "month_rebilled")
    assert b.refused(ReverseEntry("c", 1, "wrong structure", MAR2)) == ("entry_number", "month_not_rebilled")
    assert b.do(log("org-a", MAR2, "1"))[0].period == "2020-03"  # next month is open
    b.do(ReverseEntry("c", 4, "charges were wrong", MAR2))  # entry 6: the month opens again
    b.do(ReverseEntry("c", 1, "wrong structure", MAR2))
    b.do(log("org-b", date(2020, 2, 20), "1"))
    (again,) = b.do(rebill(gross="100", charges="0", day=MAR2))
    # org-b 2.5 + 1 = 3.5 h, org-c 2 h: 5.5 h for 100.00 EUR. org-b: 100 × 210/330 = 63.636 -> 63.64
    # (remainder .636 beats .363); org-c: 36.363 -> 36.36.
    assert again.shares == [["org-b", 210, 6364], ["org-c", 120, 3636]]


def test_rebilling_refusals():
    b = books_with_hours()
    cases = [
        (RebillSharedHours("c", "ghost", "2020-02", "300", "0", "0", FEB29), ("employee_id", "known_employee")),
        (rebill(period="2020-2"), ("period", "month")),
        (rebill(period="2020-13"), ("period", "month")),
        (rebill(period="2020-03", day=date(2020, 3, 31)), ("period", "hours_logged")),
        (rebill(day=date(2020, 2, 28)), ("effective_date", "not_before")),  # the month is not over
        (rebill(gross="0"), ("gross_pay", "positive")),
        (rebill(charges="-1"), ("employer_charges", "non_negative")),
        (rebill(expenses="0.001"), ("expenses", "precision")),
        # 12 h at the 12.00 EUR minimum is 144.00 EUR of gross pay at least.
        (rebill(gross="143.99"), ("gross_pay", "ethical_minimum")),
    ]
    assert [b.refused(command) for command, _ in cases] == [expected for _, expected in cases]
    assert b.do(rebill(gross="144"))[0].cost_cents == 144_00 + 120_00


def test_the_minimum_at_the_end_of_the_month_applies_to_the_rebilling():
    b = books_with_hours()
    b.do(SetEthicalMinimumRate("c", "13", date(2020, 2, 20)))
    assert b.refused(rebill(gross="155.99")) == ("gross_pay", "ethical_minimum")  # 12 h × 13.00 = 156.00
    assert b.do(rebill(gross="156"))[0].gross_pay_cents == 15600


def test_at_most_fifty_structures_a_month():
    b = books()
    for i in range(51):
        b.admit(f"s{i}", headcount=5)
    for i in range(50):
        b.do(log(f"s{i}", date(2020, 2, 1 + i % 28), "0.1"))
    assert b.refused(log("s50", FEB3, "0.1")) == ("structure_id", "max_structures")
    assert b.do(log("s49", FEB3, "0.1"))[0].minutes == 6  # a structure already in the month


def test_bounds_on_employees_and_rate_versions(monkeypatch):
    import domain.shared_hours as family

    b = books()  # one employee, one version of the minimum
    monkeypatch.setattr(family, "MAX_EMPLOYEES", 1)
    monkeypatch.setattr(family, "MAX_RATE_VERSIONS", 2)
    assert b.refused(EngageSharedEmployee("c", "yan", "Yan", "14", FEB1)) == ("employee_id", "max_employees")
    b.do(SetEthicalMinimumRate("c", "12.50", FEB3))
    assert b.refused(SetEthicalMinimumRate("c", "13", FEB4)) == ("effective_date", "max_versions")
