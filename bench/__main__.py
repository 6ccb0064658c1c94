"""`python -m bench` (what `make bench` runs): rebuild of the balances view on SQLite and
PostgreSQL, events per second and peak memory, written to docs/benchmarks.md.

    .venv/bin/python -m bench                       # 200,000 events, both stores, writes the doc
    .venv/bin/python -m bench --quick               # smoke run: 5,000 events, doc not written
    .venv/bin/python -m bench --events 50000 --stores sqlite --no-write
"""

from __future__ import annotations

import sys

from bench.freeze import copied_from, frozen, run_frozen

if __name__ == "__main__" and not frozen():
    # Before importing the core: the whole run uses a copy of the code taken now.
    from bench.machine import code as _code

    sys.exit(run_frozen(sys.argv[1:], _code()))

import re  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
from pathlib import Path  # noqa: E402

import click  # noqa: E402
import structlog  # noqa: E402
from rich.console import Console  # noqa: E402

from bench.logs import configure_logging  # noqa: E402
from bench.machine import REPO, code, machine, now, postgres_version  # noqa: E402
from bench.run import Settings, run_store  # noqa: E402
from bench.stores import DEFAULT_PG_URL  # noqa: E402
from ledger.service import MAX_BATCH_COMMANDS  # noqa: E402

log = structlog.get_logger("coopledger.bench")
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks.md"
QUICK_EVENTS = 5_000


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Financial events to record, then rebuild from.",
)
@click.option("--stores", default="sqlite,postgres", show_default=True, help="Comma-separated: sqlite, postgres.")
@click.option("--quick", is_flag=True, help=f"Smoke run: {QUICK_EVENTS:,} events, one rebuild, no doc written unless --output.")
@click.option(
    "--repeat", type=click.IntRange(1, 20), default=3, show_default=True, help="Measured rebuilds per store (median reported)."
)
@click.option(
    "--rebuild-batch",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="ProjectionRunner batch_size for the rebuild (1000 is the runner's default).",
)
@click.option(
    "--batch-commands",
    type=click.IntRange(1, MAX_BATCH_COMMANDS),
    default=5000,
    show_default=True,
    help="Commands per Ledger.execute_batch call while recording.",
)
@click.option(
    "--profile",
    type=click.Choice(["auto", "yes", "no"]),
    default="auto",
    show_default=True,
    help="Profile one more rebuild per store (auto: when below 100,000 events/s).",
)
@click.option(
    "--headroom/--no-headroom",
    default=None,
    help="Also time a lean rebuild pass (bench/headroom.py) for comparison (default: yes, except --quick).",
)
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True, help="PostgreSQL server; a schema is created and dropped.")
@click.option("--seed", type=int, default=20240601, show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write the report (default {DEFAULT_OUTPUT.relative_to(REPO)}; not written by --quick).",
)
@click.option("--write/--no-write", default=None, help="Write the report (default: yes, except with --quick).")
@click.option("--keep", is_flag=True, help="Keep the stores afterwards (their URLs are logged).")
@click.option("--no-progress", is_flag=True, help="No progress bars (logs only).")
def main(
    events: int,
    stores: str,
    quick: bool,
    repeat: int,
    rebuild_batch: int,
    batch_commands: int,
    profile: str,
    headroom: bool | None,
    pg_url: str,
    seed: int,
    output: Path | None,
    write: bool | None,
    keep: bool,
    no_progress: bool,
) -> None:
    """Benchmark: rebuild of all balances from recorded financial events."""
    configure_logging()
    # SIGTERM unwinds like Ctrl-C, so the stores of the run are dropped on the way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    console = Console(stderr=True)
    source = click.get_current_context().get_parameter_source
    if quick:
        if source("events") is click.core.ParameterSource.DEFAULT:
            events = QUICK_EVENTS
        if source("repeat") is click.core.ParameterSource.DEFAULT:
            repeat = 1
        if source("profile") is click.core.ParameterSource.DEFAULT:
            profile = "no"
    if headroom is None:
        headroom = not quick
    if write is None:
        write = output is not None or not quick
    output = output or DEFAULT_OUTPUT
    kinds = [s.strip() for s in stores.split(",") if s.strip()]
    unknown = sorted(set(kinds) - {"sqlite", "postgres"})
    if unknown or not kinds:
        raise click.BadParameter(f"unknown store(s) {unknown}; use sqlite and/or postgres", param_hint="--stores")
    settings = Settings(
        events=events,
        stores=kinds,
        batch_commands=batch_commands,
        rebuild_batch=rebuild_batch,
        repeat=repeat,
        seed=seed,
        pg_url=pg_url,
        profile=profile,
        keep=keep,
        show_progress=not no_progress,
        headroom=headroom,
    )
    started = now()
    where = copied_from() or code()
    if where["dirty_core_files"]:
        log.warning("core_has_uncommitted_changes", files=where["dirty_core_files"])
    log.info("bench_started", events=events, stores=kinds, repeat=repeat, rebuild_batch=rebuild_batch, commit=where["commit"])
    results = [run_store(kind, settings, console) for kind in kinds]
    finished = now()

    from bench.report import GOAL_EVENTS_PER_S, render

    for r in results:
        console.print(
            f"[bold]{r.label}[/]: rebuild {r.events_per_s:,.0f} financial events/s "
            f"({r.events_per_s / GOAL_EVENTS_PER_S:.3f}× of the {GOAL_EVENTS_PER_S:,} goal), "
            f"{r.seconds:.2f} s, peak memory {r.peak_rss_bytes / 2**20:,.1f} MB; "
            f"recording {r.recording.events_per_s:,.0f} events/s; trial balances match",
            soft_wrap=True,
        )
    if write:
        command = " ".join([".venv/bin/python -m bench", *(shlex.quote(a) for a in sys.argv[1:])])
        after = code()
        if after["commit"] != where["commit"]:
            log.info("checkout_changed_during_run", before=where, after=after, note="this run used a copy taken at its start")
            where = {**where, "changed_during_run": after}
        text = render(
            settings=settings,
            results=results,
            machine=machine(),
            code=where,
            started=started,
            finished=finished,
            command=command,
            pg_version=postgres_version(pg_url) if "postgres" in kinds else None,
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + _kept_sections(output), encoding="utf-8")
        log.info("report_written", path=str(output))


# Other benchmarks (e.g. `python -m bench.ingest`) write their own section into the same file
# between `<!-- name:begin -->` and `<!-- name:end -->`; regenerating this report keeps them.
_SECTION = re.compile(r"<!-- ([A-Za-z0-9_-]+):begin -->.*?<!-- \1:end -->\n?", re.DOTALL)


def _kept_sections(path: Path) -> str:
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    sections = [m.group(0).rstrip("\n") + "\n" for m in _SECTION.finditer(old)]
    return "".join("\n" + section for section in sections)


if __name__ == "__main__":
    main(prog_name="python -m bench")
