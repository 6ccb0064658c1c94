"""Property tests of the income families, against both stores.

Hypothesis draws random sequences of subscription, certification and levy commands (valid
and invalid, reversals included). A small model written apart from the domain code predicts
whether each is accepted, and otherwise which rule refuses it. After each run:

- every stored entry balances per unit; journal numbers are 1..N; the trial balance is zero;
- a period is billed once (counting bills not reversed) and paid <= billed on every bill, on
  every date (payments may be back-dated; the models keep dated moves);
- an author's payouts never exceed what they are owed, on any date;
- levy + author's share = amount collected, per contribution and per course, to the cent;
- "who is certified on D" agrees with the model's grants, renewals and revocations on every day;
- the read models equal the model, and a rebuild equals the incremental projections.

The file holds three independent models (one per family, each short) and their scaffold,
which is why it runs past the usual 400 lines: splitting it would scatter one invariant
suite over several files for no reader's benefit.

Each example gets a cooperative of its own in the test's store. Dates come from a grid of days <= 28 (5th and 20th of
each month), so the model adds months by hand without end-of-month cases (the domain tests
cover those).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.certifications import (
    GrantCertification,
    PayCertificationFee,
    RenewCertification,
    RevokeCertification,
    SetCertificationTerms,
)
from domain.corrections import ReverseEntry
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor, split_contribution
from domain.subscriptions import BillSubscription, CancelSubscription, DefineSubscriptionPlan, PaySubscription, StartSubscription
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections import certifications as cert_read
from projections.balances import account_balance, trial_balance
from projections.runner import ProjectionRunner
from tests import views
from tests.builders import (
    admit,
    dump_projections,
    found_association,
    found_scic,
    stored_event_count,
    stored_financial_events,
    unbalanced_units,
)

GRID = [date(2020 + m // 12, m % 12 + 1, d) for m in range(1, 40) for d in (5, 20)]  # 2020-02-05 .. 2023-04-20
FOUNDED = date(2020, 1, 1)
LATE = date(2023, 6, 1)  # after every other date: reversals are dated then
D = Decimal
_coops = itertools.count(1)
PROPERTY_SETTINGS = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None
)


def half_up(cents: int, rate: Fraction) -> int:
    return floor(cents * rate + Fraction(1, 2))


def least_from(moves: list[tuple[date, int]], day: date) -> int:
    """Brute force: the least total of dated moves on `day` and on every later date one has."""
    return min(sum(n for on, n in moves if on <= t) for t in {day} | {on for on, _n in moves if on > day})


def months_later(day: date, months: int) -> date:
    """Days of the grid are <= 28: the same day n months later always exists."""
    m = day.month - 1 + months
    return date(day.year + m // 12, m % 12 + 1, day.day)


@given(cents=st.integers(1, 10**13), numerator=st.integers(0, 10**6), denominator=st.integers(1, 10**6))
def test_levy_plus_author_share_is_the_amount_collected_exactly(cents, numerator, denominator):
    rate = Fraction(min(numerator, denominator), denominator)
    levy, share = split_contribution(cents, rate)
    assert levy + share == cents and 0 <= levy <= cents and levy == half_up(cents, rate)
    assert abs(Fraction(levy) - cents * rate) <= Fraction(1, 2)


# ---------------------------------------------------------------- the common scaffold


@pytest.fixture
def books(store_factory: Any) -> Iterator[tuple[Ledger, ProjectionRunner]]:
    """One store for all the examples of a test, each example in a cooperative of its own:
    creating a PostgreSQL schema and migrating it would cost more than the example itself."""
    ledger = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    migrate(ledger.db)
    runner = ProjectionRunner(ledger)
    yield ledger, runner
    runner.stop()
    ledger.close()


class Run:
    """Executes commands against the store and checks each against the model's prediction.

    Subclasses keep the model; `entries` mirrors the journal: [kind, effect, reversed, is_reversal]."""

    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str) -> None:
        self.ledger, self.runner = ledger, runner
        self.slug = f"inc{next(_coops)}"
        self.college = "employees" if legal_form == "scic" else "users"
        self.entries: list[list[Any]] = []
        self.keys = itertools.count(1)
        self.ok(found_scic(self.slug) if legal_form == "scic" else found_association(self.slug))

    def ok(self, command: Any) -> None:
        result = self.ledger.execute(command, f"{self.slug}-{next(self.keys)}")
        assert result.accepted, (command, result.error and result.error.as_dict())

    def admit(self, member_id: str) -> None:
        self.ok(admit(self.slug, member_id, self.college, date(2020, 2, 1)))

    def run(self, command: Any, predicted: str | None, apply: Callable[[], None] | None) -> None:
        note(f"{command} -> {predicted or 'accepted'}")
        event(f"{type(command).__name__}: {predicted or 'accepted'}")
        before = (self.ledger.position(), stored_event_count(self.ledger))
        result = self.ledger.execute(command, f"{self.slug}-{next(self.keys)}")
        if predicted is None:
            assert result.accepted, (command, result.error and result.error.as_dict())
            assert apply is not None
            apply()
        else:
            assert not result.accepted and result.error.rule == predicted, (command, predicted, result)
            assert (self.ledger.position(), stored_event_count(self.ledger)) == before

    def entry(self, kind: str, **effect: Any) -> None:
        self.entries.append([kind, effect, False, False])

    def reverse(
        self,
        selector: int,
        day: date,
        reversible: Callable[[str, dict[str, Any]], str | None],
        undo: Callable[[str, dict[str, Any], date], None],
    ) -> None:
        open_numbers = [i + 1 for i, e in enumerate(self.entries) if not (e[2] or e[3])]
        number = (
            open_numbers[selector % len(open_numbers)]
            if open_numbers and selector < 8
            else selector % (len(self.entries) + 2) + 1
        )
        command = ReverseEntry(self.slug, number, "correction", day)
        if number > len(self.entries):
            return self.run(command, "known_entry", None)
        entry = self.entries[number - 1]
        kind, effect = entry[0], entry[1]
        predicted = "not_a_reversal" if entry[3] else "reversed_once" if entry[2] else reversible(kind, effect)

        def apply() -> None:
            entry[2] = True
            self.entries.append(["EntryReversed", {}, False, True])
            undo(kind, effect, day)

        self.run(command, predicted, apply)

    def check_books(self) -> None:
        ledger, slug = self.ledger, self.slug
        stored = stored_financial_events(ledger, slug)
        assert [e.journal_number for e in stored] == list(range(1, len(self.entries) + 1))
        assert [e.kind for e in stored] == [e[0] for e in self.entries]
        assert all(unbalanced_units(e.postings) == {} for e in stored)
        self.runner.catch_up()
        for unit, totals in trial_balance(ledger.db, slug)["totals"].items():
            assert totals["debit"] == totals["credit"], unit

    def check_rebuild(self) -> None:
        incremental = dump_projections(self.runner)
        self.runner.rebuild()
        assert dump_projections(self.runner) == incremental


# ---------------------------------------------------------------- subscriptions


PLANS = {  # plan -> (kind, period, fixed cents, rate, labels)
    "PM": ("provider", "monthly", 4900, Fraction(3, 100), [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]),
    "PQ": ("provider", "quarterly", 0, Fraction(1, 8), [f"{y}-Q{q}" for y in (2020, 2021) for q in range(1, 5)]),
    "HY": ("project_holder", "yearly", 24000, Fraction(0), ["2019", "2020", "2021"]),
}
SUBS = {
    "S0": ("m0", "PM", date(2020, 3, 15)),
    "S1": ("m1", "HY", date(2020, 2, 1)),
    "S2": ("m2", "PQ", date(2020, 2, 1)),
    "S3": ("m0", "PQ", date(2020, 5, 10)),
}


def period_bounds(plan: str, label: str) -> tuple[date, date]:
    if plan == "PM":
        y, m = int(label[:4]), int(label[5:])
        return date(y, m, 1), months_later(date(y, m, 1), 1)
    if plan == "PQ":
        first = date(int(label[:4]), 3 * int(label[-1]) - 2, 1)
        return first, months_later(first, 3)
    return date(int(label), 1, 1), date(int(label) + 1, 1, 1)


class SubscriptionsRun(Run):
    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str) -> None:
        super().__init__(ledger, runner, legal_form)
        for member_id in ("m0", "m1", "m2"):
            self.admit(member_id)
        for plan, (kind, period, fixed, rate, _labels) in PLANS.items():
            self.ok(DefineSubscriptionPlan(self.slug, plan, plan, kind, period, D(fixed) / 100, date(2020, 1, 15), str(rate)))
        for sub, (member_id, plan, start) in SUBS.items():
            self.ok(StartSubscription(self.slug, sub, member_id, plan, start))
        self.ends: dict[str, date | None] = {sub: None for sub in SUBS}
        self.bills: dict[tuple[str, str], list[Any]] = {}  # (sub, period) -> [billed on, amount, paid]
        self.payments: dict[tuple[str, str], list[tuple[date, int]]] = {}  # (sub, period) -> dated payments, reversals -

    def bill(self, sub: str, index: int, revenue: int, when: str) -> None:
        member_id, plan, start = SUBS[sub]
        kind, _period, fixed, rate, labels = PLANS[plan]
        label = labels[index % len(labels)]
        first, after = period_bounds(plan, label)
        day = {"after_end": after + timedelta(days=3), "inside": first + timedelta(days=1), "before": first - timedelta(days=1)}[
            when
        ]
        declared = D(revenue) / 100 if kind == "provider" else None
        end = self.ends[sub]
        amount = fixed + (half_up(revenue, rate) if kind == "provider" else 0)
        if max(first, start) >= (after if end is None else min(after, end)):
            predicted = "period_in_subscription"
        elif (sub, label) in self.bills:
            predicted = "period_billed_once"
        elif day < FOUNDED:
            predicted = "not_before_founding"
        elif day < first:
            predicted = "not_before"
        elif rate and day < after:
            predicted = "period_ended"
        else:
            predicted = "nothing_to_bill" if amount == 0 else None

        def apply() -> None:
            self.bills[(sub, label)], self.payments[(sub, label)] = [day, amount, 0], []
            self.entry("SubscriptionBilled", sub=sub, period=label, member=member_id)

        self.run(BillSubscription(self.slug, sub, label, day, declared), predicted, apply)

    def pay(self, selector: int, index: int, how: str, cents: int, early: bool) -> None:
        """Mostly a period billed (paid or not); else any period of any subscription."""
        if self.bills and selector < 8:
            sub, label = list(self.bills)[selector % len(self.bills)]
        else:
            sub = list(SUBS)[selector % len(SUBS)]
            label = PLANS[SUBS[sub][1]][4][index % len(PLANS[SUBS[sub][1]][4])]
        bill = self.bills.get((sub, label))
        due = bill[1] - bill[2] if bill else 0
        amount = {"due": due, "part": cents, "over": due + 1, "zero": 0}[how]
        day = (bill[0] - timedelta(days=1) if early else bill[0] + timedelta(days=5)) if bill else date(2021, 12, 1)
        if bill is None:
            predicted = "period_billed"
        elif amount <= 0:
            predicted = "positive"
        elif day < bill[0]:
            predicted = "not_before"
        else:  # due on its date and on every later one: a payment reversed since still stood then
            still_due = least_from([(bill[0], bill[1]), *((on, -n) for on, n in self.payments[(sub, label)])], day)
            predicted = "no_overpayment" if amount > still_due else None

        def apply() -> None:
            bill[2] += amount
            self.payments[(sub, label)].append((day, amount))
            self.entry("SubscriptionPaid", sub=sub, period=label, cents=amount)

        self.run(PaySubscription(self.slug, sub, label, D(amount) / 100, day), predicted, apply)

    def cancel(self, sub: str, day: date) -> None:
        _member, plan, start = SUBS[sub]
        outside = [
            label
            for (s, label) in self.bills
            if s == sub
            if max(period_bounds(plan, label)[0], start) >= min(period_bounds(plan, label)[1], day)
        ]
        if self.ends[sub] is not None:
            predicted = "cancelled_once"
        elif day < start:
            predicted = "not_before"
        else:
            predicted = "billed_after_end" if outside else None
        self.run(CancelSubscription(self.slug, sub, day, "leaves"), predicted, lambda: self.ends.__setitem__(sub, day))

    def reversible(self, kind: str, effect: dict[str, Any]) -> str | None:
        if kind == "SubscriptionBilled" and self.bills[(effect["sub"], effect["period"])][2] > 0:
            return "bill_unpaid"
        return None

    def undo(self, kind: str, effect: dict[str, Any], day: date) -> None:
        key = (effect["sub"], effect["period"])
        if kind == "SubscriptionBilled":
            del self.bills[key], self.payments[key]
        else:
            self.bills[key][2] -= effect["cents"]
            self.payments[key].append((day, -effect["cents"]))

    def check(self) -> None:
        self.check_books()
        db, slug = self.ledger.db, self.slug
        coop = self.ledger.cooperative(slug)
        aggregate = {
            (s, p): [b.billed_on, b.amount_cents, b.paid_cents]
            for s, sub in coop.subscriptions.subscriptions.items()
            for p, b in sub.bills.items()
        }
        assert aggregate == self.bills
        projected = {
            (s, b["period"]): [date.fromisoformat(b["billed_on"]), b["amount_cents"], b["paid_cents"]]
            for s in SUBS
            for b in views.bills(db, slug, s)
        }
        assert projected == self.bills
        assert all(0 <= paid <= amount for _day, amount, paid in self.bills.values())
        # A period is billed once: bills not reversed, counted from the stored events.
        stored = stored_financial_events(self.ledger, slug)
        reversed_numbers = {e.reverses for e in stored if e.kind == "EntryReversed"}
        standing = [
            (e.subscription_id, e.period)
            for e in stored
            if e.kind == "SubscriptionBilled" and e.journal_number not in reversed_numbers
        ]
        assert len(standing) == len(set(standing)) and set(standing) == set(self.bills)
        totals = {m: [0, 0] for m in ("m0", "m1", "m2")}  # billed, paid on standing bills
        for (sub, _period), (_day, amount, paid) in self.bills.items():
            totals[SUBS[sub][0]][0] += amount
            totals[SUBS[sub][0]][1] += paid
        assert {r["member_id"]: [r["billed_cents"], r["paid_cents"]] for r in views.amounts_owed(db, slug)} == {
            m: t for m, t in totals.items() if t != [0, 0]
        }
        for member_id, (billed, paid) in totals.items():
            assert account_balance(db, slug, "411", party=member_id) == billed - paid
        self.check_rebuild()


def weighted(**weights: int) -> st.SearchStrategy[str]:
    """An op kind drawn with the given weights (st.one_of would treat repeated branches as one)."""
    return st.sampled_from([kind for kind, weight in weights.items() for _ in range(weight)])


@st.composite
def sub_op(draw: Any) -> tuple[Any, ...]:
    kind = draw(weighted(bill=4, pay=3, reverse=2, cancel=1))
    if kind == "bill":
        revenue = draw(st.one_of(st.integers(0, 20), st.integers(1000, 2_000_000)))
        when = draw(st.sampled_from(["after_end", "after_end", "after_end", "inside", "before"]))
        return (kind, draw(st.sampled_from(list(SUBS))), draw(st.integers(0, 23)), revenue, when)
    if kind == "pay":
        how = draw(st.sampled_from(["due", "due", "part", "over", "zero"]))
        early = draw(st.sampled_from([False, False, False, True]))
        return (kind, draw(st.integers(0, 9)), draw(st.integers(0, 23)), how, draw(st.integers(1, 30_000)), early)
    if kind == "cancel":
        return (kind, draw(st.sampled_from(list(SUBS))), draw(st.sampled_from(GRID[4:48])))
    return (kind, draw(st.integers(0, 9)))


@PROPERTY_SETTINGS
@given(legal_form=st.sampled_from(["association", "scic"]), ops=st.lists(sub_op(), min_size=8, max_size=20))
def test_subscriptions_bill_each_period_once_and_never_take_more_than_billed(books, legal_form, ops):
    run = SubscriptionsRun(*books, legal_form)
    for op in ops:
        if op[0] == "bill":
            run.bill(*op[1:])
        elif op[0] == "pay":
            run.pay(*op[1:])
        elif op[0] == "cancel":
            run.cancel(*op[1:])
        else:
            run.reverse(op[1], LATE, run.reversible, run.undo)
    run.check()


# ---------------------------------------------------------------- certifications

FEE = 10000  # terms: 100.00 EUR for 3 months, renewable in the last 45 days
VALIDITY_MONTHS, WINDOW_DAYS = 3, 45


class CertificationsRun(Run):
    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str) -> None:
        super().__init__(ledger, runner, legal_form)
        self.members = ["m0", "m1", "m2"]
        for member_id in self.members:
            self.admit(member_id)
        self.ok(SetCertificationTerms(self.slug, D(FEE) / 100, date(2020, 1, 15), VALIDITY_MONTHS, WINDOW_DAYS))
        # id -> {member, granted, expires, revoked, renewals [(day, previous expiry)], billed, paid}
        self.certs: dict[str, dict[str, Any]] = {}
        self.order: dict[str, list[str]] = {m: [] for m in self.members}  # grants per member, oldest first
        self.next_id = itertools.count(1)

    @staticmethod
    def ends(cert: dict[str, Any]) -> date:
        return cert["expires"] if cert["revoked"] is None else min(cert["expires"], cert["revoked"])

    @staticmethod
    def last_change(cert: dict[str, Any]) -> date:
        return cert["revoked"] or (cert["renewals"][-1][0] if cert["renewals"] else cert["granted"])

    def pick(self, selector: int) -> str:
        ids = list(self.certs)
        return ids[selector % len(ids)] if ids and selector < 8 else "C0"  # C0 is never granted

    def grant(self, member_index: int, reuse: bool, day: date) -> None:
        member_id = self.members[member_index]
        cid = next(iter(self.certs)) if reuse and self.certs else f"C{next(self.next_id)}"
        latest = self.certs[self.order[member_id][-1]] if self.order[member_id] else None
        if cid in self.certs:
            predicted = "unique_certification"
        else:
            predicted = "one_certification_at_a_time" if latest and self.ends(latest) > day else None

        def apply() -> None:
            self.certs[cid] = {
                "member": member_id,
                "granted": day,
                "expires": months_later(day, VALIDITY_MONTHS),
                "revoked": None,
                "renewals": [],
                "billed": FEE,
                "paid": 0,
                "moves": [(day, FEE)],
            }  # moves: + billed, - paid
            self.order[member_id].append(cid)
            self.entry("CertificationGranted", cid=cid)

        self.run(GrantCertification(self.slug, cid, member_id, day), predicted, apply)

    def renew(self, selector: int, day: date) -> None:
        cid = self.pick(selector)
        cert = self.certs.get(cid)
        if cert is None:
            predicted = "known_certification"
        elif cert["revoked"]:
            predicted = "not_revoked"
        elif day < self.last_change(cert):
            predicted = "not_before"
        elif day >= cert["expires"]:
            predicted = "not_expired"
        else:
            predicted = "renewal_window" if day < cert["expires"] - timedelta(days=WINDOW_DAYS) else None

        def apply() -> None:
            cert["renewals"].append((day, cert["expires"]))
            cert["expires"] = months_later(cert["expires"], VALIDITY_MONTHS)
            cert["billed"] += FEE
            cert["moves"].append((day, FEE))
            self.entry("CertificationRenewed", cid=cid)

        self.run(RenewCertification(self.slug, cid, day), predicted, apply)

    def revoke(self, selector: int, day: date) -> None:
        cid = self.pick(selector)
        cert = self.certs.get(cid)
        if cert is None:
            predicted = "known_certification"
        elif cert["revoked"]:
            predicted = "revoked_once"
        elif day < self.last_change(cert):
            predicted = "not_before"
        else:
            predicted = "in_force" if day >= cert["expires"] else None
        self.run(RevokeCertification(self.slug, cid, day, "audit"), predicted, lambda: cert.__setitem__("revoked", day))

    def pay(self, selector: int, how: str, cents: int, day: date) -> None:
        cid = self.pick(selector)
        cert = self.certs.get(cid)
        due = cert["billed"] - cert["paid"] if cert else 0
        amount = {"due": due, "part": cents, "over": due + 1}[how]
        if cert is None:
            predicted = "known_certification"
        elif amount <= 0:
            predicted = "positive"
        elif day < cert["granted"]:
            predicted = "not_before"
        else:  # due on its date and on every later one: a payment back-dated before a renewal pays the fees billed then
            predicted = "no_overpayment" if amount > least_from(cert["moves"], day) else None

        def apply() -> None:
            cert["paid"] += amount
            cert["moves"].append((day, -amount))
            self.entry("CertificationFeePaid", cid=cid, cents=amount)

        self.run(PayCertificationFee(self.slug, cid, D(amount) / 100, day), predicted, apply)

    def reversible(self, kind: str, effect: dict[str, Any]) -> str | None:
        if kind == "CertificationFeePaid":
            return None
        cert = self.certs[effect["cid"]]
        if self.order[cert["member"]][-1] != effect["cid"] or cert["revoked"]:
            return "latest_certification_change"
        if kind == "CertificationGranted":
            if cert["renewals"]:
                return "latest_certification_change"
            return "fee_unpaid" if cert["paid"] else None
        if effect["renewal"] != len(cert["renewals"]):  # not its last renewal
            return "latest_certification_change"
        return "fee_unpaid" if cert["paid"] > cert["billed"] - FEE else None

    def undo(self, kind: str, effect: dict[str, Any], day: date) -> None:
        cert = self.certs[effect["cid"]]
        if kind == "CertificationFeePaid":
            cert["paid"] -= effect["cents"]
            cert["moves"].append((day, effect["cents"]))
        elif kind == "CertificationGranted":
            del self.certs[effect["cid"]]
            self.order[cert["member"]].pop()
        else:
            _renewed_on, cert["expires"] = cert["renewals"].pop()
            cert["billed"] -= FEE
            cert["moves"].append((day, -FEE))

    def entry(self, kind: str, **effect: Any) -> None:
        if kind == "CertificationRenewed":
            effect["renewal"] = len(self.certs[effect["cid"]]["renewals"])  # which renewal, 1-based
        super().entry(kind, **effect)

    def check(self) -> None:
        self.check_books()
        db, slug = self.ledger.db, self.slug
        coop = self.ledger.cooperative(slug)
        # Every day a certification starts or ends, the day before, and a few days of the grid.
        edges = {d for c in self.certs.values() for d in (c["granted"], c["expires"], c["revoked"]) if d is not None}
        for day in sorted(edges | {d - timedelta(days=1) for d in edges} | set(GRID[:44:5])):
            expected = sorted(
                m for m in self.members if any(self.certs[c]["granted"] <= day < self.ends(self.certs[c]) for c in self.order[m])
            )
            assert [r["member_id"] for r in cert_read.certified_on(db, slug, day)] == expected, day
            assert [m for m in self.members if coop.certifications.certified_on(m, day)] == expected, day
        for member_id, ids in self.order.items():
            found = views.certification_of(db, slug, member_id, LATE)
            if not ids:
                assert found is None
                continue
            cert = self.certs[ids[-1]]
            assert (found["certification_id"], found["expires_on"], found["billed_cents"], found["paid_cents"]) == (
                ids[-1],
                cert["expires"].isoformat(),
                cert["billed"],
                cert["paid"],
            )
            assert found["status"] == ("revoked" if cert["revoked"] else "expired")  # LATE is after every expiry
        billed_minus_paid = {
            m: sum(self.certs[c]["billed"] - self.certs[c]["paid"] for c in ids) for m, ids in self.order.items()
        }
        for member_id, due in billed_minus_paid.items():
            assert account_balance(db, slug, "411", party=member_id) == due
        self.check_rebuild()


@st.composite
def cert_op(draw: Any) -> tuple[Any, ...]:
    kind = draw(weighted(grant=3, renew=3, revoke=1, pay=2, reverse=2))
    back = draw(st.sampled_from([0, 0, 0, 0, 1, 3]))  # days of the grid to step back: back-dated commands
    if kind == "grant":
        return (kind, back, draw(st.integers(0, 2)), draw(st.sampled_from([False, False, False, True])))
    if kind == "pay":
        return (kind, back, draw(st.integers(0, 9)), draw(st.sampled_from(["due", "part", "over"])), draw(st.integers(1, 25_000)))
    return (kind, back, draw(st.integers(0, 9)))


@PROPERTY_SETTINGS
@given(legal_form=st.sampled_from(["association", "scic"]), ops=st.lists(cert_op(), min_size=8, max_size=20))
def test_certified_on_date_agrees_with_a_model_of_grants_renewals_and_revocations(books, legal_form, ops):
    run = CertificationsRun(*books, legal_form)
    for i, (kind, back, *args) in enumerate(ops):
        day = GRID[max(0, 2 * i - back)]  # about a month per step: certifications live 3 months
        if kind == "grant":
            run.grant(*args, day)
        elif kind == "renew":
            run.renew(args[0], day)
        elif kind == "revoke":
            run.revoke(args[0], day)
        elif kind == "pay":
            run.pay(*args, day)
        else:
            run.reverse(args[0], LATE, run.reversible, run.undo)
    run.check()


# ---------------------------------------------------------------- platform levy

COURSES = {"K0": ("a0", Fraction(15, 100)), "K1": ("a1", Fraction(1, 3)), "K2": ("a0", Fraction(0)), "K3": ("a1", Fraction(1))}


class LevyRun(Run):
    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str) -> None:
        super().__init__(ledger, runner, legal_form)
        self.payable = "467" if legal_form == "scic" else "4672"
        for member_id in ("a0", "a1", "r0"):
            self.admit(member_id)
        for course, (author, rate) in COURSES.items():
            self.ok(DeclareCourse(self.slug, course, f"Cours {course}", author, str(rate), date(2020, 2, 1)))
        self.moves: dict[str, list[tuple[date, int]]] = {"a0": [], "a1": []}  # what each author is owed: +share, -payout
        self.totals = {course: [0, 0, 0, 0] for course in COURSES}  # contributions, collected, levy, share

    def owed_on(self, author: str, day: date) -> int:
        return sum(cents for moved_on, cents in self.moves[author] if moved_on <= day)

    def least_owed_from(self, author: str, day: date) -> int:
        """Brute force over every day of the grid from `day` on (every move is dated on the grid)."""
        return min([self.owed_on(author, day)] + [self.owed_on(author, t) for t in GRID if t > day])

    def collect(self, course: str, cents: int, day: date) -> None:
        author, rate = COURSES[course]
        levy = half_up(cents, rate)

        def apply() -> None:
            self.moves[author].append((day, cents - levy))
            for i, value in enumerate((1, cents, levy, cents - levy)):
                self.totals[course][i] += value
            self.entry("CourseContributionCollected", course=course, author=author, day=day, cents=cents, levy=levy)

        predicted = "positive" if cents == 0 else None
        self.run(CollectCourseContribution(self.slug, course, "INS-1", D(cents) / 100, day), predicted, apply)

    def pay(self, author: str, how: str, cents: int, day: date) -> None:
        least = self.least_owed_from(author, day) if author in self.moves else 0
        amount = {"owed": least, "part": cents, "over": least + 1}[how]
        if author not in self.moves:
            predicted = "known_author"
        elif amount <= 0:
            predicted = "positive"
        else:
            predicted = "no_overpayment" if amount > least else None

        def apply() -> None:
            self.moves[author].append((day, -amount))
            self.entry("AuthorPaid", author=author, cents=amount)

        self.run(PayAuthor(self.slug, author, D(amount) / 100, day), predicted, apply)

    def reversible(self, kind: str, effect: dict[str, Any], day: date) -> str | None:
        """A share is reversed from the reversal's `day` on: it must be owed from then on."""
        if kind == "CourseContributionCollected":
            share = effect["cents"] - effect["levy"]
            if self.least_owed_from(effect["author"], day) < share:
                return "author_share_unpaid"
        return None

    def undo(self, kind: str, effect: dict[str, Any], day: date) -> None:
        if kind == "AuthorPaid":
            self.moves[effect["author"]].append((day, effect["cents"]))
            return
        share = effect["cents"] - effect["levy"]
        self.moves[effect["author"]].append((day, -share))
        for i, value in enumerate((1, effect["cents"], effect["levy"], share)):
            self.totals[effect["course"]][i] -= value

    def check(self) -> None:
        self.check_books()
        db, slug = self.ledger.db, self.slug
        for e in stored_financial_events(self.ledger, slug):
            if e.kind == "CourseContributionCollected":
                assert e.levy_cents + e.author_share_cents == e.amount_cents
        assert {
            c["course_id"]: [c["contributions"], c["collected_cents"], c["levy_cents"], c["author_share_cents"]]
            for c in views.courses(db, slug)
        } == self.totals
        assert all(levy + share == collected for _n, collected, levy, share in self.totals.values())
        move_days = {d for moves in self.moves.values() for d, _cents in moves}
        for day in sorted(move_days | {d - timedelta(days=1) for d in move_days} | {LATE}):
            # Payouts never exceed what the author is owed, on any day; the books agree.
            balances = {a["author_id"]: a["owed_cents"] for a in views.author_balances(db, slug, as_of=day)}
            assert balances == {author: self.owed_on(author, day) for author in self.moves}, day
            assert all(owed >= 0 for owed in balances.values()), day
            for author, owed in balances.items():
                assert account_balance(db, slug, self.payable, party=author, as_of=day) == -owed
        self.check_rebuild()


