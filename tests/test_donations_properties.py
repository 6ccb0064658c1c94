"""Property test of donations, crowdfunding and advertising: random sequences of gifts (some
earmarked for a project or another), crowdfunding payouts with itemised and anonymous backers,
uses of earmarked gifts (for the right purpose or a wrong one, within or beyond what is
unspent), advertising contracts, invoices, payments and reversals, some back-dated, against
both stores.

A small model, written independently of the domain code, predicts when a use or a payment must
be refused and records what every accepted command did. At the end:

- every entry balances per unit and journal numbers are 1..N;
- earmarked money never funds another purpose: a use naming another purpose, an unrestricted
  gift, or more than the gift's unspent part (on its date and every later one) was refused, and
  every accepted use spent on its gift's purpose; the dedicated account (196 / 4877, party: the
  gift) equals the model's unspent part on every date, never below zero;
- donor yearly totals equal the journal's: per calendar year, the receipts' total equals the
  gross of the gift entries in the journal (bank or till plus platform fee, reversals negative),
  and in the association plan the year's credits on 7541 + 7542; per donor they equal the model;
- advertising revenue by month equals the journal's advertising income by month; no invoice is
  paid beyond its amount;
- replaying the log (the aggregate from the store, and a projection rebuild) gives what was built
  incrementally.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.advertising import InvoiceAdvertising, PayAdvertisingInvoice, SignAdvertisingContract
from domain.corrections import ReverseEntry
from domain.donations import Backer, RecordCrowdfundingPayout, RecordDonation, UseEarmarkedDonation, donations_state
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.advertising import AdvertisingProjection, advertising_revenue_by_month
from projections.balances import account_balance, trial_balance
from projections.donations import DonationsProjection, dedicated_funds, donor_receipts
from projections.journal import journal
from projections.runner import ProjectionRunner
from tests.builders import (
    dump_projections,
    found_association,
    found_scic,
    ok,
    stored_event_count,
    stored_financial_events,
    unbalanced_units,
)

START = date(2021, 1, 4)
DONORS = [("alice", "individual"), ("bob", "individual"), ("acme", "company"), ("fondation", "company")]
PURPOSES = [None, "atelier", "studio"]
GIFT_KINDS = {"DonationReceived", "CrowdfundingPayoutReceived"}
_coops = itertools.count(1)


def cents(n: int) -> Decimal:
    return Decimal(n) / 100


class Model:
    def __init__(self) -> None:
        self.gifts: dict[str, dict[str, Any]] = {}  # id -> purpose, day, moves [(day, dedicated, used)], lines, reversed
        self.lines: list[tuple[date, str | None, int]] = []  # (day, donor or None, amount) for receipts
        self.entries: list[tuple[str, dict[str, Any]]] = []  # by journal number - 1
        self.contracts: dict[str, dict[str, Any]] = {}
        self.invoices: dict[tuple[str, str], list[Any]] = {}  # (contract, period) -> [amount, paid, invoiced on]

    def unspent(self, gift: str, day: date | None = None) -> int:
        return sum(d - u for when, d, u in self.gifts[gift]["moves"] if day is None or when <= day)

    def lowest_unspent_from(self, gift: str, day: date) -> int:
        days = [day, *sorted({w for w, _d, _u in self.gifts[gift]["moves"] if w > day})]
        return min(self.unspent(gift, d) for d in days)


donation_op = st.tuples(st.just("donation"), st.integers(0, 3), st.integers(0, 2), st.integers(1, 500_000), st.booleans())
payout_op = st.tuples(
    st.just("payout"),
    st.integers(0, 2),
    st.integers(100, 800_000),
    st.integers(0, 20),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 20_000)), max_size=3),
)
use_op = st.tuples(
    st.just("use"),
    st.integers(0, 50),
    st.sampled_from(["right", "right", "right", "wrong"]),
    st.sampled_from(["part", "all", "over"]),
)
sign_op = st.tuples(st.just("sign"), st.integers(1, 6), st.integers(1, 300_000))
invoice_op = st.tuples(st.just("invoice"), st.integers(0, 50), st.integers(0, 7))
pay_op = st.tuples(st.just("pay"), st.integers(0, 50), st.sampled_from(["part", "all", "all", "over"]))
step = st.one_of(
    donation_op,
    donation_op,
    payout_op,
    use_op,
    use_op,
    use_op,
    sign_op,
    invoice_op,
    invoice_op,
    pay_op,
    pay_op,
    st.tuples(st.just("reverse"), st.integers(0, 60)),
    st.tuples(st.just("catch_up")),
)


def month_after(day: date, k: int) -> str:
    m = day.month - 1 + k
    return f"{day.year + m // 12}-{m % 12 + 1:02d}"


class Run:
    def __init__(self, ledger: Any, runner: ProjectionRunner, legal_form: str) -> None:
        self.ledger, self.runner, self.model, self.legal_form = ledger, runner, Model(), legal_form
        self.slug = f"gifts{next(_coops)}"
        ok(ledger, found_scic(self.slug) if legal_form == "scic" else found_association(self.slug))
        self.n = itertools.count(1)

    def build(self, op: tuple, day: date) -> tuple[Any, Any, str | None] | None:
        """(command, what to record if accepted, the refusal rule the model expects or None)."""
        s, m, kind = self.slug, self.model, op[0]
        if kind == "donation":
            (donor, donor_kind), purpose = DONORS[op[1]], PURPOSES[op[2]]
            wrong_kind = op[4] and op[3] % 5 == 0  # now and then the other kind: refused once the donor is known
            gift, amount = f"D{next(self.n)}", op[3]
            command = RecordDonation(
                s,
                gift,
                donor,
                donor.capitalize(),
                ("company" if donor_kind == "individual" else "individual") if wrong_kind else donor_kind,
                cents(amount),
                day,
                method="cash" if op[4] else "transfer",
                project=purpose,
            )
            return command, lambda: self.gift(gift, purpose, day, amount, 0, [(donor, amount)]), None
        if kind == "payout":
            purpose, gross = PURPOSES[op[1]], op[2]
            fee = gross * op[3] // 100
            backers = {DONORS[i][0]: a for i, a in op[4] if DONORS[i][1] == "individual"}
            gift = f"P{next(self.n)}"
            command = RecordCrowdfundingPayout(
                s,
                gift,
                "HelloAsso",
                "Campagne",
                cents(gross),
                cents(fee),
                [Backer(d, d.capitalize(), cents(a)) for d, a in backers.items()],
                day,
                project=purpose,
            )
            lines = [*backers.items(), (None, gross - sum(backers.values()))]
            return command, lambda: self.gift(gift, purpose, day, gross, fee, [ln for ln in lines if ln[1]]), None
        if kind == "use":
            live = sorted(g for g, v in m.gifts.items() if not v["reversed"])
            if not live:
                return None
            gift = live[op[1] % len(live)]
            purpose = m.gifts[gift]["purpose"]
            spent_on = purpose if op[2] == "right" else next(p for p in PURPOSES[1:] if p != purpose)
            room = m.lowest_unspent_from(gift, day) if purpose else 0
            amount = {"part": max(room // 3, 1), "all": max(room, 1), "over": room + 1}[op[3]]
            expected = (
                "earmarked"
                if purpose is None
                else "earmarked_purpose"
                if spent_on != purpose
                else "not_before"
                if day < m.gifts[gift]["day"]
                else "donation_unspent"
                if amount > room
                else None
            )
            command = UseEarmarkedDonation(s, gift, cents(amount), "Dépenses du projet", day, project=spent_on)
            return command, lambda: self.entry("EarmarkedDonationUsed", day, gift=gift, amount=amount), expected
        if kind == "sign":
            contract, start = f"AD{next(self.n)}", day.replace(day=1)
            last = date.fromisoformat(month_after(start, op[1]) + "-01") - timedelta(days=1)
            command = SignAdvertisingContract(
                s, contract, f"adv{op[2] % 3}", "Annonceur", "bank", "Bannière", cents(op[2]), start, last, day
            )
            months = [month_after(start, k) for k in range(op[1])]
            return command, lambda: m.contracts.__setitem__(contract, {"months": months, "price": op[2], "signed": day}), None
        if kind == "invoice":
            if not m.contracts:
                return None
            contract = sorted(m.contracts)[op[1] % len(m.contracts)]
            c = m.contracts[contract]
            period = month_after(date.fromisoformat(c["months"][0] + "-01"), op[2])
            expected = (
                "within_contract"
                if period not in c["months"]
                else "invoiced_once"
                if (contract, period) in m.invoices
                else "not_before"
                if day < c["signed"]
                else None
            )
            return (
                InvoiceAdvertising(s, contract, period, day),
                lambda: self.entry("AdvertisingInvoiced", day, key=(contract, period), amount=c["price"], invoiced_on=day),
                expected,
            )
        if kind == "pay":
            if not m.invoices:
                return None
            key = sorted(m.invoices)[op[1] % len(m.invoices)]
            due = m.invoices[key][0] - m.invoices[key][1]
            amount = {"part": max(due // 2, 1), "all": max(due, 1), "over": due + 1}[op[2]]
            return (
                PayAdvertisingInvoice(s, *key, cents(amount), day),
                lambda: self.entry("AdvertisingInvoicePaid", day, key=key, amount=amount),
                "no_overpayment" if amount > due else "not_before" if day < m.invoices[key][2] else None,
            )
        if kind == "reverse":
            number = op[1] % (len(m.entries) + 1) + 1  # sometimes one past the last entry
            return ReverseEntry(s, number, "correction", day), lambda: self.reversed(number, day), None
        raise AssertionError(kind)

    # The model's side of each entry; reversals apply it with sign -1 on their own date.
    def gift(self, gift: str, purpose: str | None, day: date, gross: int, fee: int, lines: list[tuple[str | None, int]]) -> None:
        self.model.gifts[gift] = {"purpose": purpose, "day": day, "moves": [], "lines": lines, "reversed": False, "fee": fee}
        self.entry("Gift", day, gift=gift, amount=gross)

    def entry(self, kind: str, day: date, **data: Any) -> None:
        self.model.entries.append((kind, data))
        self.effect(kind, data, +1, day)

    def reversed(self, number: int, day: date) -> None:
        kind, data = self.model.entries[number - 1]
        self.model.entries.append(("EntryReversed", {}))
        self.effect(kind, data, -1, day)

    def effect(self, kind: str, data: dict[str, Any], sign: int, day: date) -> None:
        m = self.model
        if kind == "Gift":
            g = m.gifts[data["gift"]]
            g["reversed"] = sign < 0
            m.lines += [(day, donor, sign * amount) for donor, amount in g["lines"]]
            if g["purpose"]:
                g["moves"].append((day, sign * data["amount"], sign * g["fee"]))
        elif kind == "EarmarkedDonationUsed":
            m.gifts[data["gift"]]["moves"].append((day, 0, sign * data["amount"]))
        elif kind == "AdvertisingInvoiced":
            if sign > 0:
                m.invoices[data["key"]] = [data["amount"], 0, data["invoiced_on"]]
            else:
                del m.invoices[data["key"]]
        elif kind == "AdvertisingInvoicePaid":
            m.invoices[data["key"]][1] += sign * data["amount"]

    def single(self, op: tuple, i: int, back: bool) -> None:
        day = START + timedelta(days=12 * i - (20 if back else 0))
        built = self.build(op, day)
        if built is None:
            return
        command, apply, expected = built
        before = (self.ledger.position(), stored_event_count(self.ledger))
        result = self.ledger.execute(command, f"{self.slug}-{i}")
        outcome = result.error.rule if result.error else "accepted"
        note(f"{command} -> {outcome}")
        event(f"{type(command).__name__}: {outcome}")
        if expected is not None:  # the model says it must be refused, and why
            assert outcome == expected, (command, outcome, expected)
        elif isinstance(command, UseEarmarkedDonation | PayAdvertisingInvoice):
            assert result.accepted, (command, outcome)  # valid by the model's own reckoning
        if result.accepted:
            apply()
        else:
            assert (self.ledger.position(), stored_event_count(self.ledger)) == before

    # -------------------------------------------------------- invariants at the end

    def check(self) -> None:
        ledger, runner, slug, m = self.ledger, self.runner, self.slug, self.model
        stored = stored_financial_events(ledger, slug)
        assert [e.journal_number for e in stored] == list(range(1, len(m.entries) + 1))
        assert all(unbalanced_units(e.postings) == {} for e in stored)
        for e in stored:  # every accepted use spent on its gift's purpose
            if e.kind == "EarmarkedDonationUsed":
                assert e.purpose == f"project:{m.gifts[e.donation_id]['purpose']}"
        # The write model replayed from the store agrees with the model.
        state = donations_state(ledger.cooperative(slug))
        assert set(state.gifts) == {g for g, v in m.gifts.items() if not v["reversed"]}
        for gift, g in state.gifts.items():
            assert g.pot.totals.unspent_cents == m.unspent(gift)
        runner.catch_up()

        # Dedicated funds: the journal's 196 / 4877 per gift = the model's unspent part, on every date.
        dedicated = "196" if self.legal_form == "association" else "4877"
        for gift, g in m.gifts.items():
            for day in sorted({w for w, _d, _u in g["moves"]}):
                assert m.unspent(gift, day) >= 0
                assert -account_balance(ledger.db, slug, dedicated, party=gift, as_of=day) == m.unspent(gift, day), (gift, day)
        funds = dedicated_funds(ledger.db, slug, limit=1000)
        assert {f["gift_id"]: f["unspent_cents"] for f in funds["gifts"]} == {
            g: m.unspent(g) for g, v in m.gifts.items() if v["moves"]
        }

        # Donor yearly totals = the journal's.
        entries = journal(ledger.db, slug)
        kinds = {e["number"]: e["kind"] for e in entries}
        gross_by_year: dict[int, int] = defaultdict(int)
        ad_income_by_month: dict[str, int] = defaultdict(int)
        for e in entries:
            kind = kinds[e["reverses"]] if e["kind"] == "EntryReversed" else e["kind"]
            year = int(e["effective_date"][:4])
            if kind in GIFT_KINDS:
                sign = -1 if e["kind"] == "EntryReversed" else 1
                gross_by_year[year] += sum(
                    p["amount"]
                    for p in e["postings"]  # a reversal's are negative
                    if p["account"] in ("512", "530", "622") and sign * p["amount"] > 0
                )
            ad_income_by_month[e["effective_date"][:7]] -= sum(p["amount"] for p in e["postings"] if p["account"] == "7065")
        for year in sorted({d.year for d, _donor, _a in m.lines} | set(gross_by_year)):
            receipts = donor_receipts(ledger.db, slug, year, limit=1000)
            assert receipts["total_cents"] == gross_by_year[year], year
            expected: dict[str | None, int] = defaultdict(int)
            for day, donor, amount in m.lines:
                if day.year == year:
                    expected[donor] += amount
            assert receipts["anonymous_cents"] == expected.pop(None, 0)
            assert {d["donor_id"]: d["total_cents"] for d in receipts["donors"]} == expected
            if self.legal_form == "association":

                def gifts_income(as_of: date) -> int:
                    rows = trial_balance(ledger.db, slug, as_of=as_of)["accounts"]
                    return -sum(r["balance"] for r in rows if r["account"] in ("7541", "7542"))

                assert gifts_income(date(year, 12, 31)) - gifts_income(date(year - 1, 12, 31)) == receipts["total_cents"]

        # Advertising: revenue by month = the journal's income by month; invoices within their amount.
        with ledger.db.read() as tx:
            revenue = {r["month"]: r["invoiced_cents"] for r in advertising_revenue_by_month(tx, slug)}
        assert revenue == {month: v for month, v in ad_income_by_month.items() if month in revenue}
        assert all(v == 0 for month, v in ad_income_by_month.items() if month not in revenue)
        assert all(0 <= paid <= amount for amount, paid, _day in m.invoices.values())

        # Replay: this family's views rebuilt from the whole log equal the incremental ones (the
        # other views' rebuilds are their own families' tests; all coops share this store).
        ours = ProjectionRunner(ledger, projections=(DonationsProjection, AdvertisingProjection))
        incremental = dump_projections(ours)
        ours.rebuild()
        assert dump_projections(ours) == incremental


@pytest.fixture
def books(store_factory: Any) -> Any:
    """One store for every example of a test: each example founds a cooperative of its own, so
    examples do not see each other's books, and the migrations (seconds on a busy PostgreSQL)
    run once per store instead of once per example."""
    ledger = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger)
    finally:
        ledger.close()


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None
)
@given(
    legal_form=st.sampled_from(["association", "association", "scic"]),
    prelude=st.tuples(
        donation_op,
        payout_op.map(lambda op: (op[0], 1, *op[2:])),
        donation_op.map(lambda op: (op[0], op[1], 2, *op[3:])),
        use_op,
        sign_op,
        invoice_op,
        pay_op,
    ),
    steps=st.lists(st.tuples(step, st.booleans()), min_size=5, max_size=35),
)
def test_random_gift_and_advertising_histories_keep_every_invariant(books, legal_form, prelude, steps):
    ledger, runner = books
    run = Run(ledger, runner, legal_form)
    for i, op in enumerate(prelude):
        run.single(op, i, back=False)
    for i, (op, back) in enumerate(steps, start=len(prelude)):
        if op[0] == "catch_up":
            runner.catch_up()
        else:
            run.single(op, i, back and i % 3 == 0)
    run.check()
