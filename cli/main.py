"""The `coopledger` command line: tables on a terminal, JSON with --json.

Every command first applies pending migrations and brings the projections up to date, so
what it shows is everything recorded so far.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from decimal import Decimal
from typing import Any

import click
import orjson

from api import logs
from api.format import day as format_day
from api.format import number
from cli import governance_tables, tables
from cli.audit import audit_trail_cmd, fiscal_years_cmd, verify
from cli.backup import register as register_backup
from cli.bank import load_demo_bank
from cli.bank import register as register_bank
from cli.export import export, report
from cli.feed import follow
from cli.persons import register as register_persons
from cli.receipts import register as register_receipts
from cli.record import record, record_lines
from cli.runner import project
from cli.sepa import register as register_sepa
from cli.service import keys, serve
from cli.session import Session
from cli.snapshots import snapshots_cmd
from cli.tables import console
from domain.errors import DomainError, NotFound
from ledger import gc_tuning
from ledger.demo import CLUSTER, demo_commands
from projections.balances import trial_balance
from projections.governance_reads import explain_member, resolution_tally, weights_as_of
from projections.journal import journal, statement
from projections.lookups import require_account, require_member, require_party
from projections.registry import cooperative_summary, member_standing


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


class Cli(click.Group):
    """The one place where a refusal from below becomes a command-line error (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            raise click.ClickException(f"{error.field}: {error.message} (rule {error.rule})") from None

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Said when help is shown: the store the environment chooses now, not only the default.
        url = os.environ.get("COOPLEDGER_DATABASE_URL")
        chosen = (
            f"now {url} (from COOPLEDGER_DATABASE_URL)" if url else "unset: sqlite:///var/coopledger.sqlite in the current folder"
        )
        for param in self.params:
            if param.name == "database_url":
                param.help = f"The store, {chosen}. sqlite:///path or postgresql://user@host/db?schema=s."  # type: ignore[attr-defined]
        super().format_options(ctx, formatter)


@click.group(cls=Cli)
@click.option("--database-url", envvar="COOPLEDGER_DATABASE_URL", default=None, show_envvar=True)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default=None,
    help="Labels and number format (default fr); also accepted after the command.",
)
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, lang: str | None) -> None:
    """coopledger: the event-sourced ledger of cooperatives."""
    logs.configure()
    try:
        ctx.obj = Session(database_url, lang or "fr")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.call_on_close(ctx.obj.close)


def build() -> click.Group:
    """The whole command line: every command registered, each accepting --lang after its name too."""
    for command in (
        record,
        keys,
        serve,
        follow,
        verify,
        fiscal_years_cmd,
        audit_trail_cmd,
        export,
        report,
        project,
        snapshots_cmd,
    ):
        cli.add_command(command)
    register_backup(cli)
    register_persons(cli)
    register_sepa(cli)
    register_bank(cli)
    register_receipts(cli)
    _accept_lang_anywhere(cli)
    return cli


def _set_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Session).lang = value