@st.composite
def levy_op(draw: Any) -> tuple[Any, ...]:
    kind = draw(weighted(collect=4, pay=3, reverse=2))
    back = draw(st.sampled_from([0, 0, 0, 1, 4]))
    if kind == "collect":
        return (kind, back, draw(st.sampled_from(list(COURSES))), draw(st.one_of(st.integers(0, 9), st.integers(1, 50_000))))
    if kind == "pay":
        how = draw(st.sampled_from(["owed", "owed", "part", "over"]))
        return (kind, back, draw(st.sampled_from(["a0", "a1", "r0"])), how, draw(st.integers(1, 20_000)))
    return (kind, back, draw(st.integers(0, 9)))


@PROPERTY_SETTINGS
@given(legal_form=st.sampled_from(["association", "scic"]), ops=st.lists(levy_op(), min_size=8, max_size=20))
def test_levy_and_share_add_up_and_payouts_never_exceed_what_is_owed(books, legal_form, ops):
    run = LevyRun(*books, legal_form)
    for i, (kind, back, *args) in enumerate(ops):
        day = GRID[max(0, i - back)]
        if kind == "collect":
            run.collect(*args, day)
        elif kind == "pay":
            run.pay(*args, day)
        else:
            run.reverse(args[0], GRID[i], lambda kind, effect, day=GRID[i]: run.reversible(kind, effect, day), run.undo)
    run.check()
