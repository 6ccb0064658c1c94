"""A host's balance movements (domain/sensors_state.py HostCredits): kept as two sorted arrays,
dates' ordinals and the net moved on each, they must judge a redemption or a reversal exactly as
the dict of dates they replaced did (FinancialEvent.lowest_from over the dated moves)."""

from __future__ import annotations

from array import array
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import FinancialEvent
from domain.sensors_state import HostCredits

START = date(2024, 1, 1)
moves = st.lists(st.tuples(st.integers(0, 40), st.integers(-5, 5)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(moves, st.integers(-3, 45))
def test_moves_net_per_date_and_judge_as_the_dict_of_dates_did(made: list[tuple[int, int]], asked: int):
    host, model = HostCredits(origin=START.toordinal()), {}
    for offset, credits in made:  # back-dated ones, and ones netting a date to nothing, included
        day = START + timedelta(days=offset)
        host.move(day, credits)
        net = model.get(day, 0) + credits
        if net:
            model[day] = net
        else:
            model.pop(day, None)
    assert isinstance(host.move_days, array) and isinstance(host.move_minor, array)
    assert list(zip(map(date.fromordinal, host.move_days), host.move_minor, strict=True)) == sorted(model.items())
    day = START + timedelta(days=asked)
    assert host.balance_from(day) == FinancialEvent.lowest_from(model.items(), day)


def test_the_first_date_reaching_the_lowest_is_named():
    host = HostCredits(origin=START.toordinal())
    for offset, credits in [(0, 10), (5, -4), (7, 0), (9, 2), (12, -2), (3, 1)]:
        host.move(START + timedelta(days=offset), credits)
    assert host.balance_from(START + timedelta(days=1)) == (7, START + timedelta(days=5))
    assert host.balance_from(START + timedelta(days=20)) == (7, START + timedelta(days=20))  # no later move
