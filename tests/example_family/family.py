"""The tool library (outilthèque): a cooperative lends its tools to members for a daily rate,
paid when the tool is taken. An example family, never shipped: everything it needs is here and in
projection.py, and the rest of the program learns of it from FAMILY below.

Rules: a tool is registered once, with a positive daily rate in euros; a rental names a registered
tool, a member of the cooperative and 1 to 365 days; the member pays days × rate at the bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.cooperative import Cooperative
from domain.errors import Conflict, NotFound
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EurosIn, Unit, format_minor, to_minor
from domain.roles import CLERK, FINANCIAL
from domain.rules import identifier, text, whole_number

MAX_DAYS = 365


@dataclass(frozen=True)
class RegisterTool:
    coop: str
    tool_id: str
    name: str
    daily_rate: EurosIn  # per day, e.g. "7.50"
    effective_date: date


@dataclass(frozen=True)
class RentTool:
    coop: str
    tool_id: str
    member_id: str
    days: int
    effective_date: date


class ToolRegistered(CoopEvent):
    tool_id: str
    name: str
    daily_rate_cents: int

    def apply(self, coop: Cooperative) -> None:
        coop.tool_library.tools[self.tool_id] = self.daily_rate_cents  # type: ignore[attr-defined]


class ToolRented(FinancialEvent):
    tool_id: str
    member_id: str
    days: int
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        """What a reversal undoes (domain/corrections.py): here only the view keeps figures per tool."""
        return {"tool_id": self.tool_id, "days": self.days, "amount_cents": self.amount_cents}


@dataclass
class ToolLibraryState:
    tools: dict[str, int] = field(default_factory=dict)  # tool id -> daily rate in cents


def register_tool(coop: Cooperative, cmd: RegisterTool, meta: Meta) -> None:
    tool_id = identifier(cmd.tool_id, "tool_id")
    if tool_id in coop.tool_library.tools:  # type: ignore[attr-defined]
        raise Conflict("tool_id", "unique_tool", f"tool {tool_id!r} is already registered in {coop.slug}")
    name = text(cmd.name, "name", max_chars=200)
    rate_cents = to_minor(cmd.daily_rate, Unit.EUR, "daily_rate")
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(ToolRegistered, effective_date=day, meta=meta, tool_id=tool_id, name=name, daily_rate_cents=rate_cents)


def rent_tool(coop: Cooperative, cmd: RentTool, meta: Meta) -> None:
    tool_id = identifier(cmd.tool_id, "tool_id")
    rate_cents = coop.tool_library.tools.get(tool_id)  # type: ignore[attr-defined]
    if rate_cents is None:
        raise NotFound("tool_id", "known_tool", f"no tool {tool_id!r} in {coop.slug}")
    member = coop.member(identifier(cmd.member_id, "member_id"))
    days = whole_number(cmd.days, "days", minimum=1, maximum=MAX_DAYS)
    day = coop.check_effective_date(cmd.effective_date)
    amount = days * rate_cents
    # The bank receives it; 706 (services rendered) is in every chart.
    postings: list[list[Any]] = [[coop.chart.role("bank"), None, Unit.EUR.value, amount], ["706", None, Unit.EUR.value, -amount]]
    coop.record_entry(
        ToolRented,
        effective_date=day,
        meta=meta,
        postings=postings,
        label=f"Location {tool_id} – {days} j – {format_minor(amount, Unit.EUR)} EUR",
        tool_id=tool_id,
        member_id=member.member_id,
        days=days,
        amount_cents=amount,
    )


FAMILY = register(
    Family(
        name="tool_library",
        commands={RegisterTool: Handler(register_tool, CLERK | FINANCIAL), RentTool: Handler(rent_tool, FINANCIAL)},
        events={
            "ToolRegistered": Fact("tool.registered", "activities"),
            "ToolRented": Fact("tool.rented", "entries", journal="BQ"),
        },
        state=ToolLibraryState,
        # Its own rules, outside the shipped catalogue: they join the published ones.
        rules={"known_tool": "the tool is registered", "unique_tool": "a tool id is registered once"},
    )
)
