"""`coopledger follow`: prints a cooperative's facts as they are recorded, until Ctrl-C.

It reads the store directly, like every other reading command: no server or API key is needed
(whoever holds the database URL already sees everything, so it shows the admin's view), and it
keeps the projections current itself with a projection runner thread, which LISTENs on
PostgreSQL and polls SQLite. A server running on the same store projects too; the two coordinate
through the projection positions. To follow a remote ledger, use GET /v1/coops/{coop}/feed.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
import orjson

from api.answers.feed import wire_fact
from api.format import amount
from api.webhook_endpoints import check_kinds
from cli.session import Session
from projections.feed import MAX_PAGE, FeedFilter, read_page

IDLE_WAIT_S = 0.25  # at most this long between two reads when nothing wakes us, and to notice Ctrl-C


def _signed(minor: int, unit: str, lang: str) -> str:
    return ("+" if minor > 0 else "") + amount(minor, unit, lang) + ("" if unit == "EUR" else f" {unit}")


def line(fact: dict[str, Any], lang: str = "fr") -> str:
    """One line for a person: position, date, kind, entry number and label or the fact's data;
    amounts in euros (or credits, hours) as the other commands print them, never raw minor units."""
    entry = fact["entry"]
    if entry is not None:
        moves = " ".join(
            f"{p['account']}{'/' + p['party'] if p['party'] else ''} {_signed(p['amount'], p.get('unit') or 'EUR', lang)}"
            for p in entry["postings"]
        )
        what = f"#{entry['number']} {entry.get('label', '')} [{moves}]"
    else:
        what = " ".join(f"{k}={v}" for k, v in fact["data"].items() if v is not None and not isinstance(v, list | dict))
    return f"{fact['position']:>8}  {fact['effective_date']}  {fact['kind']:<28} {what}"


@click.command()
@click.option("--coop", required=True, help="The cooperative to follow.")
@click.option(
    "--after",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Log position already seen (what the last line printed): start after it.",
)
@click.option("--kinds", default=None, help="Comma-separated fact kinds (docs/webhooks.md); default every kind.")
@click.option("--json", "as_json", is_flag=True, help="One JSON fact per line instead of text.")
@click.pass_obj
def follow(session: Session, coop: str, after: int, kinds: str | None, as_json: bool) -> None:
    """Print the cooperative's facts live, from --after on; Ctrl-C stops."""
    slug = session.one_coop(coop)
    try:
        flt = FeedFilter("admin", kinds=check_kinds([k.strip() for k in (kinds or "").split(",") if k.strip()], "admin"))
    except Exception as exc:  # an unknown kind: say which
        raise click.BadParameter(str(exc), param_hint="--kinds") from None
    # Ctrl-C sets a flag the loop checks at least every IDLE_WAIT_S: a KeyboardInterrupt raised
    # inside the condition's wait or a database call would leave a lock or a transaction half done.
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_args: stop.set())
    runner = session.runner
    runner.start()
    advanced = runner._advanced  # noqa: SLF001 (the runner's "a batch was applied" condition)
    try:
        while not stop.is_set():
            page = read_page(session.ledger.db, slug, flt, after=after, limit=MAX_PAGE)
            for fact in page.facts:
                # --json prints a fact as the HTTP feed sends it (amounts as strings, docs/webhooks.md).
                sys.stdout.write((orjson.dumps(wire_fact(fact)).decode() if as_json else line(fact, session.lang)) + "\n")
            sys.stdout.flush()
            after = page.next_after
            if not page.full:
                with advanced:
                    advanced.wait(IDLE_WAIT_S)
    finally:
        signal.signal(signal.SIGINT, previous)
        runner.stop()
    click.echo(f"stopped after position {after} (resume with --after {after})", err=True)
