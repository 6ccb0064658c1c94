"""The observatory's projection: what the indicators' monthly charts need, and the public setting.

The indicators' current figures come from the other projections' read functions (registry,
governance, grants, subsidies, certifications, sensors, shared hours): one rule, one place. What
none of them keeps is a history by month, so this projection stores movements per
(cooperative, month, metric, dimension); a chart is their running sum (stocks: members, the
fund) or the month's own value (flows: revenue, hours). The indicators are assembled by
projections/observatory_indicators.py.

Each financial event's movements are remembered by journal number, so its reversal negates
exactly what it added, dated on the reversal's effective date as the other projections do.
Movements are summed per batch in memory and written as one upsert per key, so a rebuild of a
large log writes few rows. ReadingsAccepted (the high-volume event) is not handled here: its
monthly figures are read from the sensors projection's rows per day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.certifications import CertificationGranted
from domain.cooperative import CooperativeFounded
from domain.corrections import EntryReversed
from domain.events import CoopEvent, FinancialEvent
from domain.federation import BooksSealedByFederation
from domain.fees import FeeCallCarried, FeeCalled, FeePaid
from domain.funds_carry import CallCarried, CooperationFundCarried, SubsidyCarried
from domain.grants import CallClosed, CallOpened
from domain.membership import MemberAdmitted, MemberExcluded, MemberResigned, MemberTransferred
from domain.observatory import ObservatoryVisibilitySet
from domain.pots import FUND, Figures
from domain.receivables_carry import CertificationCarried
from domain.sensors import CreditsRedeemedForMoney, CreditsRedeemedForService, SensorRegistered, SensorRetired
from domain.sensors_carry import SensorCarried
from domain.shared_hours import SharedHoursLogged, SharedHoursRebilled
from domain.shared_hours_carry import SharedEmployeeCarried
from domain.subscriptions import SubscriptionBilled, SubscriptionPaid
from ledger.db import Database, Tx
from projections.base import Projection
from projections.closing import event_head_at
from projections.grants import FIGURE_COLUMNS, POT_ENTRIES

Move = tuple[str, str, int]  # (metric, dimension, value)


def month_of(day: date) -> str:
    return day.isoformat()[:7]


def pot_kind(source: str) -> str:
    """The observatory shows the cooperation fund and the subsidies (all pots but the fund) together."""
    return "fund" if source == FUND else "subsidy"


def pot_moves(source: str, delta: Figures) -> list[Move]:
    """A pot's movement as observatory moves: one per figure that moved, e.g. ('pot:paid_cents', 'fund', 500)."""
    return [(f"pot:{c}", pot_kind(source), getattr(delta, c)) for c in FIGURE_COLUMNS if getattr(delta, c)]


def _entry_moves(e: FinancialEvent) -> list[Move]:
    """The moves a financial event makes (empty for events the observatory does not chart)."""
    if isinstance(e, FeeCalled):
        return [("fee_called", str(e.year), e.amount_cents)]
    if isinstance(e, FeePaid):
        return [("fee_paid", str(e.year), e.amount_cents)]
    if type(e).__name__ in POT_ENTRIES:
        return pot_moves(*POT_ENTRIES[type(e).__name__].pot_movement(e.effect()))
    if isinstance(e, SubscriptionBilled):
        return [("subscription_billed", e.period, e.amount_cents)]
    if isinstance(e, SubscriptionPaid):
        return [("subscription_paid", e.period, e.amount_cents)]
    if isinstance(e, CertificationGranted):
        return [("certifications_granted", "", 1)]
    if isinstance(e, (CreditsRedeemedForMoney, CreditsRedeemedForService)):
        return [("credits_redeemed", "money" if isinstance(e, CreditsRedeemedForMoney) else "service", e.credits_minor)]
    if isinstance(e, SharedHoursLogged):
        return [("hours_logged", e.structure_id, e.minutes)]
    if isinstance(e, SharedHoursRebilled):
        moves: list[Move] = []
        for structure, minutes, cents in e.shares:
            moves += [("hours_rebilled", structure, minutes), ("hours_billed_cents", structure, cents)]
        return moves
    return []


