"""Platform levy, pure rules: levy + author's share = amount collected to the cent, the
rounding rule, postings per plan, payouts never beyond what the author is owed on their date
and every later date, reversals.

Course K1 keeps a 15% levy: 35.50 EUR collected -> levy 5.325 -> 5.33, author 30.17.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor, split_contribution
from domain.membership import ResignMember
from tests.domain.test_subscriptions import Books, rule

D = Decimal


@pytest.mark.parametrize(
    ("cents", "rate", "levy", "share"),
    [
        (3550, Fraction(15, 100), 533, 3017),  # 5.325 -> 5.33
        (2990, Fraction(15, 100), 449, 2541),  # 4.485 -> 4.49
        (4500, Fraction(15, 100), 675, 3825),
        (1, Fraction(1, 2), 1, 0),
        (3, Fraction(1, 3), 1, 2),
        (10000, Fraction(0), 0, 10000),
        (10000, Fraction(1), 10000, 0),
        (10001, Fraction(1, 3), 3334, 6667),  # 33.3366... -> 33.34
    ],
)
def test_levy_is_rounded_half_up_and_the_author_gets_the_rest(cents, rate, levy, share):
    assert split_contribution(cents, rate) == (levy, share)


@pytest.fixture
def books() -> Books:
    b = Books()
    b.admit("author")
    b.admit("reader")
    b.do(DeclareCourse("c", "K1", "Cours", "author", "0.15", date(2020, 3, 1)))
    return b


def collect(amount: str, day: date, course: str = "K1", ref: str = "P-1") -> CollectCourseContribution:
    return CollectCourseContribution("c", course, ref, D(amount), day)


def test_a_contribution_posts_the_bank_the_levy_and_the_authors_share(books):
    (event,) = books.do(collect("35.50", date(2020, 3, 10)))
    assert (event.amount_cents, event.levy_cents, event.author_share_cents) == (3550, 533, 3017)
    assert event.postings == [["512", None, "EUR", 3550], ["706", None, "EUR", -533], ["4672", "author", "EUR", -3017]]
    assert books.coop.levy.owed_from("author", date(2020, 3, 10)) == 3017
    assert books.coop.levy.owed_from("author", date(2020, 3, 9)) == 0


def test_a_scic_owes_authors_on_467_and_lines_of_zero_are_left_out():
    b = Books("scic")
    b.admit("author")
    b.do(DeclareCourse("c", "FREE", "Cours offert", "author", "0", date(2020, 3, 1)))
    b.do(DeclareCourse("c", "ALL", "Cours maison", "author", "1", date(2020, 3, 1)))
    (free,) = b.do(collect("20", date(2020, 3, 2), "FREE"))
    (kept,) = b.do(collect("20", date(2020, 3, 2), "ALL"))
    assert free.postings == [["512", None, "EUR", 2000], ["467", "author", "EUR", -2000]]
    assert kept.postings == [["512", None, "EUR", 2000], ["706", None, "EUR", -2000]]
    assert (kept.levy_cents, kept.author_share_cents) == (2000, 0)


@pytest.mark.parametrize(
    ("command", "field", "expected_rule", "kind"),
    [
        (DeclareCourse("c", "K1", "Again", "author", "0.1", date(2020, 3, 1)), "course_id", "unique_course", Conflict),
        (DeclareCourse("c", "K 2", "Cours", "author", "0.1", date(2020, 3, 1)), "course_id", "identifier", InvalidCommand),
        (DeclareCourse("c", "K2", " ", "author", "0.1", date(2020, 3, 1)), "title", "required", InvalidCommand),
        (DeclareCourse("c", "K2", "Cours", "ghost", "0.1", date(2020, 3, 1)), "author_id", "known_member", NotFound),
        (DeclareCourse("c", "K2", "Cours", "author", "0.1", date(2020, 1, 31)), "author_id", "member_on_date", InvalidCommand),
        (DeclareCourse("c", "K2", "Cours", "author", 0.1, date(2020, 3, 1)), "levy_rate", "decimal", InvalidCommand),
        (DeclareCourse("c", "K2", "Cours", "author", "1.2", date(2020, 3, 1)), "levy_rate", "rate_range", InvalidCommand),
        (collect("10", date(2020, 3, 2), course="NOPE"), "course_id", "known_course", NotFound),
        (collect("10", date(2020, 2, 29)), "effective_date", "not_before", InvalidCommand),
        (collect("0", date(2020, 3, 2)), "amount", "positive", InvalidCommand),
        (collect("10.005", date(2020, 3, 2)), "amount", "precision", InvalidCommand),
        (collect("10", date(2020, 3, 2), ref="Jean Dupont"), "participant_ref", "identifier", InvalidCommand),
        (PayAuthor("c", "reader", D("1"), date(2020, 4, 1)), "author_id", "known_author", NotFound),
        (PayAuthor("c", "ghost", D("1"), date(2020, 4, 1)), "author_id", "known_author", NotFound),
        (PayAuthor("c", "author", D("0.01"), date(2020, 4, 1)), "amount", "no_overpayment", InvalidCommand),
        (PayAuthor("c", "author", D("-1"), date(2020, 4, 1)), "amount", "positive", InvalidCommand),
    ],
)
def test_refusals_name_field_and_rule(books, command, field, expected_rule, kind):
    error = books.refused(command)
    assert isinstance(error, kind) and rule(error) == (field, expected_rule), error.message


def test_payouts_never_exceed_what_is_owed_on_their_date_and_after(books):
    books.do(collect("35.50", date(2020, 3, 10), ref="P-1"))  # share 30.17
    books.do(collect("45", date(2020, 4, 10), ref="P-2"))  # share 38.25: 68.42 in all
    # On 2020-03-09 nothing was owed yet, whatever is owed today.
    assert rule(books.refused(PayAuthor("c", "author", D("0.01"), date(2020, 3, 9)))) == ("amount", "no_overpayment")
    error = books.refused(PayAuthor("c", "author", D("30.18"), date(2020, 3, 31)))
    assert rule(error) == ("amount", "no_overpayment") and "30.17" in error.message
    (payout,) = books.do(PayAuthor("c", "author", D("68.42"), date(2020, 4, 15)))
    assert payout.postings == [["4672", "author", "EUR", 6842], ["512", None, "EUR", -6842]]
    # 30.17 was owed on 2020-03-20, but nothing is after 2020-04-15: a back-dated payout would
    # leave the author owing the platform.
    assert rule(books.refused(PayAuthor("c", "author", D("0.01"), date(2020, 3, 20)))) == ("amount", "no_overpayment")
    assert books.coop.levy.owed_from("author", date(2020, 1, 1)) == 0


def test_an_author_who_left_is_still_owed_and_paid(books):
    books.do(collect("100", date(2020, 3, 10)))  # share 85.00
    books.do(ResignMember("c", "author", date(2020, 5, 1)))
    books.do(collect("100", date(2020, 5, 10), ref="P-2"))  # the course goes on
    books.do(PayAuthor("c", "author", D("170"), date(2020, 6, 1)))
    assert books.coop.levy.owed_from("author", date(2020, 6, 1)) == 0


def test_a_paid_share_is_reversed_only_after_its_payout(books):
    books.do(collect("35.50", date(2020, 3, 10)))  # entry 1
    books.do(PayAuthor("c", "author", D("10"), date(2020, 3, 20)))  # entry 2
    error = books.refused(ReverseEntry("c", 1, "refunded participant", date(2020, 4, 1)))
    assert rule(error) == ("entry_number", "author_share_unpaid")
    books.do(ReverseEntry("c", 2, "payout cancelled", date(2020, 3, 20)))  # entry 3, same day: never paid
    (reversal,) = books.do(ReverseEntry("c", 1, "refunded participant", date(2020, 4, 1)))  # entry 4
    assert reversal.postings == [["512", None, "EUR", -3550], ["706", None, "EUR", 533], ["4672", "author", "EUR", 3017]]
    levy = books.coop.levy
    assert levy.owed_from("author", date(2020, 4, 1)) == 0
    assert levy.owed_from("author", date(2020, 3, 31)) == 0  # 30.17 until 31 March, 0 from 1 April
    assert levy.author_moves["author"] == {date(2020, 3, 10): 3017, date(2020, 3, 20): 0, date(2020, 4, 1): -3017}


def test_reversing_a_share_checks_what_is_owed_from_the_reversal_date():
    """The reversal service passes its date (domain/corrections.py): a share paid out, then
    refunded, is reversed from a date when it is owed again, not before."""
    b = Books()
    b.admit("author")
    b.do(DeclareCourse("c", "K1", "Cours", "author", "0.15", date(2020, 3, 1)))
    (collected,) = b.do(collect("35.50", date(2020, 3, 10)))
    b.do(PayAuthor("c", "author", D("10"), date(2020, 3, 20)))
    b.do(ReverseEntry("c", 2, "payout cancelled", date(2020, 4, 1)))  # 20.17 owed from 20 March to 31 March
    effect = collected.effect()
    # From 1 April the whole share is owed again: a reversal dated then is safe.
    type(collected).check_reversible(b.coop, effect, date(2020, 4, 1))
    with pytest.raises(InvalidCommand) as exc:
        type(collected).check_reversible(b.coop, effect, date(2020, 3, 25))
    assert rule(exc.value) == ("entry_number", "author_share_unpaid") and "20.17" in exc.value.message
    assert rule(b.refused(ReverseEntry("c", 1, "refunded", date(2020, 3, 25)))) == ("entry_number", "author_share_unpaid")
    (reversal,) = b.do(ReverseEntry("c", 1, "refunded", date(2020, 4, 1)))
    assert reversal.reverses == 1 and b.coop.levy.owed_from("author", date(2020, 3, 10)) == 0
