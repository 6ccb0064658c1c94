"""The observatory's JSON, built at most once per views' position and kept as bytes.

A build reads every indicator in one snapshot (projections/observatory_indicators.py): far more
than a request should pay. Its bytes are kept per database, keyed by (cooperative, the views'
position, the day asked for). The position is read before the figures, so the bytes hold at least
what the views held there; any event recorded and projected moves the position, which misses the
cache and builds anew. The position keeps no older answer alive: a key holds the day too, and a
database keeps at most CACHE_SIZE answers.

One build per answer: requests that miss while it is being built wait for it and take its bytes
(single flight). Without that, every request that arrived between a new position and the first
build's end built the same answer again: 16 connections meant 16 builds at once, each 6× slower
for sharing the CPU (measured: the observatory's p99 was 5× the trivial route's, all of it in
the first second after a start or a new event).

The JSON route's hot path (no `min_position`, no standby) reads, in one statement (its own
snapshot), whether the observatory is public today and the views' position, awaited on the event
loop (ledger/loop_reads.py): the access check and the cache's freshness in one round trip, no
worker thread unless the cache misses.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from weakref import WeakKeyDictionary

import orjson
from fastapi import Request

from api.answers.observatory import Observatory, observatory_answer
from api.deps import Services, services
from ledger.db import Database
from projections.observatory import PUBLIC_SQL
from projections.observatory_indicators import observatory
from projections.runner import ProjectionRunner

CACHE_SIZE = 32  # answers per database: a few cooperatives, a few days, the latest position of each

_answers: WeakKeyDictionary[Database, OrderedDict[tuple[str, int, str], bytes]] = WeakKeyDictionary()
_building: dict[tuple[int, str, int, str], threading.Lock] = {}  # answers being built: (id(db), coop, position, day)
_lock = threading.Lock()  # guards _answers and _building; never held while building


def cached(db: Database, coop: str, position: int, today: date) -> bytes | None:
    with _lock:
        return _answers.get(db, {}).get((coop, position, today.isoformat()))


def _keep(db: Database, coop: str, position: int, today: date, body: bytes) -> None:
    with _lock:
        answers = _answers.setdefault(db, OrderedDict())
        answers[(coop, position, today.isoformat())] = body
        while len(answers) > CACHE_SIZE:
            answers.popitem(last=False)  # the oldest answer built


def build(svc: Services, coop: str, today: date, db: Database | None = None, position: int | None = None) -> bytes | None:
    """The observatory's JSON from `db` (default: the primary), as of the views' `position`, read now
    unless given (read before the figures: a standby's position is its own, behind the primary's)."""
    db = db or svc.ledger.db
    if position is None:
        position = svc.runner.position() if db is svc.ledger.db else svc.reads.position_of(db)  # type: ignore[union-attr]
    body = cached(db, coop, position, today)
    if body is not None:
        return body
    key = (id(db), coop, position, today.isoformat())
    with _lock:
        gate = _building.setdefault(key, threading.Lock())
    try:
        with gate:  # the first caller builds; the others wait here, then find its bytes
            body = cached(db, coop, position, today)
            if body is None:
                body = _built(db, coop, today, position)
            return body
    finally:
        with _lock:
            if _building.get(key) is gate:
                del _building[key]  # kept (or None: no such cooperative) by now


def _built(db: Database, coop: str, today: date, position: int) -> bytes | None:
    report = observatory(db, coop, today=today, position=position)
    if report is None:
        return None
    # The wire's form, checked once per build: the page's stream sends these same bytes.
    report = {**observatory_answer(report), "generated_at": datetime.now(UTC).isoformat()}
    Observatory.model_validate(report)
    body = orjson.dumps(report)
    _keep(db, coop, position, today, body)
    return body


_statements: WeakKeyDictionary[ProjectionRunner, tuple[str, int]] = WeakKeyDictionary()


def access_and_position_statement(runner: ProjectionRunner) -> tuple[str, int]:
    """One statement: how many projections have a position, the lowest one (the views' position,
    as ProjectionRunner.position()) and whether the observatory of a cooperative (the statement's
    two parameters: coop, day) is public that day; and how many projections it should count.
    Made once per runner: the projections' names are written in it, not dumped as 20 parameters
    on every request (they are the code's own identifiers, checked as such)."""
    found = _statements.get(runner)
    if found is None:
        names = [p.name for p in runner.projections]
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names), names
        listed = ", ".join(f"'{name}'" for name in names)
        sql = f"SELECT COUNT(*), MIN(position), ({PUBLIC_SQL}) FROM projection_positions WHERE projection IN ({listed})"  # noqa: S608
        found = _statements[runner] = (sql, len(names))
    return found


async def public_and_position(request: Request, coop: str, on: date) -> tuple[bool, int]:
    """(public on `on`, the views' position) of the primary, read in one statement on the event loop
    (in a worker thread on SQLite)."""
    svc = services(request)
    sql, projections = access_and_position_statement(svc.runner)
    ((count, position, public),) = await svc.loop_reads.query(svc.ledger.db, sql, (coop, on.isoformat()))  # type: ignore[union-attr]
    assert count == projections, f"{projections - count} projections have no position"
    return bool(public), int(position)