class _Batch:
    """One batch's writes, summed in memory; lookups see the batch's own earlier events first."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.moves: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self.coops: dict[str, list[Any]] = {}  # coop -> [name or None, last position, recorded at]
        self.members: dict[tuple[str, str], str] = {}
        self.calls: dict[tuple[str, str], str] = {}
        self.entries: dict[tuple[str, int], list[Move]] = {}
        self.visibility: list[tuple[str, int, str, int]] = []

    def move(self, coop: str, day: date, moves: list[Move], sign: int = 1) -> None:
        for metric, dim, value in moves:
            self.moves[(coop, month_of(day), metric, dim)] += sign * value

    def college(self, coop: str, member_id: str) -> str:
        found = self.members.get((coop, member_id))
        if found is None:
            rows = self.tx.execute("SELECT college FROM observatory_members WHERE coop = ? AND member_id = ?", (coop, member_id))
            assert rows, f"observatory: member {coop}/{member_id} was never admitted"
            found = rows[0][0]
        return found

    def member_counts(self, coop: str) -> dict[str, int]:
        """Members per college now: the stored monthly moves plus this batch's own."""
        counts: dict[str, int] = defaultdict(int)
        rows = self.tx.execute(
            "SELECT dim, SUM(value) FROM observatory_months WHERE coop = ? AND metric = 'members' GROUP BY dim", (coop,)
        )
        for college, count in rows:
            counts[college] += int(count)
        for (c, _month, metric, college), value in self.moves.items():
            if c == coop and metric == "members":
                counts[college] += value
        return dict(counts)

    def source(self, coop: str, call_id: str) -> str:
        found = self.calls.get((coop, call_id))
        if found is None:
            rows = self.tx.execute("SELECT source FROM observatory_calls WHERE coop = ? AND call_id = ?", (coop, call_id))
            assert rows, f"observatory: call {coop}/{call_id} was never opened"
            found = rows[0][0]
        return found

    def entry(self, coop: str, number: int) -> list[Move]:
        found = self.entries.get((coop, number))
        if found is None:
            rows = self.tx.execute("SELECT moves_json FROM observatory_entries WHERE coop = ? AND number = ?", (coop, number))
            found = [tuple(m) for m in json.loads(rows[0][0])] if rows else []  # type: ignore[misc]
        return found

    def flush(self) -> None:
        tx = self.tx
        tx.executemany(
            "INSERT INTO observatory_coops (coop, name, last_position, last_recorded_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (coop) DO UPDATE SET last_position = excluded.last_position, last_recorded_at = "
            "excluded.last_recorded_at",
            [(coop, name or "", pos, at) for coop, (name, pos, at) in self.coops.items()],
        )
        tx.executemany(
            "INSERT INTO observatory_members (coop, member_id, college) VALUES (?, ?, ?)"
            " ON CONFLICT (coop, member_id) DO UPDATE SET college = excluded.college",
            [(*key, college) for key, college in self.members.items()],
        )
        tx.executemany(
            "INSERT INTO observatory_calls (coop, call_id, source) VALUES (?, ?, ?)",
            [(*key, source) for key, source in self.calls.items()],
        )
        tx.executemany(
            "INSERT INTO observatory_entries (coop, number, moves_json) VALUES (?, ?, ?)",
            [(*key, json.dumps(moves)) for key, moves in self.entries.items() if moves],
        )
        tx.executemany(
            "INSERT INTO observatory_visibility (coop, seq, effective_date, public) VALUES (?, ?, ?, ?)", self.visibility
        )
        tx.executemany(
            "INSERT INTO observatory_months (coop, month, metric, dim, value) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (coop, month, metric, dim) DO UPDATE SET value = observatory_months.value + excluded.value",
            [(*key, value) for key, value in self.moves.items() if value],
        )
        # A month whose movements cancel out across batches (a payment, then its reversal) holds no
        # row, exactly as when both arrive in one batch: a rebuild must equal the incremental view.
        tx.executemany(
            "DELETE FROM observatory_months WHERE coop = ? AND month = ? AND metric = ? AND dim = ? AND value = 0",
            [key for key, value in self.moves.items() if value],
        )


