"""Command-line commands for an auditor: `verify` (the hash chain, from the stored events) and
`audit-trail` (who recorded what, when, under which key, why)."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import click
import orjson
from rich.markup import escape
from rich.table import Table

from api.format import amount, day
from cli import tables
from cli.session import Session
from cli.tables import console
from ledger.heads import Head
from ledger.verify import CoopReport, adoptions, verify_store
from projections.audit_trail import MAX_PAGE, audit_trail
from projections.closing import fiscal_years

MAX_TRAIL_PAGES = 10_000  # 10 million events at most per invocation: bounded paging
PROGRESS_FROM_EVENTS = 20_000  # below this, verify is quick enough to need no progress bar


def _json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@click.command()
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative in the store).")
@click.option(
    "--head",
    "head_text",
    default=None,
    metavar="N:HASH",
    help="A head kept outside the store (a closing's or an assembly's minutes): check that this store still "
    "holds exactly that head at event N. Needs --coop.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report per cooperative.")
@click.pass_obj
def verify(session: Session, coop: str | None, head_text: str | None, as_json: bool) -> None:
    """Recompute each cooperative's chains from the stored events (not from the views): every event's
    link over its complete stored content, the journal's entry chain, numbering, order, presence and
    the heads sealed at each closing.

    Names the first broken event; exit status 1 if anything no longer matches, 0 otherwise.
    """
    head = None
    if head_text is not None:
        if coop is None:
            raise click.UsageError("--head names one cooperative's head: give --coop too")
        try:
            head = Head.parse(head_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--head") from None
    ledger = session.ledger  # an unknown cooperative is a DomainError: cli/main.py says which exist (exit 1)
    total = ledger.position()
    if console.is_terminal and total > PROGRESS_FROM_EVENTS and not as_json:
        with tables.progress() as bar:
            task = bar.add_task("verify", total=total)
            done: dict[str, int] = {}

            def progress(slug: str, events: int) -> None:
                done[slug] = events
                bar.update(task, completed=sum(done.values()), description=f"verify {slug}")

            reports = verify_store(ledger, coop, progress, expected_head=head)
    else:
        reports = verify_store(ledger, coop, expected_head=head)
    if as_json:
        _json([r.as_dict() for r in reports])
    else:
        for report in reports:
            console.print(_describe(report), highlight=False, soft_wrap=True)  # a head is copied whole: never wrapped
        if not reports:
            console.print("no cooperative in the store")
        for adoption in adoptions(ledger):
            console.print(
                f"note: the event chain was adopted on {adoption['adopted_at']} over the {adoption['events']} events "
                "stored before it; they are committed as they were that day",
                highlight=False,
            )
    if any(not r.ok for r in reports):
        sys.exit(1)


def _describe(report: CoopReport) -> str:
    if report.problem is not None:
        p = report.problem
        where = f"entry {p.number}" if p.number is not None else "snapshot" if p.kind.startswith("snapshot") else "event"
        return (
            f"[red]BROKEN[/red] {escape(report.coop)}: {where} (version {p.version}): {p.kind}: {escape(p.message)}"
            f" (checked {report.events} events, {report.entries} entries intact before it)"
        )
    sealed = ", ".join(f"{s['year']} at entry {s['closing_number']} (head {s['event_head']})" for s in report.sealed) or "none"
    checked = f"; head {report.head_check['head']} is in this store" if report.head_check else ""
    return (
        f"[green]OK[/green] {escape(report.coop)}: {report.events} events, {report.entries} entries; "
        f"head {report.head}; last entry {report.last_number} {report.last_hash}; closings sealed: {sealed}{checked}"
    )


@click.command("fiscal-years")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def fiscal_years_cmd(session: Session, coop: str | None, as_json: bool) -> None:
    """Fiscal years holding entries, open or closed; for each closing, its result and the head of
    the event chain it sealed (N:HASH): write it in the minutes, check it later with `verify --head`."""
    slug = session.one_coop(coop)
    years = fiscal_years(session.ledger.db, slug)
    if as_json:
        _json({"coop": slug, "fiscal_years": years})
        return
    fr = session.lang == "fr"
    table = Table(title=f"{slug} : exercices" if fr else f"{slug}: fiscal years")
    for name in (
        ("exercice", "du", "au", "écritures", "état", "résultat", "clôture", "empreinte (N:HASH)")
        if fr
        else ("year", "from", "to", "entries", "status", "result", "closing entry", "head (N:HASH)")
    ):
        table.add_column(name, overflow="fold")
    for y in years:
        closed = y["status"] == "closed"
        table.add_row(
            str(y["year"]),
            y["first_day"],
            y["last_day"],
            str(y["entries"]),
            ("clos" if closed else "ouvert") if fr else y["status"],
            amount(y["result_cents"], "EUR", session.lang) if closed else "",
            str(y["closing_number"] or ""),
            y["event_head"] or "",
        )
    console.print(table)


@click.command("audit-trail")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.option("--from", "date_from", default=None, help="First day, inclusive (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Last day, inclusive (YYYY-MM-DD).")
@click.option(
    "--by",
    "date_field",
    type=click.Choice(["recorded", "effective"]),
    default="recorded",
    show_default=True,
    help="Which date --from/--to filter: when it was recorded (UTC) or when it counts in the books.",
)
@click.option("--actor", default=None, help="Only this actor (e.g. key:0123456789ab, cli).")
@click.option("--account", default=None, help="Only entries with a posting on this account.")
@click.option("--kind", default=None, help="Only this event kind (e.g. EntryReversed).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit_trail_cmd(
    session: Session,
    coop: str | None,
    date_from: str | None,
    date_to: str | None,
    date_field: str,
    actor: str | None,
    account: str | None,
    kind: str | None,
    as_json: bool,
) -> None:
    """Every event with who recorded it, when, its idempotency key and reason; entries with their
    number, label and accounts; reversals with the entry they reverse."""
    slug = session.one_coop(coop)
    first, last = _day(date_from, "--from"), _day(date_to, "--to")
    events: list[dict[str, Any]] = []
    after = 0
    for _ in range(MAX_TRAIL_PAGES):
        page = audit_trail(
            session.ledger.db,
            slug,
            date_from=first,
            date_to=last,
            date_field=date_field,
            actor=actor,
            account=account,
            kind=kind,
            after=after,
            limit=MAX_PAGE,
        )
        events.extend(page["events"])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    if as_json:
        _json({"coop": slug, "events": events})
        return
    _print_trail(slug, events, session.lang)


def _print_trail(slug: str, events: list[dict[str, Any]], lang: str) -> None:
    """One row per event; an entry's number beside the entry it reverses, the reason beside the label."""
    fr = lang == "fr"
    table = tables.new_table(
        f"{slug} : piste d'audit ({len(events)} événements)" if fr else f"{slug}: audit trail ({len(events)} events)",
        [
            (name, "left")
            for name in (
                "position",
                "recorded at (UTC)",
                "effective",
                "actor",
                "kind",
                "entry",
                "reason / label",
                "idempotency key",
            )
        ],
        lang,
    )
    for e in events:
        entry = "" if e["journal_number"] is None else str(e["journal_number"])
        if e["reverses"] is not None:
            entry += f" ({'annule' if fr else 'reverses'} {e['reverses']})"
        why = " / ".join(x for x in (e["reason"], e["label"]) if x)
        table.add_row(
            str(e["position"]),
            e["recorded_at"][:19],
            day(e["effective_date"], lang, "short"),
            e["actor"],
            e["kind"],
            entry,
            escape(why),
            escape(e["idempotency_key"]),
        )
    console.print(table)
