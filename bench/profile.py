"""Reads a cProfile of one rebuild: a breakdown by stage, and the costliest functions.

The stages are disjoint subtrees of `ProjectionRunner.catch_up`, so their shares add up:
reading notifications, decoding them into event objects, the projection's Python, its SQL
writes, and the transaction around each batch (positions, BEGIN/COMMIT).
"""

from __future__ import annotations

import pstats
from dataclasses import dataclass
from pathlib import Path

# (label, (file suffix, function name)) whose cumulative time is one stage.
_READ = ("read notifications (SELECT + fetch)", ("eventsourcing/sqlite.py", "eventsourcing/postgres.py"), "select_notifications")
_DECODE = ("decode stored events into event objects (JSON, UUID, dates)", ("eventsourcing/persistence.py",), "to_domain_event")
_PROCESS = ("balances projection: Python aggregation", ("projections/balances.py",), "process")
_WRITE = ("balances projection: upsert rows (executemany)", ("ledger/db.py",), "executemany")
_APPLY = ("batch transaction: positions, BEGIN/COMMIT", ("projections/runner.py",), "_apply")
_CATCH_UP = ("", ("projections/runner.py",), "catch_up")


@dataclass
class Stage:
    label: str
    seconds: float
    share: float


@dataclass
class Hotspot:
    function: str
    calls: int
    own_s: float
    cumulative_s: float
    share: float  # own time / profiled total


@dataclass
class ProfileSummary:
    total_s: float
    stages: list[Stage]
    hotspots: list[Hotspot]

    def share(self, label_start: str) -> float:
        return sum(s.share for s in self.stages if s.label.startswith(label_start))


def _cumulative(stats: pstats.Stats, suffixes: tuple[str, ...], name: str) -> float:
    total = 0.0
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and filename.replace("\\", "/").endswith(suffixes):
            total += ct
    return total


def _short(filename: str, line: int, function: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("site-packages/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker.startswith("/lib"):
                path = "stdlib:" + path.split("/", 1)[1]
            break
    else:
        for top in ("/projections/", "/ledger/", "/domain/", "/bench/"):
            if top in path:
                path = top.strip("/") + "/" + path.split(top, 1)[1]
                break
    if path == "~":
        return function  # a built-in
    return f"{path}:{line} {function}"


def summarize(path: Path, top: int = 12) -> ProfileSummary:
    """Stages of ProjectionRunner.rebuild with the set-based path: the SQL statements run inside
    the database, so their share is time the database worked, not Python."""
    stats = pstats.Stats(str(path))
    total = _cumulative(stats, ("projections/runner.py",), "rebuild")
    if total <= 0:
        total = stats.total_tt  # type: ignore[attr-defined]
    clear = _cumulative(stats, ("projections/balances.py",), "clear")
    in_store = _cumulative(stats, ("projections/balances.py",), "rebuild_in_store")
    finish = _cumulative(stats, ("projections/balances.py",), "finish_rebuild_in_store")
    whole = _cumulative(stats, ("projections/runner.py",), "_rebuild_in_store")
    catch_up = _cumulative(stats, *_CATCH_UP[1:])
    parts = [
        ("clear the view (TRUNCATE on PostgreSQL, DELETE on SQLite)", clear),
        ("sum the postings (rebuild_in_store: one INSERT ... SELECT over the postings table)", in_store),
        ("derive the party-less totals (finish_rebuild_in_store)", finish),
        ("commit, ANALYZE of the views, checks (rest of _rebuild_in_store)", whole - in_store - finish),
        ("catch_up afterwards (events decoded in Python: none left here)", catch_up),
    ]
    parts.append(("everything else in rebuild", total - sum(s for _, s in parts)))
    stages = [Stage(label, max(seconds, 0.0), max(seconds, 0.0) / total) for label, seconds in parts]
    rows = []
    for (filename, line, function), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(Hotspot(_short(filename, line, function), nc, tt, ct, tt / total))
    rows.sort(key=lambda h: h.own_s, reverse=True)
    return ProfileSummary(total, stages, rows[:top])
