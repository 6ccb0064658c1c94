"""The audit trail: every event of a cooperative with who recorded it, when, under which
idempotency key and why; entries with their number, label and accounts; reversals with what
they reverse. Filtered by date, actor, account or kind, paged by log position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from domain.corrections import EntryReversed
from domain.events import CoopEvent, FinancialEvent
from domain.personal import personal_of
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000
DATE_FIELDS = ("recorded", "effective")


class AuditTrailProjection(Projection):
    name = "audit_trail"
    tables = ("audit_trail", "audit_trail_accounts")
    identity_columns = (("audit_trail", "reason_of", ("reason",)),)

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        rows, accounts = [], []
        for position, e in batch:
            if not isinstance(e, CoopEvent):
                continue
            number = label = reverses = None
            if isinstance(e, FinancialEvent):
                number, label = e.journal_number, e.label
                reverses = e.reverses if isinstance(e, EntryReversed) else None
                accounts.extend((e.coop, account, position) for account in sorted({p[0] for p in e.postings}))
            rows.append(
                (
                    position,
                    e.coop,
                    e.originator_version,
                    e.kind,
                    e.timestamp.isoformat(),
                    e.effective_date.isoformat(),
                    e.actor,
                    e.idempotency_key,
                    e.reason,
                    number,
                    reverses,
                    label,
                    _reason_of(e),
                )
            )
        tx.executemany(
            "INSERT INTO audit_trail (position, coop, version, kind, recorded_at, effective_date, actor, idempotency_key,"
            " reason, journal_number, reverses, label, reason_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        tx.executemany("INSERT INTO audit_trail_accounts (coop, account, position) VALUES (?, ?, ?)", accounts)


def _reason_of(event: CoopEvent) -> str | None:
    """The person whose identity the event's reason is (declared in its PERSONAL), if any."""
    for declared in personal_of(type(event)):
        if declared.within is None and "reason" in declared.fields:
            return getattr(event, declared.person, None)
    return None


_COLUMNS = (
    "position",
    "version",
    "kind",
    "recorded_at",
    "effective_date",
    "actor",
    "idempotency_key",
    "reason",
    "journal_number",
    "reverses",
    "label",
)


def audit_trail(
    db: Database,
    coop: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    date_field: str = "recorded",
    actor: str | None = None,
    account: str | None = None,
    kind: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """One page of the trail, oldest first, after log position `after`.

    date_from / date_to are inclusive days of the recorded time (UTC) or, with
    date_field="effective", of the effective date. `next_after` is the cursor for the next page
    (None when this page is the last)."""
    assert date_field in DATE_FIELDS, f"date_field must be one of {DATE_FIELDS}"
    limit = max(1, min(limit, MAX_PAGE))
    where, params = ["t.coop = ?", "t.position > ?"], [coop, after]
    column = "t.recorded_at" if date_field == "recorded" else "t.effective_date"
    if date_from is not None:
        where.append(f"{column} >= ?")
        params.append(date_from.isoformat())
    if date_to is not None:  # ISO text compares as dates; a timestamp of date_to sorts before date_to + 1
        where.append(f"{column} < ?")
        params.append((date_to + timedelta(days=1)).isoformat())
    if actor is not None:
        where.append("t.actor = ?")
        params.append(actor)
    if kind is not None:
        where.append("t.kind = ?")
        params.append(kind)
    join = ""
    if account is not None:
        join = " JOIN audit_trail_accounts a ON a.coop = t.coop AND a.position = t.position AND a.account = ?"
        params.insert(0, account)
    sql = (
        f"SELECT {', '.join('t.' + c for c in _COLUMNS)} FROM audit_trail t{join}"  # noqa: S608 (constant columns)
        f" WHERE {' AND '.join(where)} ORDER BY t.position LIMIT ?"
    )
    with db.read() as tx:
        rows = tx.execute(sql, [*params, limit + 1])
        page = rows[:limit]
        positions = [row[0] for row in page]
        touched: dict[int, list[str]] = {p: [] for p in positions}
        if positions:
            marks = ", ".join("?" for _ in positions)
            for position, acc in tx.execute(
                f"SELECT position, account FROM audit_trail_accounts WHERE coop = ? AND position IN ({marks})"  # noqa: S608
                " ORDER BY position, account",
                [coop, *positions],
            ):
                touched[position].append(acc)
    events = [{"coop": coop, **dict(zip(_COLUMNS, row, strict=True)), "accounts": touched[row[0]]} for row in page]
    return {"coop": coop, "events": events, "next_after": positions[-1] if len(rows) > limit else None}
