"""Fiscal years (open or closed, with the seal of each closing) and the heads of the hash chains.

Two heads are shown. The journal's (last entry number and hash) covers entries; the event chain's
(N:HASH, N the cooperative's event count) covers every event in full and is the one to keep
outside the store: in the minutes of a closing or an assembly, checked later with
`coopledger verify --coop ID --head N:HASH` (docs/reliability.md).

`fiscal_years` has a row per fiscal year that holds entries or was closed; a closing fills in its
result, its own chain link (closing_number, closing_hash) and the head it sealed (head_number,
head_hash: the last entry before it). `chain_heads` is each cooperative's last link. Both are
views for reading; `coopledger verify` recomputes the chain from the stored events themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.closing import FiscalYearClosed, fiscal_year_bounds
from domain.cooperative import CooperativeFounded
from domain.events import FinancialEvent
from domain.journal import GENESIS_HASH
from ledger.chain import CHAIN_TABLE, EVENTS_TABLES, GENESIS_LINK
from ledger.db import Database, Tx
from projections.base import Projection


class FiscalYearsProjection(Projection):
    name = "fiscal_years"
    tables = ("fiscal_year_calendars", "fiscal_years", "chain_heads")
    after = ("journal", "audit_trail")  # a closing reads the year's entries and the trail's last position

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        start_months: dict[str, int] = {}  # this batch's view of the calendars, read once per coop
        entries: Counter[tuple[str, int]] = Counter()
        heads: dict[str, tuple[int, str, str, int]] = {}
        closings: list[tuple[int, FiscalYearClosed]] = []
        for position, e in batch:
            if isinstance(e, CooperativeFounded):
                tx.execute(
                    "INSERT INTO fiscal_year_calendars (coop, start_month) VALUES (?, ?)", (e.coop, e.fiscal_year_start_month)
                )
                start_months[e.coop] = e.fiscal_year_start_month
            if not isinstance(e, FinancialEvent):
                continue
            if e.coop not in start_months:
                rows = tx.execute("SELECT start_month FROM fiscal_year_calendars WHERE coop = ?", (e.coop,))
                assert rows, f"{e.coop}: an entry before the cooperative was founded"
                start_months[e.coop] = int(rows[0][0])
            entries[(e.coop, _fiscal_year(e.effective_date, start_months[e.coop]))] += 1
            heads[e.coop] = (e.journal_number, e.chain_hash, e.timestamp.isoformat(), position)
            if isinstance(e, FiscalYearClosed):
                closings.append((position, e))
        rows = []
        for (coop, year), count in entries.items():
            first_day, last_day = fiscal_year_bounds(year, start_months[coop])
            rows.append((coop, year, first_day.isoformat(), last_day.isoformat(), count))
        tx.executemany(
            "INSERT INTO fiscal_years (coop, year, first_day, last_day, entries, status) VALUES (?, ?, ?, ?, ?, 'open')"
            " ON CONFLICT (coop, year) DO UPDATE SET entries = fiscal_years.entries + excluded.entries",
            rows,
        )
        for _position, c in closings:  # the closing entry is dated in its year: the row exists
            tx.execute_one(
                "UPDATE fiscal_years SET status = 'closed', result_cents = ?, closing_number = ?, closing_hash = ?,"
                " head_number = ?, head_hash = ?, closed_at = ?, closed_by = ? WHERE coop = ? AND year = ? AND status = 'open'",
                (
                    c.result_cents,
                    c.journal_number,
                    c.chain_hash,
                    c.head_number,
                    c.head_hash,
                    c.timestamp.isoformat(),
                    c.actor,
                    c.coop,
                    c.year,
                ),
            )
        tx.executemany(
            "INSERT INTO chain_heads (coop, last_number, last_hash, recorded_at, position) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (coop) DO UPDATE SET last_number = excluded.last_number, last_hash = excluded.last_hash,"
            " recorded_at = excluded.recorded_at, position = excluded.position",
            [(coop, *head) for coop, head in heads.items()],
        )


def _fiscal_year(day: date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


# ---------------------------------------------------------------- reading

_YEAR_COLUMNS = (
    "year",
    "first_day",
    "last_day",
    "entries",
    "status",
    "result_cents",
    "closing_number",
    "closing_hash",
    "head_number",
    "head_hash",
    "closed_at",
    "closed_by",
)


def event_head_at(tx: Tx, position: int) -> dict[str, Any] | None:
    """The head of the event chain at the event stored at `position` in the log: the version of
    that event in its cooperative's stream and its link (ledger/chain.py), written N:HASH. Read from
    the store's own tables, the same way on both stores."""
    events = EVENTS_TABLES[tx.dialect]
    where = "e.rowid = ?" if tx.dialect == "sqlite" else "e.notification_id = ?"
    rows = tx.execute(
        f"SELECT e.originator_version, h.event_hash FROM {events} e JOIN {CHAIN_TABLE} h"  # noqa: S608
        f" ON h.originator_id = e.originator_id AND h.originator_version = e.originator_version WHERE {where}",
        (position,),
    )
    if not rows:
        return None
    version, link = int(rows[0][0]), str(rows[0][1])
    return {"events": version, "link": link, "head": f"{version}:{link}", "position": position}


