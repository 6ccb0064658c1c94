"""The treasurer's reports for a period, read from the balances and journal views: trial balance,
balance sheet (bilan), income statement (compte de résultat) and account statement.

Every report is a dict with `lines`: flat rows (the CSV is exactly these rows, in this order)
and `totals`. Amounts are integers in minor units (EUR cents, CREDIT hundredths, HOUR minutes),
as everywhere in the API. Accounts come in French order: by number read as text, so 1013 comes
before 102 and 411 before 4118, as in the plan comptable.

Sign conventions: a trial balance shows debit − credit; a balance sheet shows assets as debit
balances and liabilities and equity as credit balances; an income statement shows expenses as
debit and income as credit balances, so result = income − expenses (positive: surplus).

The closing entry (`FiscalYearClosed`, which moves income and expenses into 120 / 129) is left
out of the income statement, so a closed year still shows what it earned and spent. The balance
sheet counts it: its equity holds 120 / 129 plus the result not yet closed (income − expenses of
every year not closed yet, as of the date), which is why assets always equal liabilities + equity.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Any

from domain import closing
from domain.errors import IntegrityViolation, InvalidCommand
from ledger.db import Database, Tx

CLOSING_KINDS = (closing.FiscalYearClosed.__name__,)  # entries that carry the result into 120 / 129
MAX_STATEMENT_LINES = 1000
UNIT_ORDER = {"EUR": 0, "CREDIT": 1, "HOUR": 2}

# (side, code, French label, English label, account prefixes). Order = the order shown.
BALANCE_SHEET_SECTIONS = [
    ("assets", "fixed_assets", "Actif immobilisé", "Fixed assets", ("2",)),
    ("assets", "stocks", "Stocks", "Stocks", ("3",)),
    ("assets", "receivables", "Créances", "Receivables", ("4",)),  # class 4 accounts with a debit balance
    ("assets", "cash", "Trésorerie", "Cash", ("5",)),  # class 5 with a debit balance
    ("liabilities", "equity", "Fonds propres", "Equity", ("10", "11", "12", "13", "14")),
    ("liabilities", "provisions", "Provisions", "Provisions", ("15",)),
    ("liabilities", "dedicated_funds", "Fonds dédiés", "Dedicated funds", ("19",)),
    ("liabilities", "borrowings", "Emprunts et dettes assimilées", "Borrowings", ("16", "17", "18")),
    ("liabilities", "payables", "Dettes", "Payables", ("4",)),  # class 4 with a credit balance
    ("liabilities", "bank_overdrafts", "Concours bancaires", "Bank overdrafts", ("5",)),  # class 5, credit balance
]
INCOME_STATEMENT_SECTIONS = [
    ("expenses", "operating", "Charges d'exploitation", "Operating expenses", ("60", "61", "62", "63", "64", "65", "68")),
    ("expenses", "financial", "Charges financières", "Financial expenses", ("66", "686")),
    ("expenses", "exceptional", "Charges exceptionnelles", "Exceptional expenses", ("67", "687")),
    ("expenses", "dedicated_funds", "Reports en fonds dédiés", "Transfers to dedicated funds", ("689",)),
    ("expenses", "taxes", "Impôts sur les bénéfices", "Income taxes", ("69",)),
    ("income", "operating", "Produits d'exploitation", "Operating income", ("70", "71", "72", "73", "74", "75", "78", "79")),
    ("income", "financial", "Produits financiers", "Financial income", ("76", "786", "796")),
    ("income", "exceptional", "Produits exceptionnels", "Exceptional income", ("77", "787", "797")),
    ("income", "dedicated_funds", "Utilisations des fonds dédiés", "Use of dedicated funds", ("789",)),
]
RESULT_LABELS = ("Résultat non encore clôturé (produits − charges)", "Result not yet closed (income − expenses)")


def _section(sections: list[tuple[str, str, str, str, tuple[str, ...]]], side: str, account: str) -> tuple[str, str, str]:
    """The section of `side` whose longest prefix matches the account: 686 is financial, 68 operating."""
    best: tuple[int, tuple[str, str, str]] | None = None
    for s_side, code, fr, en, prefixes in sections:
        for prefix in prefixes:
            if s_side == side and account.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), (code, fr, en))
    assert best is not None, f"no {side} section for account {account}"
    return best[1]


def _period(start: date | None, end: date | None) -> tuple[str, str]:
    if start is not None and end is not None and start > end:
        raise InvalidCommand("start", "before_end", f"the period starts ({start}) after it ends ({end})")
    return (start or date.min).isoformat(), (end or date.max).isoformat()


def _labels(db: Database, coop: str) -> dict[str, tuple[str, str]]:
    with db.read() as tx:
        return {
            n: (fr, en) for n, fr, en in tx.execute("SELECT number, label_fr, label_en FROM accounts WHERE coop = ?", (coop,))
        }


def fiscal_year_bounds(db: Database, coop: str, year: int) -> tuple[date, date]:
    """First and last day of fiscal year `year` (named by the calendar year it starts in)."""
    with db.read() as tx:
        found = tx.execute("SELECT fiscal_year_start_month FROM cooperatives WHERE coop = ?", (coop,))
    return closing.fiscal_year_bounds(year, int(found[0][0]) if found else 1)


def party_names(db: Database, coop: str) -> dict[str, str]:
    """A name for every party the books know: members, grant applicants, subsidy funders."""
    with db.read() as tx:
        names = {p: n for p, n in tx.execute("SELECT subsidy_id, funder FROM subsidies WHERE coop = ?", (coop,))}
        names.update(
            {p: n for p, n in tx.execute("SELECT application_id, applicant FROM grant_applications WHERE coop = ?", (coop,))}
        )
        names.update({p: n for p, n in tx.execute("SELECT member_id, name FROM members WHERE coop = ?", (coop,))})
    return names


# ---------------------------------------------------------------- trial balance


def trial_balance(db: Database, coop: str, *, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Per unit and account: balance before the period, debits and credits in it, balance after."""
    first, last = _period(start, end)
    with db.read() as tx:
        rows = tx.execute(
            "SELECT unit, account,"
            " SUM(CASE WHEN day < ? THEN debit - credit ELSE 0 END),"
            " SUM(CASE WHEN day >= ? THEN debit ELSE 0 END), SUM(CASE WHEN day >= ? THEN credit ELSE 0 END)"
            " FROM account_balances_by_day WHERE coop = ? AND day <= ? GROUP BY unit, account",
            (first, first, first, coop, last),
        )
    labels = _labels(db, coop)
    lines = []
    totals: dict[str, dict[str, int]] = {}
    for unit, account, opening, debit, credit in sorted(rows, key=lambda r: (UNIT_ORDER.get(r[0], 9), r[0], r[1])):
        opening, debit, credit = int(opening), int(debit), int(credit)
        fr, en = labels.get(account, ("", ""))
        lines.append(
            {
                "unit": unit,
                "account": account,
                "label_fr": fr,
                "label_en": en,
                "opening_minor": opening,
                "debit_minor": debit,
                "credit_minor": credit,
                "closing_minor": opening + debit - credit,
            }
        )
        t = totals.setdefault(unit, {"opening_minor": 0, "debit_minor": 0, "credit_minor": 0, "closing_minor": 0})
        for key in t:
            t[key] += lines[-1][key]
    for unit, t in totals.items():
        if t["debit_minor"] != t["credit_minor"] or t["opening_minor"] or t["closing_minor"]:
            raise IntegrityViolation(f"{coop}: trial balance in {unit} does not balance: {t}")
    return {
        "coop": coop,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "lines": lines,
        "totals": totals,
    }


