"""Bank reads shared by the CLI and the API: lines, open items, proposals and the reconciliation.

Lines, open items and proposals are read from the cooperative's state (the write model, where the
identities of bank lines are already opened: domain/bank_matching.py says why no view); the
reconciliation adds the ledger account's movements, read from the journal view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.bank_items import open_items
from domain.bank_matching import line_view, proposals
from domain.bank_reconciliation import Movement, reconciliation
from domain.bank_state import bank_state
from domain.errors import NotFound
from ledger.db import Database


def cooperative_state(ledger: Any, slug: str) -> Any:
    """The cooperative's state, or NotFound naming it."""
    try:
        return ledger.cooperative(slug)
    except AggregateNotFoundError:
        raise NotFound("coop", "known_cooperative", f"no cooperative {slug!r}") from None


def bank_accounts(ledger: Any, slug: str) -> list[dict[str, Any]]:
    coop = cooperative_state(ledger, slug)
    return [
        {
            "bank_account_id": a.bank_account_id,
            "iban": a.iban,
            "bic": a.bic,
            "ledger_account": a.ledger_account,
            "label": a.label,
            "opened_on": a.opened_on.isoformat(),
            "csv_mapping": a.csv_mapping,
            "statements": [
                {
                    "statement_id": s.statement_id,
                    "source": s.source,
                    "first_day": s.first_day.isoformat(),
                    "closing_date": s.closing_date.isoformat(),
                    "opening_cents": s.opening_cents,
                    "closing_cents": s.closing_cents,
                }
                for s in a.statements.values()
            ],
        }
        for a in bank_state(coop).accounts.values()
    ]


def bank_lines(ledger: Any, slug: str, bank_account_id: str, *, unmatched_only: bool = False) -> list[dict[str, Any]]:
    coop = cooperative_state(ledger, slug)
    account = bank_state(coop).account(bank_account_id)
    views = [line_view(coop, line) for line in bank_state(coop).lines.values() if line.bank_account_id == account.bank_account_id]
    return [v for v in views if v["status"] != "matched"] if unmatched_only else views


def bank_proposals(ledger: Any, slug: str, bank_account_id: str) -> list[dict[str, Any]]:
    coop = cooperative_state(ledger, slug)
    account = bank_state(coop).account(bank_account_id)
    return proposals(coop, account.bank_account_id)


def open_items_read(ledger: Any, slug: str) -> list[dict[str, Any]]:
    return [item.as_dict() for item in open_items(cooperative_state(ledger, slug))]


def movements(db: Database, slug: str, account: str, on: date) -> list[Movement]:
    """Every posting on `account` dated on or before `on`, in date order."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT l.effective_date, l.number, e.label, l.amount FROM journal_lines l"
            " JOIN journal_entries e ON e.coop = l.coop AND e.number = l.number"
            " WHERE l.coop = ? AND l.account = ? AND l.unit = 'EUR' AND l.effective_date <= ?"
            " ORDER BY l.effective_date, l.number, l.line",
            [slug, account, on.isoformat()],
        )
    return [Movement(_day(r[0]), int(r[1]), r[2], int(r[3])) for r in rows]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def bank_reconciliation(ledger: Any, db: Database, slug: str, bank_account_id: str, on: date) -> dict[str, Any]:
    coop = cooperative_state(ledger, slug)
    account = bank_state(coop).account(bank_account_id)
    return reconciliation(coop, account.bank_account_id, on, movements(db, slug, account.ledger_account, on))
