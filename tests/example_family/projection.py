"""The tool library's view: each tool with its rate, the days it was rented and what it earned.
It brings its own table (`schema`), since it lives outside the projections package."""

from __future__ import annotations

from typing import Any

from domain.corrections import EntryReversed
from ledger.db import Tx
from projections.base import Projection
from projections.catalog import register
from tests.example_family.family import ToolRegistered, ToolRented


@register
class ToolLibraryProjection(Projection):
    name = "tool_library"
    tables = ("tool_library_tools",)
    schema = (
        "CREATE TABLE IF NOT EXISTS tool_library_tools (coop TEXT NOT NULL, tool_id TEXT NOT NULL, name TEXT NOT NULL,"
        " daily_rate_cents BIGINT NOT NULL, days_rented BIGINT NOT NULL, income_cents BIGINT NOT NULL,"
        " PRIMARY KEY (coop, tool_id))"
    )
    handlers = {ToolRegistered: "registered", ToolRented: "rented", EntryReversed: "reversed"}

    def registered(self, tx: Tx, e: ToolRegistered, _pos: int) -> None:
        tx.execute(
            "INSERT INTO tool_library_tools (coop, tool_id, name, daily_rate_cents, days_rented, income_cents)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            (e.coop, e.tool_id, e.name, e.daily_rate_cents),
        )

    def rented(self, tx: Tx, e: ToolRented, _pos: int) -> None:
        self._add(tx, e.coop, e.tool_id, e.days, e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, _pos: int) -> None:
        if e.reversed_kind == ToolRented.__name__:  # a rental cancelled: its days and income leave the tool
            effect: dict[str, Any] = e.reversed_effect
            self._add(tx, e.coop, effect["tool_id"], -effect["days"], -effect["amount_cents"])

    @staticmethod
    def _add(tx: Tx, coop: str, tool_id: str, days: int, income_cents: int) -> None:
        tx.execute_one(
            "UPDATE tool_library_tools SET days_rented = days_rented + ?, income_cents = income_cents + ? WHERE coop = ? "
            "AND tool_id = ?",
            (days, income_cents, coop, tool_id),
        )


def tools(tx: Tx, coop: str) -> list[tuple[Any, ...]]:
    return tx.execute(
        "SELECT tool_id, name, daily_rate_cents, days_rented, income_cents FROM tool_library_tools WHERE coop = ? ORDER BY "
        "tool_id",
        (coop,),
    )