# ---------------------------------------------------------------- balance sheet


def balance_sheet(db: Database, coop: str, *, end: date | None = None) -> dict[str, Any]:
    """Assets, liabilities and equity in EUR at the end of `end` (inclusive; default: everything).

    Third-party (class 4) and cash (class 5) balances are classified per party, never netted:
    a member who overpaid is a liability even while others owe the cooperative."""
    _first, last = _period(None, end)
    with db.read() as tx:
        rows = tx.execute(
            "SELECT account, party, SUM(debit - credit) FROM account_balances_by_day"
            " WHERE coop = ? AND unit = 'EUR' AND day <= ? GROUP BY account, party",
            (coop, last),
        )
    labels = _labels(db, coop)
    by_line: dict[tuple[str, str], int] = defaultdict(int)  # (side, account) -> amount shown
    unclosed_debit = off_balance_sheet = 0
    for account, _party, balance in rows:
        balance = int(balance)
        cls = account[0]
        if cls in "67":
            unclosed_debit += balance
        elif cls == "8":
            off_balance_sheet += balance  # memo accounts: outside the balance sheet
        elif cls in "23" or (cls in "45" and balance > 0):
            by_line[("assets", account)] += balance
        else:
            by_line[("liabilities", account)] -= balance
    lines = []
    for (side, account), amount in sorted(by_line.items(), key=lambda item: (item[0][0], item[0][1])):
        if amount:
            code, _fr, _en = _section(BALANCE_SHEET_SECTIONS, side, account)
            fr, en = labels.get(account, ("", ""))
            lines.append(
                {"side": side, "section": code, "account": account, "label_fr": fr, "label_en": en, "amount_minor": amount}
            )
    if unclosed_debit:
        lines.append(
            {
                "side": "liabilities",
                "section": "equity",
                "account": "",
                "label_fr": RESULT_LABELS[0],
                "label_en": RESULT_LABELS[1],
                "amount_minor": -unclosed_debit,
            }
        )
    order = {(side, code): i for i, (side, code, *_rest) in enumerate(BALANCE_SHEET_SECTIONS)}
    lines.sort(key=lambda line: (order[(line["side"], line["section"])], line["account"] == "", line["account"]))
    sections = _section_totals(BALANCE_SHEET_SECTIONS, lines)
    assets = sum(line["amount_minor"] for line in lines if line["side"] == "assets")
    liabilities = sum(line["amount_minor"] for line in lines if line["side"] == "liabilities")
    if assets - liabilities != off_balance_sheet:  # every EUR entry balances: this cannot differ
        raise IntegrityViolation(f"{coop}: balance sheet off by {assets - liabilities - off_balance_sheet} cents")
    return {
        "coop": coop,
        "end": end.isoformat() if end else None,
        "lines": lines,
        "sections": sections,
        "totals": {
            "assets_minor": assets,
            "liabilities_and_equity_minor": liabilities,
            "unclosed_result_minor": -unclosed_debit,
            "off_balance_sheet_minor": off_balance_sheet,
        },
    }


