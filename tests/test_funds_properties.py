"""Property test of the funds families: random sequences of contributions, subsidies, calls,
awards, payments, withdrawals, closings and reversals (some back-dated, many invalid), against
both stores.

A small model, written independently of the domain code, records what every ACCEPTED command
did (from the command's own figures) and recomputes the pots as dated movements. At the end:

- every entry balances per unit, journal numbers are 1..N, the trial balance is zero per unit;
- contributions called = rate × result rounded down to the cent, nothing on a loss;
- per grant: paid <= awarded - withdrawn; every award was within its call's bounds;
- per call: awards (net) <= envelope, laureates <= max;
- per subsidy: received <= granted, grants paid from it <= received;
- the cooperation fund and every subsidy's pot are never below zero (available and cash) on
  ANY date: checked on the model's dated movements and on the projection as of each date;
- aggregate == model == projections; a refused command wrote nothing; rebuild == incremental.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.corrections import ReverseEntry
from domain.grants import AwardGrant, CloseCall, OpenCall, PayGrant, RecordApplication, WithdrawGrant
from domain.subsidies import ReceiveSubsidy, RecordSubsidy, UseSubsidy
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.grants import calls_for_projects, cooperation_fund
from projections.runner import ProjectionRunner
from projections.subsidies import subsidies_overview
from tests.builders import (
    admit,
    dump_projections,
    found_association,
    found_scic,
    ok,
    stored_event_count,
    stored_financial_events,
    unbalanced_units,
)
from tests.views import call_applications, contribution_pledges

START = date(2021, 1, 5)  # founded 2020-01-01; step i is dated START + 5 i days, or 12 days earlier
MEMBERS = ["m0", "m1", "m2"]
RATES = ["5", "2.5", "10/3", "100", "0.125"]
FIELDS = ("inflow", "received", "used", "reserved", "awarded", "paid")
_coops = itertools.count(1)


def cents(value: int) -> Decimal:
    return Decimal(value) / 100


# ---------------------------------------------------------------- the model


@dataclass
class MCall:
    source: str
    envelope: int
    lo: int
    hi: int
    max_laureates: int
    members_only: bool
    closed: bool = False


@dataclass
class MGrant:
    call_id: str
    awards: list[int] = field(default_factory=list)  # every award decided (kept after a reversal, for the bounds check)
    awarded: int = 0
    withdrawn: int = 0
    paid: int = 0

    @property
    def outstanding(self) -> int:
        return self.awarded - self.withdrawn - self.paid


@dataclass
class Model:
    pledges: dict[str, tuple[str, Fraction]] = field(default_factory=dict)  # id -> (member, rate)
    years: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (pledge, year) -> [result, called, paid]
    subsidies: dict[str, list[int]] = field(default_factory=dict)  # id -> [granted, received]
    calls: dict[str, MCall] = field(default_factory=dict)
    grants: dict[str, MGrant] = field(default_factory=dict)
    moves: dict[str, list[tuple[date, dict[str, int]]]] = field(default_factory=lambda: defaultdict(list))
    entries: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)  # (kind, data, reversed)

    def move(self, source: str, day: date, sign: int = 1, **deltas: int) -> None:
        self.moves[source].append((day, {k: sign * v for k, v in deltas.items()}))

    def totals(self, source: str, day: date = date.max) -> dict[str, int]:
        t = dict.fromkeys(FIELDS, 0)
        for moved_on, deltas in self.moves[source]:
            if moved_on <= day:
                for k, v in deltas.items():
                    t[k] += v
        return t

    def call_net(self, call_id: str) -> int:
        return sum(g.awarded - g.withdrawn for g in self.grants.values() if g.call_id == call_id)

    def laureates(self, call_id: str) -> int:
        return sum(1 for g in self.grants.values() if g.call_id == call_id and g.awarded - g.withdrawn > 0)


def available(t: dict[str, int]) -> int:
    return t["inflow"] - t["used"] - t["awarded"] - t["reserved"]


def cash(t: dict[str, int]) -> int:
    return t["received"] - t["paid"]


# ---------------------------------------------------------------- strategies

sel = st.integers(0, 30)
pledge_op = st.tuples(st.just("pledge"), sel, st.sampled_from(RATES), st.integers(1, 3))
declare_op = st.tuples(
    st.just("declare"), sel, st.integers(-1, 2), st.sampled_from(["profit", "profit", "loss", "zero"]), st.integers(1, 50_000_000)
)
pay_contribution_op = st.tuples(
    st.just("pay_contribution"), sel, st.sampled_from(["due", "due", "part", "over"]), st.integers(1, 10_000_000)
)
subsidy_op = st.tuples(st.just("subsidy"), st.integers(1_000_00, 60_000_00))
receive_op = st.tuples(st.just("receive"), sel, st.sampled_from(["due", "part", "over"]), st.integers(1, 5_000_000))
open_op = st.tuples(st.just("open"), sel, st.integers(1, 5), st.integers(1, 4), st.booleans())
apply_op = st.tuples(st.just("apply"), sel, st.booleans())
award_op = st.tuples(st.just("award"), sel, st.sampled_from(["lo", "hi", "mid", "mid", "below", "above", "rest"]))
pay_grant_op = st.tuples(st.just("pay_grant"), sel, st.sampled_from(["all", "all", "part", "over"]), st.integers(1, 1_000_000))
step = st.one_of(
    pledge_op,
    declare_op,
    pay_contribution_op,
    subsidy_op,
    receive_op,
    st.tuples(st.just("use"), sel, st.integers(1, 4)),
    open_op,
    apply_op,
    apply_op,
    award_op,
    award_op,
    award_op,
    award_op,
    pay_grant_op,
    pay_grant_op,
    pay_grant_op,
    pay_grant_op,
    st.tuples(st.just("withdraw"), sel),
    st.tuples(st.just("close"), sel),
    st.tuples(st.just("reverse"), sel),
    st.tuples(st.just("reverse"), sel),
    st.tuples(st.just("catch_up")),
)
# Money in, calls, applicants and first awards, so most runs reach payments, withdrawals and closings.
prelude = st.tuples(
    pledge_op,
    declare_op.map(lambda op: (*op[:2], 0, "profit", op[4])),
    pay_contribution_op.map(lambda op: (op[0], op[1], "due", 1)),
    subsidy_op,
    receive_op,
    open_op,
    open_op,
    apply_op,
    apply_op,
    apply_op,
    apply_op,
    award_op.map(lambda op: (op[0], op[1], "mid")),
    award_op.map(lambda op: (op[0], op[1], "lo")),
    pay_grant_op.map(lambda op: (op[0], op[1], "part", op[3])),
)


def pick(items: list[Any], selector: int) -> Any:
    return items[selector % len(items)] if items else None


# ---------------------------------------------------------------- the run


class Run:
    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str) -> None:
        self.ledger, self.runner, self.model = ledger, runner, Model()
        self.slug = f"funds{next(_coops)}"
        ok(ledger, found_scic(self.slug) if legal_form == "scic" else found_association(self.slug))
        college = "employees" if legal_form == "scic" else "users"
        for m in MEMBERS:
            ok(ledger, admit(self.slug, m, college, date(2020, 2, 1)))
        self.n = itertools.count(1)

    def build(self, op: tuple, day: date) -> tuple[Any, Any] | None:
        """(command, what to record in the model if accepted) or None when nothing fits."""
        s, m, kind = self.slug, self.model, op[0]
        if kind == "pledge":
            pid = f"P{next(self.n)}"
            member = pick(MEMBERS, op[1])
            return PledgeContribution(s, pid, member, op[2], 2020, day, years=op[3]), lambda: m.pledges.__setitem__(
                pid, (member, Fraction(op[2]))
            )
        if kind == "declare":
            pid = pick(sorted(m.pledges), op[1])
            if pid is None:
                return None
            year, result = 2020 + op[2], {"profit": op[4], "loss": -op[4], "zero": 0}[op[3]]
            called = math.floor(m.pledges[pid][1] * result / 100) if result > 0 else 0  # the rounding rule, again
            return (
                DeclareContributionResult(s, pid, year, cents(result), day),
                lambda: m.years.__setitem__((pid, year), [result, called, 0]),
            )
        if kind == "pay_contribution":
            key = pick(sorted(m.years), op[1])
            if key is None:
                return None
            due = m.years[key][1] - m.years[key][2]
            amount = {"due": max(due, 1), "part": min(op[3], max(due, 1)), "over": due + 1}[op[2]]
            return PayContribution(s, key[0], key[1], cents(amount), day), lambda: self.entry(
                "ContributionPaid", day, key=key, amount=amount
            )
        if kind == "subsidy":
            sid = f"S{next(self.n)}"
            return RecordSubsidy(s, sid, "Région", "Projet", cents(op[1]), day), lambda: self.entry(
                "SubsidyGranted", day, sid=sid, amount=op[1]
            )
        if kind in ("receive", "use"):
            sid = pick(sorted(m.subsidies), op[1])
            if sid is None:
                return None
            if kind == "use":
                amount = max(available(m.totals(f"subsidy:{sid}")) // op[2], 1)
                return UseSubsidy(s, sid, cents(amount), "Ateliers", day), lambda: self.entry(
                    "SubsidyUsed", day, sid=sid, amount=amount
                )
            due = m.subsidies[sid][0] - m.subsidies[sid][1]
            amount = {"due": max(due, 1), "part": min(op[3], max(due, 1)), "over": due + 1}[op[2]]
            return ReceiveSubsidy(s, sid, cents(amount), day), lambda: self.entry("SubsidyReceived", day, sid=sid, amount=amount)
        if kind == "open":
            sources = ["fund", *sorted(m.subsidies)]
            source = pick(sources, op[1])
            pot = "fund" if source == "fund" else f"subsidy:{source}"
            room = available(m.totals(pot))
            envelope = room + 1 if op[2] == 5 else max(room * op[2] // 8, 100)  # op 5: one cent too much
            lo, hi = max(envelope // 10, 1), max(envelope // op[3], 1)
            cid = f"C{next(self.n)}"
            command = OpenCall(
                s,
                cid,
                "Appel",
                cents(envelope),
                cents(lo),
                cents(hi),
                3,
                day,
                subsidy_id=None if source == "fund" else source,
                members_only=op[4],
            )

            def opened() -> None:
                m.calls[cid] = MCall(pot, envelope, lo, hi, 3, op[4])
                m.move(pot, day, reserved=envelope)

            return command, opened
        if kind == "apply":
            cid = pick(sorted(m.calls), op[1])
            if cid is None:
                return None
            aid = f"A{next(self.n)}"
            who = {"member_id": pick(MEMBERS, op[1])} if op[2] else {"applicant": "Collectif"}
            return RecordApplication(s, cid, aid, "Projet", day, **who), lambda: m.grants.__setitem__(aid, MGrant(cid))
        if kind == "award":
            aid = pick(sorted(m.grants), op[1])
            if aid is None:
                return None
            c = m.calls[m.grants[aid].call_id]
            amount = {
                "lo": c.lo,
                "hi": c.hi,
                "mid": (c.lo + c.hi) // 2,
                "below": c.lo - 1,
                "above": c.hi + 1,
                "rest": min(c.hi, c.envelope - m.call_net(m.grants[aid].call_id)),
            }[op[2]]
            if amount <= 0:
                return None
            return AwardGrant(s, aid, cents(amount), day), lambda: self.entry("GrantAwarded", day, aid=aid, amount=amount)
        if kind in ("pay_grant", "withdraw"):
            aid = pick(sorted(a for a, g in m.grants.items() if g.awarded), op[1])
            if aid is None:
                return None
            g = m.grants[aid]
            if kind == "withdraw":
                return WithdrawGrant(s, aid, "abandon", day), lambda: self.entry(
                    "GrantWithdrawn", day, aid=aid, amount=g.outstanding
                )
            amount = {"all": max(g.outstanding, 1), "part": min(op[3], max(g.outstanding, 1)), "over": g.outstanding + 1}[op[2]]
            return PayGrant(s, aid, cents(amount), day), lambda: self.entry("GrantPaid", day, aid=aid, amount=amount)
        if kind == "close":
            cid = pick(sorted(m.calls), op[1])
            if cid is None:
                return None

            def closed() -> None:
                c = m.calls[cid]
                c.closed = True
                m.move(c.source, day, reserved=-(c.envelope - m.call_net(cid)))

            return CloseCall(s, cid, day), closed
        if kind == "reverse":
            number = op[1] % (len(m.entries) + 1) + 1  # sometimes one past the last entry
            return ReverseEntry(s, number, "correction", day), lambda: self.reversed(number, day)
        raise AssertionError(kind)

    # The model's side of each entry, applied with sign +1 when made and -1 when reversed.
    def entry(self, kind: str, day: date, **data: Any) -> None:
        self.model.entries.append((kind, data, False))
        self.effect(kind, data, +1, day)

    def reversed(self, number: int, day: date) -> None:
        kind, data, _ = self.model.entries[number - 1]
        self.model.entries[number - 1] = (kind, data, True)
        self.model.entries.append(("EntryReversed", {}, True))
        self.effect(kind, data, -1, day)

    def effect(self, kind: str, data: dict[str, Any], sign: int, day: date) -> None:
        m, a = self.model, data.get("amount", 0)
        if kind == "ContributionPaid":
            m.years[data["key"]][2] += sign * a
            m.move("fund", day, sign, inflow=a, received=a)
        elif kind == "SubsidyGranted":
            if sign > 0:
                m.subsidies[data["sid"]] = [a, 0]
            else:
                del m.subsidies[data["sid"]]
            m.move(f"subsidy:{data['sid']}", day, sign, inflow=a)
        elif kind in ("SubsidyReceived", "SubsidyUsed"):
            if kind == "SubsidyReceived":
                m.subsidies[data["sid"]][1] += sign * a
            m.move(f"subsidy:{data['sid']}", day, sign, **{"received" if kind == "SubsidyReceived" else "used": a})
        else:
            g = m.grants[data["aid"]]
            pot = m.calls[g.call_id].source
            if kind == "GrantAwarded":
                g.awarded += sign * a
                if sign > 0:
                    g.awards.append(a)
                m.move(pot, day, sign, awarded=a, reserved=-a)
            elif kind == "GrantPaid":
                g.paid += sign * a
                m.move(pot, day, sign, paid=a)
            else:
                g.withdrawn += sign * a
                m.move(pot, day, sign, awarded=-a, reserved=a)

    def single(self, op: tuple, i: int, back: bool) -> None:
        day = START + timedelta(days=5 * i - (12 if back else 0))
        built = self.build(op, day)
        if built is None:
            return
        command, apply = built
        before = (self.ledger.position(), stored_event_count(self.ledger))
        result = self.ledger.execute(command, f"{self.slug}-{i}")
        note(f"{command} -> {result.error.rule if result.error else 'accepted'}")
        event(f"{type(command).__name__}: {result.error.rule if result.error else 'accepted'}")
        if result.accepted:
            apply()
        else:
            assert (self.ledger.position(), stored_event_count(self.ledger)) == before

    # -------------------------------------------------------- invariants at the end

    def check(self) -> None:
        ledger, runner, slug, m = self.ledger, self.runner, self.slug, self.model
        coop = ledger.cooperative(slug)
        stored = stored_financial_events(ledger, slug)
        assert [e.journal_number for e in stored] == list(range(1, len(m.entries) + 1))
        assert [e.kind for e in stored] == [k for k, _d, _r in m.entries]
        assert all(unbalanced_units(e.postings) == {} for e in stored)

        # Contributions: called = floor(rate x result), nothing on a loss; 0 <= paid <= called.
        for (pid, year), (result, called, paid) in m.years.items():
            declared = coop.contributions.pledges[pid].declared[year]
            assert (declared.result_cents, declared.called_cents, declared.paid_cents) == (result, called, paid)
            assert 0 <= paid <= called and (
                called == 0 if result <= 0 else called == math.floor(m.pledges[pid][1] * result / 100)
            )
        # Grants and calls: bounds, envelope, laureates, paid <= awarded.
        for aid, g in m.grants.items():
            c, state = m.calls[g.call_id], coop.grants.grants[aid]
            assert all(c.lo <= a <= c.hi for a in g.awards)
            assert 0 <= g.paid <= g.awarded - g.withdrawn <= g.awarded
            assert (state.awarded_cents, state.withdrawn_cents, state.paid_cents) == (g.awarded, g.withdrawn, g.paid)
        for cid, c in m.calls.items():
            assert m.call_net(cid) <= c.envelope and m.laureates(cid) <= c.max_laureates
            assert (coop.grants.calls[cid].closed_on is not None) == c.closed
        for sid, (granted, received) in m.subsidies.items():
            assert 0 <= received <= granted
            assert (coop.subsidies.subsidies[sid].granted_cents, coop.subsidies.subsidies[sid].received_cents) == (
                granted,
                received,
            )
        # Pots never below zero on any date; aggregate == model.
        runner.catch_up()
        for pot, moves in m.moves.items():
            for day in sorted({d for d, _ in moves}):
                t = m.totals(pot, day)
                assert available(t) >= 0 and cash(t) >= 0 and t["paid"] <= t["received"], (pot, day, t)
                if pot == "fund":
                    projected = cooperation_fund(ledger.db, slug, as_of=day)
                    assert (projected["available_cents"], projected["balance_cents"]) == (available(t), cash(t)), (day, t)
            if pot in coop.grants.pots:
                total = coop.grants.pots[pot].totals
                assert tuple(getattr(total, f"{f}_cents") for f in FIELDS) == tuple(m.totals(pot)[f] for f in FIELDS)

        # Projections == model.
        calls = {c["call_id"]: c for c in calls_for_projects(ledger.db, slug, include_closed=True, limit=1000)}
        assert set(calls) == set(m.calls)
        for cid, c in m.calls.items():
            assert (calls[cid]["awarded_cents"], calls[cid]["laureates"], calls[cid]["status"]) == (
                m.call_net(cid),
                m.laureates(cid),
                "closed" if c.closed else "open",
            )
            for app in call_applications(ledger.db, slug, cid, limit=1000):
                g = m.grants[app["application_id"]]
                assert (app["awarded_cents"], app["withdrawn_cents"], app["paid_cents"]) == (g.awarded, g.withdrawn, g.paid)
        subsidies = {
            r["subsidy_id"]: (r["granted_cents"], r["received_cents"]) for r in subsidies_overview(ledger.db, slug, limit=1000)
        }
        assert subsidies == {sid: tuple(v) for sid, v in m.subsidies.items()}
        years = {
            (p["pledge_id"], y["year"]): [y["result_cents"], y["called_cents"], y["paid_cents"]]
            for p in contribution_pledges(ledger.db, slug, limit=1000)
            for y in p["years"]
        }
        assert years == m.years
        for unit, totals in trial_balance(ledger.db, slug)["totals"].items():
            assert totals["debit"] == totals["credit"], unit

        incremental = dump_projections(runner)
        runner.rebuild()
        assert dump_projections(runner) == incremental


@contextmanager
def fresh_books(store_factory: Any) -> Iterator[tuple[Ledger, ProjectionRunner]]:
    """A new, empty store for one example."""
    url = store_factory.new(migrated=True)
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger)
    finally:
        ledger.close()
        store_factory.drop(url)


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None
)
@given(
    legal_form=st.sampled_from(["association", "association", "scic"]),
    prelude=prelude,
    steps=st.lists(st.tuples(step, st.booleans()), min_size=10, max_size=50),
)
def test_random_funds_histories_keep_every_invariant(store_factory, legal_form, prelude, steps):
    with fresh_books(store_factory) as (ledger, runner):
        run = Run(ledger, runner, legal_form)
        for i, op in enumerate(prelude):
            run.single(op, i, back=False)
        for i, (op, back) in enumerate(steps, start=len(prelude)):
            if op[0] == "catch_up":
                runner.catch_up()
            else:
                run.single(op, i, back and i % 3 == 0)
        run.check()
