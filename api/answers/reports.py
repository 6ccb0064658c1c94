"""What the reports answer as JSON (api/routes_reports.py): trial balance, balance sheet, income
statement and an account's statement. Their CSV form (`format=csv`) is projections/reports.py's
own, amounts in minor units, and is not built here.

Amounts follow the wire's convention (api/wire.py). The balance sheet and the income statement are
in euros: `_eur` fields. A trial balance and a statement hold any unit, so each of their rows says
its `unit` beside plain `opening`/`debit`/`credit`/`balance` amounts.

A field that may be null defaults to None, so the schema does not list it as required: FastAPI
drops null members from the examples it publishes, which must still validate. Answers carry it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.wire import Amount, UnitCode, WireModel, amount, rename_minor_fields
from domain.money import Unit

COOP = Field(description="The cooperative's identifier.")
START = Field(None, description="First day of the period, YYYY-MM-DD; null from the beginning.")
END = Field(None, description="Last day of the period, inclusive, YYYY-MM-DD; null for everything recorded.")
LABEL_FR = Field(description="The account's label in French (empty if the chart has none).")
LABEL_EN = Field(description="The account's label in English (empty if the chart has none).")


class TrialBalanceReportLine(WireModel):
    """One account in one unit: balance before the period, debits and credits in it, balance after."""

    unit: UnitCode = Field(description="The unit of this line's amounts.")
    account: str = Field(description="The account number.")
    label_fr: str = LABEL_FR
    label_en: str = LABEL_EN
    opening: Amount = Field(description="Balance (debit less credit) before the period.")
    debit: Amount = Field(description="Debits in the period.")
    credit: Amount = Field(description="Credits in the period.")
    closing: Amount = Field(description="Balance after the period: opening + debit - credit.")


class TrialBalanceReportTotal(WireModel):
    """One unit's totals: debits equal credits, opening and closing are zero."""

    unit: UnitCode = Field(description="The unit of these totals.")
    opening: Amount = Field(description="Sum of the opening balances.")
    debit: Amount = Field(description="Sum of the debits.")
    credit: Amount = Field(description="Sum of the credits.")
    closing: Amount = Field(description="Sum of the closing balances.")


class TrialBalanceReport(WireModel):
    """The trial balance of a period, per unit and account."""

    coop: str = COOP
    start: str | None = START
    end: str | None = END
    lines: list[TrialBalanceReportLine] = Field(description="By unit (EUR first), then account.")
    totals: dict[str, TrialBalanceReportTotal] = Field(description="Per unit code (EUR, CREDIT, HOUR).")


class FinancialStatementLine(WireModel):
    """One account's line in a balance sheet or an income statement, in euros."""

    side: str = Field(description="assets or liabilities (balance sheet); expenses or income (income statement).")
    section: str = Field(description="The section of the side it falls in.")
    account: str = Field(description="The account number; empty for the result not yet closed.")
    label_fr: str = LABEL_FR
    label_en: str = LABEL_EN
    amount_eur: Amount = Field(description="The amount the line shows on its side.")


class FinancialStatementSection(WireModel):
    """A section's total in a balance sheet or an income statement."""

    side: str = Field(description="The side the section belongs to.")
    section: str = Field(description="The section's code.")
    label_fr: str = Field(description="The section's label in French.")
    label_en: str = Field(description="The section's label in English.")
    total_eur: Amount = Field(description="Sum of its lines.")


class BalanceSheetTotals(WireModel):
    """A balance sheet's totals: assets equal liabilities and equity."""

    assets_eur: Amount = Field(description="Total assets.")
    liabilities_and_equity_eur: Amount = Field(description="Total liabilities and equity.")
    unclosed_result_eur: Amount = Field(description="Income less expenses not yet closed into equity.")
    off_balance_sheet_eur: Amount = Field(description="Balance of the memo accounts (class 8), outside the sheet.")


