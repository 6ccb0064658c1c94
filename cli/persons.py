"""`coopledger forget`, `coopledger person export` and `coopledger compact`: a person's rights of
erasure and of access (docs/decisions/0013-forgetting-a-person.md, docs/rules.md "Personal data")."""

from __future__ import annotations

import getpass
import sys
import uuid
from datetime import date

import click
import orjson

from cli.session import Session
from domain.identities import ForgetPerson
from ledger.erasure import erase_remnants
from projections.person_export import person_export


def _actor(given: str | None) -> str:
    """Who erases: --actor, else the account running the command (recorded in the event)."""
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.command("forget")
@click.argument("person_id")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--reason", required=True, help="Why (e.g. the person's request of YYYY-MM-DD); recorded in the event.")
@click.option("--date", "day", default=None, help="Effective date YYYY-MM-DD (default: today).")
@click.option("--actor", default=None, help="Who erases (default: cli:<user running the command>).")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def forget(session: Session, person_id: str, coop: str, reason: str, day: str | None, actor: str | None, key: str | None) -> None:
    """Forget a person: their identity is erased everywhere, the books stay whole (admin)."""
    slug = session.one_coop(coop)
    try:
        effective = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    command = ForgetPerson(coop=slug, person_id=person_id, reason=reason, effective_date=effective)
    result = session.ledger.execute(command, key or f"forget-{uuid.uuid4()}", actor=_actor(actor))
    if result.error is not None:
        raise result.error
    session.current()  # every view replaces the identity; then the store is compacted (ledger/erasure.py)
    click.echo(
        f"{person_id} is forgotten in {slug} (position {result.position}): their identity reads as the pseudonym from now on."
    )


@click.group("person")
def person() -> None:
    """A person's data (right of access)."""


@person.command("export")
@click.argument("person_id")
@click.option("--coop", default=None, help="Cooperative id (needed when the store holds several).")
@click.pass_obj
def export_person(session: Session, person_id: str, coop: str | None) -> None:
    """Everything held on a person, in JSON, on standard output."""
    slug = session.one_coop(coop)
    data = person_export(session.ledger, slug, person_id)
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@click.command("compact")
@click.pass_obj
def compact(session: Session) -> None:
    """Rewrite the store so no erased bytes stay on disk (done after each forget when the store is quiet)."""
    session.current()
    tables = [t for p in session.runner.projections for t in p.identity_tables]
    if not erase_remnants(session.ledger.db, tables):
        raise click.ClickException("the store is busy (another process holds it): try again when it is quiet")
    click.echo("compacted")


def register(group: click.Group) -> None:
    for command in (forget, person, compact):
        group.add_command(command)
