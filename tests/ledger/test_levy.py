"""The platform levy through the ledger, on SQLite and PostgreSQL: every rule refused with its
field and rule and nothing written; contributions and payouts with hand-computed entries
(a SCIC: authors' shares on 467); courses and authors' balances against hand-computed
figures and against a rebuild.

K1 (author "author") keeps 20%: 45.00 -> 9.00 + 36.00; 60.00 -> 12.00 + 48.00.
K2 (author "author2") keeps 3/20: 35.50 -> 5.325 -> 5.33 + 30.17; 29.90 -> 4.485 -> 4.49 + 25.41.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor
from ledger.service import Ledger
from projections.balances import account_balance
from tests import views as read
from tests.builders import admit, dump_projections, found_scic, ok, stored_financial_events
from tests.ledger.test_subscriptions import check_refusals

D = Decimal


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """Entries 1-4: contributions (K1 45.00, K2 35.50, K1 60.00, K2 29.90); 5 pays author 36.00
    on 2020-03-31; 6 pays author2 50.00 on 2020-04-30."""
    ok(ledger, found_scic())
    for member_id in ("author", "author2", "reader"):
        ok(ledger, admit("scic", member_id, "employees", date(2020, 2, 1)))
    ok(ledger, DeclareCourse("scic", "K1", "Démarches en ligne", "author", "0.20", date(2020, 3, 1)))
    ok(ledger, DeclareCourse("scic", "K2", "Cybersécurité", "author2", "3/20", date(2020, 3, 1)))
    for course, ref, amount, day in [
        ("K1", "INS-1", "45", date(2020, 3, 10)),
        ("K2", "INS-2", "35.50", date(2020, 3, 12)),
        ("K1", "INS-3", "60", date(2020, 4, 2)),
        ("K2", "INS-4", "29.90", date(2020, 4, 20)),
    ]:
        ok(ledger, CollectCourseContribution("scic", course, ref, D(amount), day))
    assert ok(ledger, PayAuthor("scic", "author", D("36"), date(2020, 3, 31))).journal_numbers == (5,)
    assert ok(ledger, PayAuthor("scic", "author2", D("50"), date(2020, 4, 30))).journal_numbers == (6,)
    return ledger


def test_every_rule_is_refused_with_its_field_and_writes_nothing(books):
    day = date(2020, 5, 1)
    check_refusals(
        books,
        [
            (
                "course declared twice",
                DeclareCourse("scic", "K1", "x", "author", "0.1", day),
                "course_id",
                "unique_course",
                Conflict,
            ),
            ("bad course id", DeclareCourse("scic", "K 3", "x", "author", "0.1", day), "course_id", "identifier", InvalidCommand),
            ("no title", DeclareCourse("scic", "K3", "", "author", "0.1", day), "title", "required", InvalidCommand),
            ("unknown author", DeclareCourse("scic", "K3", "x", "ghost", "0.1", day), "author_id", "known_member", NotFound),
            (
                "author not yet a member",
                DeclareCourse("scic", "K3", "x", "reader", "0.1", date(2020, 1, 31)),
                "author_id",
                "member_on_date",
                InvalidCommand,
            ),
            ("float rate", DeclareCourse("scic", "K3", "x", "author", 0.1, day), "levy_rate", "decimal", InvalidCommand),
            (
                "rate above 1",
                DeclareCourse("scic", "K3", "x", "author", "101/100", day),
                "levy_rate",
                "rate_range",
                InvalidCommand,
            ),
            (
                "unknown course",
                CollectCourseContribution("scic", "K9", "INS-9", D("10"), day),
                "course_id",
                "known_course",
                NotFound,
            ),
            (
                "before the course",
                CollectCourseContribution("scic", "K1", "INS-9", D("10"), date(2020, 2, 29)),
                "effective_date",
                "not_before",
                InvalidCommand,
            ),
            (
                "nothing collected",
                CollectCourseContribution("scic", "K1", "INS-9", D("0"), day),
                "amount",
                "positive",
                InvalidCommand,
            ),
            (
                "over-precise amount",
                CollectCourseContribution("scic", "K1", "INS-9", D("0.001"), day),
                "amount",
                "precision",
                InvalidCommand,
            ),
            (
                "participant named",
                CollectCourseContribution("scic", "K1", "Léa Martin", D("10"), day),
                "participant_ref",
                "identifier",
                InvalidCommand,
            ),
            ("payout to no author", PayAuthor("scic", "reader", D("1"), day), "author_id", "known_author", NotFound),
            (
                "payout beyond what is owed",
                PayAuthor("scic", "author", D("48.01"), day),
                "amount",
                "no_overpayment",
                InvalidCommand,
            ),
            # On 2020-04-20 author2 was owed 55.58, but only 5.58 from 2020-04-30 on.
            (
                "back-dated payout",
                PayAuthor("scic", "author2", D("5.59"), date(2020, 4, 20)),
                "amount",
                "no_overpayment",
                InvalidCommand,
            ),
            ("negative payout", PayAuthor("scic", "author", D("-1"), day), "amount", "positive", InvalidCommand),
            ("paid share reversed", ReverseEntry("scic", 4, "x", day), "entry_number", "author_share_unpaid", InvalidCommand),
        ],
    )


def test_contributions_and_payouts_carry_hand_computed_entries(books):
    entries = stored_financial_events(books, "scic")
    assert [e.kind for e in entries] == ["CourseContributionCollected"] * 4 + ["AuthorPaid"] * 2
    assert entries[0].postings == [["512", None, "EUR", 4500], ["706", None, "EUR", -900], ["467", "author", "EUR", -3600]]
    assert entries[1].postings == [["512", None, "EUR", 3550], ["706", None, "EUR", -533], ["467", "author2", "EUR", -3017]]
    assert entries[3].postings == [["512", None, "EUR", 2990], ["706", None, "EUR", -449], ["467", "author2", "EUR", -2541]]
    assert entries[4].postings == [["467", "author", "EUR", 3600], ["512", None, "EUR", -3600]]
    assert all(e.levy_cents + e.author_share_cents == e.amount_cents for e in entries[:4])


def test_courses_and_authors_balances_as_of_any_date(books, runner):
    runner.catch_up()
    db = books.db
    assert [
        (c["course_id"], c["contributions"], c["collected_cents"], c["levy_cents"], c["author_share_cents"], c["levy_rate"])
        for c in read.courses(db, "scic")
    ] == [("K1", 2, 10500, 2100, 8400, "1/5"), ("K2", 2, 6540, 982, 5558, "3/20")]
    assert [
        (a["author_id"], a["earned_cents"], a["paid_out_cents"], a["owed_cents"]) for a in read.author_balances(db, "scic")
    ] == [("author", 8400, 3600, 4800), ("author2", 5558, 5000, 558)]
    as_of = read.author_balances(db, "scic", as_of=date(2020, 3, 31))
    assert [(a["author_id"], a["owed_cents"]) for a in as_of] == [("author", 0), ("author2", 3017)]
    assert [a["earned_cents"] for a in read.author_balances(db, "scic", as_of=date(2020, 3, 1))] == [0, 0]
    # The books agree: 467 per author, the levy in 706, the bank.
    assert account_balance(db, "scic", "467", party="author") == -4800
    assert account_balance(db, "scic", "467", party="author2") == -558
    assert account_balance(db, "scic", "706") == -(2100 + 982)
    assert account_balance(db, "scic", "512") == 10500 + 6540 - 3600 - 5000


def test_reversals_follow_in_the_read_model(books, runner):
    ok(books, ReverseEntry("scic", 6, "transfer rejected", date(2020, 4, 30)))  # 7
    ok(books, ReverseEntry("scic", 4, "participant refunded", date(2020, 5, 5)))  # 8
    runner.catch_up()
    db = books.db
    k2 = [c for c in read.courses(db, "scic") if c["course_id"] == "K2"][0]
    assert (k2["contributions"], k2["collected_cents"], k2["levy_cents"], k2["author_share_cents"]) == (1, 3550, 533, 3017)
    balances = {a["author_id"]: (a["earned_cents"], a["paid_out_cents"]) for a in read.author_balances(db, "scic")}
    assert balances == {"author": (8400, 3600), "author2": (3017, 0)}
    # As of 2020-05-04 the refunded contribution still stood.
    assert {a["author_id"]: a["owed_cents"] for a in read.author_balances(db, "scic", as_of=date(2020, 5, 4))}["author2"] == 5558
    assert ok(books, PayAuthor("scic", "author2", D("30.17"), date(2020, 5, 6))).journal_numbers == (9,)
    runner.catch_up()
    assert account_balance(db, "scic", "467", party="author2") == 0

    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental
