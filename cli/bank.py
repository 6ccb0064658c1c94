"""`coopledger bank ...`: the treasurer's bank statements (docs/rules.md "Bank statements and reconciliation").

import a statement file, list its lines and what is still owed, see the proposals, confirm matches
(one, or every sure one at once) and reconcile an account on a date. Writes go through the ledger
like any command (role treasurer over HTTP); each has an idempotency key (--key, else a new one).
"""

from __future__ import annotations

import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
import orjson

from api.format import amount as fmt_amount
from cli.session import Session
from cli.tables import console, new_table
from domain.bank_links import LinkBankLine
from domain.bank_matching import Allocation, ConfirmBankMatch, ConfirmSureBankMatches
from domain.bank_state import bank_state
from ledger.bank_files import FORMATS, MAX_FILE_BYTES, read_statements
from projections.bank_reads import bank_lines, bank_proposals, bank_reconciliation, movements, open_items_read


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _day(value: str, hint: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=hint) from None


def _execute(session: Session, command: Any, key: str | None) -> dict[str, Any]:
    result = session.ledger.execute(command, key or f"bank-{uuid.uuid4()}", actor="cli")
    if result.error is not None:
        raise result.error
    return result.as_dict()


@click.group("bank")
def bank() -> None:
    """Bank statements: import, match to what members owe, reconcile (treasurer)."""


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--account", "account_id", required=True, help="The bank account's id (OpenBankAccount).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Default: guessed from the content.")
@click.option("--opening-balance", default=None, help="CSV only: the balance before the file's first line.")
@click.option("--key", default=None, help="Idempotency key (default: a new one; importing again adds nothing anyway).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def import_cmd(
    session: Session,
    file: Path,
    coop: str,
    account_id: str,
    fmt: str | None,
    opening_balance: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """Import a CAMT.053, OFX or CSV statement: each line once, however often the file comes."""
    slug = session.one_coop(coop)
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.BadParameter(f"a statement file is at most {MAX_FILE_BYTES} bytes", param_hint="FILE")
    try:
        opening = Decimal(opening_balance) if opening_balance is not None else None
    except InvalidOperation:
        raise click.BadParameter(f"{opening_balance!r} is not a decimal", param_hint="--opening-balance") from None
    account = bank_state(session.ledger.cooperative(slug)).account(account_id, "--account")
    commands = read_statements(file.read_bytes(), fmt, slug, account, opening=opening)
    reports = [_execute(session, c, f"{key}-{i}" if key else None) for i, c in enumerate(commands, start=1)]
    if as_json:
        _json(reports)
        return
    for report in reports:
        r = report.get("report") or {}
        state = "recorded" if r.get("recorded") else "nothing new: every line was already imported"
        click.echo(f"{r.get('statement_id')}: {r.get('new_lines')} new line(s), {r.get('already_known')} already known ({state})")


@bank.command("lines")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--account", "account_id", required=True, help="The bank account's id.")
@click.option("--unmatched", is_flag=True, help="Only the lines not fully matched.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def lines_cmd(session: Session, coop: str, account_id: str, unmatched: bool, as_json: bool) -> None:
    """The account's bank lines and whether each is matched."""
    rows = bank_lines(session.ledger, session.one_coop(coop), account_id, unmatched_only=unmatched)
    if as_json:
        _json(rows)
        return
    table = new_table(
        f"{coop} – {account_id}",
        [("Line", "left"), ("Booked", "left"), ("Amount", "right"), ("Label", "left"), ("Payer", "left"), ("Status", "left")],
        session.lang,
    )
    for row in rows:
        payer = row["counterparty_name"] or ""
        table.add_row(
            row["line_id"],
            row["booked_on"],
            fmt_amount(row["amount_cents"], "EUR", session.lang),
            row["label"],
            payer,
            row["status"],
        )
    console.print(table)


@bank.command("open-items")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def open_items_cmd(session: Session, coop: str, as_json: bool) -> None:
    """What is still owed, each item with the RF creditor reference to print on its call."""
    rows = open_items_read(session.ledger, session.one_coop(coop))
    if as_json:
        _json(rows)
        return
    table = new_table(f"{coop}", [("Item", "left"), ("Owed by", "left"), ("Open", "right"), ("Reference", "left")], session.lang)
    for row in rows:
        table.add_row(row["item"], row["person_id"], fmt_amount(row["open_cents"], "EUR", session.lang), row["reference"])
    console.print(table)


@bank.command("proposals")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--account", "account_id", required=True, help="The bank account's id.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def proposals_cmd(session: Session, coop: str, account_id: str, as_json: bool) -> None:
    """For each credit line not matched yet: what it may pay, why, and how sure."""
    rows = bank_proposals(session.ledger, session.one_coop(coop), account_id)
    if as_json:
        _json(rows)
        return
    for row in rows:
        line = row["line"]
        click.echo(f"{line['line_id']}  {line['booked_on']}  {line['amount']} EUR  {line['label']}")
        for p in row["proposals"] or [{"confidence": "-", "reason": "no proposal: match it by hand", "allocations": []}]:
            items = ", ".join(f"{a['item']} {a['amount']}" for a in p["allocations"])
            click.echo(f"    [{p['confidence']}] {items}  ({p['reason']})")


@bank.command("confirm")
@click.argument("line_id", required=False)
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--item", "items", multiple=True, help="An item the line pays (repeat for several), e.g. fee:MED-01:2026.")
@click.option("--amount", "amounts", multiple=True, help="The amount for each --item, in order (default: what is left).")
@click.option("--all-sure", is_flag=True, help="Confirm every sure proposal of the account at once.")
@click.option("--account", "account_id", default=None, help="With --all-sure: the bank account (default: the only one).")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def confirm_cmd(
    session: Session,
    line_id: str | None,
    coop: str,
    items: tuple[str, ...],
    amounts: tuple[str, ...],
    all_sure: bool,
    account_id: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """Record the payments a bank line makes: LINE --item ITEM [--amount A], or --all-sure."""
    slug = session.one_coop(coop)
    if all_sure == (line_id is not None):
        raise click.UsageError("give a LINE with --item, or --all-sure")
    if all_sure:
        if account_id is None:
            accounts = sorted(bank_state(session.ledger.cooperative(slug)).accounts)
            if len(accounts) != 1:
                raise click.UsageError(f"say which account with --account (accounts: {', '.join(accounts) or 'none'})")
            account_id = accounts[0]
        result = _execute(session, ConfirmSureBankMatches(slug, account_id), key)
        report = result.get("report") or {}
        if as_json:
            _json(result)
            return
        for done in report.get("confirmed", []):
            paid = ", ".join(f"{a['item']} (entry {a['entry_number']})" for a in done["allocations"])
            click.echo(f"{done['line_id']}: {paid} – {done['reason']}")
        click.echo(f"{report.get('count', 0)} line(s) confirmed")
        return
    if not items or (amounts and len(amounts) != len(items)):
        raise click.UsageError("give --item (and, if any, one --amount per --item)")
    allocations = [Allocation(item, amounts[i] if amounts else None) for i, item in enumerate(items)]
    result = _execute(session, ConfirmBankMatch(slug, line_id, allocations), key)
    if as_json:
        _json(result)
    else:
        click.echo(f"{line_id}: entries {', '.join(map(str, result['journal_numbers']))} recorded")


@bank.command("link")
@click.argument("line_id")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option(
    "--entry", "entries", type=int, multiple=True, required=True, help="An entry number the line is (repeat for several)."
)
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def link_cmd(session: Session, line_id: str, coop: str, entries: tuple[int, ...], key: str | None) -> None:
    """Tie a bank line to entries already in the books (a payment recorded by hand, the bank's fees)."""
    result = _execute(session, LinkBankLine(session.one_coop(coop), line_id, list(entries)), key)
    click.echo(f"{line_id}: tied to entries {', '.join(map(str, entries))} (position {result['position']})")


@bank.command("reconcile")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--account", "account_id", required=True, help="The bank account's id.")
@click.option("--on", "on", required=True, help="Date YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def reconcile_cmd(session: Session, coop: str, account_id: str, on: str, as_json: bool) -> None:
    """The bank's balance beside the books' on a date, and what is not matched on either side."""
    slug = session.one_coop(coop)
    session.current()
    report = bank_reconciliation(session.ledger, session.ledger.db, slug, account_id, _day(on, "--on"))
    if as_json:
        _json(report)
        return
    click.echo(f"{slug} {account_id} ({report['iban']}, account {report['ledger_account']}) on {report['on']}")
    click.echo(f"  bank (statement {report['statement_id']} of {report['statement_date']}): {report['bank_balance']} EUR")
    click.echo(f"  books: {report['ledger_balance']} EUR   difference: {report['difference']} EUR")
    for line in report["unmatched_bank_lines"]:
        maybe = f" (may be entries {', '.join(map(str, line['candidate_entries']))})" if line["candidate_entries"] else ""
        click.echo(f"  bank line not matched: {line['line_id']} {line['booked_on']} {line['amount']} {line['label']}{maybe}")
    for move in report["unmatched_ledger_movements"]:
        click.echo(
            f"  entry not tied to a bank line: {move['entry_number']} {move['effective_date']} {move['amount']} {move['label']}"
        )


def register(cli: click.Group) -> None:
    cli.add_command(bank)


def load_demo_bank(session: Session, cluster: str) -> list[dict[str, Any]]:
    """The demo's statements imported and matched (ledger/demo_bank.py), once: fixed keys, so a second
    `coopledger demo` records nothing new. Runs after the demo's commands, with the views current."""
    from cli.record import record_lines
    from ledger import demo_bank

    opening = sum(m.amount_cents for m in movements(session.ledger.db, cluster, "512", demo_bank.OPENING_DAY - timedelta(days=1)))
    results = []
    for name, data in demo_bank.files(opening).items():
        account = bank_state(session.ledger.cooperative(cluster)).account(demo_bank.ACCOUNT)
        for command in read_statements(data, None, cluster, account):
            result = session.ledger.execute(command, f"demo-bank-import-{name}", actor="demo")
            if result.error is not None:
                raise click.ClickException(f"the demo's statement {name} was refused: {result.error.as_dict()}")
            results.append(result.as_dict())
    lines = [(i, orjson.dumps(c).decode()) for i, c in enumerate(demo_bank.confirmations(cluster), start=1)]
    reports = record_lines(session, lines)
    refused = [r for r in reports if not r["accepted"]]
    if refused:
        raise click.ClickException(f"the demo's bank confirmations were refused: {refused[:3]}")
    return [*results, *reports]


def write_demo_files(session: Session, cluster: str, out: Path) -> list[Path]:
    """The demo's three statement files, as the demo imported them (same opening balance, same bytes)."""
    from ledger import demo_bank

    opening = sum(m.amount_cents for m in movements(session.ledger.db, cluster, "512", demo_bank.OPENING_DAY - timedelta(days=1)))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in demo_bank.files(opening).items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


@bank.command("demo-files")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("statements"), show_default=True)
@click.pass_obj
def demo_files_cmd(session: Session, out: Path) -> None:
    """Write the demo's statement files (CAMT.053, OFX, CSV) of cluster-numerique-sud into a folder."""
    from ledger.demo import CLUSTER

    session.current()
    for path in write_demo_files(session, session.one_coop(CLUSTER), out):
        click.echo(str(path))
