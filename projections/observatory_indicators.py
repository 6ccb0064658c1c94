"""The observatory's indicators of one cooperative as of a day, read in one snapshot: each with its
definition (French and English), its current value(s) and its monthly series. Each indicator is
worked out in projections/observatory_measures.py; this module reads what they share once (the
cooperative, its months, its monthly movements, the members' standing, the governance weights),
reuses those no event changed (projections/observatory_cache.py) and puts them in ORDER.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, cast

from ledger.db import Database, Tx
from projections import observatory_measures as measures
from projections.governance_reads import weights_as_of
from projections.observatory import is_public, last_event, monthly_moves
from projections.observatory_cache import CACHE
from projections.registry import cooperative_summary, member_standing

SERIES_MONTHS = 24  # the charts show the last two years (or since founding)


def _months(first: date, last: date) -> list[str]:
    start = max(first.replace(day=1), _shift(last.replace(day=1), -(SERIES_MONTHS - 1)))
    months, day = [], start
    for _ in range(SERIES_MONTHS):  # bounded
        if day > last:
            break
        months.append(day.isoformat()[:7])
        day = _shift(day, 1)
    return months


def _shift(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(month: str, today: date) -> date:
    """The month's last day, or today for the current month."""
    return min(_shift(date.fromisoformat(month + "-01"), 1) - timedelta(days=1), today)


class OneSnapshot:
    """A Database whose read() hands out one already-open read transaction, again and again.

    The read functions each open `db.read()` (or run `db.query()`); on PostgreSQL every such call
    borrows a pooled connection and, for read(), opens and closes a REPEATABLE READ transaction.
    Passed in their `db`'s place, this makes them all read in one snapshot (the figures agree with
    one another, too) without changing them. Everything but read(), query() and read_all() is the wrapped
    Database's.
    """

    def __init__(self, db: Database, tx: Tx) -> None:
        self._db, self._tx = db, tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        yield self._tx  # neither begun nor ended here: the caller's `db.read()` owns the transaction

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._tx.execute(sql, params)  # in the snapshot too

    def read_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
        return [self._tx.execute(sql, params) for sql, params in statements]  # in the snapshot too

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def observatory(db: Database, coop: str, *, today: date, position: int, cached: bool = True) -> dict[str, Any] | None:
    """Every indicator of `coop` on `today`, read in one snapshot; `position` is how far the views
    were when reading began. With `cached`, indicators no event changed since the last build are
    reused (projections/observatory_cache.py); without, all are read afresh."""
    with db.read() as tx:
        return _observatory(db, cast(Database, OneSnapshot(db, tx)), coop, today=today, position=position, cached=cached)


ORDER = (
    "members",
    "fees",
    "fund",
    "calls",
    "subsidies",
    "certifications",
    "subscriptions",
    "sensors",
    "shared_hours",
    "governance",
)


def _observatory(owner: Database, db: Database, coop: str, *, today: date, position: int, cached: bool) -> dict[str, Any] | None:
    summary = cooperative_summary(db, coop)
    if summary is None:
        return None
    start_month = summary["fiscal_year_start_month"]

    def fiscal_year(day: date) -> int:
        return day.year if day.month >= start_month else day.year - 1

    months = _months(date.fromisoformat(summary["founded_on"]), today)
    moves = monthly_moves(db, coop, months[0], months[-1]) if months else {}
    ends = [_month_end(m, today) for m in months]
    year = fiscal_year(today)
    last = last_event(db, coop)
    last_position = last["position"] if last else None
    reused, stale = CACHE.reusable(owner, db, coop, today.isoformat(), last_position, ORDER) if cached else ({}, set(ORDER))
    governance = (weights_as_of(db, coop, today) or {"colleges": []}) if stale & {"members", "governance"} else {}
    # Each fiscal year's standing is read once: the members' series and the fee rate share it.
    standing = (
        {y: member_standing(db, coop, y) for y in sorted({fiscal_year(d) for d in [*ends, today]})}
        if stale & {"members", "fees"}
        else {}
    )
    build: dict[str, Callable[[], dict[str, Any]]] = {
        "members": lambda: measures.members(standing, today, months, ends, moves, fiscal_year, governance),
        "fees": lambda: measures.fees(standing[year], year, months, ends, moves, fiscal_year),
        "fund": lambda: measures.fund(db, coop, today, months, moves),
        "calls": lambda: measures.calls(db, coop, months, moves),
        "subsidies": lambda: measures.subsidies(db, coop, today, months, moves),
        "certifications": lambda: measures.certifications(db, coop, today, months, ends, moves),
        "subscriptions": lambda: measures.subscriptions(db, coop, months, moves),
        "sensors": lambda: measures.sensors(db, coop, today, months, moves),
        "shared_hours": lambda: measures.shared_hours(db, coop, months, moves),
        "governance": lambda: measures.governance(governance),
    }
    indicators = {ident: build[ident]() if ident in stale else reused[ident] for ident in ORDER}
    if cached:
        CACHE.keep(owner, coop, today.isoformat(), last_position, indicators)
    return {
        "coop": coop,
        "name": summary["name"],
        "as_of": today.isoformat(),
        "fiscal_year": year,
        "position": position,
        "last_event": last,
        "public": is_public(db, coop, today),
        "months": months,
        "indicators": [indicators[ident] for ident in ORDER],
    }