def _section_totals(
    sections: list[tuple[str, str, str, str, tuple[str, ...]]], lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        totals[(line["side"], line["section"])] += line["amount_minor"]
    return [
        {"side": side, "section": code, "label_fr": fr, "label_en": en, "total_minor": totals[(side, code)]}
        for side, code, fr, en, _prefixes in sections
        if (side, code) in totals
    ]


# ---------------------------------------------------------------- income statement


def income_statement(db: Database, coop: str, *, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Expenses (class 6) and income (class 7) in EUR over the period, without closing entries."""
    first, last = _period(start, end)
    marks = ", ".join("?" for _ in CLOSING_KINDS)
    with db.read() as tx:
        rows = tx.execute(
            "SELECT l.account, SUM(l.amount) FROM journal_lines l JOIN journal_entries e ON e.coop = l.coop AND e.number = "
            "l.number"
            " WHERE l.coop = ? AND l.unit = 'EUR' AND l.effective_date >= ? AND l.effective_date <= ?"
            f" AND SUBSTR(l.account, 1, 1) IN ('6', '7') AND e.kind NOT IN ({marks}) GROUP BY l.account",  # noqa: S608
            (coop, first, last, *CLOSING_KINDS),
        )
    labels = _labels(db, coop)
    lines = []
    for account, total in rows:
        side = "expenses" if account[0] == "6" else "income"
        amount = int(total) if side == "expenses" else -int(total)
        if amount:
            code, _fr, _en = _section(INCOME_STATEMENT_SECTIONS, side, account)
            fr, en = labels.get(account, ("", ""))
            lines.append(
                {"side": side, "section": code, "account": account, "label_fr": fr, "label_en": en, "amount_minor": amount}
            )
    order = {(side, code): i for i, (side, code, *_rest) in enumerate(INCOME_STATEMENT_SECTIONS)}
    lines.sort(key=lambda line: (order[(line["side"], line["section"])], line["account"]))
    expenses = sum(line["amount_minor"] for line in lines if line["side"] == "expenses")
    income = sum(line["amount_minor"] for line in lines if line["side"] == "income")
    return {
        "coop": coop,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "lines": lines,
        "sections": _section_totals(INCOME_STATEMENT_SECTIONS, lines),
        "totals": {"expenses_minor": expenses, "income_minor": income, "result_minor": income - expenses},
    }


# ---------------------------------------------------------------- account statement


def account_statement(
    db: Database,
    coop: str,
    account: str,
    *,
    party: str | None = None,
    unit: str = "EUR",
    start: date | None = None,
    end: date | None = None,
    after_line: int = 0,
    limit: int = MAX_STATEMENT_LINES,
) -> dict[str, Any]:
    """Movements of an account (or one party on it) in the period, in date order, with the
    balance before the period and a running balance. Paged: `after_line` lines already read."""
    first, last = _period(start, end)
    limit = max(1, min(limit, MAX_STATEMENT_LINES))
    where = "coop = ? AND account = ? AND unit = ?"
    params: list[Any] = [coop, account, unit]
    if party is not None:
        where += " AND party = ?"
        params.append(party)
    with db.read() as tx:
        opening, count, movement, skipped, rows = _statement_rows(tx, where, params, first, last, limit, after_line)
    lines = _running_lines(rows, opening + skipped)
    return {
        "coop": coop,
        "account": account,
        "party": party,
        "unit": unit,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "lines": lines,
        "total_lines": count,
        "totals": {"opening_minor": opening, "movement_minor": movement, "closing_minor": opening + movement},
    }


def _statement_rows(
    tx: Tx, where: str, params: list[Any], first: str, last: str, limit: int, after_line: int
) -> tuple[int, int, int, int, list[tuple[Any, ...]]]:
    """The statement's figures read in one transaction: the balance before the period, the
    period's line count and movement, the sum of the lines before the page (`after_line` of
    them: the running balance carries over) and the page's lines."""
    before = tx.execute(
        f"SELECT COALESCE(SUM(debit - credit), 0) FROM account_balances_by_day WHERE {where} AND day < ?",  # noqa: S608
        (*params, first),
    )
    inside = tx.execute(  # total of the period and of the lines before the page: the running balance carries over
        f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM journal_lines WHERE {where} AND effective_date >= ? AND "
        "effective_date <= ?",  # noqa: S608
        (*params, first, last),
    )
    rows = tx.execute(
        "SELECT l.effective_date, l.number, l.line, e.label, l.party, l.amount FROM journal_lines l"
        " JOIN journal_entries e ON e.coop = l.coop AND e.number = l.number"
        f" WHERE l.{where.replace(' AND ', ' AND l.')} AND l.effective_date >= ? AND l.effective_date <= ?"
        " ORDER BY l.effective_date, l.number, l.line LIMIT ? OFFSET ?",  # noqa: S608
        (*params, first, last, limit, after_line),
    )
    skipped = 0
    if after_line:
        skipped = int(
            tx.execute(
                f"SELECT COALESCE(SUM(amount), 0) FROM (SELECT amount FROM journal_lines WHERE {where}"  # noqa: S608
                " AND effective_date >= ? AND effective_date <= ? ORDER BY effective_date, number, line LIMIT ?) AS t",
                (*params, first, last, after_line),
            )[0][0]
        )
    return int(before[0][0]), int(inside[0][0]), int(inside[0][1]), skipped, rows


def _running_lines(rows: list[tuple[Any, ...]], running: int) -> list[dict[str, Any]]:
    """The page's lines as the statement shows them, each with the balance after it, from `running`."""
    lines = []
    for effective_date, number, _line, label, line_party, amount in rows:
        running += amount
        lines.append(
            {
                "effective_date": effective_date,
                "number": number,
                "label": label,
                "party": line_party or None,
                "debit_minor": amount if amount > 0 else 0,
                "credit_minor": -amount if amount < 0 else 0,
                "balance_minor": running,
            }
        )
    return lines


# ---------------------------------------------------------------- CSV

COLUMNS = {  # the CSV header of each report: the keys of its lines, in order
    "trial-balance": ["unit", "account", "label_fr", "label_en", "opening_minor", "debit_minor", "credit_minor", "closing_minor"],
    "balance-sheet": ["side", "section", "account", "label_fr", "label_en", "amount_minor"],
    "income-statement": ["side", "section", "account", "label_fr", "label_en", "amount_minor"],
    "statement": ["effective_date", "number", "label", "party", "debit_minor", "credit_minor", "balance_minor"],
}


def to_csv(name: str, report: dict[str, Any]) -> str:
    """The report's lines as CSV: comma-separated, header first, amounts in minor units, an
    absent value (no party) empty. Totals and opening balances are in the JSON only."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[name], lineterminator="\r\n")
    writer.writeheader()
    for line in report["lines"]:
        writer.writerow({k: "" if v is None else v for k, v in line.items()})
    return out.getvalue()
