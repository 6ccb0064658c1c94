"""`coopledger backup --out FILE` and `coopledger restore FILE` (the logic is in ledger/backup.py).

A restore goes into an empty store only, applies any newer migrations, then rebuilds every
projection from the restored events and prints each cooperative's chain head, to compare with
the source's (`coopledger restore` after `coopledger backup` gives the same heads).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from cli import tables
from cli.session import Session
from cli.tables import console
from domain.cooperative import coop_id
from domain.errors import DomainError
from ledger import backup as backups
from ledger.links import StoredLinks
from projections.registry import cooperative_slugs


@click.command("backup")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The backup file to write (never overwritten)."
)
@click.pass_obj
def backup(session: Session, out: Path) -> None:
    """Write a consistent backup of the store while it runs (SQLite backup API / pg_dump of the schema)."""
    started = time.perf_counter()
    try:
        info = backups.backup(session.config, out)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    console.print(
        f"{info.kind} backup of {session.config.describe()} written to {info.path} "
        f"({info.size_bytes:,} bytes, {time.perf_counter() - started:.1f} s)",
        highlight=False,
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def restore(session: Session, file: Path) -> None:
    """Restore a backup into an EMPTY store, then rebuild every projection from its events."""
    session.allow_create()
    try:
        kind = backups.restore(session.config, file)  # before session.ledger: that would create tables
    except DomainError as error:
        raise click.ClickException(error.message) from None
    ledger, runner = session.ledger, session.runner  # applies migrations newer than the backup
    with tables.progress() as bar:
        task = bar.add_task("rebuild", total=max(ledger.position(), 1))
        runner.rebuild(lambda done, upto: bar.update(task, completed=done, total=max(upto, 1)))
    console.print(
        f"{kind} backup {file} restored into {session.config.describe()}: {ledger.position()} log positions, projections rebuilt",
        highlight=False,
    )
    for slug in cooperative_slugs(ledger.db):
        journal = ledger.cooperative(slug).journal  # loading replays and verifies the journal's chain
        head = StoredLinks(ledger.db).last(coop_id(slug))  # the event chain's head: compare with the minutes
        click.echo(
            f"{slug}: {journal.last_number} entries, chain head {journal.last_hash}; head {head[0]}:{head[1]}"
            if head
            else f"{slug}: {journal.last_number} entries, chain head {journal.last_hash}"
        )


def register(group: click.Group) -> None:
    group.add_command(backup)
    group.add_command(restore)
