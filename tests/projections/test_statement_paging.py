"""The statement page cut by the database (projections/journal.py statement_query) equals the
plain reading it replaced: every line of the account up to `as_of` in date order, the page sliced
out of them, the running balance summed over everything before it; on both stores, for random lines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import NotFound
from ledger.db import Database
from ledger.migrate import migrate
from ledger.store import StoreConfig
from projections.journal import checked_statement, statement, statement_if_known, statement_query
from tests.conftest import migrates_the_store

DAYS = [date(2024, 1, d) for d in (1, 2, 3, 5, 8)]
LINE = st.tuples(
    st.sampled_from(["411", "512"]),
    st.sampled_from(["", "alice", "bob"]),
    st.sampled_from(["EUR", "HOUR"]),
    st.integers(-(10**15), 10**15),  # beyond 2^31: a SUM that a 32-bit column would overflow
    st.sampled_from(DAYS),
)


@pytest.fixture
@migrates_the_store
def db(store_url: str) -> Any:
    database = Database(StoreConfig.from_url(store_url))
    migrate(database)
    yield database
    database.close()


def _record(db: Database, entries: list[list[tuple[str, str, str, int, date]]]) -> None:
    """Entries numbered 1.. (each line keeps its own date, as a back-dated line's entry may not)."""
    with db.transaction() as tx:
        tx.execute("DELETE FROM journal_lines")
        tx.execute("DELETE FROM journal_entries")
        for number, lines in enumerate(entries, start=1):
            tx.execute(
                "INSERT INTO journal_entries (coop, number, kind, effective_date, recorded_at, label, actor,"
                " idempotency_key, chain_hash, position) VALUES ('c', ?, 'EntryRecorded', ?, 't', ?, 'a', ?, 'h', ?)",
                (number, lines[0][4].isoformat(), f"entry {number}", f"k{number}", number),
            )
            tx.executemany(
                "INSERT INTO journal_lines (coop, number, line, account, party, unit, amount, effective_date)"
                " VALUES ('c', ?, ?, ?, ?, ?, ?, ?)",
                [(number, i, a, p, u, amount, d.isoformat()) for i, (a, p, u, amount, d) in enumerate(lines, start=1)],
            )


def _sliced(entries, account, party, unit, as_of, after_line, limit) -> dict[str, Any]:
    """The former reading: every line, sorted, sliced in Python."""
    rows = sorted(
        (d.isoformat(), number, i, f"entry {number}", p, amount)
        for number, lines in enumerate(entries, start=1)
        for i, (a, p, u, amount, d) in enumerate(lines, start=1)
        if a == account and u == unit and (as_of is None or d <= as_of) and (party is None or p == party)
    )
    running = sum(r[5] for r in rows[:after_line])
    lines = []
    for day, number, _i, label, p, amount in rows[after_line : after_line + max(1, limit)]:
        running += amount
        lines.append(
            {
                "effective_date": day,
                "number": number,
                "label": label,
                "party": p or None,
                "debit": max(amount, 0),
                "credit": max(-amount, 0),
                "balance": running,
            }
        )
    return {"lines": lines, "total_lines": len(rows), "closing_balance": sum(r[5] for r in rows)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    entries=st.lists(st.lists(LINE, min_size=1, max_size=4), max_size=12),
    party=st.sampled_from([None, "", "alice", "bob"]),
    unit=st.sampled_from(["EUR", "HOUR"]),
    as_of=st.sampled_from([None, *DAYS]),
    after_line=st.integers(0, 30),
    limit=st.integers(0, 12),
)
def test_the_page_cut_by_the_database_is_the_slice_of_every_line(db, entries, party, unit, as_of, after_line, limit):
    _record(db, entries)
    page = statement(db, "c", "411", party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit)
    expected = _sliced(entries, "411", party, unit, as_of, after_line, limit)
    assert {k: page[k] for k in expected} == expected
    assert all(type(line["balance"]) is int for line in page["lines"]) and type(page["closing_balance"]) is int


def test_a_page_past_the_end_keeps_the_count_and_the_closing_balance(db):
    _record(db, [[("411", "alice", "EUR", 700, DAYS[0])], [("411", "bob", "EUR", -200, DAYS[1])]])
    for after_line in (2, 3, 1000):
        page = statement(db, "c", "411", after_line=after_line, limit=5)
        assert (page["lines"], page["total_lines"], page["closing_balance"]) == ([], 2, 500)
    assert statement(db, "c", "411", party="bob", after_line=1)["closing_balance"] == -200
    assert statement(db, "c", "411", as_of=date(2023, 12, 31))["closing_balance"] == 0


def test_the_page_says_when_the_account_or_the_party_is_unknown(db):
    _record(db, [[("411", "alice", "EUR", 700, DAYS[0]), ("512", "", "EUR", -700, DAYS[0])]])

    def known(account: str, party: str | None) -> bool:
        rows = db.query(*statement_query("c", account, party=party, after_line=5))
        return statement_if_known("c", account, rows, party=party) is not None

    assert known("411", None) and known("411", "alice") and known("512", "alice")  # alice: no line on 512, but known
    assert not known("999", None) and not known("411", "nobody")
    with pytest.raises(NotFound, match="no party 'nobody'.*alice"):
        checked_statement(db, "c", "411", party="nobody")
    assert checked_statement(db, "c", "411", party="alice")["total_lines"] == 1
