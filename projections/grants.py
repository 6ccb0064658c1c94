"""Read model of the pots (the cooperation fund and each subsidy), calls for projects and grants.

`fund_movements` keeps every dated movement of every pot, with the same figures the write
side keeps (domain.pots.Figures), so the fund's balance, commitments and availability are
exact as of any date; reversals add negated rows. Calls and applications are current state.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.contributions import ContributionPaid
from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.funds_carry import CallCarried, CooperationFundCarried, GrantApplicationCarried, SubsidyCarried
from domain.grants import CallClosed, CallOpened, GrantApplicationRecorded, GrantAwarded, GrantPaid, GrantWithdrawn
from domain.pots import FUND, Figures
from domain.subsidies import SubsidyGranted, SubsidyReceived, SubsidyUsed
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000
FIGURE_COLUMNS = ("inflow_cents", "received_cents", "used_cents", "reserved_cents", "awarded_cents", "paid_cents")
# Financial events that move a pot: each says how with pot_movement(effect).
POT_ENTRIES = {
    cls.__name__: cls
    for cls in (ContributionPaid, SubsidyGranted, SubsidyReceived, SubsidyUsed, GrantAwarded, GrantPaid, GrantWithdrawn)
}
GRANT_ENTRIES = {cls.__name__: cls for cls in (GrantAwarded, GrantPaid, GrantWithdrawn)}


class GrantsProjection(Projection):
    name = "grants"
    tables = ("fund_movements", "grant_calls", "grant_applications")
    identity_columns = (("grant_applications", "member_id", ("applicant",)),)
    handlers = {
        CallOpened: "opened",
        GrantApplicationRecorded: "applied",
        CallClosed: "closed",
        **{cls: "entry" for cls in POT_ENTRIES.values()},
        EntryReversed: "reversed",
        # A federation's carried pots, calls and applications (domain/funds_carry.py), dated on its date.
        CooperationFundCarried: "pot_carried",
        SubsidyCarried: "pot_carried",
        CallCarried: "call_carried",
        GrantApplicationCarried: "application_carried",
    }

    def opened(self, tx: Tx, e: CallOpened, seq: int) -> None:
        self._call(tx, e)
        self._move(tx, e.coop, seq, e.source, e.effective_date, e.kind, e.pot_movement())

    def applied(self, tx: Tx, e: GrantApplicationRecorded, _seq: int) -> None:
        tx.execute(
            "INSERT INTO grant_applications (coop, application_id, call_id, applicant, member_id, project, applied_on,"
            " awarded_cents, withdrawn_cents, paid_cents, awarded_on) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, NULL)",
            (e.coop, e.application_id, e.call_id, e.applicant, e.member_id, e.project, e.effective_date.isoformat()),
        )

    def closed(self, tx: Tx, e: CallClosed, seq: int) -> None:
        tx.execute_one(
            "UPDATE grant_calls SET closed_on = ? WHERE coop = ? AND call_id = ?",
            (e.effective_date.isoformat(), e.coop, e.call_id),
        )
        source = tx.execute("SELECT source FROM grant_calls WHERE coop = ? AND call_id = ?", (e.coop, e.call_id))[0][0]
        self._move(tx, e.coop, seq, source, e.effective_date, e.kind, e.pot_movement())

    def pot_carried(self, tx: Tx, e: CooperationFundCarried | SubsidyCarried, seq: int) -> None:
        self._move(tx, e.coop, seq, e.pot_source(), e.effective_date, e.kind, e.figures())

    def call_carried(self, tx: Tx, e: CallCarried, _seq: int) -> None:
        """A founder's open call: opened on the federation date here; its envelope is on the pot's carried row."""
        self._call(tx, e)

    def _call(self, tx: Tx, e: CallOpened | CallCarried) -> None:
        tx.execute(
            "INSERT INTO grant_calls (coop, call_id, title, source, envelope_cents, min_award_cents, max_award_cents,"
            " max_laureates, members_only, opened_on, closed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                e.coop,
                e.call_id,
                e.title,
                e.source,
                e.envelope_cents,
                e.min_award_cents,
                e.max_award_cents,
                e.max_laureates,
                int(e.members_only),
                e.effective_date.isoformat(),
            ),
        )

    def application_carried(self, tx: Tx, e: GrantApplicationCarried, _seq: int) -> None:
        day = e.effective_date.isoformat()
        tx.execute(
            "INSERT INTO grant_applications (coop, application_id, call_id, applicant, member_id, project, applied_on,"
            " awarded_cents, withdrawn_cents, paid_cents, awarded_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.application_id,
                e.call_id,
                e.applicant,
                e.member_id,
                e.project,
                day,
                e.awarded_cents,
                e.withdrawn_cents,
                e.paid_cents,
                day if e.awarded_cents else None,
            ),
        )

    def entry(self, tx: Tx, e: Any, seq: int) -> None:
        self._entry(tx, e.coop, seq, e.kind, e.effect(), +1, e.effective_date)

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        if e.reversed_kind in POT_ENTRIES:
            self._entry(tx, e.coop, seq, e.reversed_kind, e.reversed_effect, -1, e.effective_date)

    def _entry(self, tx: Tx, coop: str, seq: int, kind: str, effect: dict[str, Any], sign: int, day: date) -> None:
        source, delta = POT_ENTRIES[kind].pot_movement(effect)
        self._move(tx, coop, seq, source, day, kind if sign > 0 else f"EntryReversed:{kind}", delta.scaled(sign))
        if kind in GRANT_ENTRIES:
            column = GRANT_ENTRIES[kind].GRANT_FIELD  # awarded_cents, paid_cents or withdrawn_cents (constants)
            tx.execute_one(
                f"UPDATE grant_applications SET {column} = {column} + ? WHERE coop = ? AND application_id = ?",  # noqa: S608
                (sign * effect["amount_cents"], coop, effect["application_id"]),
            )
            if kind == "GrantAwarded":  # a reversed award leaves the application unawarded
                tx.execute_one(
                    "UPDATE grant_applications SET awarded_on = ? WHERE coop = ? AND application_id = ?",
                    (day.isoformat() if sign > 0 else None, coop, effect["application_id"]),
                )
            awarded, withdrawn, paid = tx.execute(
                "SELECT awarded_cents, withdrawn_cents, paid_cents FROM grant_applications WHERE coop = ? AND application_id = ?",
                (coop, effect["application_id"]),
            )[0]
            assert 0 <= paid <= awarded - withdrawn <= awarded, f"grant {coop}/{effect['application_id']} out of bounds"

    def _move(self, tx: Tx, coop: str, seq: int, source: str, day: date, kind: str, delta: Figures) -> None:
        tx.execute(
            f"INSERT INTO fund_movements (coop, seq, source, effective_date, kind, {', '.join(FIGURE_COLUMNS)})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (coop, seq, source, day.isoformat(), kind, *(getattr(delta, c) for c in FIGURE_COLUMNS)),
        )


# ---------------------------------------------------------------- reading


def _checked(coop: str, source: str, figures: Figures) -> dict[str, int]:
    if figures.available_cents < 0 or figures.cash_cents < 0 or figures.unspent_cents < 0:
        raise IntegrityViolation(f"{coop}: pot {source} below zero: {figures}")
    return figures.as_dict()


def pot_figures_by_source(tx: Tx, coop: str, as_of: date | None = None) -> dict[str, dict[str, int]]:
    """Every pot's figures as of a date (inclusive), by source ('fund', 'subsidy:<id>')."""
    sums = ", ".join(f"SUM({c})" for c in FIGURE_COLUMNS)
    rows = tx.execute(
        f"SELECT source, {sums} FROM fund_movements WHERE coop = ? AND effective_date <= ? GROUP BY source",  # noqa: S608
        (coop, (as_of or date.max).isoformat()),
    )
    return {source: _checked(coop, source, Figures(*(int(v) for v in values))) for source, *values in rows}


