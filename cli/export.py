"""Command line of the treasurer's toolkit: `export fec|hledger` and `report trial-balance|balance-sheet|
income-statement|statement` (tables, --json, or --csv: the same CSV as the HTTP API)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from api.format import amount, day
from cli import tables
from cli.session import Session
from cli.tables import console
from domain.errors import DomainError
from ledger.exports.fec import export_fec
from ledger.exports.plaintext import export_plaintext
from projections import reports
from projections.lookups import require_account, require_party
from projections.registry import cooperative_summary

PROGRESS_FROM_ENTRIES = 20_000  # a progress bar for exports longer than this


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def _refused(error: DomainError) -> click.ClickException:
    return click.ClickException(f"{error.field} ({error.rule}): {error.message}")


# ---------------------------------------------------------------- exports


@click.group()
def export() -> None:
    """Exports for tools coopledger did not write: the FEC file, a plain-text journal."""


@export.command("fec")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--year", type=int, required=True, help="Fiscal year, named by the calendar year it starts in.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to write to.")
@click.pass_obj
def export_fec_cmd(session: Session, coop: str | None, year: int, out_dir: Path) -> None:
    """Write the FEC (fichier des écritures comptables) of a fiscal year: <SIREN>FEC<closing date>.txt."""
    slug = session.one_coop(coop)
    try:
        fec = export_fec(session.ledger, slug, year, party_names=reports.party_names(session.ledger.db, slug))
    except DomainError as error:
        raise _refused(error) from None
    path = fec.write(out_dir)
    console.print(
        f"{path}: {fec.entries} entries, {len(fec.rows)} lines, debit = credit = "
        f"{amount(fec.debit_cents, 'EUR', session.lang)} EUR",
        highlight=False,
    )


@export.command("hledger")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write ('-': standard output).",
)
@click.option("--as-of", default=None, help="Only entries dated on or before this day (YYYY-MM-DD).")
@click.pass_obj
def export_hledger_cmd(session: Session, coop: str | None, out_file: Path, as_of: str | None) -> None:
    """Write the journal as plain text that hledger and ledger-cli read (EUR, CREDIT, HOUR as commodities)."""
    slug = session.one_coop(coop)
    day = _date(as_of, "--as-of")
    if str(out_file) == "-":
        for _number in export_plaintext(session.ledger, slug, sys.stdout, as_of=day):
            pass
        return
    summary = cooperative_summary(session.ledger.db, slug) or {}
    total = int(summary.get("journal_entries") or 0)
    partial = out_file.with_name(out_file.name + ".partial")  # a reader never sees half a file
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        written = _drain(export_plaintext(session.ledger, slug, out, as_of=day), total)
    os.replace(partial, out_file)
    console.print(f"{out_file}: {written} entries; check it with: hledger -f {out_file} bal --depth 2", highlight=False)


def _drain(numbers: Any, total: int) -> int:
    """Runs an export, with a progress bar on a terminal when it is long."""
    if total < PROGRESS_FROM_ENTRIES or not console.is_terminal:
        return sum(1 for _ in numbers)
    written = 0
    with tables.progress() as bar:
        task = bar.add_task("export", total=total)
        for written, _number in enumerate(numbers, start=1):
            if written % 1000 == 0:
                bar.update(task, completed=written)
        bar.update(task, completed=written)
    return written


# ---------------------------------------------------------------- reports


@click.group()
def report() -> None:
    """The treasurer's reports for a period: trial balance, balance sheet, income statement, statement."""


def _period_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--coop", default=None, help="Cooperative id (needed when the store holds several)."),
            click.option("--start", default=None, help="First day, YYYY-MM-DD (default: the beginning)."),
            click.option("--end", default=None, help="Last day, inclusive, YYYY-MM-DD (default: everything)."),
            click.option("--year", type=int, default=None, help="A fiscal year instead of --start/--end."),
            click.option("--json", "as_json", is_flag=True, help="The report as JSON (amounts in minor units)."),
            click.option("--csv", "as_csv", is_flag=True, help="The report's lines as CSV (as the HTTP API gives them)."),
        ]
    ):
        func = option(func)
    return click.pass_obj(func)


def _bounds(session: Session, slug: str, start: str | None, end: str | None, year: int | None) -> tuple[date | None, date | None]:
    if year is not None:
        if start or end:
            raise click.UsageError("give either --year or --start/--end")
        return reports.fiscal_year_bounds(session.ledger.db, slug, year)
    return _date(start, "--start"), _date(end, "--end")


