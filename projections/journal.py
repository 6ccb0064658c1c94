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
from projections.lookups import account_known, party_known, require_account_and_party

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
    balance carries over because the database sums everything before the page (see
    statement_query). An unknown account or party reads as an empty statement here; the API
    asks checked_statement instead.
    """
    sql, params = statement_query(coop, account, party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit)
    rows = db.query(sql, params)  # one statement: no snapshot to open
    return _page(coop, account, rows, party=party, unit=unit, as_of=as_of)


def checked_statement(
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
    """statement after require_account_and_party, both asked in one statement; an unknown account or
    party raises NotFound listing what exists."""
    sql, params = statement_query(coop, account, party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit)
    page = statement_if_known(coop, account, db.query(sql, params), party=party, unit=unit, as_of=as_of)
    if page is not None:
        return page
    require_account_and_party(db, coop, account, party)  # raises, naming what exists
    return statement(db, coop, account, party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit)


def statement_query(
    coop: str,
    account: str,
    *,
    party: str | None = None,
    unit: str = "EUR",
    as_of: date | None = None,
    after_line: int = 0,
    limit: int = 500,
) -> tuple[str, list[Any]]:
    """The statement page's one statement and its parameters (the API awaits it on its event loop).

    Only the page's lines come back, each with the running balance, the line count and the closing
    balance summed by window functions over every line of the account up to `as_of` (the page is cut
    after the windows: a page's balance carries the lines before it). Every row also says whether
    the account and the party are known (statement_if_known); an empty page is one row of NULL
    lines, whose count and closing balance two aggregates compute, only then (a CASE branch not
    taken runs no subquery, on either store).
    """
    limit = max(1, min(limit, MAX_PAGE))
    where = "coop = ? AND account = ? AND unit = ? AND effective_date <= ?"
    where_params: list[Any] = [coop, account, unit, (as_of or date.max).isoformat()]
    if party is not None:
        where += " AND party = ?"
        where_params.append(party)
    account_sql, account_params = account_known(coop, account)
    party_sql, party_params = party_known(coop, party) if party is not None else ("1 = 1", ())
    sql = (
        "SELECT k.account_known, k.party_known, p.effective_date, p.number,"
        " (SELECT label FROM journal_entries e WHERE e.coop = ? AND e.number = p.number), p.party, p.amount,"
        # PostgreSQL sums integers into numeric (a Decimal, slow to read and to key a memo with): cast
        # back; a sum beyond 64 bits (about 92 million billion euros) then fails in the database.
        " CAST(p.running AS BIGINT),"
        f" CASE WHEN p.number IS NULL THEN (SELECT COUNT(*) FROM journal_lines WHERE {where}) ELSE p.total END,"
        f" CAST(CASE WHEN p.number IS NULL THEN (SELECT SUM(amount) FROM journal_lines WHERE {where}) ELSE p.closing END"
        " AS BIGINT)"
        f" FROM (SELECT {account_sql} AS account_known, {party_sql} AS party_known) k"
        " LEFT JOIN (SELECT effective_date, number, line, party, amount,"
        " ROW_NUMBER() OVER lines_in_order AS n, SUM(amount) OVER lines_in_order AS running,"
        " COUNT(*) OVER () AS total, SUM(amount) OVER () AS closing"
        f" FROM journal_lines WHERE {where}"
        " WINDOW lines_in_order AS (ORDER BY effective_date, number, line ROWS UNBOUNDED PRECEDING)) p"
        " ON p.n > ? AND p.n <= ?"
        " ORDER BY p.n"
    )  # noqa: S608 (constant SQL)
    params = [coop, *where_params, *where_params, *account_params, *party_params, *where_params, after_line, after_line + limit]
    return sql, params


def statement_if_known(
    coop: str,
    account: str,
    rows: list[tuple[Any, ...]],
    *,
    party: str | None = None,
    unit: str = "EUR",
    as_of: date | None = None,
) -> dict[str, Any] | None:
    """The page from statement_query's rows, or None when the account or the party is unknown (then
    checked_statement says which)."""
    if not (rows[0][0] and rows[0][1]):
        return None
    return _page(coop, account, rows, party=party, unit=unit, as_of=as_of)


def _page(
    coop: str, account: str, rows: list[tuple[Any, ...]], *, party: str | None, unit: str, as_of: date | None
) -> dict[str, Any]:
    lines = [
        {
            "effective_date": effective_date,
            "number": number,
            "label": label,
            "party": line_party or None,
            "debit": amount if amount > 0 else 0,
            "credit": -amount if amount < 0 else 0,
            "balance": int(running),  # PostgreSQL sums a BIGINT to a NUMERIC
        }
        for _a, _p, effective_date, number, label, line_party, amount, running, _t, _c in rows
        if number is not None
    ]
    return {
        "coop": coop,
        "account": account,
        "party": party,
        "unit": unit,
        "as_of": as_of.isoformat() if as_of else None,
        "lines": lines,
        "total_lines": int(rows[0][8]),
        "closing_balance": int(rows[0][9] or 0),  # no line: SUM is NULL
    }