class ObservatoryProjection(Projection):
    name = "observatory"
    tables = (
        "observatory_coops",
        "observatory_visibility",
        "observatory_months",
        "observatory_members",
        "observatory_calls",
        "observatory_entries",
    )

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        b = _Batch(tx)
        for seq, e in batch:
            if not isinstance(e, CoopEvent):
                continue
            # Every event of a cooperative says it is alive: "last event at ..." on the page.
            known = b.coops.get(e.coop)
            b.coops[e.coop] = [known[0] if known else None, seq, e.timestamp.isoformat()]
            self._one(b, e, seq)
        b.flush()

    def _one(self, b: _Batch, e: CoopEvent, seq: int) -> None:  # noqa: C901 (one branch per event kind, flat on purpose)
        coop, day = e.coop, e.effective_date
        if isinstance(e, CooperativeFounded):
            b.coops[coop][0] = e.name
        elif isinstance(e, MemberAdmitted):
            b.members[(coop, e.member_id)] = e.college
            b.move(coop, day, [("members", e.college, 1)])
        elif isinstance(e, MemberTransferred):
            b.members[(coop, e.member_id)] = e.to_college
            b.move(coop, day, [("members", e.from_college, -1), ("members", e.to_college, 1)])
        elif isinstance(e, (MemberResigned, MemberExcluded)):
            b.move(coop, day, [("members", b.college(coop, e.member_id), -1)])
        elif isinstance(e, CallOpened):
            b.calls[(coop, e.call_id)] = e.source
            b.move(coop, day, pot_moves(e.source, e.pot_movement()))
        elif isinstance(e, CallClosed):
            b.move(coop, day, pot_moves(b.source(coop, e.call_id), e.pot_movement()))
        elif isinstance(e, (CooperationFundCarried, SubsidyCarried)):  # a founder's pot, summed, on the federation date
            b.move(coop, day, pot_moves(e.pot_source(), e.figures()))
        elif isinstance(e, CallCarried):  # its envelope is already on the carried pot
            b.calls[(coop, e.call_id)] = e.source
        elif isinstance(e, (SensorRegistered, SensorCarried)):  # a carried sensor is in service here from the federation date
            b.move(coop, day, [("sensors_registered", "", 1)])
        elif isinstance(e, SensorRetired):
            b.move(coop, day, [("sensors_retired", "", 1)])
        elif isinstance(e, BooksSealedByFederation):  # its members moved to the federation
            per_college = b.member_counts(coop)
            assert sum(per_college.values()) == e.members_moved, (
                f"observatory: {coop} counts {per_college}, seal moved {e.members_moved}"
            )
            b.move(coop, day, [("members", college, -count) for college, count in sorted(per_college.items()) if count])
        elif isinstance(e, FeeCallCarried):  # the founder's call and payments count in the federation's year
            b.move(coop, day, [("fee_called", str(e.year), e.called_cents), ("fee_paid", str(e.year), e.paid_cents)])
        elif isinstance(e, CertificationCarried):  # held here: the certified chart starts at the first certification
            b.move(coop, day, [("certifications_granted", "", 1)])
        # SubscriptionCarried moves nothing: its bills are the founder's revenue (in the opening's result line).
        elif isinstance(e, SharedEmployeeCarried):  # its hours are to rebill here, as if logged on the federation date
            b.move(coop, day, [("hours_logged", s, n) for m in e.months for s, n in m["structures"]])
        elif isinstance(e, ObservatoryVisibilitySet):
            b.visibility.append((coop, seq, day.isoformat(), int(e.public)))
        elif isinstance(e, EntryReversed):
            b.move(coop, day, b.entry(coop, e.reverses), -1)
        elif isinstance(e, FinancialEvent):
            moves = _entry_moves(e)
            if moves:
                b.entries[(coop, e.journal_number)] = moves
                b.move(coop, day, moves)


# ---------------------------------------------------------------- reading (the raw rows; indicators elsewhere)


# The setting in force for (coop, day): a scalar subquery too (the JSON route reads it with the views' position).
PUBLIC_SQL = (
    "SELECT public FROM observatory_visibility WHERE coop = ? AND effective_date <= ?"
    " ORDER BY effective_date DESC, seq DESC LIMIT 1"
)


def is_public(db: Database, coop: str, on: date) -> bool:
    """Whether the cooperative's observatory is public on `on` (private unless a setting says so)."""
    rows = db.query(PUBLIC_SQL, (coop, on.isoformat()))  # one statement, no snapshot to open
    return bool(rows and rows[0][0])


def last_event(db: Database, coop: str) -> dict[str, Any] | None:
    """The cooperative's last event: its position in the log, when it was recorded, and the head of
    the event chain there."""
    with db.read() as tx:
        rows = tx.execute("SELECT name, last_position, last_recorded_at FROM observatory_coops WHERE coop = ?", (coop,))
        head = event_head_at(tx, int(rows[0][1])) if rows else None
    if not rows:
        return None
    name, position, at = rows[0]
    # The event chain's head at that event (N:HASH): a reader can compare it with a head kept elsewhere.
    return {"name": name, "position": int(position), "recorded_at": at, "head": head["head"] if head else None}


def monthly_moves(db: Database, coop: str, first: str, last: str) -> dict[tuple[str, str], dict[str, int]]:
    """{(metric, dim): {month: value}} for months in [first, last]; movements dated before `first`
    are summed under the key '' (the opening of a running sum). Later months are left out."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT CASE WHEN month < ? THEN '' ELSE month END, metric, dim, SUM(value) FROM observatory_months"
            " WHERE coop = ? AND month <= ? GROUP BY 1, 2, 3",  # by position: the same on both stores
            (first, coop, last),
        )
    result: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for month, metric, dim, value in rows:
        result[(metric, dim)][month] = int(value)
    return result


def totals_by_dim(db: Database, coop: str, metrics: Sequence[str]) -> dict[str, dict[str, int]]:
    """{metric: {dim: total over every month}}, e.g. subscription revenue per period label."""
    marks = ", ".join("?" for _ in metrics)
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT metric, dim, SUM(value) FROM observatory_months WHERE coop = ? AND metric IN ({marks})"  # noqa: S608
            " GROUP BY metric, dim",
            (coop, *metrics),
        )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for metric, dim, value in rows:
        result[metric][dim] = int(value)
    return result
