"""Reads from PostgreSQL hot standbys (COOPLEDGER_READ_DATABASE_URL), the primary as the fallback.

The views are ordinary tables, replicated with everything else by PostgreSQL's streaming
replication; so are their positions (`projection_positions`). A read that must see a position
(`min_position`, read-your-writes) waits until the *standby's* positions reach it: the standby
then has replayed both the event and its projection. Commands, receipt look-ups and the projection
runners stay on the primary; a standby is read-only anyway.

A standby is skipped for the primary, counted in `coopledger_standby_skipped_total{standby,reason}`,
when it is down (`down`), no longer a standby (`not_standby`: promoted, or pointed at a primary),
further behind than `max_lag_ms` (`lagging`) or slower than STANDBY_WAIT_S to reach a wanted
position (`behind`). Its state is probed at most every PROBE_INTERVAL_S by the request that finds
it stale, so a healthy standby costs no extra query per read.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg_pool import PoolTimeout

from ledger.db import Database
from ledger.store import StoreConfig

log = structlog.get_logger("coopledger.replicas")

PROBE_INTERVAL_S = 0.5
# A standby must reach a wanted position within this share of the read-your-writes wait; then the
# read goes to the primary, which still has the rest of the wait.
STANDBY_WAIT_S = 1.0
STANDBY_POLL_S = 0.005
DEFAULT_MAX_LAG_MS = 5000
# A standby that is down must not hold a read up: short waits for its pool and its connections.
STANDBY_POOL_WAIT_S = 0.5
STANDBY_CONNECT_TIMEOUT_S = 1
UNREACHABLE = (psycopg.OperationalError, PoolTimeout)

OnSkip = Callable[[str, str], None]  # (standby, reason): counts a read that skipped it


@dataclass
class StandbyState:
    up: bool = False
    reason: str = "not_probed"
    replay_lag_ms: float | None = None
    replay_lag_bytes: int | None = None
    position: int | None = None  # the slowest view's position on the standby
    probed_at: float = 0.0


def views_position(db: Database, names: Sequence[str]) -> int:
    """The slowest of these views' positions in `db` (its own copy of projection_positions)."""
    marks = ", ".join("?" for _ in names)
    rows = db.query(f"SELECT min(position) FROM projection_positions WHERE projection IN ({marks})", names)  # noqa: S608
    return int(rows[0][0] or 0)  # one statement: no snapshot to open (one round trip, not two)


class Standby:
    def __init__(self, config: StoreConfig, names: Sequence[str]) -> None:
        self.name = f"{config.pg_host}:{config.pg_port}"
        self.db = Database(config, pool_wait_s=STANDBY_POOL_WAIT_S, connect_timeout_s=STANDBY_CONNECT_TIMEOUT_S)
        self.names = list(names)
        self.state = StandbyState()
        self.probing = threading.Lock()

    def position(self) -> int:
        return views_position(self.db, self.names)

    def probe(self, primary: Database, max_lag_ms: int) -> StandbyState:
        """The standby's replay lag (bytes of WAL behind the primary, and the age of its last replayed
        commit when behind at all) and its views' position. The standby unreachable is a state, not
        an error; the primary unreachable raises (the request fails as any other would)."""
        state = StandbyState(probed_at=time.monotonic())
        try:
            with self.db.read() as tx:
                ((recovering, replay_lsn, age_ms),) = tx.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000"
                )
            state.position = self.position()
        except UNREACHABLE as exc:
            state.reason = f"down: {type(exc).__name__}"
            return state
        if not recovering:
            state.reason = "not_standby"
            return state
        with primary.read() as tx:
            ((behind,),) = tx.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)", (replay_lsn,))
        state.replay_lag_bytes = max(0, int(behind))
        # Caught up: no lag, however long ago the last commit was (an idle primary is not lag).
        state.replay_lag_ms = 0.0 if state.replay_lag_bytes == 0 else float(age_ms or 0.0)
        state.up = state.replay_lag_ms <= max_lag_ms
        state.reason = "ok" if state.up else "lagging"
        return state

    def reaches(self, position: int, timeout_s: float) -> bool:
        """Polls the standby's positions (no LISTEN on a standby) until they reach `position`."""
        deadline = time.monotonic() + timeout_s
        for _ in range(int(timeout_s / STANDBY_POLL_S) + 2):  # bounded; the deadline decides first
            if self.position() >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(STANDBY_POLL_S)
        return False

    def close(self) -> None:
        self.db.close()