def _emit(name: str, result: dict[str, Any], as_json: bool, as_csv: bool, render: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif as_csv:
        sys.stdout.write(reports.to_csv(name, result))
    else:
        render(result)


def _run(builder: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return builder()
    except DomainError as error:
        raise _refused(error) from None


@report.command("trial-balance")
@_period_options
def trial_balance_cmd(
    session: Session, coop: str | None, start: str | None, end: str | None, year: int | None, as_json: bool, as_csv: bool
) -> None:
    """Per unit and account: balance before the period, debits, credits, balance after."""
    slug = session.one_coop(coop)
    first, last = _bounds(session, slug, start, end, year)
    result = _run(lambda: reports.trial_balance(session.ledger.db, slug, start=first, end=last))
    _emit(
        "trial-balance",
        result,
        as_json,
        as_csv,
        lambda r: _table(
            r,
            session.lang,
            "Trial balance",
            [
                ("unit", "unit"),
                ("account", "account"),
                ("label", None),
                ("opening", "opening_minor"),
                ("debit", "debit_minor"),
                ("credit", "credit_minor"),
                ("closing", "closing_minor"),
            ],
        ),
    )


@report.command("balance-sheet")
@_period_options
def balance_sheet_cmd(
    session: Session, coop: str | None, start: str | None, end: str | None, year: int | None, as_json: bool, as_csv: bool
) -> None:
    """Assets, liabilities and equity (EUR) at the end of the period."""
    slug = session.one_coop(coop)
    _first, last = _bounds(session, slug, start, end, year)
    result = _run(lambda: reports.balance_sheet(session.ledger.db, slug, end=last))
    _emit(
        "balance-sheet",
        result,
        as_json,
        as_csv,
        lambda r: _table(
            r,
            session.lang,
            "Balance sheet",
            [("side", "side"), ("section", "section"), ("account", "account"), ("label", None), ("amount", "amount_minor")],
        ),
    )


@report.command("income-statement")
@_period_options
def income_statement_cmd(
    session: Session, coop: str | None, start: str | None, end: str | None, year: int | None, as_json: bool, as_csv: bool
) -> None:
    """Expenses and income (EUR) over the period, and the result."""
    slug = session.one_coop(coop)
    first, last = _bounds(session, slug, start, end, year)
    result = _run(lambda: reports.income_statement(session.ledger.db, slug, start=first, end=last))
    _emit(
        "income-statement",
        result,
        as_json,
        as_csv,
        lambda r: _table(
            r,
            session.lang,
            "Income statement",
            [("side", "side"), ("section", "section"), ("account", "account"), ("label", None), ("amount", "amount_minor")],
        ),
    )


@report.command("statement")
@click.argument("account")
@click.option("--party", default=None, help="Only this party's postings (e.g. a member id).")
@click.option("--unit", default="EUR", show_default=True)
@_period_options
def statement_cmd(
    session: Session,
    account: str,
    party: str | None,
    unit: str,
    coop: str | None,
    start: str | None,
    end: str | None,
    year: int | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Movements of one account (or one party on it) over the period, with the running balance."""
    slug = session.one_coop(coop)
    require_account(session.ledger.db, slug, account)
    if party is not None:
        require_party(session.ledger.db, slug, account, party)
    first, last = _bounds(session, slug, start, end, year)
    result: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    for _page in range(100_000):  # bounded paging
        result = _run(
            lambda: reports.account_statement(
                session.ledger.db, slug, account, party=party, unit=unit, start=first, end=last, after_line=len(lines)
            )
        )
        lines.extend(result["lines"])
        if not result["lines"] or len(lines) >= result["total_lines"]:
            break
    result = {**result, "lines": lines}
    _emit(
        "statement",
        result,
        as_json,
        as_csv,
        lambda r: _table(
            r,
            session.lang,
            f"{account} {party or ''}",
            [
                ("date", "effective_date"),
                ("entry", "number"),
                ("label", "label"),
                ("party", "party"),
                ("debit", "debit_minor"),
                ("credit", "credit_minor"),
                ("balance", "balance_minor"),
            ],
            unit=unit,
        ),
    )


# Report words beside their English keys; sections carry their own labels (projections/reports.py).
REPORT_FR = {
    "Trial balance": "Balance",
    "Balance sheet": "Bilan",
    "Income statement": "Compte de résultat",
    "side": "côté",
    "section": "rubrique",
    "opening": "à l'ouverture",
    "closing": "à la clôture",
    "amount": "montant",
    "entry": "écriture",
    "assets": "actif",
    "liabilities": "passif",
    "expenses": "charges",
    "income": "produits",
    "result": "résultat",
    "liabilities_and_equity": "passif et capitaux propres",
    "unclosed_result": "résultat non encore clôturé",
    "off_balance_sheet": "hors bilan",
    "total": "total",
}
SECTION_LABELS = {
    (side, code): (fr, en)
    for side, code, fr, en, _prefixes in [*reports.BALANCE_SHEET_SECTIONS, *reports.INCOME_STATEMENT_SECTIONS]
}


def _word(text: str, lang: str) -> str:
    return REPORT_FR.get(text, tables.t(text, lang)) if lang == "fr" else text.replace("_", " ")


def _table(result: dict[str, Any], lang: str, title: str, columns: list[tuple[str, str | None]], unit: str | None = None) -> None:
    """One rich table: amounts (keys ending in _minor) formatted in the line's unit, then the totals."""
    period = " – ".join(day(d, lang) for d in filter(None, [result.get("start"), result.get("end")]))
    table = Table(title=f"{_word(title, lang)} – {result['coop']}" + (f" – {period}" if period else ""))
    for name, key in columns:
        table.add_column(_word(name, lang), justify="right" if key and key.endswith("_minor") else "left", overflow="fold")
    for line in result["lines"]:
        cells = []
        for _name, key in columns:
            if key is None:
                cells.append(line.get("label_fr" if lang == "fr" else "label_en") or "")
            elif key.endswith("_minor"):
                cells.append(amount(line[key], line.get("unit", unit or "EUR"), lang))
            elif key == "section":
                cells.append(SECTION_LABELS.get((line["side"], line[key]), (line[key], line[key]))[0 if lang == "fr" else 1])
            elif key == "side":
                cells.append(_word(line[key], lang))
            else:
                cells.append("" if line[key] is None else str(line[key]))
        table.add_row(*cells)
    console.print(table)
    colon = "\u00a0: " if lang == "fr" else ": "
    totals = result.get("totals", {})
    for unit_or_name, value in totals.items():
        if isinstance(value, dict):
            shown = ", ".join(
                f"{_word(k.removesuffix('_minor'), lang)} {amount(v, unit_or_name, lang)}" for k, v in value.items()
            )
            console.print(f"total {unit_or_name}{colon}{shown}", highlight=False)
        else:
            console.print(
                f"{_word(unit_or_name.removesuffix('_minor'), lang)}{colon}{amount(value, unit or 'EUR', lang)}", highlight=False
            )
