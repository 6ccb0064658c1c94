"""`coopledger snapshots`: take the snapshots a cold load would miss, before the service opens.

After an upgrade that changed the state's shape (STATE_SCHEMA, docs/decisions/0011-snapshots.md),
every stored snapshot is ignored, and the first command on a large cooperative replays its whole
history: about 100 s at 1,000,000 events. Run this once after such an upgrade (it is safe at any
time, and while the service runs): each cooperative whose cold load would replay
SNAPSHOT_EVERY_EVENTS events or more is replayed in pages and snapshotted.
"""

from __future__ import annotations

import time

import click
import structlog

from cli.session import Session
from ledger.snapshot_check import SnapshotNotStored, founded_slugs, retake_snapshot, stale_snapshot

log = structlog.get_logger("coopledger.snapshots")


@click.command("snapshots")
@click.option("--coop", default=None, help="Cooperative id (default: every cooperative in the store).")
@click.pass_obj
def snapshots_cmd(session: Session, coop: str | None) -> None:
    """Take a snapshot of each cooperative that has none usable (an upgrade, a store written before
    snapshots) and enough events since its last one; prints what it did, one line per cooperative."""
    ledger = session.ledger
    slugs = [coop] if coop is not None else founded_slugs(ledger)
    taken = 0
    for n, slug in enumerate(slugs, start=1):
        stale = stale_snapshot(ledger, slug)
        if stale is None:
            click.echo(f"[{n}/{len(slugs)}] {slug}: its snapshot is current")
            continue
        version, since = stale
        click.echo(f"[{n}/{len(slugs)}] {slug}: replaying {version:,} events (snapshot at {since:,})...")
        started = time.perf_counter()
        try:
            retake_snapshot(ledger, slug, version)
        except SnapshotNotStored as exc:
            raise click.ClickException(f"{exc}; the events are untouched (a snapshot is a cache): run it again") from None
        seconds = time.perf_counter() - started
        log.info("snapshot_retaken", coop=slug, version=version, seconds=round(seconds, 2))
        click.echo(f"[{n}/{len(slugs)}] {slug}: snapshot at version {version:,} in {seconds:.1f} s")
        taken += 1
    click.echo(f"{taken} snapshot(s) taken, {len(slugs) - taken} current")
