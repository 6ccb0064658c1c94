"""Fiscal-year closing: the year's result is carried to the result account, then the year is sealed.

Closing fiscal year Y posts one entry dated on Y's last day: every income (class 7) and expense
(class 6) account's EUR balance over the year is moved to the result account (role
`result_surplus`, 120, for a surplus; `result_deficit`, 129, for a deficit). The event,
`FiscalYearClosed`, also carries the chain head at that moment (the last entry's number and hash),
so the log itself holds what the books looked like when they were closed; its own link in the hash
chain covers that head and the closing entry.

From then on nothing can be dated on or before Y's last day: `ClosingState.check_open` is called
by `Cooperative.record`, `Cooperative.record_entry` and `Cooperative.check_effective_date`, the
three doors every decider goes through, so no family repeats the check. A correction of a closed
year is a reversal dated in the open year. A closing is never reversed: there is no reopening.

Fiscal years are named by the calendar year they start in (`Cooperative.fiscal_year_of`); the
default starts on 1 January, so year Y runs from Y-01-01 to Y-12-31.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import Conflict, InvalidCommand
from domain.events import FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.money import Unit, format_minor
from domain.roles import FINANCIAL
from domain.rules import EARLIEST_DATE, LATEST_DATE, a_date, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


def fiscal_year_bounds(year: int, start_month: int) -> tuple[date, date]:
    """First and last day of fiscal year `year` (named by the calendar year it starts in)."""
    first_day = date(year, start_month, 1)
    next_start = date(year + 1, start_month, 1)
    return first_day, next_start - timedelta(days=1)


# ---------------------------------------------------------------- command


@dataclass(frozen=True)
class CloseFiscalYear:
    """Carry the year's income and expenses to the result and seal the year (no reopening)."""

    coop: str
    year: int
    effective_date: date | None = None  # the fiscal year's last day; left out, it is filled in


# ---------------------------------------------------------------- event


class FiscalYearClosed(FinancialEvent):
    """The closing entry of a fiscal year and the seal of the chain head at closing.

    head_number / head_hash: the last entry before this one (0 / the genesis hash when none), i.e.
    the chain head sealed into the log; this event's own chain link (journal_number, chain_hash)
    covers it and the closing postings. The FEC leaves this entry out (docs/rules.md, FEC: the
    entries that close income and expense accounts into the result are excluded).
    """

    # A year with no income or expense balance has nothing to carry: the seal is still recorded,
    # as an entry without postings (the only kind of entry allowed to have none).
    EMPTY_ENTRY_ALLOWED: ClassVar[bool] = True

    year: int
    first_day: date
    last_day: date
    result_cents: int  # surplus positive, deficit negative
    head_number: int
    head_hash: str

    def apply(self, coop: Cooperative) -> None:
        super().apply(coop)
        coop.closing.close(self)

    def effect(self) -> dict[str, Any]:
        return {"year": self.year}

    @classmethod
    def check_reversible(cls, coop: Any, effect: dict[str, Any], day: date) -> None:
        raise InvalidCommand(
            "entry_number",
            "closing_is_final",
            f"this entry closes fiscal year {effect['year']}: a closed year is never reopened; "
            "record the correction in the open year",
        )


# ---------------------------------------------------------------- state


class ClosingState:
    """Which fiscal years are closed. Closings happen in order, so one date says it all: nothing
    may be dated on or before `closed_through` (earlier years without entries are sealed too)."""

    def __init__(self) -> None:
        self.closed_through: date | None = None
        # year -> {"number", "chain_hash", "head_number", "head_hash", "result_cents"}
        self.closed: dict[int, dict[str, Any]] = {}

    def close(self, event: FiscalYearClosed) -> None:
        assert self.closed_through is None or event.last_day > self.closed_through, "closings go forward"
        self.closed_through = event.last_day
        self.closed[event.year] = {
            "number": event.journal_number,
            "chain_hash": event.chain_hash,
            "head_number": event.head_number,
            "head_hash": event.head_hash,
            "result_cents": event.result_cents,
        }

    def check_open(self, day: date, field: str = "effective_date") -> None:
        """Refuses a date inside a closed fiscal year. Called on every write path."""
        if self.closed_through is not None and day <= self.closed_through:
            raise InvalidCommand(
                field,
                "fiscal_year_closed",
                f"{day} is in a closed fiscal year (the books are closed through {self.closed_through}); "
                "date it in the open year",
            )


