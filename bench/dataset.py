"""A realistic, deterministic stream of commands that yields an exact number of financial events.

Cooperatives (associations and SCICs) admit members year after year; every member's fee is
called each year and paid in one to three parts; SCIC members subscribe capital shares and a
few redeem some; about one payment in a hundred is reversed (a bank error) and paid again.

Every command produced here must be accepted: the generator keeps its own model of each
cooperative (journal numbers, fees due, shares held, expected debit and credit per account),
so the benchmark can check the ledger's answers against an independent computation.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.accounts import LegalForm, default_chart
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember, RedeemShares, SubscribeShares

FIRST_YEAR = 2016
# Roughly how many financial events one member produces in a year (call, 1.8 payments, shares).
EVENTS_PER_MEMBER_YEAR = 3.0
YEARS_TO_SPREAD_OVER = 10
SHARE_VALUE = Decimal("25.00")
SCHEDULE = [  # (min headcount, max headcount, fee in euros)
    (1, 1, Decimal("20.00")),
    (2, 10, Decimal("100.00")),
    (11, 50, Decimal("400.00")),
    (51, None, Decimal("1500.00")),
]
FINANCIAL_COMMANDS = (CallFee, PayFee, SubscribeShares, RedeemShares, ReverseEntry)


@dataclass
class _Member:
    member_id: str
    name: str
    headcount: int
    admitted_on: date
    shares: int = 0


@dataclass
class _Payment:
    number: int
    member_id: str
    year: int
    amount_cents: int
    day: date


@dataclass
class _Coop:
    slug: str
    legal_form: LegalForm
    founded_on: date
    roles: dict[str, str]
    members: list[_Member] = field(default_factory=list)
    last_number: int = 0
    # (account, unit) -> [debit, credit] in minor units: what the trial balance must show.
    expected: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def post(self, postings: list[tuple[str, int]]) -> int:
        assert sum(amount for _, amount in postings) == 0
        for account, amount in postings:
            cell = self.expected[(account, "EUR")]
            if amount > 0:
                cell[0] += amount
            else:
                cell[1] -= amount
        self.last_number += 1
        return self.last_number


def fee_cents(headcount: int) -> int:
    for lo, hi, amount in SCHEDULE:
        if lo <= headcount and (hi is None or headcount <= hi):
            return int(amount * 100)
    raise AssertionError(headcount)


def euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class Dataset:
    """Yields (command, idempotency key, actor, journal number or None) until `events`
    financial events have been produced. `counts` tells how many of each kind."""

    def __init__(self, events: int, *, seed: int = 20240601, coops: int | None = None) -> None:
        assert events > 0
        self.target = events
        self.rng = random.Random(seed)
        n_coops = coops or max(2, min(16, events // 12_500))
        self.initial_members = max(5, round(events / (n_coops * EVENTS_PER_MEMBER_YEAR * YEARS_TO_SPREAD_OVER) * 0.75))
        self.coops = [self._coop(i) for i in range(n_coops)]
        self.financial = 0
        self.counts: dict[str, int] = defaultdict(int)
        self._seq = 0

    def _coop(self, i: int) -> _Coop:
        form = LegalForm.SCIC if i % 2 == 0 else LegalForm.ASSOCIATION
        chart = default_chart(form)
        return _Coop(
            slug=f"bench-{form.value}-{i:02d}",
            legal_form=form,
            founded_on=date(FIRST_YEAR - 1, 1 + i % 12, 1),
            roles={role: chart.role(role) for role in ("bank", "members_receivable", "fee_income", "capital")},
        )

    # ------------------------------------------------------------ the stream

    def __iter__(self) -> Iterator[tuple[Any, str, str, int | None]]:
        for coop in self.coops:
            yield self._emit(self._found(coop), None)
        year = FIRST_YEAR
        while True:
            for coop in self.coops:
                yield from self._year(coop, year)
                if self.done:
                    return
            year += 1
            assert year < 2190, "the data set ran out of years"

    @property
    def done(self) -> bool:
        return self.financial >= self.target

    def _emit(self, command: Any, number: int | None) -> tuple[Any, str, str, int | None]:
        self._seq += 1
        self.counts[type(command).__name__] += 1
        if number is not None:
            self.financial += 1
        return command, f"bench-{self._seq:09d}", "bench", number

    def _found(self, coop: _Coop) -> FoundCooperative:
        if coop.legal_form is LegalForm.SCIC:
            colleges = [
                CollegeSpec("salaries", "Salariés", "40"),
                CollegeSpec("usagers", "Usagers", "35"),
                CollegeSpec("soutiens", "Soutiens", "25"),
            ]
        else:
            colleges = [CollegeSpec("membres", "Membres"), CollegeSpec("partenaires", "Partenaires")]
        return FoundCooperative(
            coop=coop.slug,
            name=f"Coopérative {coop.slug}",
            legal_form=coop.legal_form.value,
            founded_on=coop.founded_on,
            colleges=colleges,
            fee_schedule=[FeeBracket(lo, hi, amount) for lo, hi, amount in SCHEDULE],
            share_value=SHARE_VALUE if coop.legal_form.has_capital else None,
        )

    def _year(self, coop: _Coop, year: int) -> Iterator[tuple[Any, str, str, int | None]]:
        rng = self.rng
        start = date(year, 1, 1)
        colleges = ["salaries", "usagers", "soutiens"] if coop.legal_form is LegalForm.SCIC else ["membres", "partenaires"]
        newcomers = self.initial_members if not coop.members else max(1, len(coop.members) // 12)
        for _ in range(newcomers):
            n = len(coop.members) + 1
            organisation = rng.random() < 0.3
            headcount = rng.choice((2, 5, 8, 20, 35, 80, 250)) if organisation else 1
            member = _Member(
                f"m{n:06d}", f"Membre {n}", headcount, max(start + timedelta(days=rng.randrange(0, 60)), coop.founded_on)
            )
            coop.members.append(member)
            yield self._emit(
                AdmitMember(
                    coop=coop.slug,
                    member_id=member.member_id,
                    name=member.name,
                    kind="organisation" if organisation else "person",
                    college=rng.choice(colleges),
                    effective_date=member.admitted_on,
                    headcount=headcount,
                ),
                None,
            )
        payments: list[_Payment] = []
        for member in coop.members:
            if self.done:
                return
            called_on = max(start + timedelta(days=14), member.admitted_on)
            called = fee_cents(member.headcount)
            number = coop.post([(coop.roles["members_receivable"], called), (coop.roles["fee_income"], -called)])
            yield self._emit(CallFee(coop.slug, member.member_id, year, called_on), number)
            # Paid in one to three parts; one member in ten leaves part of it unpaid this year.
            parts = rng.choice((1, 1, 1, 2, 2, 3))
            to_pay = called if rng.random() >= 0.1 else called // 2
            cuts = sorted(rng.sample(range(1, to_pay), parts - 1)) if to_pay > parts else []
            day = called_on
            for lo, hi in zip([0, *cuts], [*cuts, to_pay], strict=True):
                if self.done:
                    return
                day = day + timedelta(days=rng.randrange(1, 90))
                amount = hi - lo
                number = coop.post([(coop.roles["bank"], amount), (coop.roles["members_receivable"], -amount)])
                payments.append(_Payment(number, member.member_id, year, amount, day))
                yield self._emit(PayFee(coop.slug, member.member_id, year, euros(amount), day), number)
            if coop.legal_form is LegalForm.SCIC:
                yield from self._shares(coop, member, year)
        # About one payment in a hundred was a bank error: reverse it, then record it again.
        for p in payments:
            if self.done:
                return
            if rng.random() >= 0.01:
                continue
            day = p.day + timedelta(days=rng.randrange(1, 30))
            number = coop.post([(coop.roles["bank"], -p.amount_cents), (coop.roles["members_receivable"], p.amount_cents)])
            yield self._emit(ReverseEntry(coop.slug, p.number, "rejet bancaire", day), number)
            if self.done:
                return
            number = coop.post([(coop.roles["bank"], p.amount_cents), (coop.roles["members_receivable"], -p.amount_cents)])
            yield self._emit(PayFee(coop.slug, p.member_id, p.year, euros(p.amount_cents), day + timedelta(days=3)), number)

    def _shares(self, coop: _Coop, member: _Member, year: int) -> Iterator[tuple[Any, str, str, int | None]]:
        rng = self.rng
        first_year = member.shares == 0 and member.admitted_on.year == year
        if first_year or rng.random() < 0.12:
            if self.done:
                return
            shares = rng.randint(1, 20)
            day = max(date(year, 3, 1) + timedelta(days=rng.randrange(0, 200)), member.admitted_on)
            amount = shares * int(SHARE_VALUE * 100)
            number = coop.post([(coop.roles["bank"], amount), (coop.roles["capital"], -amount)])
            member.shares += shares
            yield self._emit(SubscribeShares(coop.slug, member.member_id, shares, day), number)
        elif member.shares > 1 and rng.random() < 0.02:
            if self.done:
                return
            shares = rng.randint(1, member.shares - 1)
            day = date(year, 11, 1) + timedelta(days=rng.randrange(0, 50))
            amount = shares * int(SHARE_VALUE * 100)
            number = coop.post([(coop.roles["capital"], amount), (coop.roles["bank"], -amount)])
            member.shares -= shares
            yield self._emit(RedeemShares(coop.slug, member.member_id, shares, day), number)

    # ------------------------------------------------------------ expected results

    def expected_trial_balance(self, slug: str) -> dict[tuple[str, str], tuple[int, int]]:
        coop = next(c for c in self.coops if c.slug == slug)
        return {key: (debit, credit) for key, (debit, credit) in coop.expected.items()}

    @property
    def slugs(self) -> list[str]:
        return [c.slug for c in self.coops]