class BalanceSheet(WireModel):
    """Assets, liabilities and equity in euros at the end of a period, in French order."""

    coop: str = COOP
    end: str | None = END
    lines: list[FinancialStatementLine] = Field(description="By section, then account.")
    sections: list[FinancialStatementSection] = Field(description="The sections that have lines, in order.")
    totals: BalanceSheetTotals = Field(description="The sheet's totals.")


class IncomeStatementTotals(WireModel):
    """An income statement's totals."""

    expenses_eur: Amount = Field(description="Total expenses.")
    income_eur: Amount = Field(description="Total income.")
    result_eur: Amount = Field(description="Income less expenses.")


class IncomeStatement(WireModel):
    """Expenses and income in euros over a period, closing entries left out."""

    coop: str = COOP
    start: str | None = START
    end: str | None = END
    lines: list[FinancialStatementLine] = Field(description="By section, then account.")
    sections: list[FinancialStatementSection] = Field(description="The sections that have lines, in order.")
    totals: IncomeStatementTotals = Field(description="The statement's totals.")


class StatementReportLine(WireModel):
    """A journal line on the account, with the balance after it."""

    effective_date: str = Field(description="The entry's effective date, YYYY-MM-DD.")
    number: int = Field(description="The journal entry's number.")
    label: str = Field(description="The entry's label.")
    party: str | None = Field(None, description="The party of the line; null if none.")
    unit: UnitCode = Field(description="The unit of this line's amounts.")
    debit: Amount = Field(description="Debited by the line.")
    credit: Amount = Field(description="Credited by the line.")
    balance: Amount = Field(description="Running balance (debit less credit) after the line.")


class StatementReportTotals(WireModel):
    """The statement's balance before the period, movement in it and balance after."""

    unit: UnitCode = Field(description="The unit of these amounts.")
    opening: Amount = Field(description="Balance before the period.")
    movement: Amount = Field(description="Debits less credits in the period.")
    closing: Amount = Field(description="Balance after the period.")


class StatementReport(WireModel):
    """Movements of an account (or one party on it) over a period, with a running balance."""

    coop: str = COOP
    account: str = Field(description="The account number.")
    party: str | None = Field(None, description="The party asked; null for the whole account.")
    unit: UnitCode = Field(description="The unit asked.")
    start: str | None = START
    end: str | None = END
    lines: list[StatementReportLine] = Field(description="One page of lines in date order.")
    total_lines: int = Field(description="Lines in the whole period.")
    totals: StatementReportTotals = Field(description="The whole period's figures.")


def _in_unit(row: dict[str, Any], unit: str) -> dict[str, Any]:
    """A row of a report that holds any unit: its `x_minor` amounts as plain `x` Amounts, its unit beside them."""
    out: dict[str, Any] = {"unit": unit}
    for key, value in row.items():
        out[key.removesuffix("_minor")] = amount(value, unit) if key.endswith("_minor") else value
    return out


def trial_balance_report(report: dict[str, Any]) -> TrialBalanceReport:
    return TrialBalanceReport(
        **report
        | {
            "lines": [_in_unit(line, line["unit"]) for line in report["lines"]],
            "totals": {unit: _in_unit(t, unit) for unit, t in report["totals"].items()},
        }
    )


def _financial_statement(report: dict[str, Any]) -> dict[str, Any]:
    # Both statements are in euros only (projections/reports.py reads unit 'EUR').
    return report | {
        "lines": [rename_minor_fields(line, minor_unit=Unit.EUR) for line in report["lines"]],
        "sections": [rename_minor_fields(s, minor_unit=Unit.EUR) for s in report["sections"]],
        "totals": rename_minor_fields(report["totals"], minor_unit=Unit.EUR),
    }


def balance_sheet(report: dict[str, Any]) -> BalanceSheet:
    return BalanceSheet(**_financial_statement(report))


def income_statement(report: dict[str, Any]) -> IncomeStatement:
    return IncomeStatement(**_financial_statement(report))


def statement_report(report: dict[str, Any]) -> StatementReport:
    unit = report["unit"]
    return StatementReport(
        **report | {"lines": [_in_unit(line, unit) for line in report["lines"]], "totals": _in_unit(report["totals"], unit)}
    )
