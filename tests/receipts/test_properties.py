"""Property test of tax receipts, on both stores: random histories of gifts (donations by
individuals and companies, crowdfunding payouts with itemised and anonymous backers, some
back-dated), reversals of gifts, runs of IssueTaxReceipts and corrections of flagged receipts,
across two gift years. A small model, written apart from the domain code, keeps each named gift
(gift, donor, amount, year) and whether it was reversed.

Whatever happened, at every step:
- no named gift is covered by two standing receipts, and each year's numbers run 1..N without a gap;
At the end, once the year's receipts are issued and every flagged receipt corrected:
- the sum of a year's standing (neither replaced nor cancelled) receipts equals the sum of the
  year's named gifts that were not reversed, each covered by exactly one standing receipt, and no
  reversed gift by any; nothing is left flagged; anonymous parts are in no receipt;
- the view says what the aggregate says, and a rebuild of the view gives the same rows.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.corrections import ReverseEntry
from domain.donations import Backer, RecordCrowdfundingPayout, RecordDonation
from domain.tax_receipts import CorrectTaxReceipt, DeclareReceiptEligibility, IssueTaxReceipts, flagged, tax_receipts_state
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner
from projections.tax_receipts import TaxReceiptsProjection, tax_receipts
from tests.builders import dump_projections, found_association, ok

START = date(2025, 9, 1)  # the clock moves 4 days a step: the histories cross into 2026
YEARS = (2025, 2026)
DONORS = [("alice", "individual"), ("bob", "individual"), ("chloe", "individual"), ("acme", "company")]
_coops = itertools.count(1)

donation = st.tuples(st.just("donation"), st.integers(0, 3), st.integers(1, 300_000), st.integers(0, 30))
payout = st.tuples(
    st.just("payout"),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 50_000)), max_size=3),
    st.integers(0, 80_000),  # anonymous part
    st.integers(0, 30),
)
step = st.one_of(
    donation,
    donation,
    payout,
    st.tuples(st.just("reverse"), st.integers(0, 100)),
    st.tuples(st.just("issue")),
    st.tuples(st.just("correct")),
    st.tuples(st.just("catch_up")),
)


class Run:
    def __init__(self, ledger: Ledger, runner: ProjectionRunner) -> None:
        self.ledger, self.runner = ledger, runner
        self.slug = f"receipts{next(_coops)}"
        ok(ledger, found_association(self.slug, founded_on=date(2025, 1, 1)))
        ok(ledger, DeclareReceiptEligibility(self.slug, True, date(2025, 1, 1), "general_interest", "Objet", "Adresse"))
        # each gift: (gift id, day, [(donor, amount)] named, its journal number); the reversed gift ids
        self.entries: list[tuple[str, date, list[tuple[str, int]], int]] = []
        self.reversed: set[str] = set()
        self.n = itertools.count(1)

    def apply(self, op: tuple, day: date) -> None:
        s, kind = self.slug, op[0]
        if kind == "donation":
            (donor, donor_kind), amount = DONORS[op[1]], op[2]
            when = max(day - timedelta(days=op[3]), START)
            gift = f"D{next(self.n)}"
            command = RecordDonation(s, gift, donor, donor.capitalize(), donor_kind, Decimal(amount) / 100, when)
            (number,) = ok(self.ledger, command).journal_numbers
            self.entries.append((gift, when, [(donor, amount)], number))
        elif kind == "payout":
            backers = {DONORS[i][0]: (DONORS[i][1], a) for i, a in op[1]}
            gross = sum(a for _k, a in backers.values()) + op[2]
            if gross == 0:
                return
            when = max(day - timedelta(days=op[3]), START)
            gift = f"P{next(self.n)}"
            itemised = [Backer(d, d.capitalize(), Decimal(a) / 100, k) for d, (k, a) in backers.items()]
            command = RecordCrowdfundingPayout(s, gift, "Ulule", "Studio", Decimal(gross) / 100, 0, itemised, when)
            (number,) = ok(self.ledger, command).journal_numbers
            self.entries.append((gift, when, [(d, a) for d, (_k, a) in backers.items()], number))
        elif kind == "reverse":
            live = [(gift, number) for gift, _d, _l, number in self.entries if gift not in self.reversed]
            if live:
                gift, number = live[op[1] % len(live)]
                ok(self.ledger, ReverseEntry(s, number, "annulé", day))
                self.reversed.add(gift)
        elif kind == "issue":
            for year in YEARS:
                if day.year >= year:
                    result = ok(self.ledger, IssueTaxReceipts(s, year, day))
                    event(f"issue: {len(result.events)} receipts")
        elif kind == "correct":
            self.correct_all(day)
        elif kind == "catch_up":
            self.runner.catch_up()

    def correct_all(self, day: date) -> None:
        for number in sorted({f["receipt_number"] for f in flagged(self.ledger.cooperative(self.slug))}):
            result = ok(self.ledger, CorrectTaxReceipt(self.slug, number, day))
            event(f"correct: {result.events[0]}")

    def check_always(self) -> None:
        state = tax_receipts_state(self.ledger.cooperative(self.slug))
        covered = Counter((g["gift_id"], r.donor_id) for r in state.receipts.values() if r.standing for g in r.gifts)
        assert all(n == 1 for n in covered.values()), covered
        for year in YEARS:
            sequences = sorted(int(n.split("-")[1]) for n, r in state.receipts.items() if r.year == year)
            assert sequences == list(range(1, len(sequences) + 1)), sequences
            assert all(n.startswith(f"{r.year}-") for n, r in state.receipts.items())

    def check_end(self, day: date) -> None:
        for year in YEARS:
            ok(self.ledger, IssueTaxReceipts(self.slug, year, day))
        self.correct_all(day)
        self.check_always()
        coop = self.ledger.cooperative(self.slug)
        state = tax_receipts_state(coop)
        assert flagged(coop) == []
        self.runner.catch_up()
        for year in YEARS:
            named = {
                (gift, donor): amount
                for gift, when, lines, _number in self.entries
                if when.year == year and gift not in self.reversed
                for donor, amount in lines
            }
            standing = [r for r in state.receipts.values() if r.year == year and r.standing]
            covered = {(g["gift_id"], r.donor_id): g["amount_cents"] for r in standing for g in r.gifts}
            assert covered == named, (year, covered, named)
            assert sum(r.total_cents for r in standing) == sum(named.values())
            assert all(r.total_cents == sum(g["amount_cents"] for g in r.gifts) > 0 for r in standing)
            view = tax_receipts(self.ledger.db, self.slug, year, limit=1000)
            assert view["issued_cents"] == sum(named.values()) and view["flagged"] == []
            assert {r["receipt_number"]: (r["status"], r["total_cents"]) for r in view["receipts"]} == {
                n: ("issued" if r.standing else "replaced" if r.replaced_by else "cancelled", r.total_cents)
                for n, r in state.receipts.items()
                if r.year == year
            }


@pytest.fixture
def books(store_factory: Any) -> Any:
    """One store for every example: each example founds a cooperative of its own."""
    ledger = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger)
    finally:
        ledger.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(steps=st.lists(step, min_size=3, max_size=35))
def test_standing_receipts_attest_exactly_the_named_gifts_not_reversed(books, steps):
    ledger, runner = books
    run = Run(ledger, runner)
    day = START
    for i, op in enumerate(steps):
        day = START + timedelta(days=4 * i)
        note(f"{day}: {op}")
        run.apply(op, day)
        run.check_always()
    run.check_end(max(day + timedelta(days=4), date(2026, 2, 1)))  # after both years began
    ours = ProjectionRunner(ledger, projections=(TaxReceiptsProjection,))
    incremental = dump_projections(ours)
    ours.rebuild()
    assert dump_projections(ours) == incremental
