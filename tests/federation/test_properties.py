"""Property (both stores): over random founder histories, every entry of the federation balances
and its opening equals the sum of the founders' closing balances, account by account.

Each example founds its own founders and federation (slugs numbered per example) in one store, so
examples cost commands, not schemas. Federations here are dated mid-year with the year still open:
the running year's EUR income and expenses arrive as one result line (120 / 129)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative, coop_id
from domain.entries import EntryLine, RecordEntry
from domain.events import FinancialEvent
from domain.federation import FederateCooperatives, FederationOpeningCarried
from domain.fees import CallFee, PayFee
from domain.journal import check_balanced
from domain.membership import AdmitMember, ResignMember
from ledger.founder_books import read_founder_books

_examples = itertools.count(1)
START, DAY = date(2025, 1, 1), date(2025, 7, 1)

member = st.tuples(
    st.integers(1, 30), st.sampled_from(["none", "called", "half", "paid"]), st.booleans()
)  # headcount, fee, resigns
entry = st.tuples(st.sampled_from(["626", "604", "706", "768"]), st.integers(1, 500_00), st.integers(1, 150))
founder = st.tuples(st.lists(member, max_size=4), st.lists(entry, max_size=3))


def _accepted(ledger, command, key):
    result = ledger.execute(command, key)
    assert result.accepted, (command, result.error and result.error.as_dict())


def _found(ledger, slug: str, members, entries) -> None:
    _accepted(
        ledger,
        FoundCooperative(
            slug,
            f"Association {slug}",
            "association",
            START,
            [CollegeSpec("membres", "Membres")],
            [FeeBracket(1, 9, Decimal(40)), FeeBracket(10, None, Decimal("120.50"))],
        ),
        f"{slug}-f",
    )
    for i, (headcount, fee, resigns) in enumerate(members):
        mid = f"M{i}"
        kind = "person" if headcount == 1 else "organisation"
        _accepted(
            ledger, AdmitMember(slug, mid, f"Membre {i}", kind, "membres", START + timedelta(days=i), headcount), f"{slug}-a{i}"
        )
        if fee != "none":
            _accepted(ledger, CallFee(slug, mid, 2025, date(2025, 2, 1)), f"{slug}-c{i}")
            amount = Decimal(40) if headcount < 10 else Decimal("120.50")
            if fee != "called":
                _accepted(
                    ledger, PayFee(slug, mid, 2025, amount if fee == "paid" else amount / 2, date(2025, 3, 1)), f"{slug}-p{i}"
                )
        if resigns:
            _accepted(ledger, ResignMember(slug, mid, date(2025, 5, 1)), f"{slug}-r{i}")
    for j, (account, cents, day) in enumerate(entries):
        amount = Decimal(cents) / 100
        lines = (
            [EntryLine(account, debit=amount), EntryLine("512", credit=amount)]
            if account[0] == "6"
            else [EntryLine("512", debit=amount), EntryLine(account, credit=amount)]
        )
        _accepted(ledger, RecordEntry(slug, f"Écriture {j}", lines, START + timedelta(days=day)), f"{slug}-e{j}")


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(founders=st.lists(founder, min_size=1, max_size=3))
def test_opening_is_the_sum_of_the_closings_and_every_entry_balances(ledger, founders):
    n = next(_examples)
    slugs = [f"p{n}-f{i}" for i in range(len(founders))]
    for slug, (members, entries) in zip(slugs, founders, strict=True):
        _found(ledger, slug, members, entries)
    command = FederateCooperatives(
        f"p{n}-fed", "Fédération", "association", DAY, slugs, [FeeBracket(1, None, Decimal(50))], member_ids="prefix"
    )
    # A member who left owing part of a fee is an open item the federation cannot carry (they do
    # not move): refused, nothing written; once the dues are paid, the federation goes through.
    owing = [
        (slug, f"M{i}", headcount)
        for slug, (members, _e) in zip(slugs, founders, strict=True)
        for i, (headcount, fee, resigns) in enumerate(members)
        if resigns and fee in ("called", "half")
    ]
    if owing:
        position = ledger.position()
        refused = ledger.execute(command, f"p{n}-fed-refused")
        assert not refused.accepted and refused.error.field.startswith("founders[")
        assert refused.error.rule == "open_items_not_carried" and "411" in refused.error.message
        assert ledger.position() == position
        for slug, mid, _headcount in owing:
            due = ledger.cooperative(slug).fee_calls[(mid, 2025)].due_cents
            _accepted(ledger, PayFee(slug, mid, 2025, Decimal(due) / 100, date(2025, 6, 1)), f"{slug}-settle-{mid}")
    closings = {slug: read_founder_books(ledger, ledger.cooperative(slug)).balances for slug in slugs}
    position = ledger.position()
    result = ledger.execute(command, f"p{n}-fed")
    assert result.accepted, result.error and result.error.as_dict()
    assert result.position > position

    expected: Counter[tuple[str, str]] = Counter()
    for balances in closings.values():
        for (account, _party, unit), amount in balances.items():
            is_result = unit == "EUR" and account[0] in "67"
            expected[("12x" if is_result else account, unit)] += amount
    opened: Counter[tuple[str, str]] = Counter()
    openings = [e for e in ledger.app.events.get(coop_id(f"p{n}-fed")) if isinstance(e, FinancialEvent)]
    assert [e.founder for e in openings if isinstance(e, FederationOpeningCarried)] == slugs
    for event in openings:
        if event.postings:
            check_balanced(event.postings, f"opening {event.journal_number}")
        for account, _party, unit, amount in event.postings:
            opened[("12x" if account in ("120", "129") else account, unit)] += amount
    assert {k: v for k, v in opened.items() if v} == {k: v for k, v in expected.items() if v}
    members = sum(1 for ms, _e in founders for m in ms if not m[2])
    federation = ledger.cooperative(f"p{n}-fed")
    assert len(federation.members) == members
    # What the moving members still owe is carried as their fee calls: PayFee can collect it.
    due = {mid: call.due_cents for (mid, _year), call in federation.fee_calls.items()}
    receivable: Counter[str] = Counter()
    for event in openings:
        for account, party, _unit, amount in event.postings:
            if account == "411":
                receivable[party] += amount
    assert {m: d for m, d in due.items() if d} == {p: a for p, a in receivable.items() if a}
