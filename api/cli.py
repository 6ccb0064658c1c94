"""The `coopledger` command line: tables on a terminal, JSON with --json.

Every command first applies pending migrations and brings the projections up to date, so
what it shows is everything recorded so far.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api import logs
from api.format import amount
from domain.errors import DomainError, InvalidCommand
from ledger.commands import loads, parse_command
from ledger.demo import demo_commands
from ledger.migrate import migrate
from ledger.service import CommandResult, Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.journal import journal, statement
from projections.runner import ProjectionRunner

RECORD_BATCH = 500  # commands saved per transaction by `record`
# Piped output (files, CI logs) gets wide tables rather than 80 squeezed columns.
console = Console(width=None if sys.stdout.isatty() else 160)


class Session:
    """Opens the store once per invocation and keeps the projections current."""

    def __init__(self, url: str | None, lang: str) -> None:
        self.config = StoreConfig.from_url(url)
        self.lang = lang
        self._ledger: Ledger | None = None
        self._runner: ProjectionRunner | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.config)
            migrate(self._ledger.db)
        return self._ledger

    @property
    def runner(self) -> ProjectionRunner:
        if self._runner is None:
            self._runner = ProjectionRunner(self.ledger)
        return self._runner

    def current(self) -> ProjectionRunner:
        """Catches the projections up, with a progress bar when there is much to do."""
        behind = self.ledger.position() - self.runner.position()
        if behind > 20_000 and console.is_terminal:
            with _progress() as bar:
                task = bar.add_task("projections", total=behind)
                self.runner.catch_up(lambda done, total: bar.update(task, completed=done))
        else:
            self.runner.catch_up()
        return self.runner

    def coops(self, only: str | None) -> list[str]:
        self.current()
        with self.ledger.db.read() as tx:
            slugs = [r[0] for r in tx.execute("SELECT coop FROM cooperatives ORDER BY coop")]
        if only is None:
            return slugs
        if only not in slugs:
            raise click.UsageError(f"--coop: no cooperative {only!r} (known: {', '.join(slugs) or 'none'})")
        return [only]

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console)


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


@click.group()
@click.option("--database-url", envvar="COOPLEDGER_DATABASE_URL", default=None,
              help="sqlite:///path or postgresql://user@host/db?schema=s (default: sqlite:///var/coopledger.sqlite)")
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="Labels and number format.")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, lang: str) -> None:
    """coopledger: the event-sourced ledger of cooperatives."""
    logs.configure()
    try:
        ctx.obj = Session(database_url, lang)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    cli()


# ---------------------------------------------------------------- recording


def _record(session: Session, lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Parses and records numbered JSON lines in batches; returns one report per line."""
    reports: list[dict[str, Any] | None] = [None] * len(lines)
    batch: list[tuple[int, Any, str, str]] = []

    def flush() -> None:
        results = session.ledger.execute_batch([(cmd, key, actor) for _i, cmd, key, actor in batch])
        for (i, _cmd, _key, _actor), result in zip(batch, results):
            reports[i] = {"line": lines[i][0], **result.as_dict()}
        batch.clear()

    for i, (number, text) in enumerate(lines):
        try:
            try:
                data = loads(text)
            except ValueError as exc:
                raise InvalidCommand("line", "json", f"not valid JSON: {exc}") from None
            command, key, actor = parse_command(data)
        except DomainError as error:
            reports[i] = {"line": number, "accepted": False, "error": error.as_dict()}
            continue
        batch.append((i, command, key, actor or "cli"))
        if len(batch) >= RECORD_BATCH:
            flush()
    if batch:
        flush()
    return [r for r in reports if r is not None]


def _describe(report: dict[str, Any]) -> str:
    if not report["accepted"]:
        e = report["error"]
        return f"[red]refused[/red] {escape(e['field'])} ({escape(e['rule'])}): {escape(e['message'])}"
    what = "already recorded" if report.get("duplicate") else "accepted"
    entries = report.get("journal_numbers") or []
    suffix = f", entry {', '.join(map(str, entries))}" if entries else ""
    return f"[green]{what}[/green] {report['command']} (position {report['position']}{suffix})"


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="One JSON report per line.")
@click.pass_obj
def record(session: Session, file: Any, as_json: bool) -> None:
    """Apply a file of commands (JSON lines, each with its idempotency_key; '-' reads stdin).

    Reports per line what was accepted or refused and why. Exit status 1 if any was refused.
    """
    lines = [(n, text) for n, text in enumerate(file, start=1) if text.strip() and not text.lstrip().startswith("#")]
    reports = _record(session, lines)
    if as_json:
        _json(reports)
    else:
        for report in reports:
            console.print(f"line {report['line']}: {_describe(report)}", highlight=False)
        refused = sum(1 for r in reports if not r["accepted"])
        console.print(f"{len(reports)} command(s): {len(reports) - refused} accepted or already recorded, {refused} refused")
    if any(not r["accepted"] for r in reports):
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def demo(session: Session, as_json: bool) -> None:
    """Load the demo cooperatives (idempotent: a second run adds nothing) and show them."""
    import json

    commands = demo_commands()
    reports = _record(session, [(i, json.dumps(c)) for i, c in enumerate(commands, start=1)])
    refused = [r for r in reports if not r["accepted"]]
    if refused:  # the demo is ours: a refusal is a bug in it, say exactly which
        raise click.ClickException(f"the demo was refused: {refused[:3]}")
    new = sum(1 for r in reports if not r["duplicate"])
    slugs = sorted({c["coop"] for c in commands})
    session.current()
    if as_json:
        _json({"commands": len(reports), "recorded_now": new, "already_recorded": len(reports) - new,
               "cooperatives": [_coop_row(session, s) for s in slugs],
               "trial_balances": [trial_balance(session.ledger.db, s) for s in slugs]})
        return
    console.print(f"Demo: {len(reports)} commands, {new} recorded now, {len(reports) - new} already recorded "
                  f"(store: {session.config.describe()})")
    _print_coops(session, slugs)
    for slug in slugs:
        _print_trial_balance(session, slug, None)