def cooperation_fund(db: Database, coop: str, *, as_of: date | None = None) -> dict[str, Any]:
    """The cooperation fund as of a date: what it received, its balance (cash held), what is
    committed (grants awarded not yet paid + unawarded envelopes of open calls) and what is
    available for a new call; plus the contributions called so far."""
    with db.read() as tx:
        figures = pot_figures_by_source(tx, coop, as_of).get(FUND, Figures().as_dict())
        called = tx.execute(
            "SELECT COALESCE(SUM(called_cents), 0) FROM contribution_years WHERE coop = ? AND declared_on <= ?",
            (coop, (as_of or date.max).isoformat()),
        )[0][0]
    return {
        "coop": coop,
        "as_of": as_of.isoformat() if as_of else None,
        "contributions_called_cents": int(called),
        "received_cents": figures["received_cents"],
        "balance_cents": figures["cash_cents"],
        "committed_cents": figures["committed_cents"],
        "available_cents": figures["available_cents"],
        "reserved_cents": figures["reserved_cents"],
        "awarded_cents": figures["awarded_cents"],
        "paid_cents": figures["paid_cents"],
        "unspent_cents": figures["unspent_cents"],  # the balance of the fund's dedicated account (195 / 4875)
    }


_CALL_COLUMNS = (
    "c.call_id, c.title, c.source, c.envelope_cents, c.min_award_cents, c.max_award_cents, c.max_laureates,"
    " c.members_only, c.opened_on, c.closed_on"
)


