"""The journal: every entry with its lines, numbered per cooperative, and account statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.events import FinancialEvent
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000


class JournalProjection(Projection):
    name = "journal"
    tables = ("journal_entries", "journal_lines")

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        entries, lines, reversals = [], [], []
        for position, e in batch:
            if not isinstance(e, FinancialEvent):
                continue
            day = e.effective_date.isoformat()
            reverses = e.reverses if isinstance(e, EntryReversed) else None
            entries.append(
                (
                    e.coop,
                    e.journal_number,
                    e.kind,
                    day,
                    e.timestamp.isoformat(),
                    e.label,
                    e.actor,
                    e.idempotency_key,
                    reverses,
                    None,  # reversed_by: set when the reversal comes (a parameter, so BufferedTx can COPY the rows)
                    e.chain_hash,
                    position,
                )
            )
            for line, (account, party, unit, amount) in enumerate(e.postings, start=1):
                lines.append((e.coop, e.journal_number, line, account, party or "", unit, amount, day))
            if reverses is not None:
                reversals.append((e.journal_number, e.coop, reverses))
        tx.executemany(
            "INSERT INTO journal_entries (coop, number, kind, effective_date, recorded_at, label, actor,"
            " idempotency_key, reverses, reversed_by, chain_hash, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            entries,
        )
        tx.executemany(
            "INSERT INTO journal_lines (coop, number, line, account, party, unit, amount, effective_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            lines,
        )
        for row in reversals:
            tx.execute_one("UPDATE journal_entries SET reversed_by = ? WHERE coop = ? AND number = ?", row)


def has_entries_after(db: Database, coop: str, number: int) -> bool:
    """Whether the journal holds an entry numbered after `number` (a page's `more`)."""
    with db.read() as tx:
        return bool(tx.execute("SELECT 1 FROM journal_entries WHERE coop = ? AND number > ? LIMIT 1", (coop, number)))


def journal_page(db: Database, coop: str, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Entries numbered after `after`, in order, each with its lines; asserts each balances."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        heads = tx.execute(
            "SELECT number, kind, effective_date, recorded_at, label, actor, idempotency_key, reverses,"
            " reversed_by, chain_hash, position FROM journal_entries WHERE coop = ? AND number > ?"
            " ORDER BY number LIMIT ?",
            (coop, after, limit),
        )
        if not heads:
            return []
        rows = tx.execute(
            "SELECT number, line, account, party, unit, amount FROM journal_lines"
            " WHERE coop = ? AND number BETWEEN ? AND ? ORDER BY number, line",
            (coop, heads[0][0], heads[-1][0]),
        )
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for number, _line, account, party, unit, amount in rows:
        lines[number].append({"account": account, "party": party or None, "unit": unit, "amount": amount})
    expected = after + 1
    page = []
    for number, kind, day, recorded_at, label, actor, key, reverses, reversed_by, chain_hash, position in heads:
        if number != expected:
            raise IntegrityViolation(f"{coop}: journal jumps from entry {expected - 1} to {number}")
        expected += 1
        totals: dict[str, int] = defaultdict(int)
        for posting in lines[number]:
            totals[posting["unit"]] += posting["amount"]
        # A fiscal-year closing with no income or expense to carry is the one entry without lines.
        if any(totals.values()) or (len(lines[number]) < 2 and not (kind == "FiscalYearClosed" and not lines[number])):
            raise IntegrityViolation(f"{coop}: entry {number} does not balance per unit: {dict(totals)}")
        page.append(
            {
                "number": number,
                "kind": kind,
                "effective_date": day,
                "recorded_at": recorded_at,
                "label": label,
                "actor": actor,
                "idempotency_key": key,
                "reverses": reverses,
                "reversed_by": reversed_by,
                "chain_hash": chain_hash,
                "position": position,
                "postings": lines[number],
            }
        )
    return page


def journal(db: Database, coop: str, *, page_size: int = MAX_PAGE, max_entries: int = 10_000_000) -> list[dict[str, Any]]:
    """The whole journal, read page by page (bounded)."""
    entries: list[dict[str, Any]] = []
    while len(entries) < max_entries:
        page = journal_page(db, coop, after=entries[-1]["number"] if entries else 0, limit=page_size)
        if not page:
            break
        entries.extend(page)
    return entries


def statement(
    db: Database,
    coop: str,
    account: str,
    *,
    party: str | None = None,
    unit: str = "EUR",
    as_of: date | None = None,
    after_line: int = 0,
    limit: int = 500,
) -> dict[str, Any]:
    """Account (or account × party) movements in date order with a running balance.

    Paged by line index: `after_line` skips what a previous page returned; the running
    balance carries over because it is computed over everything before the page.
    """
    limit = max(1, min(limit, MAX_PAGE))
    day = (as_of or date.max).isoformat()
    where = "l.coop = ? AND l.account = ? AND l.unit = ? AND l.effective_date <= ?"
    params: list[Any] = [coop, account, unit, day]
    if party is not None:
        where += " AND l.party = ?"
        params.append(party)
    rows = db.query(  # one statement: no snapshot to open
        "SELECT l.effective_date, l.number, l.line, e.label, l.party, l.amount FROM journal_lines l"
        " JOIN journal_entries e ON e.coop = l.coop AND e.number = l.number"
        f" WHERE {where} ORDER BY l.effective_date, l.number, l.line",  # noqa: S608
        params,
    )
    running = sum(r[5] for r in rows[:after_line])
    lines = []
    for effective_date, number, _line, label, line_party, amount in rows[after_line : after_line + limit]:
        running += amount
        lines.append(
            {
                "effective_date": effective_date,
                "number": number,
                "label": label,
                "party": line_party or None,
                "debit": amount if amount > 0 else 0,
                "credit": -amount if amount < 0 else 0,
                "balance": running,
            }
        )
    return {
        "coop": coop,
        "account": account,
        "party": party,
        "unit": unit,
        "as_of": as_of.isoformat() if as_of else None,
        "lines": lines,
        "total_lines": len(rows),
        "closing_balance": sum(r[5] for r in rows),
    }