def views_head(tx: Tx, coop: str) -> dict[str, Any]:
    """The head of the cooperative's event chain as far as the views have read its events (every
    event is in the audit trail): what a figure read beside it is computed from. Before any event:
    0 and the genesis link."""
    rows = tx.execute("SELECT MAX(position) FROM audit_trail WHERE coop = ?", (coop,))
    position = rows[0][0] if rows else None
    head = event_head_at(tx, int(position)) if position is not None else None
    return head or {"events": 0, "link": GENESIS_LINK, "head": f"0:{GENESIS_LINK}", "position": None}


def _closing_heads(tx: Tx, coop: str) -> dict[int, str | None]:
    """{closing entry number: the event head N:HASH at that closing}."""
    rows = tx.execute(
        "SELECT j.number, j.position FROM journal_entries j JOIN fiscal_years f ON f.coop = j.coop"
        " AND f.closing_number = j.number WHERE j.coop = ?",
        (coop,),
    )
    heads = {}
    for number, position in rows:
        head = event_head_at(tx, int(position))
        heads[int(number)] = head["head"] if head else None
    return heads


def fiscal_years(db: Database, coop: str) -> list[dict[str, Any]]:
    """Every fiscal year holding entries or closed, oldest first, with its status and seal."""
    with db.read() as tx:
        rows = tx.execute(f"SELECT {', '.join(_YEAR_COLUMNS)} FROM fiscal_years WHERE coop = ? ORDER BY year", (coop,))  # noqa: S608
        heads = _closing_heads(tx, coop)
    years = [{"coop": coop, **dict(zip(_YEAR_COLUMNS, row, strict=True))} for row in rows]
    return [{**y, "event_head": heads.get(y["closing_number"]) if y["closing_number"] is not None else None} for y in years]


def chain_head(db: Database, coop: str) -> dict[str, Any]:
    """The chain's last link (number 0 and the genesis hash before any entry) and the heads
    sealed at each closing."""
    with db.read() as tx:
        head = tx.execute("SELECT last_number, last_hash, recorded_at, position FROM chain_heads WHERE coop = ?", (coop,))
        sealed = tx.execute(
            "SELECT year, last_day, closing_number, closing_hash, head_number, head_hash, closed_at FROM fiscal_years"
            " WHERE coop = ? AND status = 'closed' ORDER BY year",
            (coop,),
        )
        events = views_head(tx, coop)
        closing_heads = _closing_heads(tx, coop)
    number, chain_hash, recorded_at, position = head[0] if head else (0, GENESIS_HASH, None, None)
    return {
        "coop": coop,
        "last_number": int(number),
        "last_hash": chain_hash,
        "recorded_at": recorded_at,
        "position": position,
        "head": events["head"],
        "events": events["events"],
        "sealed": [
            {
                "year": year,
                "closed_through": last_day,
                "closing_number": int(n),
                "closing_hash": h,
                "head_number": int(hn),
                "head_hash": hh,
                "closed_at": at,
                "event_head": closing_heads.get(int(n)),
            }
            for year, last_day, n, h, hn, hh, at in sealed
        ],
    }
