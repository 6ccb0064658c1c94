"""The postings table (ledger/postings.py): written by the recorder with the events, equal to the
postings inside them, filled once for a store written before it, and checked by `verify`."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from ledger.commands import parse_command
from ledger.demo import demo_commands
from ledger.postings import POSTINGS_TABLE, PostingsCheck, financial_topics
from ledger.service import Ledger
from ledger.stored_history import StoredHistory
from ledger.verify import verify_events, verify_store
from tests.builders import record_demo

COLUMNS = "coop, number, n, position, day, account, party, unit, amount"


@pytest.fixture
def books(make_ledger: Callable[[], Ledger]) -> Ledger:
    ledger = make_ledger()
    record_demo(ledger)
    return ledger


def _table(ledger: Ledger) -> list[tuple]:
    with ledger.db.read() as tx:
        return [tuple(r) for r in tx.execute(f"SELECT {COLUMNS} FROM {POSTINGS_TABLE} ORDER BY position, n")]  # noqa: S608


def _from_events(ledger: Ledger) -> list[tuple]:
    """The same rows, read from the stored events' own JSON (the notification log, in order)."""
    rows, recorder = [], ledger.app.recorder
    for notification in recorder.select_notifications(start=1, limit=10**6, topics=sorted(financial_topics())):
        state = orjson.loads(notification.state)
        for n, (account, party, unit, amount) in enumerate(state["postings"]):
            day = state["effective_date"]["_data_"]
            rows.append((state["coop"], state["journal_number"], n, notification.id, day, account, party, unit, amount))
    return rows


def _execute(ledger: Ledger, sql: str, params: tuple = ()) -> None:
    with ledger.db.transaction() as tx:
        tx.execute(sql, params)


def _problems(ledger: Ledger) -> dict[str, tuple[str, int | None]]:
    return {r.coop: (r.problem.kind, r.problem.number) for r in verify_store(ledger) if r.problem is not None}


def test_the_recorder_writes_every_posting_of_every_entry_with_its_event(books):
    rows = _table(books)
    assert len(rows) > 500 and rows == _from_events(books)
    assert sum(r[-1] for r in rows) == 0  # every entry balances, so the whole table does
    assert _problems(books) == {}


def test_a_store_written_before_the_table_is_filled_once_when_opened(books, make_ledger):
    before = _table(books)
    _execute(books, f"DELETE FROM {POSTINGS_TABLE}")  # noqa: S608 (as a store of the previous version)
    assert _table(books) == []
    reopened = make_ledger()
    assert _table(reopened) == before
    make_ledger()  # opened again: nothing added twice (the key would refuse it anyway)
    assert _table(reopened) == before


def test_verify_names_the_entry_whose_rows_differ_from_its_event(books):
    coop, number = _table(books)[40][:2]
    _execute(books, f"UPDATE {POSTINGS_TABLE} SET amount = amount + 1 WHERE coop = ? AND number = ? AND n = 0", (coop, number))  # noqa: S608
    assert _problems(books) == {coop: ("postings_mismatch", number)}
    _execute(books, f"UPDATE {POSTINGS_TABLE} SET amount = amount - 1 WHERE coop = ? AND number = ? AND n = 0", (coop, number))  # noqa: S608
    assert _problems(books) == {}
    _execute(books, f"DELETE FROM {POSTINGS_TABLE} WHERE coop = ? AND number = ? AND n = 1", (coop, number))  # noqa: S608
    assert _problems(books) == {coop: ("postings_mismatch", number)}


def test_verify_names_rows_for_an_entry_that_no_event_holds(books):
    coop, last = max((r[0], r[1]) for r in _table(books) if r[0] == _table(books)[0][0])
    _execute(
        books,
        f"INSERT INTO {POSTINGS_TABLE} ({COLUMNS}) VALUES (?, ?, 0, 1, '2026-01-01', '512', NULL, 'EUR', 100)",  # noqa: S608
        (coop, last + 1),
    )
    (report,) = [r for r in verify_store(books) if r.coop == coop]
    assert report.problem is not None and report.problem.kind == "postings_mismatch"
    assert f"entry {last + 1}" in report.problem.message


def test_entries_recorded_while_verify_runs_are_not_taken_for_orphan_rows(books):
    """verify reads a cooperative's events, then its rows, page by page: an entry committed in
    between has rows past the last event it read, written after the check began."""
    coop = "mednum-scic"
    history = StoredHistory(books)
    claims, _broken = history.cooperatives_and_claims()
    check = PostingsCheck(books.db, coop, upto=books.position())
    records = list(history.records(coop))  # what verify read before the new entry
    (paid,) = books.execute_batch([(_later_payment(books, coop), "paid-while-verifying", "test")])
    assert paid.accepted and paid.journal_numbers
    report = verify_events(coop, records, claims[coop], postings=check)
    assert report.ok, report.problem
    orphan = PostingsCheck(books.db, coop, upto=books.position())  # the same rows, there before the check
    assert verify_events(coop, records, claims[coop], postings=orphan).problem.kind == "postings_mismatch"


def _later_payment(ledger: Ledger, coop: str):
    """A fee call of a later year for a member the demo called already: one more entry."""
    called = next(c for c in demo_commands() if c.get("coop") == coop and c["command"] == "CallFee")
    later = {**called, "idempotency_key": "paid-while-verifying", "year": called["year"] + 5}
    later["effective_date"] = f"{later['year']}-03-01"
    return parse_command(later)[0]


def test_a_refused_command_writes_no_posting(books):
    before = _table(books)
    command = parse_command(
        {
            "command": "PayFee",
            "idempotency_key": "refused-1",
            "coop": "mednum-scic",
            "member_id": "nobody",
            "year": 2025,
            "amount": "10",
            "effective_date": "2025-03-01",
        }
    )[0]
    (result,) = books.execute_batch([(command, "refused-1", "test")])
    assert not result.accepted
    assert _table(books) == before
