"""`coopledger project`: the projection runner alone, in a process of its own.

With `coopledger serve --no-projections` the API processes only record commands and read views;
one or more `coopledger project` processes keep the views current. Several may run at once, on
one machine or several: each batch locks the projections' positions (SELECT ... FOR UPDATE on
PostgreSQL, the write lock on SQLite) and skips what another runner already did, so every event
is applied to every view exactly once (tests/perf/test_multi_process.py; docs/scaling.md).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
import structlog

from cli.session import Session

log = structlog.get_logger("coopledger.runner")

REPORT_EVERY_S = 10.0


@click.command("project")
@click.option(
    "--projection",
    "names",
    multiple=True,
    help="Only these projections (repeat; default: all). Each view must be kept by some runner.",
)
@click.option("--once", is_flag=True, help="Catch up with the log, then exit (default: keep following it).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def project(session: Session, names: tuple[str, ...], once: bool, batch_size: int) -> None:
    """Run the projection runner only (no HTTP server): keeps the views current until stopped."""
    from projections.catalog import all_projections
    from projections.runner import ProjectionRunner

    every = all_projections()
    known = {cls.name: cls for cls in every}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise click.UsageError(f"--projection: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = tuple(known[n] for n in names) if names else every
    runner = ProjectionRunner(session.ledger, projections=chosen, batch_size=batch_size)
    if once:
        done = runner.catch_up()
        click.echo(
            f"projections at position {runner.position()} ({done} positions advanced, "
            f"{runner.applied_batches} batches applied by this process)"
        )
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    runner.start()
    log.info("runner_started", projections=[cls.name for cls in chosen], store=session.config.describe())
    click.echo(f"runner started: {len(chosen)} projections", nl=True)
    try:
        # Long-running: say where it is every REPORT_EVERY_S, and any error the runner keeps.
        while not stop.wait(REPORT_EVERY_S):
            log.info("runner_progress", position=runner.position(), log_end=session.ledger.position(), error=runner.last_error)
    finally:
        runner.stop()
        log.info("runner_stopped", position=runner.position(), batches_applied=runner.applied_batches)
        click.echo(f"runner stopped at position {runner.position()}: {runner.applied_batches} batches applied by this process")


def app_without_projections() -> Any:
    """ASGI factory for `serve --no-projections`: the API without its projection runner. Reads that
    wait for a position (read-your-writes) watch the positions the separate runners advance."""
    from api import logs
    from api.app import create_app
    from ledger import gc_tuning

    logs.configure()
    app = create_app(run_projections=False, warm=True)
    app.state.services.runner.passive = True
    gc_tuning.tune()  # a server process, its app built (ledger/gc_tuning.py)
    return app
