"""Platform levy: a training platform collects participants' contributions for an author's
course, keeps a levy at the course's rate and owes the rest to the author until paid out.

Rounding rule: levy = amount collected × the course's levy rate, rounded to the nearest cent,
halves rounded up; the author's share is the amount collected minus the levy. The two add up
to the amount collected exactly, by construction.

Authors are members of the cooperative (their member id is the party on the payable account,
as on every per-member account). Participants are named by a reference (an order or
registration number), not by name: events are kept forever, personal data should not be.

Postings: bank (512) debited with the amount collected; levy_income (706) credited with the
levy and authors_payable (4672 association plan / 467 general plan, party = author) with the
author's share (a zero line is left out). A payout: authors_payable against bank, never more
than the author is owed on its date and on every later date (by effective dates), so the
payable account never turns into a claim on the author.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.membership import check_member_on
from domain.money import EurosIn, RateIn, Unit, format_minor, parse_rate, share_half_up, to_minor
from domain.roles import FINANCIAL, STATUTES
from domain.rules import identifier, not_before, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


def split_contribution(amount_cents: int, levy_rate: Fraction) -> tuple[int, int]:
    """(levy, author's share) of an amount collected; they sum to it exactly."""
    levy = share_half_up(amount_cents, levy_rate)
    return levy, amount_cents - levy


# ---------------------------------------------------------------- state


@dataclass
class LevyState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""

    courses: dict[str, dict[str, Any]] = field(default_factory=dict)  # course_id -> author, rate, date, title
    # What each author is owed, as dated changes: shares collected (+), payouts (-), reversals.
    author_moves: dict[str, dict[date, int]] = field(default_factory=dict)

    def owed_from(self, author_id: str, day: date) -> int:
        """The least the author is owed on `day` or any later date (by effective dates)."""
        moves = self.author_moves.get(author_id, {})
        balance = sum(cents for moved_on, cents in moves.items() if moved_on <= day)
        lowest = balance
        for moved_on in sorted(d for d in moves if d > day):
            balance += moves[moved_on]
            lowest = min(lowest, balance)
        return lowest

    def move(self, author_id: str, day: date, cents: int) -> None:
        moves = self.author_moves.setdefault(author_id, {})
        moves[day] = moves.get(day, 0) + cents


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class DeclareCourse:
    coop: str
    course_id: str
    title: str
    author_id: str  # a member
    levy_rate: RateIn  # the share kept by the platform: "0.15", "3/20"
    effective_date: date


@dataclass(frozen=True)
class CollectCourseContribution:
    coop: str
    course_id: str
    participant_ref: str  # order or registration number, not a name
    amount: EurosIn  # collected
    effective_date: date


@dataclass(frozen=True)
class PayAuthor:
    coop: str
    author_id: str
    amount: EurosIn
    effective_date: date


# ---------------------------------------------------------------- events


class CourseDeclared(CoopEvent):
    course_id: str
    title: str
    author_id: str
    levy_rate: str  # exact fraction as text

    def apply(self, coop: Cooperative) -> None:
        coop.levy.courses[self.course_id] = {
            "author_id": self.author_id,
            "levy_rate": self.levy_rate,
            "declared_on": self.effective_date,
            "title": self.title,
        }
        coop.levy.author_moves.setdefault(self.author_id, {})


class CourseContributionCollected(FinancialEvent):
    course_id: str
    author_id: str
    participant_ref: str
    amount_cents: int
    levy_cents: int
    author_share_cents: int

    def effect(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "author_id": self.author_id,
            "collected_on": self.effective_date.isoformat(),
            "amount_cents": self.amount_cents,
            "levy_cents": self.levy_cents,
            "author_share_cents": self.author_share_cents,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        coop.levy.move(effect["author_id"], day, sign * effect["author_share_cents"])

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The share must still be owed from the reversal's date `day` on (author_moves), not from
        the collection date (`collected_on` in the effect): until `day` it was owed."""
        author_id, share = effect["author_id"], effect["author_share_cents"]
        owed = coop.levy.owed_from(author_id, day)
        if owed < share:
            raise InvalidCommand(
                "entry_number",
                "author_share_unpaid",
                f"{author_id} has been paid part of this share (owed {format_minor(owed, Unit.EUR)} EUR from "
                f"{day} on): reverse the payout first",
            )


class AuthorPaid(FinancialEvent):
    author_id: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"author_id": self.author_id, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        coop.levy.move(effect["author_id"], day, -sign * effect["amount_cents"])


class AuthorBalanceCarried(CoopEvent):
    """What a founder owed an author the day before a federation, carried into it (domain/
    federation_carry.py). No entry: the amount arrives on the payable account (4672 / 467, party =
    the author) with the founder's opening entry; PayAuthor pays it from here on."""

    author_id: str
    owed_cents: int
    founder: str
    founder_author_id: str

    def apply(self, coop: Cooperative) -> None:
        assert self.owed_cents > 0 and self.author_id not in coop.levy.author_moves, f"author {self.author_id} carried badly"
        coop.levy.move(self.author_id, self.effective_date, self.owed_cents)


# ---------------------------------------------------------------- deciders


def declare_course(coop: Cooperative, cmd: DeclareCourse, meta: Meta) -> None:
    course_id = identifier(cmd.course_id, "course_id")
    if course_id in coop.levy.courses:
        raise Conflict("course_id", "unique_course", f"course {course_id!r} is already declared")
    title = text(cmd.title, "title")
    author = coop.member(cmd.author_id, "author_id")
    rate = parse_rate(cmd.levy_rate, "levy_rate")
    day = coop.check_effective_date(cmd.effective_date)
    check_member_on(author, day, "author_id")
    coop.record(
        CourseDeclared,
        effective_date=day,
        meta=meta,
        course_id=course_id,
        title=title,
        author_id=author.member_id,
        levy_rate=str(rate),
    )


def collect_contribution(coop: Cooperative, cmd: CollectCourseContribution, meta: Meta) -> None:
    course = coop.levy.courses.get(cmd.course_id) if isinstance(cmd.course_id, str) else None
    if course is None:
        raise NotFound("course_id", "known_course", f"no course {cmd.course_id!r}")
    participant_ref = identifier(cmd.participant_ref, "participant_ref")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, course["declared_on"], "effective_date", f"the declaration of {cmd.course_id}")
    levy, share = split_contribution(amount_cents, Fraction(course["levy_rate"]))
    author = coop.member(course["author_id"])
    postings = [[coop.chart.role("bank"), None, Unit.EUR.value, amount_cents]]
    if levy:
        postings.append([coop.chart.role("levy_income"), None, Unit.EUR.value, -levy])
    if share:
        postings.append([coop.chart.role("authors_payable"), author.member_id, Unit.EUR.value, -share])
    coop.record_entry(
        CourseContributionCollected,
        effective_date=day,
        meta=meta,
        label=f"Participation {participant_ref} – {course['title']} ({author.member_id})"[:500],
        postings=postings,
        course_id=cmd.course_id,
        author_id=author.member_id,
        participant_ref=participant_ref,
        amount_cents=amount_cents,
        levy_cents=levy,
        author_share_cents=share,
    )


def pay_author(coop: Cooperative, cmd: PayAuthor, meta: Meta) -> None:
    if not isinstance(cmd.author_id, str) or cmd.author_id not in coop.levy.author_moves:
        raise NotFound("author_id", "known_author", f"{cmd.author_id!r} is the author of no course")
    author = coop.member(cmd.author_id, "author_id")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    owed = coop.levy.owed_from(author.member_id, day)
    if amount_cents > owed:
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{format_minor(amount_cents, Unit.EUR)} EUR exceeds the {format_minor(owed, Unit.EUR)} EUR {author.member_id} "
            f"is owed on {day} and after",
        )
    bank, payable = coop.chart.role("bank"), coop.chart.role("authors_payable")
    coop.record_entry(
        AuthorPaid,
        effective_date=day,
        meta=meta,
        label=f"Reversement de la quote-part auteur – {author.member_id}",
        postings=[[payable, author.member_id, Unit.EUR.value, amount_cents], [bank, None, Unit.EUR.value, -amount_cents]],
        author_id=author.member_id,
        amount_cents=amount_cents,
    )


