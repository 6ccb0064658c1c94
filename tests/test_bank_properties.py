"""Property test of bank statements, against both stores: random statements (overlapping, repeated,
some lines carrying an item's RF reference) imported in any order, random confirmations (some too
large, some of items not owed, some of lines already matched: refused), "confirm all sure ones",
and reversals of payment entries. At the end:

- the bank ledger account (512) moved by exactly the sum of the standing allocations of the lines
  (no other command of these books touches it), in the journal's events and in the views;
- no line is allocated beyond its amount, no fee is paid beyond what was called;
- each distinct bank line is known once, whatever was imported how often.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.bank import ImportBankStatement, OpenBankAccount
from domain.bank_items import reference_of
from domain.bank_matching import Allocation, ConfirmBankMatch, ConfirmSureBankMatches
from domain.corrections import ReverseEntry
from domain.fees import CallFee
from ledger.bank_files import read_camt053
from ledger.bank_writers import Line, camt053
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.bank_reads import bank_reconciliation
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, new_key, ok, stored_financial_events

IBAN = "FR7630006000011234567890189"
START = date(2021, 3, 1)
MEMBERS = [("A", 1), ("B", 10), ("C", 1)]  # fees 100.00, 250.50, 100.00
ITEMS = [f"fee:{m}:2021" for m, _h in MEMBERS]
_coops = itertools.count(1)

# A pool of bank lines: (day offset, cents, item whose reference it carries or None)
line_st = st.tuples(
    st.integers(0, 20), st.sampled_from([50_00, 100_00, 250_50, 350_50, 1_00, 200_00]), st.sampled_from([None, *ITEMS])
)
op_st = st.one_of(
    st.tuples(st.just("import"), st.lists(st.integers(0, 7), min_size=0, max_size=5)),
    st.tuples(
        st.just("confirm"),
        st.integers(0, 20),
        st.lists(st.tuples(st.sampled_from(ITEMS), st.sampled_from([None, 1_00, 50_00, 100_00])), min_size=1, max_size=2),
    ),
    st.tuples(st.just("sure")),
    st.tuples(st.just("reverse"), st.integers(0, 20)),
)


@pytest.fixture
def books(store_factory: Any) -> Any:
    """One store for every example: each example founds a cooperative of its own."""
    ledger = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    try:
        migrate(ledger.db)
        yield ledger, ProjectionRunner(ledger)
    finally:
        ledger.close()


def _statement(
    slug: str, n: int, pool: list[tuple[int, int, str | None]], chosen: list[int], opening: int
) -> ImportBankStatement:
    lines = [
        Line(
            START + timedelta(days=pool[i][0]),
            Decimal(pool[i][1]).scaleb(-2),
            f"line {i}",
            f"B{i}",
            None,
            None,
            reference_of(pool[i][2]) if pool[i][2] else None,
        )
        for i in sorted(set(chosen))
    ]
    account = _Account()
    data = camt053(f"S{n}", IBAN, Decimal(opening).scaleb(-2), lines, START + timedelta(days=30))
    (command,) = read_camt053(data, slug, account)  # type: ignore[arg-type]
    return command


class _Account:
    bank_account_id, iban = "BQ", IBAN


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(pool=st.lists(line_st, min_size=8, max_size=8), ops=st.lists(op_st, min_size=1, max_size=10))
def test_the_bank_account_moves_by_exactly_what_confirmed_lines_allocate(books, pool, ops):
    ledger, runner = books
    slug = f"bank-{next(_coops)}"
    ok(ledger, found_association(slug, date(2021, 1, 1)))
    for member_id, headcount in MEMBERS:
        ok(ledger, admit(slug, member_id, "users", date(2021, 1, 10), headcount=headcount))
        ok(ledger, CallFee(slug, member_id, 2021, date(2021, 2, 1)))
    ok(ledger, OpenBankAccount(slug, "BQ", IBAN, "Compte", date(2021, 1, 1)))
    statements = 0
    for op in ops:  # bounded by max_size
        coop = ledger.cooperative(slug)
        lines = list(coop.bank.lines.values())
        if op[0] == "import":
            statements += 1
            opening = 0  # each statement's own balances; what matters here is the lines
            ledger.execute(_statement(slug, statements, pool, op[1], opening), new_key())
        elif op[0] == "confirm" and lines:
            line = lines[op[1] % len(lines)]
            allocations = [Allocation(item, None if c is None else str(Decimal(c).scaleb(-2))) for item, c in op[2]]
            ledger.execute(ConfirmBankMatch(slug, line.line_id, allocations), new_key())  # may be refused
        elif op[0] == "sure":
            ok(ledger, ConfirmSureBankMatches(slug, "BQ"))
        elif op[0] == "reverse":
            numbers = [n for line in lines for n in line.entry_numbers() if n not in coop.journal.reversed_by]
            if numbers:
                ok(ledger, ReverseEntry(slug, numbers[op[1] % len(numbers)], "test: unmatch", START + timedelta(days=25)))
    coop = ledger.cooperative(slug)
    lines = list(coop.bank.lines.values())
    allocated = sum(line.allocated_cents(coop.journal) for line in lines)
    moved = sum(p[3] for e in stored_financial_events(ledger, slug) for p in e.postings if p[0] == "512")
    assert moved == allocated
    event(f"lines matched: {min(sum(1 for line in lines if line.allocated_cents(coop.journal)), 3)}")
    assert all(0 <= line.allocated_cents(coop.journal) <= line.amount_cents for line in lines)
    assert all(0 <= call.paid_cents <= call.called_cents for call in coop.fee_calls.values())
    distinct = {(START + timedelta(days=d), c, f"line {i}") for i, (d, c, _r) in enumerate(pool)}
    assert len(lines) <= len(distinct) and len({line.line_id for line in lines}) == len(lines)
    if coop.bank.accounts["BQ"].statements:
        runner.catch_up()
        report = bank_reconciliation(ledger, ledger.db, slug, "BQ", START + timedelta(days=40))
        assert int(Decimal(report["ledger_balance"]) * 100) == allocated