# ---------------------------------------------------------------- reading


def _coop_row(session: Session, slug: str) -> dict[str, Any]:
    with session.ledger.db.read() as tx:
        (name, form, siren, founded, colleges), = tx.execute(
            "SELECT name, legal_form, siren, founded_on, colleges_json FROM cooperatives WHERE coop = ?", (slug,)
        )
        members = tx.execute("SELECT COUNT(*), SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) FROM members WHERE coop = ?", (slug,))[0]
        entries = tx.execute("SELECT COUNT(*) FROM journal_entries WHERE coop = ?", (slug,))[0][0]
    import json

    return {"coop": slug, "name": name, "legal_form": form, "siren": siren, "founded_on": founded,
            "colleges": json.loads(colleges), "members": int(members[0]), "active_members": int(members[1] or 0),
            "journal_entries": int(entries)}


def _print_coops(session: Session, slugs: list[str]) -> None:
    table = Table(title="Coopératives" if session.lang == "fr" else "Cooperatives")
    for column in ("coop", "name", "form", "founded", "college weights", "members", "entries"):
        table.add_column(column, overflow="fold")
    for slug in slugs:
        row = _coop_row(session, slug)
        colleges = "/".join(_percent(c["weight"]) for c in row["colleges"])
        table.add_row(slug, row["name"], row["legal_form"], row["founded_on"], colleges,
                      f"{row['active_members']}/{row['members']}", str(row["journal_entries"]))
    console.print(table)


def _percent(weight: str) -> str:
    from fractions import Fraction

    value = Fraction(weight)
    return f"{value.numerator}%" if value.denominator == 1 else f"{float(value):.2f}%"


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def coops(session: Session, as_json: bool) -> None:
    """List the cooperatives in the store."""
    slugs = session.coops(None)
    if as_json:
        _json([_coop_row(session, s) for s in slugs])
    else:
        _print_coops(session, slugs)


