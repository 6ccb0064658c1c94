"""Reports out: trial balance, balance sheet, income statement and account statement for a period,
as JSON (default) or CSV (`?format=csv`). Read role "reports": admin, treasurer, auditor, board."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from api.answers import reports as answers
from api.deps import fresh, reader, views
from api.errors import PROBLEM_RESPONSES, ApiError
from api.examples import problem
from api.keys import Principal
from api.read_examples import report
from api.schemas import IsoDate
from ledger.db import Database
from projections import reports
from projections.lookups import require_account, require_party
from projections.registry import cooperative_summary

START = Query(None, description="First day of the period, YYYY-MM-DD (default: from the beginning).")
END = Query(None, description="Last day of the period, inclusive, YYYY-MM-DD (default: everything recorded).")
YEAR = Query(
    None, ge=1901, le=2198, description="A fiscal year instead of start and end (named by the calendar year it starts in)."
)
FORMAT = Query("json", pattern="^(json|csv)$", description="json, or csv: the report's lines, amounts in minor units.")
# A period given twice: the one error these routes answer in their own words.
YEAR_OR_DATES = problem(
    422,
    "Invalid query",
    "give either year or start/end, not both",
    "year",
    "year_or_dates",
    "Invalid period: the problem names the query field and the rule",
)


def _period(db: Database, coop: str, start: date | None, end: date | None, year: int | None) -> tuple[date | None, date | None]:
    if cooperative_summary(db, coop) is None:
        raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
    if year is not None:
        if start is not None or end is not None:
            raise ApiError(422, "Invalid query", "give either year or start/end, not both", field="year", rule="year_or_dates")
        return reports.fiscal_year_bounds(db, coop, year)
    if start is not None and end is not None and start > end:
        raise ApiError(
            422, "Invalid query", f"the period starts ({start}) after it ends ({end})", field="start", rule="before_end"
        )
    return start, end


def _answer(name: str, report: dict[str, Any], fmt: str, to_wire: Callable[[dict[str, Any]], Any]) -> Any:
    """The report as CSV (the projection's lines, minor units), or as JSON in the wire's form."""
    if fmt == "csv":
        return Response(
            reports.to_csv(name, report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{report["coop"]}-{name}.csv"'},
        )
    return to_wire(report)


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}/reports", tags=["reports"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)
    _statement_routes(r)
    _account_route(r)
    return r


def _statement_routes(r: APIRouter) -> None:
    """The cooperative's statements for a period: trial balance, balance sheet, income statement."""

    @r.get(
        "/trial-balance",
        summary="Per unit and account: balance before the period, debits, credits, balance after",
        response_model=answers.TrialBalanceReport,
        responses={**report("report_trial_balance"), **YEAR_OR_DATES},
    )
    def get_trial_balance_report(
        coop: str,
        start: IsoDate | None = START,
        end: IsoDate | None = END,
        year: int | None = YEAR,
        format: str = FORMAT,
        _who: Principal = Depends(reader("reports")),
        db: Database = Depends(views),
    ) -> Any:
        first, last = _period(db, coop, start, end, year)
        trial = reports.trial_balance(db, coop, start=first, end=last)
        return _answer("trial-balance", trial, format, answers.trial_balance_report)

    @r.get(
        "/balance-sheet",
        summary="Assets, liabilities and equity (EUR) at the end of a period, in French order",
        response_model=answers.BalanceSheet,
        responses={**report("balance_sheet"), **YEAR_OR_DATES},
    )
    def get_balance_sheet(
        coop: str,
        end: IsoDate | None = END,
        year: int | None = YEAR,
        format: str = FORMAT,  # noqa: A002
        _who: Principal = Depends(reader("reports")),
        db: Database = Depends(views),
    ) -> Any:
        _first, last = _period(db, coop, None, end, year)
        return _answer("balance-sheet", reports.balance_sheet(db, coop, end=last), format, answers.balance_sheet)

    @r.get(
        "/income-statement",
        summary="Expenses and income (EUR) over a period, closing entries left out",
        response_model=answers.IncomeStatement,
        responses={**report("income_statement"), **YEAR_OR_DATES},
    )
    def get_income_statement(
        coop: str,
        start: IsoDate | None = START,
        end: IsoDate | None = END,
        year: int | None = YEAR,
        format: str = FORMAT,
        _who: Principal = Depends(reader("reports")),
        db: Database = Depends(views),
    ) -> Any:
        first, last = _period(db, coop, start, end, year)
        income = reports.income_statement(db, coop, start=first, end=last)
        return _answer("income-statement", income, format, answers.income_statement)


def _account_route(r: APIRouter) -> None:
    """One account's (or one party's) movements over a period."""

    @r.get(
        "/accounts/{account}/statement",
        summary="Movements of an account (or a party on it) over a period, running balance",
        response_model=answers.StatementReport,
        responses={**report("report_statement"), **YEAR_OR_DATES},
    )
    def get_statement_report(
        coop: str,
        account: str,
        party: str | None = Query(None, max_length=64),
        unit: str = Query("EUR", pattern="^(EUR|CREDIT|HOUR)$", description="The unit of the amounts: EUR, CREDIT or HOUR."),
        start: IsoDate | None = START,
        end: IsoDate | None = END,
        year: int | None = YEAR,
        after_line: int = Query(0, ge=0, le=10**9, description="Lines already read."),
        limit: int = Query(500, ge=1, le=reports.MAX_STATEMENT_LINES),
        format: str = FORMAT,  # noqa: A002
        _who: Principal = Depends(reader("reports")),
        db: Database = Depends(views),
    ) -> Any:
        first, last = _period(db, coop, start, end, year)
        require_account(db, coop, account)
        if party is not None:
            require_party(db, coop, account, party)
        report = reports.account_statement(
            db, coop, account, party=party, unit=unit, start=first, end=last, after_line=after_line, limit=limit
        )
        return _answer("statement", report, format, answers.statement_report)