# ---------------------------------------------------------------- decider


def _closing_day(coop: Cooperative, cmd: CloseFiscalYear, year: int, last_day: date) -> date:
    """Whether the year may be closed now, and on which day: once, outside the closed books, after
    the founding, on its last day, once over in real time, after every earlier year with entries."""
    state = coop.closing
    if year in state.closed:
        raise Conflict("year", "closed_once", f"fiscal year {year} was already closed by entry {state.closed[year]['number']}")
    if state.closed_through is not None and last_day <= state.closed_through:
        raise InvalidCommand(
            "year",
            "fiscal_year_closed",
            f"fiscal year {year} ends on {last_day}, inside the closed books (closed through {state.closed_through})",
        )
    if last_day < coop.founded_on:
        raise InvalidCommand(
            "year", "not_before_founding", f"fiscal year {year} ended before {coop.slug} was founded ({coop.founded_on})"
        )
    day = last_day if cmd.effective_date is None else a_date(cmd.effective_date, "effective_date")
    if day != last_day:
        raise InvalidCommand(
            "effective_date", "fiscal_year_end", f"a closing is dated on the fiscal year's last day, {last_day}; got {day}"
        )
    # The year must be over in real time too: closing a year still running would seal it against
    # the entries still to come. The recorded time is the clock's, like every event's timestamp.
    today = FiscalYearClosed.create_timestamp().date()
    if today <= last_day:
        raise InvalidCommand(
            "year",
            "fiscal_year_ended",
            f"fiscal year {year} runs until {last_day}; it can be closed from {last_day + timedelta(days=1)}",
        )
    earlier = sorted(
        {
            fy
            for fy in (coop.fiscal_year_of(date(y, m, 1)) for y, m in coop.journal.months)
            if fy < year
            and fy not in state.closed
            and (state.closed_through is None or date(fy, coop.fiscal_year_start_month, 1) > state.closed_through)
        }
    )
    if earlier:
        raise InvalidCommand(
            "year", "earlier_year_open", f"fiscal year {earlier[0]} has entries and is not closed: close it before {year}"
        )
    coop.check_effective_date(day)
    return day


def _result_postings(coop: Cooperative, first_day: date, last_day: date) -> tuple[list[list[Any]], int, str]:
    """What the closing entry posts: each result account of the year brought to zero, the balance
    to the surplus or the deficit account; with the result (a surplus is positive) and its words."""
    balances = coop.journal.result_balances_between(first_day, last_day)
    postings: list[list[Any]] = [
        [account, party, Unit.EUR.value, -amount]
        for (account, party), amount in sorted(balances.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]
    total = sum(balances.values())  # debit positive: a credit total is a surplus
    result_cents = -total
    if result_cents > 0:
        postings.append([coop.chart.role("result_surplus"), None, Unit.EUR.value, total])
        outcome = f"excédent de {format_minor(result_cents, Unit.EUR)} EUR"
    elif result_cents < 0:
        postings.append([coop.chart.role("result_deficit"), None, Unit.EUR.value, total])
        outcome = f"déficit de {format_minor(-result_cents, Unit.EUR)} EUR"
    else:
        outcome = "résultat nul"
    return postings, result_cents, outcome


def close_fiscal_year(coop: Cooperative, cmd: CloseFiscalYear, meta: Meta) -> None:
    year = whole_number(cmd.year, "year", minimum=EARLIEST_DATE.year, maximum=LATEST_DATE.year - 1)
    first_day, last_day = fiscal_year_bounds(year, coop.fiscal_year_start_month)
    day = _closing_day(coop, cmd, year, last_day)
    postings, result_cents, outcome = _result_postings(coop, first_day, last_day)
    coop.record_entry(
        FiscalYearClosed,
        effective_date=day,
        meta=meta,
        label=f"Clôture de l'exercice {year} ({first_day} – {last_day}) : {outcome}",
        postings=postings,
        year=year,
        first_day=first_day,
        last_day=last_day,
        result_cents=result_cents,
        head_number=coop.journal.last_number,
        head_hash=coop.journal.last_hash,
    )


FAMILY = register(
    Family(
        name="closing",
        commands={CloseFiscalYear: Handler(close_fiscal_year, FINANCIAL)},
        events={
            "FiscalYearClosed": Fact("fiscal_year.closed", "entries", journal="OD")  # the FEC leaves it out (docs/rules.md)
        },
        state=ClosingState,
    )
)