def carry_author_balances(ctx: CarryContext) -> Carried:
    """Carries what the founder owes its moving authors (domain/federation_carry.py), so PayAuthor
    pays them in the federation, never beyond it. Not carried: what is owed to an author who left
    the founder (PayAuthor pays members only: pay them before federating), and a balance held on an
    account the federation's chart does not use for it (an association's 4672 into a general
    plan's 467): the federation is then refused (open_items_not_carried). Courses are not carried:
    they are declared again in the federation if it goes on selling them."""
    founder, day = ctx.founder, ctx.day
    moving = {m.member_id for m in founder.members.values() if m.is_member_on(day)}
    here, there = founder.chart.role("authors_payable"), ctx.new.chart.role("authors_payable")
    carried: dict[tuple[str, str | None, str], int] = {}
    for author_id, moves in sorted(founder.levy.author_moves.items()):
        assert all(moved_on < day for moved_on in moves), "a founder has no event on or after its federation date"
        owed = sum(moves.values())
        assert owed >= 0, f"{founder.slug} owes {author_id} a negative amount"
        if owed == 0 or author_id not in moving:
            continue
        if here != there:
            raise InvalidCommand(
                ctx.field,
                "open_items_not_carried",
                f"{ctx.founder_slug} owes {author_id} {format_minor(owed, Unit.EUR)} EUR on {here}, but {ctx.new.slug} "
                f"({ctx.new.legal_form.value}) keeps authors' shares on {there}: pay the author before federating, "
                "or federate into a cooperative of the same chart",
            )
        ctx.new.record(
            AuthorBalanceCarried,
            effective_date=day,
            meta=ctx.meta,
            author_id=ctx.party(author_id),
            owed_cents=owed,
            founder=ctx.founder_slug,
            founder_author_id=author_id,
        )
        carried[(here, author_id, Unit.EUR.value)] = -owed
    return carried


FAMILY = register(
    Family(
        name="levy",
        commands={
            DeclareCourse: Handler(declare_course, STATUTES | FINANCIAL),
            CollectCourseContribution: Handler(collect_contribution, FINANCIAL),
            PayAuthor: Handler(pay_author, FINANCIAL),
        },
        events={
            "CourseDeclared": Fact("course.declared", "activities"),
            "CourseContributionCollected": Fact("course_contribution.collected", "entries", journal="BQ"),
            "AuthorPaid": Fact("author.paid", "entries", journal="BQ"),
            "AuthorBalanceCarried": Fact("author_balance.carried", "activities"),
        },
        state=LevyState,
        managed={"authors_payable": (CollectCourseContribution, PayAuthor)},
        carriers=("domain.levy:carry_author_balances",),
        carry_order=50,
    )
)