def calls_for_projects(
    db: Database, coop: str, *, include_closed: bool = False, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Calls (open ones unless include_closed) by call_id after `after`: envelope, awarded (net
    of withdrawals), paid, remaining envelope, outstanding, laureates and applications."""
    limit = max(1, min(limit, MAX_PAGE))
    status = "" if include_closed else " AND c.closed_on IS NULL"
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_CALL_COLUMNS}, COUNT(a.application_id), COALESCE(SUM(a.awarded_cents - a.withdrawn_cents), 0),"  # noqa: S608
            " COALESCE(SUM(a.paid_cents), 0), COALESCE(SUM(CASE WHEN a.awarded_cents > a.withdrawn_cents THEN 1 ELSE 0 END), 0)"
            " FROM grant_calls c LEFT JOIN grant_applications a ON a.coop = c.coop AND a.call_id = c.call_id"
            f" WHERE c.coop = ? AND c.call_id > ?{status} GROUP BY {_CALL_COLUMNS} ORDER BY c.call_id LIMIT ?",
            (coop, after, limit),
        )
    calls = []
    for (
        call_id,
        title,
        source,
        envelope,
        min_award,
        max_award,
        max_laureates,
        members_only,
        opened_on,
        closed_on,
        applications,
        awarded,
        paid,
        laureates,
    ) in rows:
        awarded, paid, laureates = int(awarded), int(paid), int(laureates)
        if not (0 <= paid <= awarded <= envelope and laureates <= max_laureates):
            raise IntegrityViolation(f"{coop}: call {call_id} breaks its envelope, bounds or laureates")
        calls.append(
            {
                "coop": coop,
                "call_id": call_id,
                "title": title,
                "source": source,
                "status": "closed" if closed_on else "open",
                "envelope_cents": int(envelope),
                "min_award_cents": int(min_award),
                "max_award_cents": int(max_award),
                "max_laureates": int(max_laureates),
                "members_only": bool(members_only),
                "opened_on": opened_on,
                "closed_on": closed_on,
                "applications": int(applications),
                "laureates": laureates,
                "awarded_cents": awarded,
                "paid_cents": paid,
                "remaining_cents": int(envelope) - awarded,
                "outstanding_cents": awarded - paid,
            }
        )
    return calls
