"""Property test: random sequences of valid and invalid commands, against both stores.

Hypothesis draws a list of steps (single commands, small batches, replays of earlier keys,
reuses of a key for other content, projection catch-ups). A small independent model of the
rules predicts, for every command, whether it is accepted and otherwise which rule refuses
it. After each run the invariants of the books are checked:

- every entry balances per unit (stored events and projected lines);
- the trial balance sums to zero per unit;
- the projections rebuilt from zero equal the projections kept up to date incrementally;
- replaying every accepted idempotency key adds nothing (same results, position unchanged);
- a refused command wrote nothing (checked as it happens);
- journal numbers are 1..N;
- the projection's fee calls and members equal the aggregate's, which equal the model's.

Each example gets a store of its own (a new SQLite file or PostgreSQL schema), dropped after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember, RedeemShares, ResignMember, SubscribeShares, TransferMember
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.runner import ProjectionRunner
from tests.builders import (
    FEE_LARGE_CENTS,
    FEE_MEDIUM_CENTS,
    FEE_SMALL_CENTS,
    dump_projections,
    found_association,
    found_scic,
    ok,
    stored_event_count,
    stored_financial_events,
    unbalanced_units,
)

START = date(2020, 1, 15)  # founded 2020-01-01; step i is dated START + 9 i days
MEMBERS = ["m0", "m1", "m2", "m3", "m4"]  # drawn before and after their admission
HEADCOUNT_FEES = {1: FEE_SMALL_CENTS, 12: FEE_MEDIUM_CENTS, 60: FEE_LARGE_CENTS}
_coops = itertools.count(1)


# ---------------------------------------------------------------- the model


@dataclass
class MMember:
    college: str
    admitted_on: date
    headcount: int
    active: bool = True
    shares: int = 0


@dataclass
class MEntry:
    kind: str
    effect: dict[str, Any]
    is_reversal: bool = False
    reversed: bool = False


@dataclass
class Model:
    """What the rules say should happen, written independently of the domain code."""

    legal_form: str
    colleges: list[str]
    members: dict[str, MMember] = field(default_factory=dict)
    calls: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # [called, paid]
    entries: list[MEntry] = field(default_factory=list)

    # Each predict_* returns (rule or None, apply) where apply() updates the model on acceptance.

    def admit(self, m: str, college: str, headcount: int, day: date):
        if m in self.members:
            return "unique_member", None
        if day < date(2020, 1, 1):
            return "not_before_founding", None
        if college not in self.colleges:
            return "known_college", None

        def apply():
            self.members[m] = MMember(college, day, headcount)

        return None, apply

    def call(self, m: str, year: int, day: date):
        member = self.members.get(m)
        if member is None:
            return "known_member", None
        if not member.active:
            return "active_member", None
        if year < member.admitted_on.year:
            return "member_year", None
        if year > day.year + 1:
            return "not_too_early", None
        if self.calls.get((m, year), [0, 0])[0] > 0:
            return "fee_called_once", None
        amount = HEADCOUNT_FEES[member.headcount]

        def apply():
            self.calls[(m, year)] = [amount, 0]
            self.entries.append(MEntry("FeeCalled", {"m": m, "year": year, "cents": amount}))

        return None, apply

    def pay(self, m: str, year: int, amount: Decimal):
        if m not in self.members:
            return "known_member", None
        call = self.calls.get((m, year))
        if call is None or call[0] == 0:
            return "fee_called", None
        if amount <= 0:
            return "positive", None
        cents = amount * 100
        if cents != cents.to_integral_value():
            return "precision", None
        cents = int(cents)
        if cents > call[0] - call[1]:
            return "no_overpayment", None

        def apply():
            call[1] += cents
            self.entries.append(MEntry("FeePaid", {"m": m, "year": year, "cents": cents}))

        return None, apply

    def reverse(self, number: int):
        if not 1 <= number <= len(self.entries):
            return "known_entry", None
        entry = self.entries[number - 1]
        if entry.is_reversal:
            return "not_a_reversal", None
        if entry.reversed:
            return "reversed_once", None
        e = entry.effect
        if entry.kind == "FeeCalled" and self.calls[(e["m"], e["year"])][1] > 0:
            return "fee_unpaid", None
        if entry.kind == "SharesSubscribed" and self.members[e["m"]].shares < e["shares"]:
            return "shares_still_held", None

        def apply():
            entry.reversed = True
            self.entries.append(MEntry("EntryReversed", {"reverses": number}, is_reversal=True))
            if entry.kind == "FeeCalled":
                self.calls[(e["m"], e["year"])][0] -= e["cents"]
            elif entry.kind == "FeePaid":
                self.calls[(e["m"], e["year"])][1] -= e["cents"]
            elif entry.kind == "SharesSubscribed":
                self.members[e["m"]].shares -= e["shares"]
            elif entry.kind == "SharesRedeemed":
                self.members[e["m"]].shares += e["shares"]

        return None, apply

    def transfer(self, m: str, college: str):
        member = self.members.get(m)
        if member is None:
            return "known_member", None
        if not member.active:
            return "active_member", None
        if college not in self.colleges:
            return "known_college", None
        if college == member.college:
            return "different_college", None

        def apply():
            member.college = college

        return None, apply

    def resign(self, m: str):
        member = self.members.get(m)
        if member is None:
            return "known_member", None
        if not member.active:
            return "active_member", None

        def apply():
            member.active = False

        return None, apply

    def shares(self, m: str, n: int, subscribe: bool):
        if self.legal_form == "association":
            return "has_capital", None
        member = self.members.get(m)
        if member is None:
            return "known_member", None
        if subscribe and not member.active:
            return "active_member", None
        if not subscribe and n > member.shares:
            return "shares_held", None
        kind = "SharesSubscribed" if subscribe else "SharesRedeemed"

        def apply():
            member.shares += n if subscribe else -n
            self.entries.append(MEntry(kind, {"m": m, "shares": n}))

        return None, apply


# ---------------------------------------------------------------- strategies

# Ops name members and fee calls by selectors, resolved against the model when the step
# runs: mostly someone admitted (or a fee already called), sometimes someone unknown. Drawing
# raw ids would waste most steps on "unknown member".
new_member = st.sampled_from(MEMBERS)
someone = st.integers(0, 9)  # 0-8: an admitted member if any; 9: "ghost", never admitted
college_index = st.integers(0, 4)  # 4 is past the last college of either cooperative: unknown
# Mostly amounts that can be accepted, so runs reach paid fees, reversals and re-payments.
amount_kind = st.sampled_from(["due", "due", "due", "part", "part", "over", "zero", "negative", "over_precise"])

admit_op = st.tuples(st.just("admit"), new_member, college_index, st.sampled_from([1, 1, 12, 60]), st.booleans())
call_op = st.tuples(st.just("call"), someone, st.integers(0, 2))
pay_op = st.tuples(st.just("pay"), st.integers(0, 9), st.integers(0, 1), amount_kind, st.integers(1, 150_000))
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 40), st.booleans())  # True: any number, even unknown
command_op = st.one_of(
    admit_op,
    call_op,
    call_op,
    call_op,
    pay_op,
    pay_op,
    pay_op,
    pay_op,
    reverse_op,
    reverse_op,
    reverse_op,
    st.tuples(st.just("transfer"), someone, college_index),
    st.tuples(st.just("resign"), someone),
    st.tuples(st.just("subscribe"), someone, st.integers(1, 4)),
    st.tuples(st.just("subscribe"), someone, st.integers(1, 4)),
    st.tuples(st.just("redeem"), someone, st.integers(1, 4)),
    st.tuples(st.just("replay"), st.integers(0, 1000)),
)
step = st.one_of(
    command_op,
    command_op,
    command_op,
    command_op,
    st.tuples(st.just("batch"), st.lists(command_op, min_size=2, max_size=4)),
    st.tuples(st.just("reuse_key"), st.integers(0, 1000)),
    st.tuples(st.just("catch_up")),
)
# Members admitted before the random steps start (valid colleges), so runs have people to bill.
# Each may have its 2020 fee called straight away.
prelude = st.lists(
    st.tuples(
        st.tuples(st.just("admit"), new_member, st.integers(0, 2), st.sampled_from([1, 1, 12, 60]), st.just(False)), st.booleans()
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda item: item[0][1],
)


# ---------------------------------------------------------------- the run


class Run:
    def __init__(self, ledger: Any, runner: Any, legal_form: str) -> None:
        self.ledger, self.runner = ledger, runner
        self.slug = f"prop{next(_coops)}"
        founding = found_scic(self.slug) if legal_form == "scic" else found_association(self.slug)
        colleges = [c.code for c in founding.colleges]
        self.model = Model(legal_form, colleges)
        self.colleges = [*colleges, "nope"]
        ok(ledger, founding)
        self.accepted: list[tuple[Any, str, Any]] = []  # (command, key, first result)
        self.journal_numbers: list[int] = []
        self.keys = itertools.count(1)

    def key(self) -> str:
        return f"{self.slug}-k{next(self.keys)}"

    def someone(self, selector: int) -> str:
        admitted = list(self.model.members)
        return admitted[selector % len(admitted)] if admitted and selector < 9 else "ghost"

    def fee_target(self, selector: int, offset: int) -> tuple[str, int]:
        """Mostly a fee already called (paid or not, even reversed); else anyone, any year."""
        called = list(self.model.calls)
        if called and selector < 8:
            return called[selector % len(called)]
        return self.someone(selector), 2020 + offset

    def build(self, op: tuple, day: date) -> tuple[Any, str, str | None, Any]:
        """(command, key, predicted rule or None, apply) for one command op."""
        kind, s, m = op[0], self.slug, self.model
        if kind == "admit":
            _, who, ci, headcount, too_early = op
            college = self.colleges[min(ci, len(self.colleges) - 1)]
            when = date(2019, 12, 31) if too_early and college != "nope" else day
            person = headcount == 1
            cmd = AdmitMember(s, who, f"Member {who}", "person" if person else "organisation", college, when, headcount)
            return (cmd, self.key(), *m.admit(who, college, headcount, when))
        if kind == "call":
            _, who, offset = op
            who = self.someone(who)
            return (CallFee(s, who, 2020 + offset, day), self.key(), *m.call(who, 2020 + offset, day))
        if kind == "pay":
            _, selector, offset, how, cents = op
            who, year = self.fee_target(selector, offset)
            call = m.calls.get((who, year), [0, 0])
            due = call[0] - call[1]
            amount = {
                "due": Decimal(max(due, 1)) / 100,
                "part": Decimal(cents) / 100,
                "over": Decimal(due + 1) / 100,
                "zero": Decimal("0.00"),
                "negative": Decimal("-5"),
                "over_precise": Decimal("0.005"),
            }[how]
            return (PayFee(s, who, year, amount, day), self.key(), *m.pay(who, year, amount))
        if kind == "reverse":
            _, selector, anything = op
            open_entries = [i + 1 for i, e in enumerate(m.entries) if not (e.is_reversal or e.reversed)]
            if open_entries and not anything:
                number = open_entries[selector % len(open_entries)]
            else:
                number = selector % (len(m.entries) + 1) + 1  # sometimes one past the last entry
            return (ReverseEntry(s, number, "correction", day), self.key(), *m.reverse(number))
        if kind == "transfer":
            _, who, ci = op
            who = self.someone(who)
            college = self.colleges[min(ci, len(self.colleges) - 1)]
            return (TransferMember(s, who, college, day), self.key(), *m.transfer(who, college))
        if kind == "resign":
            who = self.someone(op[1])
            return (ResignMember(s, who, day), self.key(), *m.resign(who))
        if kind in ("subscribe", "redeem"):
            _, who, n = op
            who = self.someone(who)
            cls = SubscribeShares if kind == "subscribe" else RedeemShares
            return (cls(s, who, n, day), self.key(), *m.shares(who, n, kind == "subscribe"))
        raise AssertionError(kind)

    def check(self, result: Any, predicted: str | None, apply: Any, command: Any, key: str) -> None:
        event(f"{type(command).__name__}: {predicted or 'accepted'}")
        if predicted is None:
            assert result.accepted and not result.duplicate, (command, result.error and result.error.as_dict())
            apply()
            self.accepted.append((command, key, result))
            self.journal_numbers.extend(result.journal_numbers)
        else:
            assert not result.accepted, (command, "accepted, expected refusal", predicted)
            assert result.error.rule == predicted, (command, result.error.as_dict())

    def single(self, op: tuple, day: date) -> None:
        before = (self.ledger.position(), stored_event_count(self.ledger), self.ledger.cooperative(self.slug).version)
        if op[0] == "replay":
            if self.accepted:
                self.replay(self.accepted[op[1] % len(self.accepted)])
            return
        command, key, predicted, apply = self.build(op, day)
        note(f"{command} -> {predicted or 'accepted'}")
        result = self.ledger.execute(command, key)
        self.check(result, predicted, apply, command, key)
        if not result.accepted:  # a refused command writes nothing
            after = (self.ledger.position(), stored_event_count(self.ledger), self.ledger.cooperative(self.slug).version)
            assert after == before

    def replay(self, item: tuple[Any, str, Any]) -> None:
        command, key, first = item
        count, position = stored_event_count(self.ledger), self.ledger.position()
        again = self.ledger.execute(command, key)
        assert again.duplicate and (again.position, again.journal_numbers) == (first.position, first.journal_numbers)
        assert (stored_event_count(self.ledger), self.ledger.position()) == (count, position)

    def batch(self, ops: list[tuple], day: date) -> None:
        count = stored_event_count(self.ledger)
        items, expectations = [], []
        for op in ops:
            if op[0] == "replay":
                if not self.accepted:
                    continue
                command, key, first = self.accepted[op[1] % len(self.accepted)]
                items.append((command, key, "prop"))
                expectations.append(("replay", first))
                continue
            command, key, predicted, apply = self.build(op, day)
            if predicted is None:
                apply()  # later commands of the batch see this one's effect
            items.append((command, key, "prop"))
            expectations.append(("new", predicted))
        note(f"batch {[type(c).__name__ for c, _, _ in items]}")
        results = self.ledger.execute_batch(items)
        written = 0
        for (command, key, _), (what, expected), result in zip(items, expectations, results, strict=True):
            event(f"{type(command).__name__} in a batch: {'replayed' if what == 'replay' else expected or 'accepted'}")
            if what == "replay":
                assert result.duplicate and result.position == expected.position, (command, result)
                continue
            if expected is None:
                assert result.accepted and not result.duplicate, (command, result.error and result.error.as_dict())
                self.accepted.append((command, key, result))
                self.journal_numbers.extend(result.journal_numbers)
                written += 2  # its event and its receipt
            else:
                assert not result.accepted and result.error.rule == expected, (command, result)
        assert stored_event_count(self.ledger) == count + written

    def reuse_key(self, index: int, day: date) -> None:
        if not self.accepted:
            return
        _, key, _ = self.accepted[index % len(self.accepted)]
        count = stored_event_count(self.ledger)
        other = AdmitMember(self.slug, "reused", "Someone else", "person", self.model.colleges[0], day)
        result = self.ledger.execute(other, key)
        assert not result.accepted and result.error.rule == "same_key_same_content"
        assert stored_event_count(self.ledger) == count

    # -------------------------------------------------------- invariants at the end

    def check_invariants(self) -> None:
        ledger, runner, slug = self.ledger, self.runner, self.slug
        coop = ledger.cooperative(slug)
        n = len(self.model.entries)

        # Journal numbers 1..N, in the results, the aggregate, the store and the projection.
        assert self.journal_numbers == list(range(1, n + 1))
        assert coop.journal.last_number == n
        stored = stored_financial_events(ledger, slug)
        assert [e.journal_number for e in stored] == list(range(1, n + 1))
        assert [e.kind for e in stored] == [e.kind for e in self.model.entries]
        assert all(unbalanced_units(e.postings) == {} for e in stored)

        runner.catch_up()
        with ledger.db.read() as tx:
            numbers = [r[0] for r in tx.execute("SELECT number FROM journal_entries WHERE coop = ? ORDER BY number", (slug,))]
            unbalanced = tx.execute(
                "SELECT number, unit, SUM(amount) FROM journal_lines WHERE coop = ?"
                " GROUP BY number, unit HAVING SUM(amount) <> 0",
                (slug,),
            )
            projected_calls = {
                (r[0], r[1]): (r[2], r[3])
                for r in tx.execute("SELECT member_id, year, called_cents, paid_cents FROM fee_calls WHERE coop = ?", (slug,))
            }
            projected_members = {
                r[0]: (r[1], r[2], r[3])
                for r in tx.execute("SELECT member_id, college, status, shares FROM members WHERE coop = ?", (slug,))
            }
        assert numbers == list(range(1, n + 1))
        assert unbalanced == []

        tb = trial_balance(ledger.db, slug)
        for unit, totals in tb["totals"].items():
            assert totals["debit"] == totals["credit"]
            assert sum(a["balance"] for a in tb["accounts"] if a["unit"] == unit) == 0

        # Fee calls and members: projection == aggregate == model (a reversed call is "no call").
        aggregate_calls = {
            k: (c.called_cents, c.paid_cents) for k, c in coop.fee_calls.items() if (c.called_cents, c.paid_cents) != (0, 0)
        }
        model_calls = {k: tuple(v) for k, v in self.model.calls.items() if tuple(v) != (0, 0)}
        assert projected_calls == aggregate_calls == model_calls
        aggregate_members = {m.member_id: (m.college, m.status.value, m.shares) for m in coop.members.values()}
        model_members = {k: (v.college, "active" if v.active else "resigned", v.shares) for k, v in self.model.members.items()}
        assert projected_members == aggregate_members == model_members

        # Replaying every accepted key adds nothing.
        count, position = stored_event_count(ledger), ledger.position()
        for item in self.accepted:
            self.replay(item)
        assert (stored_event_count(ledger), ledger.position()) == (count, position)

        # Rebuild equals incremental.
        incremental = dump_projections(runner)
        runner.rebuild()
        assert dump_projections(runner) == incremental


@contextmanager
def fresh_books(store_factory: Any) -> Iterator[tuple[Ledger, ProjectionRunner]]:
    """A new, empty store for one example, so each example's checks (and its rebuild) cost
    the same however many examples ran before."""
    url = store_factory.new(migrated=True)
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger)
    finally:
        ledger.close()
        store_factory.drop(url)


@settings(
    # store_factory is per test, but the test asks it for a new store in every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    deadline=None,
)
@given(legal_form=st.sampled_from(["association", "scic"]), admissions=prelude, steps=st.lists(step, min_size=10, max_size=30))
def test_random_command_sequences_keep_the_books_consistent(store_factory, legal_form, admissions, steps):
    with fresh_books(store_factory) as (ledger, runner):
        run = Run(ledger, runner, legal_form)
        for op, call_now in admissions:
            run.single(op, START)
            if call_now:
                run.single(("call", len(run.model.members) - 1, 0), START)
        for i, s in enumerate(steps):
            day = START + timedelta(days=9 * i)
            if s[0] == "batch":
                run.batch(s[1], day)
            elif s[0] == "reuse_key":
                run.reuse_key(s[1], day)
            elif s[0] == "catch_up":
                runner.catch_up()
            else:
                run.single(s, day)
        run.check_invariants()