def max_lag_ms_setting(value: str | None = None) -> int:
    """COOPLEDGER_READ_MAX_LAG_MS (or `value`): how far behind a standby may be and still serve reads."""
    value = value if value is not None else os.environ.get("COOPLEDGER_READ_MAX_LAG_MS", str(DEFAULT_MAX_LAG_MS))
    if not value.strip().isdigit():
        raise ValueError(f"COOPLEDGER_READ_MAX_LAG_MS: must be a whole number of milliseconds (0 or more), not {value!r}")
    return int(value)


class ReadRouter:
    """Chooses the database of a read: a usable standby (round robin), else the primary."""

    def __init__(
        self,
        primary: Database,
        standbys: Sequence[Standby],
        wait_primary: Callable[[int, float], bool],
        on_skip: OnSkip | None = None,
        max_lag_ms: int = DEFAULT_MAX_LAG_MS,
    ) -> None:
        self.primary = primary
        self.standbys = list(standbys)
        self.wait_primary = wait_primary
        self.on_skip = on_skip or (lambda _standby, _reason: None)
        self.max_lag_ms = max_lag_ms
        self._turn = itertools.count()

    @classmethod
    def from_configs(
        cls,
        primary: Database,
        configs: Sequence[StoreConfig],
        names: Sequence[str],
        wait_primary: Callable[[int, float], bool],
        on_skip: OnSkip | None = None,
    ) -> ReadRouter:
        """Standbys from their configurations; the lag limit from COOPLEDGER_READ_MAX_LAG_MS."""
        return cls(primary, [Standby(c, names) for c in configs], wait_primary, on_skip, max_lag_ms_setting())

    def choose(self, min_position: int | None, timeout_s: float) -> Database | None:
        """The database to read from; None when no database reached `min_position` in time."""
        started = time.monotonic()
        standby = self._usable()
        if standby is not None:
            if min_position is None:
                return standby.db
            try:
                if standby.reaches(min_position, min(STANDBY_WAIT_S, timeout_s)):
                    return standby.db
                self._skip(standby, "behind")
            except UNREACHABLE as exc:
                self._mark_down(standby, exc)
        if min_position is None:
            return self.primary
        remaining = max(0.0, timeout_s - (time.monotonic() - started))
        return self.primary if self.wait_primary(min_position, remaining) else None

    def _usable(self) -> Standby | None:
        """The next standby in turn whose last probe found it up (probing the stale ones)."""
        for _ in range(len(self.standbys)):
            standby = self.standbys[next(self._turn) % len(self.standbys)]
            state = self._fresh_state(standby)
            if state.up:
                return standby
            self._skip(standby, state.reason.partition(":")[0])
        return None

    def _fresh_state(self, standby: Standby) -> StandbyState:
        if time.monotonic() - standby.state.probed_at < PROBE_INTERVAL_S:
            return standby.state
        if not standby.probing.acquire(blocking=False):
            return standby.state  # another request is probing it: use what is known
        try:
            before, standby.state = standby.state, standby.probe(self.primary, self.max_lag_ms)
            if before.reason != standby.state.reason:
                log.info(
                    "standby_state_changed",
                    standby=standby.name,
                    reason=standby.state.reason,
                    was=before.reason,
                    replay_lag_ms=standby.state.replay_lag_ms,
                )
        finally:
            standby.probing.release()
        return standby.state

    def _mark_down(self, standby: Standby, exc: BaseException) -> None:
        log.warning("standby_unreachable", standby=standby.name, error=f"{type(exc).__name__}: {exc}")
        standby.state = StandbyState(reason=f"down: {type(exc).__name__}", probed_at=time.monotonic())
        self._skip(standby, "down")

    def _skip(self, standby: Standby, reason: str) -> None:
        self.on_skip(standby.name, reason)

    def position_of(self, db: Database) -> int:
        """The views' position in a standby's database."""
        standby = next(s for s in self.standbys if s.db is db)
        return standby.position()

    def name_of(self, db: Database) -> str:
        """ "primary", or the standby's host:port (the label of the metrics)."""
        return next((s.name for s in self.standbys if s.db is db), "primary")

    def status(self, primary_position: int) -> list[dict[str, Any]]:
        """Each standby as /health shows it (probing the stale ones)."""
        found = []
        for standby in self.standbys:
            state = self._fresh_state(standby)
            behind = None if state.position is None else max(0, primary_position - state.position)
            found.append(
                {
                    "standby": standby.name,
                    "up": state.up,
                    "reason": state.reason,
                    "replay_lag_ms": state.replay_lag_ms,
                    "replay_lag_bytes": state.replay_lag_bytes,
                    "projected": state.position,
                    "lag_positions": behind,
                }
            )
        return found

    def close(self) -> None:
        for standby in self.standbys:
            standby.close()
