"""Property tests of governance, against both stores.

Hypothesis draws a cooperative (association or SCIC), a few founding members, then dated steps:
admissions, transfers, resignations, exclusions, fee calls and payments (some back-dated),
share moves, reversals of entries, amendments of the statutes, new voting policies, colleges' own
rules (SetCollegeRules). Commands the rules refuse are simply refused. Then, for every date the history touches:

- the college weights are exact fractions that, with the unassigned weight, make 100; each
  eligible member's weight is their college's effective weight over its eligible members; when
  any college has an eligible member and empty colleges are redistributed, the eligible members'
  weights sum to exactly 100;
- for a SCIC, every college pushed past 50% or below 10% is flagged, and only those; an
  association is never flagged;
- the write side (domain.governance.member_eligibility on the aggregate) and the projection
  (explain_member) give the same verdict, college and reasons for every member;
- the weights as of D, taken when D was the last date recorded, are unchanged once the events
  dated after D are added;
- the projection rebuilt from zero equals the incremental one.

Each example gets a store of its own (a SQLite file or a PostgreSQL schema), dropped after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain.cooperative import CollegeSpec, FoundCooperative
from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from domain.governance import AmendStatutes, SetCollegeRules, SetVotingPolicy, member_eligibility
from domain.membership import AdmitMember, ExcludeMember, RedeemShares, ResignMember, SubscribeShares, TransferMember
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.governance import GovernanceProjection, explain_member, weights_as_of
from projections.runner import ProjectionRunner
from tests.builders import fee_schedule

FOUNDED = date(2020, 1, 1)
START = date(2020, 1, 10)
STEP_DAYS = 17  # step i is dated START + 17 i: 25 steps cross into fiscal year 2021
COLLEGES = "abcde"
MEMBERS = [f"m{i}" for i in range(8)]
HUNDRED = Fraction(100)
_keys = itertools.count(1)

# Statutes the steps may amend to (the first is the founding one). SCIC options satisfy the law
# (3 colleges or more, 10%..50% when weighted); association options are free.
STATUTES = {
    "association": [
        (("a", "40"), ("b", "20"), ("c", "20"), ("d", "20")),
        (("a", "50"), ("b", "50")),
        (("a", "25"), ("b", "25"), ("c", "25"), ("e", "25")),
        (("a", None), ("b", None), ("c", None)),
        (("a", "100"),),
        (("a", "90"), ("c", "5"), ("d", "5")),
    ],
    "scic": [
        (("a", "40"), ("b", "20"), ("c", "20"), ("d", "20")),
        (("a", "50"), ("b", "30"), ("c", "20")),
        (("a", None), ("b", None), ("c", None)),
        (("a", "25"), ("b", "25"), ("c", "25"), ("e", "25")),
        (("a", "10"), ("b", "40"), ("c", "50")),
        (("a", None), ("b", None), ("c", None), ("d", None), ("e", None)),
    ],
}


def specs(option: tuple[tuple[str, str | None], ...]) -> list[CollegeSpec]:
    return [CollegeSpec(code, f"Collège {code.upper()}", weight) for code, weight in option]


# ---------------------------------------------------------------- strategies

member = st.integers(0, len(MEMBERS) - 1)
college = st.integers(0, len(COLLEGES) - 1)
amount = st.sampled_from([Decimal("100"), Decimal("40"), Decimal("60")])
step = st.one_of(
    st.tuples(st.just("admit"), member, college),
    st.tuples(st.just("join"), member, college),  # admit, call this year's fee, pay it in full
    st.tuples(st.just("pay_up"), member),  # call this year's fee if needed and pay what is due
    st.tuples(st.just("call"), member, st.booleans()),  # this fiscal year, or the next one
    st.tuples(st.just("pay"), member, amount, st.booleans()),
    st.tuples(st.just("pay_backdated"), member, amount, st.integers(1, 60)),
    st.tuples(st.just("transfer"), member, college),
    st.tuples(st.just("resign"), member),
    st.tuples(st.just("exclude"), member),
    st.tuples(st.just("subscribe"), member, st.integers(1, 3)),
    st.tuples(st.just("redeem"), member, st.integers(1, 2)),
    st.tuples(st.just("reverse"), st.integers(1, 40)),
    st.tuples(st.just("amend"), st.integers(0, 5)),
    st.tuples(st.just("policy"), st.booleans(), st.integers(0, 2), st.sampled_from(["redistribute", "unassigned"])),
    # A college's own rules (SetCollegeRules): None keeps the cooperative's rule.
    st.tuples(st.just("college_rules"), college, st.sampled_from([None, True, False]), st.sampled_from([None, 0, 1, 2])),
)
founder = st.tuples(college, st.sampled_from(["paid", "owes", "partly", "uncalled"]), st.integers(0, 3))


# ---------------------------------------------------------------- running a history


@contextmanager
def fresh_books(store_factory: Any) -> Iterator[tuple[Ledger, ProjectionRunner]]:
    url = store_factory.new(migrated=True)
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger, [GovernanceProjection])
    finally:
        ledger.close()
        store_factory.drop(url)


class History:
    def __init__(self, ledger: Ledger, runner: ProjectionRunner, legal_form: str, policy: str) -> None:
        self.ledger, self.runner, self.legal_form = ledger, runner, legal_form
        self.slug = f"g{next(_keys)}"
        self.dates: set[date] = {FOUNDED}
        self.checkpoints: dict[date, dict[str, Any]] = {}
        self.accepted = 0
        self.run(
            FoundCooperative(
                coop=self.slug,
                name="Coop",
                legal_form=legal_form,
                founded_on=FOUNDED,
                colleges=specs(STATUTES[legal_form][0]),
                fee_schedule=fee_schedule(),
                share_value=Decimal("50") if legal_form == "scic" else None,
                siren="123456782" if legal_form == "scic" else None,
                empty_college_policy=policy,
            ),
            FOUNDED,
            must=True,
        )

    def run(self, command: Any, day: date, must: bool = False) -> bool:
        result = self.ledger.execute(command, f"key-{next(_keys)}")
        assert result.accepted or not must, result.error and result.error.as_dict()
        if result.accepted:
            self.accepted += 1
            self.dates.add(day)
            # A fact dated on or before a checkpoint may change it: forget those checkpoints.
            for checkpoint in [d for d in self.checkpoints if d >= day]:
                del self.checkpoints[checkpoint]
        return result.accepted

    def fiscal_year(self, day: date) -> int:
        return day.year

    def found_member(self, i: int, college_index: int, fee: str, shares: int) -> None:
        m, day = MEMBERS[i], START
        self.run(AdmitMember(self.slug, m, f"Member {m}", "person", COLLEGES[college_index], day), day)
        if shares:
            self.run(SubscribeShares(self.slug, m, shares, day), day)
        if fee != "uncalled":
            self.run(CallFee(self.slug, m, 2020, day), day)
        if fee in ("paid", "partly"):
            self.run(PayFee(self.slug, m, 2020, Decimal("100") if fee == "paid" else Decimal("40"), day), day)

    def step(self, op: tuple[Any, ...], day: date) -> None:
        kind, slug = op[0], self.slug
        if kind == "admit":
            self.run(AdmitMember(slug, MEMBERS[op[1]], f"Member {op[1]}", "person", COLLEGES[op[2]], day), day)
        elif kind == "join":
            m = MEMBERS[op[1]]
            if self.run(AdmitMember(slug, m, f"Member {op[1]}", "person", COLLEGES[op[2]], day), day):
                self.run(CallFee(slug, m, self.fiscal_year(day), day), day)
                self.run(PayFee(slug, m, self.fiscal_year(day), Decimal("100"), day), day)
        elif kind == "pay_up":
            m, year = MEMBERS[op[1]], self.fiscal_year(day)
            self.run(CallFee(slug, m, year, day), day)
            call = self.ledger.cooperative(slug).fee_calls.get((m, year))
            if call is not None and call.due_cents > 0:
                self.run(PayFee(slug, m, year, Decimal(call.due_cents) / 100, day), day)
        elif kind == "call":
            self.run(CallFee(slug, MEMBERS[op[1]], self.fiscal_year(day) + int(op[2]), day), day)
        elif kind == "pay":
            self.run(PayFee(slug, MEMBERS[op[1]], self.fiscal_year(day) + int(op[3]), op[2], day), day)
        elif kind == "pay_backdated":
            paid_on = max(day - timedelta(days=op[3]), START)
            self.run(PayFee(slug, MEMBERS[op[1]], self.fiscal_year(paid_on), op[2], paid_on), paid_on)
        elif kind == "transfer":
            self.run(TransferMember(slug, MEMBERS[op[1]], COLLEGES[op[2]], day), day)
        elif kind == "resign":
            self.run(ResignMember(slug, MEMBERS[op[1]], day), day)
        elif kind == "exclude":
            self.run(ExcludeMember(slug, MEMBERS[op[1]], day, "statutes"), day)
        elif kind == "subscribe":
            self.run(SubscribeShares(slug, MEMBERS[op[1]], op[2], day), day)
        elif kind == "redeem":
            self.run(RedeemShares(slug, MEMBERS[op[1]], op[2], day), day)
        elif kind == "reverse":
            self.run(ReverseEntry(slug, op[1], "correction", day), day)
        elif kind == "amend":
            self.run(AmendStatutes(slug, day, specs(STATUTES[self.legal_form][op[1]]), "AGE"), day)
        elif kind == "policy":
            min_shares = op[2] if self.legal_form == "scic" else 0
            self.run(SetVotingPolicy(slug, day, require_fee_paid=op[1], min_shares=min_shares, empty_college_policy=op[3]), day)
        elif kind == "college_rules":
            min_shares = op[3] if self.legal_form == "scic" or not op[3] else None
            self.run(SetCollegeRules(slug, COLLEGES[op[1]], day, None, op[2], min_shares), day)
        else:
            raise AssertionError(kind)

    def checkpoint(self, day: date) -> None:
        """Weights as of `day` while nothing dated after it is recorded yet."""
        self.runner.catch_up()
        self.checkpoints[day] = weights_as_of(self.ledger.db, self.slug, day)

    # ------------------------------------------------------------ invariants

    def check_weights(self, day: date) -> dict[str, Any]:
        report = weights_as_of(self.ledger.db, self.slug, day)
        assert report is not None and report["colleges"], day
        rows = report["colleges"]
        effective = {r["code"]: Fraction(r["effective_weight"]) for r in rows}
        statutory = {r["code"]: Fraction(r["statutory_weight"]) for r in rows}
        unassigned = Fraction(report["unassigned_weight"])
        non_empty = [r["code"] for r in rows if r["eligible_members"] > 0]
        assert sum(statutory.values()) == HUNDRED
        assert sum(effective.values()) + unassigned == HUNDRED, day
        total = sum((Fraction(v["vote_weight"]) for v in report["voters"]), Fraction(0))
        assert total == Fraction(report["voters_total_weight"])
        policy = report["policy"]["empty_college_policy"]
        if non_empty:
            if policy == "redistribute":
                assert total == HUNDRED and unassigned == 0, (day, report)
                # In proportion to the statutory weights of the non-empty colleges.
                share = sum(statutory[c] for c in non_empty)
                assert all(effective[c] == statutory[c] * HUNDRED / share for c in non_empty)
            else:
                assert total == sum(statutory[c] for c in non_empty) == HUNDRED - unassigned
        else:
            assert total == 0 and unassigned == HUNDRED and report["voters"] == []
        per_college: dict[str, list[Fraction]] = {r["code"]: [] for r in rows}
        for v in report["voters"]:
            per_college[v["college"]].append(Fraction(v["vote_weight"]))
        for r in rows:
            assert len(per_college[r["code"]]) == r["eligible_members"] <= r["members"]
            if r["eligible_members"]:
                assert Fraction(r["member_weight"]) * r["eligible_members"] == effective[r["code"]]
                assert set(per_college[r["code"]]) == {Fraction(r["member_weight"])}
            else:
                assert r["member_weight"] is None and effective[r["code"]] == 0
        flagged = sorted(f["college"] for f in report["flags"])
        if self.legal_form == "scic":
            outside = sorted(c for c in non_empty if not Fraction(10) <= effective[c] <= Fraction(50))
            assert flagged == outside, (day, report)
            if outside:
                event("scic flag raised")
        else:
            assert flagged == []
        return report

    def check_agreement(self, day: date, report: dict[str, Any]) -> None:
        coop = self.ledger.cooperative(self.slug)
        voters = {}
        for member_id in coop.members:
            write_side = member_eligibility(coop, member_id, day)
            read_side = explain_member(self.ledger.db, self.slug, member_id, day)
            assert read_side is not None
            assert (read_side["eligible"], read_side["college"], read_side["reasons"]) == (
                write_side.eligible,
                write_side.college,
                write_side.reasons,
            ), (member_id, day)
            if write_side.eligible:
                voters[member_id] = write_side.college
        assert {v["member_id"]: v["college"] for v in report["voters"]} == voters, day

    def check_all(self) -> None:
        self.runner.catch_up()
        days = sorted(self.dates | {d - timedelta(days=1) for d in self.dates if d > FOUNDED})
        note(f"{self.accepted} commands accepted; checking {len(days)} dates")
        voting_days = 0
        for day in days:
            report = self.check_weights(day)
            self.check_agreement(day, report)
            if report["voters"]:
                voting_days += 1
            if any(r["eligible_members"] for r in report["colleges"]) and any(
                r["eligible_members"] == 0 for r in report["colleges"]
            ):
                event("an empty college among non-empty ones")
        event("days with voters", f"{min(voting_days // 10 * 10, 30)}+")
        for day, earlier in self.checkpoints.items():
            assert weights_as_of(self.ledger.db, self.slug, day) == earlier, day
        event("checkpoints kept", len(self.checkpoints) > 0)
        event("commands accepted after founding", f"{min(self.accepted // 10 * 10, 40)}+")
        # Rebuilt from zero equals incremental.
        incremental = governance_rows(self.ledger)
        self.runner.rebuild()
        assert governance_rows(self.ledger) == incremental


def governance_rows(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.db.read() as tx:
        return {t: sorted(tx.execute(f"SELECT * FROM {t}"), key=repr) for t in GovernanceProjection.tables}  # noqa: S608


@settings(
    # store_factory is per test, but the test asks it for a new store in every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    deadline=None,
)
@given(
    legal_form=st.sampled_from(["association", "scic"]),
    policy=st.sampled_from(["redistribute", "unassigned"]),
    founders=st.lists(founder, min_size=2, max_size=6),
    steps=st.lists(st.tuples(step, st.booleans()), min_size=8, max_size=25),
)
def test_governance_invariants_over_random_histories(store_factory, legal_form, policy, founders, steps):
    with fresh_books(store_factory) as (ledger, runner):
        history = History(ledger, runner, legal_form, policy)
        for i, (college_index, fee, shares) in enumerate(founders):
            history.found_member(i, college_index, fee, shares if legal_form == "scic" else 0)
        for i, (op, checkpoint) in enumerate(steps):
            day = START + timedelta(days=STEP_DAYS * (i + 1))
            history.step(op, day)
            if checkpoint:
                history.checkpoint(day)
        history.check_all()
