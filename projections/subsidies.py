"""Read model of subsidies received: granted vs received, and what is still unspent and
available (its dedicated funds), as of any date from the pots' dated movements."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.funds_carry import SubsidyCarried
from domain.pots import Figures, subsidy_source
from domain.subsidies import SubsidyGranted, SubsidyReceived, SubsidyUsed
from ledger.db import Database, Tx
from projections.base import Projection
from projections.grants import pot_figures_by_source

MAX_PAGE = 1000
_COLUMN = {"SubsidyReceived": "received_cents", "SubsidyUsed": "used_cents"}


class SubsidiesProjection(Projection):
    name = "subsidies"
    tables = ("subsidies",)
    handlers = {
        SubsidyGranted: "granted",
        SubsidyReceived: "moved",
        SubsidyUsed: "moved",
        EntryReversed: "reversed",
        SubsidyCarried: "carried",
    }

    def granted(self, tx: Tx, e: SubsidyGranted, _seq: int) -> None:
        tx.execute(
            "INSERT INTO subsidies (coop, subsidy_id, funder, purpose, granted_cents, received_cents, used_cents, granted_on)"
            " VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
            (e.coop, e.subsidy_id, e.funder, e.purpose, e.amount_cents, e.effective_date.isoformat()),
        )

    def carried(self, tx: Tx, e: SubsidyCarried, _seq: int) -> None:
        """A founder's subsidy, carried by a federation: granted on its date here, with the founder's figures."""
        tx.execute(
            "INSERT INTO subsidies (coop, subsidy_id, funder, purpose, granted_cents, received_cents, used_cents, granted_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.subsidy_id,
                e.funder,
                e.purpose,
                e.granted_cents,
                e.received_cents,
                e.used_cents,
                e.effective_date.isoformat(),
            ),
        )

    def moved(self, tx: Tx, e: SubsidyReceived | SubsidyUsed, _seq: int) -> None:
        self._add(tx, e.coop, e.subsidy_id, _COLUMN[e.kind], e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, _seq: int) -> None:
        effect = e.reversed_effect
        if e.reversed_kind == "SubsidyGranted":  # only ever reversed while untouched
            tx.execute_one(
                "DELETE FROM subsidies WHERE coop = ? AND subsidy_id = ? AND received_cents = 0 AND used_cents = 0",
                (e.coop, effect["subsidy_id"]),
            )
        elif e.reversed_kind in _COLUMN:
            self._add(tx, e.coop, effect["subsidy_id"], _COLUMN[e.reversed_kind], -effect["amount_cents"])

    def _add(self, tx: Tx, coop: str, subsidy_id: str, column: str, amount: int) -> None:
        tx.execute_one(
            f"UPDATE subsidies SET {column} = {column} + ? WHERE coop = ? AND subsidy_id = ?",  # noqa: S608 (constant)
            (amount, coop, subsidy_id),
        )
        granted, received = tx.execute(
            "SELECT granted_cents, received_cents FROM subsidies WHERE coop = ? AND subsidy_id = ?", (coop, subsidy_id)
        )[0]
        assert 0 <= received <= granted, f"subsidy {coop}/{subsidy_id}: received {received} outside 0..{granted}"


# ---------------------------------------------------------------- reading


def subsidies_overview(
    db: Database, coop: str, *, as_of: date | None = None, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Subsidies granted on or before `as_of`, by subsidy_id after `after`: granted, received,
    still to receive, used directly, awarded by the calls it funds, grants paid from it,
    unspent (its dedicated funds: 194 / 4876) and available (unspent less open envelopes)."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        rows = tx.execute(
            "SELECT subsidy_id, funder, purpose, granted_on, granted_cents, received_cents, used_cents FROM subsidies"
            " WHERE coop = ? AND granted_on <= ? AND subsidy_id > ? ORDER BY subsidy_id LIMIT ?",
            (coop, (as_of or date.max).isoformat(), after, limit),
        )
        pots = pot_figures_by_source(tx, coop, as_of)
    result = []
    for subsidy_id, funder, purpose, granted_on, granted, received, used in rows:
        f = pots.get(subsidy_source(subsidy_id), Figures().as_dict())
        if as_of is None and (f["inflow_cents"], f["received_cents"], f["used_cents"]) != (granted, received, used):
            raise IntegrityViolation(f"{coop}: subsidy {subsidy_id} disagrees with its pot's movements")
        if not 0 <= f["paid_cents"] <= f["received_cents"] <= f["inflow_cents"]:
            raise IntegrityViolation(f"{coop}: subsidy {subsidy_id} received more than granted or paid more than received")
        result.append(
            {
                "coop": coop,
                "subsidy_id": subsidy_id,
                "funder": funder,
                "purpose": purpose,
                "granted_on": granted_on,
                "granted_cents": f["inflow_cents"],
                "received_cents": f["received_cents"],
                "to_receive_cents": f["inflow_cents"] - f["received_cents"],
                "used_cents": f["used_cents"],
                "awarded_cents": f["awarded_cents"],
                "grants_paid_cents": f["paid_cents"],
                "reserved_cents": f["reserved_cents"],
                "unspent_cents": f["unspent_cents"],
                "available_cents": f["available_cents"],
            }
        )
    return result