def _print_trial_balance(session: Session, slug: str, as_of: date | None) -> None:
    tb = trial_balance(session.ledger.db, slug, as_of=as_of)
    fr = session.lang == "fr"
    title = f"{'Balance générale' if fr else 'Trial balance'} – {slug}" + (f" – {as_of}" if as_of else "")
    table = Table(title=title)
    for column, justify in (("account", "left"), ("label", "left"), ("unit", "left"),
                            ("debit", "right"), ("credit", "right"), ("balance", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in tb["accounts"]:
        table.add_row(row["account"], row["label_fr" if fr else "label_en"] or "", row["unit"],
                      amount(row["debit"], row["unit"], session.lang), amount(row["credit"], row["unit"], session.lang),
                      amount(row["balance"], row["unit"], session.lang))
    for unit, totals in tb["totals"].items():
        table.add_row("", "Total", unit, amount(totals["debit"], unit, session.lang),
                      amount(totals["credit"], unit, session.lang), amount(0, unit, session.lang), style="bold")
    console.print(table)


@cli.command("trial-balance")
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--as-of", default=None, help="Date YYYY-MM-DD, inclusive (default: everything).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def trial_balance_cmd(session: Session, coop: str | None, as_of: str | None, as_json: bool) -> None:
    """Debit, credit and balance of every account, as of a date."""
    day = _as_of(as_of)
    slugs = session.coops(coop)
    if as_json:
        _json([trial_balance(session.ledger.db, s, as_of=day) for s in slugs])
        return
    for slug in slugs:
        _print_trial_balance(session, slug, day)


@cli.command("journal")
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def journal_cmd(session: Session, coop: str | None, as_json: bool) -> None:
    """Every entry in recorded order, numbered without gaps, with its postings."""
    slugs = session.coops(coop)
    if as_json:
        _json({s: journal(session.ledger.db, s) for s in slugs})
        return
    for slug in slugs:
        table = Table(title=f"Journal – {slug}")
        for column, justify in (("n°", "right"), ("date", "left"), ("label", "left"), ("account", "left"),
                                ("party", "left"), ("debit", "right"), ("credit", "right")):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for entry in journal(session.ledger.db, slug):
            note = f" (annule {entry['reverses']})" if entry["reverses"] else ""
            note += f" (annulée par {entry['reversed_by']})" if entry["reversed_by"] else ""
            for i, p in enumerate(entry["postings"]):
                debit = amount(p["amount"], p["unit"], session.lang) if p["amount"] > 0 else ""
                credit = amount(-p["amount"], p["unit"], session.lang) if p["amount"] < 0 else ""
                first = i == 0
                table.add_row(str(entry["number"]) if first else "", entry["effective_date"] if first else "",
                              entry["label"] + note if first else "", p["account"], p["party"] or "", debit, credit,
                              end_section=i == len(entry["postings"]) - 1)
        console.print(table)


@cli.command("statement")
@click.argument("account")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--party", default=None, help="Only this party's postings (e.g. a member id).")
@click.option("--unit", default="EUR", show_default=True)
@click.option("--as-of", default=None, help="Date YYYY-MM-DD, inclusive.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def statement_cmd(session: Session, account: str, coop: str | None, party: str | None, unit: str,
                  as_of: str | None, as_json: bool) -> None:
    """Movements of one account (or one party on it) with the running balance."""
    slugs = session.coops(coop)
    if len(slugs) != 1:
        raise click.UsageError(f"--coop is needed: the store holds {', '.join(slugs) or 'no cooperative'}")
    pages, after = [], 0
    for _ in range(100_000):  # bounded paging
        page = statement(session.ledger.db, slugs[0], account, party=party, unit=unit, as_of=_as_of(as_of), after_line=after, limit=1000)
        pages.append(page)
        after += len(page["lines"])
        if after >= page["total_lines"]:
            break
    lines = [line for page in pages for line in page["lines"]]
    result = {**pages[0], "lines": lines}
    if as_json:
        _json(result)
        return
    title = f"{account} – {slugs[0]}" + (f" – {party}" if party else "")
    table = Table(title=title)
    for column, justify in (("date", "left"), ("n°", "right"), ("label", "left"), ("party", "left"),
                            ("debit", "right"), ("credit", "right"), ("balance", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in lines:
        table.add_row(line["effective_date"], str(line["number"]), line["label"], line["party"] or "",
                      amount(line["debit"], unit, session.lang) if line["debit"] else "",
                      amount(line["credit"], unit, session.lang) if line["credit"] else "",
                      amount(line["balance"], unit, session.lang))
    console.print(table)


@cli.command()
@click.option("--coop", default=None)
@click.option("--year", type=int, default=None, help="Fee year for the standing column (default: this year).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def members(session: Session, coop: str | None, year: int | None, as_json: bool) -> None:
    """Members, their college, status, shares and fee standing for a year."""
    year = year or date.today().year
    rows = []
    for slug in session.coops(coop):
        with session.ledger.db.read() as tx:
            found = tx.execute(
                "SELECT m.member_id, m.name, m.kind, m.college, m.status, m.admitted_on, m.left_on, m.shares,"
                " f.called_cents, f.paid_cents, f.fully_paid_on FROM members m LEFT JOIN fee_calls f"
                " ON f.coop = m.coop AND f.member_id = m.member_id AND f.year = ? WHERE m.coop = ? ORDER BY m.member_id",
                (year, slug),
            )
        for member_id, name, kind, college, status, admitted, left, shares, called, paid, fully_paid_on in found:
            rows.append({
                "coop": slug, "member_id": member_id, "name": name, "kind": kind, "college": college, "status": status,
                "admitted_on": admitted, "left_on": left, "shares": int(shares), "year": year,
                "fee_called_cents": called, "fee_paid_cents": paid,
                "in_good_standing": bool(called) and called == paid, "fully_paid_on": fully_paid_on,
            })
    if as_json:
        _json(rows)
        return
    table = Table(title=f"Membres – cotisation {year}" if session.lang == "fr" else f"Members – {year} fee")
    for column in ("coop", "member", "name", "college", "status", "shares", "fee called", "paid", "standing"):
        table.add_column(column)
    for r in rows:
        called = amount(r["fee_called_cents"], "EUR", session.lang) if r["fee_called_cents"] is not None else "—"
        paid = amount(r["fee_paid_cents"], "EUR", session.lang) if r["fee_paid_cents"] is not None else "—"
        table.add_row(r["coop"], r["member_id"], r["name"], r["college"], r["status"], str(r["shares"]), called, paid,
                      "✔" if r["in_good_standing"] else "")
    console.print(table)


@cli.command()
@click.pass_obj
def rebuild(session: Session) -> None:
    """Rebuild every projection from zero, with a progress bar."""
    ledger, runner = session.ledger, session.runner
    total = ledger.position()
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("rebuild", total=max(total, 1))
        runner.rebuild(lambda done, upto: bar.update(task, completed=done, total=max(upto, 1)))
    console.print(f"Rebuilt {', '.join(p.name for p in runner.projections)} from {total} notifications "
                  f"in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
