"""Read model of the platform levy: courses with what they collected, kept and owe their
author; and, per author, shares earned, paid out and still owed on any date. No route or report
reads these tables yet: the tests check them through tests/views.py."""

from __future__ import annotations

from datetime import date

from domain.corrections import EntryReversed
from domain.levy import AuthorBalanceCarried, AuthorPaid, CourseContributionCollected, CourseDeclared
from ledger.db import Tx
from projections.base import Projection


class LevyProjection(Projection):
    name = "levy"
    tables = ("courses", "levy_moves")
    handlers = {
        CourseDeclared: "declared",
        CourseContributionCollected: "collected",
        AuthorPaid: "paid_out",
        EntryReversed: "reversed",
        AuthorBalanceCarried: "carried",
    }

    def declared(self, tx: Tx, e: CourseDeclared, _seq: int) -> None:
        tx.execute(
            "INSERT INTO courses (coop, course_id, title, author_id, levy_rate, declared_on, contributions, collected_cents,"
            " levy_cents, author_share_cents) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)",
            (e.coop, e.course_id, e.title, e.author_id, e.levy_rate, e.effective_date.isoformat()),
        )

    def collected(self, tx: Tx, e: CourseContributionCollected, seq: int) -> None:
        self._collect(
            tx, e.coop, seq, e.course_id, e.author_id, e.effective_date, +1, e.amount_cents, e.levy_cents, e.author_share_cents
        )

    def paid_out(self, tx: Tx, e: AuthorPaid, seq: int) -> None:
        self._move(tx, e.coop, seq, e.author_id, None, e.effective_date, 0, 0, 0, e.amount_cents)

    def carried(self, tx: Tx, e: AuthorBalanceCarried, seq: int) -> None:
        """What a founder owed the author, carried by a federation: a share earned on its date here (no course)."""
        self._move(tx, e.coop, seq, e.author_id, None, e.effective_date, 0, 0, e.owed_cents, 0)

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        effect = e.reversed_effect
        if e.reversed_kind == "CourseContributionCollected":
            self._collect(
                tx,
                e.coop,
                seq,
                effect["course_id"],
                effect["author_id"],
                e.effective_date,
                -1,
                effect["amount_cents"],
                effect["levy_cents"],
                effect["author_share_cents"],
            )
        elif e.reversed_kind == "AuthorPaid":
            self._move(tx, e.coop, seq, effect["author_id"], None, e.effective_date, 0, 0, 0, -effect["amount_cents"])

    def _collect(
        self,
        tx: Tx,
        coop: str,
        seq: int,
        course_id: str,
        author_id: str,
        day: date,
        sign: int,
        amount: int,
        levy: int,
        share: int,
    ) -> None:
        assert levy + share == amount > 0 and levy >= 0 and share >= 0, f"contribution to {course_id} does not add up"
        tx.execute_one(
            "UPDATE courses SET contributions = contributions + ?, collected_cents = collected_cents + ?, levy_cents = "
            "levy_cents + ?,"
            " author_share_cents = author_share_cents + ? WHERE coop = ? AND course_id = ? AND author_id = ?",
            (sign, sign * amount, sign * levy, sign * share, coop, course_id, author_id),
        )
        self._move(tx, coop, seq, author_id, course_id, day, sign * amount, sign * levy, sign * share, 0)

    def _move(
        self,
        tx: Tx,
        coop: str,
        seq: int,
        author_id: str,
        course_id: str | None,
        day: date,
        collected: int,
        levy: int,
        share: int,
        paid_out: int,
    ) -> None:
        tx.execute(
            "INSERT INTO levy_moves (coop, seq, author_id, course_id, day, collected_cents, levy_cents, author_share_cents, "
            "paid_out_cents)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (coop, seq, author_id, course_id, day.isoformat(), collected, levy, share, paid_out),
        )