def _accept_lang_anywhere(group: click.Group) -> None:
    """`coopledger report balance-sheet ... --lang en` works like `coopledger --lang en report ...`."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _accept_lang_anywhere(command)
        elif not any(p.name == "lang" for p in command.params):
            command.params.append(
                click.Option(
                    ["--lang"],
                    type=click.Choice(["fr", "en"]),
                    default=None,
                    expose_value=False,
                    callback=_set_lang,
                    is_eager=True,
                    help="Labels and number format (default fr).",
                )
            )


def main() -> None:
    """The `coopledger` program. Its collector is tuned once the program is loaded (ledger/gc_tuning.py:
    `record` of 110,010 commands, for one, allocates millions of short-lived objects)."""
    cli_group = build()
    gc_tuning.tune()
    cli_group()


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def demo(session: Session, as_json: bool) -> None:
    """Load the demo cooperatives (idempotent: a second run adds nothing) and show them."""
    import json

    session.allow_create()
    commands = demo_commands()
    reports = record_lines(session, [(i, json.dumps(c)) for i, c in enumerate(commands, start=1)])
    refused = [r for r in reports if not r["accepted"]]
    if refused:  # the demo is ours: a refusal is a bug in it, say exactly which
        raise click.ClickException(f"the demo was refused: {refused[:3]}")
    session.current()
    reports += load_demo_bank(session, CLUSTER)  # bank statements read from files, then matched: after the rest
    new = sum(1 for r in reports if not r["duplicate"])
    slugs = sorted({c["coop"] for c in commands})
    session.current()
    summaries = [cooperative_summary(session.ledger.db, s) for s in slugs]
    balances = [trial_balance(session.ledger.db, s) for s in slugs]
    if as_json:
        _json(
            {
                "commands": len(reports),
                "recorded_now": new,
                "already_recorded": len(reports) - new,
                "cooperatives": summaries,
                "trial_balances": balances,
            }
        )
        return
    fr, store = session.lang == "fr", session.config.describe()
    console.print(
        f"Démo : {len(reports)} commandes, {new} enregistrées maintenant, {len(reports) - new} déjà enregistrées (base : {store})"
        if fr
        else f"Demo: {len(reports)} commands, {new} recorded now, {len(reports) - new} already recorded (store: {store})",
        highlight=False,
    )
    tables.coops([s for s in summaries if s], session.lang)
    for tb in balances:
        tables.trial_balance(tb, session.lang)


# ---------------------------------------------------------------- reading


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def coops(session: Session, as_json: bool) -> None:
    """List the cooperatives in the store."""
    summaries = [cooperative_summary(session.ledger.db, s) for s in session.coops(None)]
    if as_json:
        _json(summaries)
    else:
        tables.coops([s for s in summaries if s], session.lang)


@cli.command("trial-balance")
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--as-of", default=None, help="Date YYYY-MM-DD, inclusive (default: everything).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def trial_balance_cmd(session: Session, coop: str | None, as_of: str | None, as_json: bool) -> None:
    """Debit, credit and balance of every account, as of a date."""
    day = _as_of(as_of)
    balances = [trial_balance(session.ledger.db, s, as_of=day) for s in session.coops(coop)]
    if as_json:
        _json(balances)
        return
    for tb in balances:
        tables.trial_balance(tb, session.lang)


@cli.command("journal")
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def journal_cmd(session: Session, coop: str | None, as_json: bool) -> None:
    """Every entry in recorded order, numbered without gaps, with its postings."""
    journals = {s: journal(session.ledger.db, s) for s in session.coops(coop)}
    if as_json:
        _json(journals)
        return
    for slug, entries in journals.items():
        tables.journal(slug, entries, session.lang)


@cli.command("statement")
@click.argument("account")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--party", default=None, help="Only this party's postings (e.g. a member id).")
@click.option("--unit", default="EUR", show_default=True)
@click.option("--as-of", default=None, help="Date YYYY-MM-DD, inclusive.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def statement_cmd(
    session: Session, account: str, coop: str | None, party: str | None, unit: str, as_of: str | None, as_json: bool
) -> None:
    """Movements of one account (or one party on it) with the running balance."""
    slugs = [session.one_coop(coop)]
    require_account(session.ledger.db, slugs[0], account)
    if party is not None:
        require_party(session.ledger.db, slugs[0], account, party)
    day, lines, page = _as_of(as_of), [], None
    for _ in range(100_000):  # bounded paging
        page = statement(
            session.ledger.db, slugs[0], account, party=party, unit=unit, as_of=day, after_line=len(lines), limit=1000
        )
        lines.extend(page["lines"])
        if len(lines) >= page["total_lines"]:
            break
    assert page is not None
    result = {**page, "lines": lines}
    if as_json:
        _json(result)
    else:
        tables.statement(result, session.lang)


@cli.command()
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--year", type=int, default=None, help="Fee year for the standing column (default: this year).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def members(session: Session, coop: str | None, year: int | None, as_json: bool) -> None:
    """Members, their college, status, shares and fee standing for a year."""
    year = year or date.today().year
    rows = [row for slug in session.coops(coop) for row in member_standing(session.ledger.db, slug, year)]
    if as_json:
        _json(rows)
    else:
        tables.members(rows, year, session.lang)


@cli.command()
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative).")
@click.option("--as-of", default=None, help="Date YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def governance(session: Session, coop: str | None, as_of: str | None, as_json: bool) -> None:
    """Each college's statutory and effective weight and each eligible member's vote weight."""
    day = _as_of(as_of) or date.today()
    reports = [weights_as_of(session.ledger.db, s, day) for s in session.coops(coop)]
    if as_json:
        _json(reports)
        return
    for weights in reports:
        assert weights is not None
        if weights["colleges"]:
            governance_tables.governance(weights, session.lang)
        else:
            console.print(
                f"{weights['coop']} : pas encore fondée le {format_day(day, 'fr')}"
                if session.lang == "fr"
                else f"{weights['coop']}: not founded yet on {format_day(day, 'en')}",
                highlight=False,
            )


@cli.command("explain-member")
@click.argument("member_id")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--as-of", default=None, help="Date YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def explain_member_cmd(session: Session, member_id: str, coop: str | None, as_of: str | None, as_json: bool) -> None:
    """May this member vote on that date, and why (every rule checked)."""
    day = _as_of(as_of) or date.today()
    slugs = [session.one_coop(coop)]
    require_member(session.ledger.db, slugs[0], member_id)
    report = explain_member(session.ledger.db, slugs[0], member_id, day)
    if report is None:
        raise click.UsageError(f"{slugs[0]} was not founded on {day}")
    if as_json:
        _json(report)
    else:
        governance_tables.explanation(report, session.lang)


@cli.command("tally")
@click.argument("resolution_id")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tally_cmd(session: Session, resolution_id: str, coop: str | None, as_json: bool) -> None:
    """Tally a general-assembly resolution by college, then weight the colleges' results."""
    slugs = [session.one_coop(coop)]
    report = resolution_tally(session.ledger.db, slugs[0], resolution_id)
    if report is None:
        raise NotFound("resolution_id", "known_resolution", f"{slugs[0]} has no resolution {resolution_id!r}")
    if as_json:
        _json(report)
    else:
        governance_tables.tally(report, session.lang)


@cli.command()
@click.pass_obj
def rebuild(session: Session) -> None:
    """Rebuild every projection from zero, with a progress bar."""
    ledger, runner = session.ledger, session.runner
    total = ledger.position()
    started = time.perf_counter()
    with tables.progress() as bar:
        task = bar.add_task("rebuild", total=max(total, 1))
        runner.rebuild(lambda done, upto: bar.update(task, completed=done, total=max(upto, 1)))
    names, seconds = (
        ", ".join(p.name for p in runner.projections),
        number(Decimal(time.perf_counter() - started), session.lang, 2),
    )
    console.print(
        f"Vues reconstruites ({names}) depuis {number(total, session.lang)} positions du journal en {seconds} s"
        if session.lang == "fr"
        else f"Rebuilt {names} from {number(total, 'en')} log positions in {seconds} s",
        highlight=False,
    )


if __name__ == "__main__":
    main()
