"""The whole `coopledger record` and `coopledger rebuild` (every view), timed as a treasurer runs them.

    .venv/bin/python -m bench.whole                        # 10 coops × 1,000 members × 5 years, both stores
    .venv/bin/python -m bench.whole --members 100 --stores sqlite --no-write

For each store: a fresh one (SQLite file, or a PostgreSQL schema dropped afterwards); the data
set written as a JSON-lines command file (bench/whole_data.py); `coopledger record FILE` and
`coopledger rebuild` each run as the real CLI in a process of its own (COOPLEDGER_DATABASE_URL),
wall time including start-up; the journal exported as plain text (ledger/exports/plaintext.py)
and `ledger -f FILE bal` and `hledger -f FILE bal` timed on it in the same run. Checks: every
command accepted, each trial balance equal to the data set's model before the rebuild and equal
after it to the one before, every view's row count unchanged by the rebuild. Then, in this
process, one more rebuild gives the time per view (ProjectionRunner.spent_s) and one under
cProfile the costliest functions. Writes its section of docs/benchmarks.md (bench/whole_report.py).
"""

from __future__ import annotations

import cProfile
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import structlog

from bench.logs import configure_logging
from bench.machine import REPO
from bench.plaintext_tools import time_tools
from bench.profile import Hotspot, _short
from bench.stores import DEFAULT_PG_URL, LABELS, BenchStore
from bench.whole_data import WholeData, write_commands
from bench.whole_report import write_report
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.bench")

CLI_TIMEOUT_S = 3600
TOP_FUNCTIONS = 12


def _cli(url: str, *args: str) -> tuple[float, str]:
    """Runs `coopledger ARGS` in its own process on the store at `url`; (wall seconds, output)."""
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "--lang", "en", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"coopledger {' '.join(args)} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
    return seconds, done.stdout + done.stderr


def _views(ledger: Ledger, runner: ProjectionRunner, slugs: list[str]) -> dict[str, Any]:
    """What the rebuild must leave as it found it: each trial balance, each view's row count."""
    with ledger.db.read() as tx:
        counts = {t: int(tx.execute(f"SELECT COUNT(*) FROM {t}")[0][0]) for p in runner.projections for t in p.tables}  # noqa: S608
    return {"trial_balances": {slug: trial_balance(ledger.db, slug) for slug in slugs}, "row_counts": counts}


def _check_model(views: dict[str, Any], data: WholeData) -> None:
    for slug, tb in views["trial_balances"].items():
        eur = tb["totals"].get("EUR", {})
        assert eur.get("debit") == data.expected_eur_cents(), f"{slug}: EUR debits {eur}, model {data.expected_eur_cents()}"


def _profiled_rebuild(ledger: Ledger, total_s_hint: list[float]) -> list[Hotspot]:
    profile = cProfile.Profile()
    runner = ProjectionRunner(ledger)
    profile.enable()
    runner.rebuild()
    profile.disable()
    import pstats

    stats = pstats.Stats(profile)
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.stats.values())  # type: ignore[attr-defined]
    total_s_hint.append(total)
    rows = [
        Hotspot(_short(f, line, fn), nc, tt, ct, tt / total)
        for (f, line, fn), (_cc, nc, tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    rows.sort(key=lambda h: h.own_s, reverse=True)
    return rows[:TOP_FUNCTIONS]


def run_store(kind: str, data: WholeData, pg_url: str) -> dict[str, Any]:
    store = BenchStore.create(kind, pg_url=pg_url)
    ledger: Ledger | None = None
    try:
        log.info("recording", store=kind, commands=data.commands)
        record_s, said = _cli(store.url, "record", str(data.path))
        assert f"{data.commands} recorded now" in said.replace(",", ""), said[-500:]
        log.info("recorded", store=kind, seconds=round(record_s, 2), commands_per_s=round(data.commands / record_s))
        ledger = Ledger(StoreConfig.from_url(store.url))
        slugs = data.slugs()
        incremental = ProjectionRunner(ledger)
        started = time.perf_counter()
        incremental.catch_up()
        catch_up_s = time.perf_counter() - started
        before = _views(ledger, incremental, slugs)
        _check_model(before, data)
        log.info("views_caught_up", store=kind, seconds=round(catch_up_s, 2))
        rebuild_s, _said = _cli(store.url, "rebuild")
        assert _views(ledger, incremental, slugs) == before, "the rebuild changed the views"
        log.info("rebuilt", store=kind, seconds=round(rebuild_s, 2))
        in_process = ProjectionRunner(ledger)
        started = time.perf_counter()
        in_process.rebuild()
        in_process_s = time.perf_counter() - started
        assert _views(ledger, in_process, slugs) == before, "the in-process rebuild changed the views"
        profiled_total: list[float] = []
        hotspots = _profiled_rebuild(ledger, profiled_total)
        tools = time_tools(ledger, slugs)
        return {
            "label": LABELS[kind],
            "commands": data.commands,
            "entries": data.entries,
            "record_s": record_s,
            "catch_up_s": catch_up_s,
            "rebuild_s": rebuild_s,
            "in_process_s": in_process_s,
            "per_view_s": dict(sorted(in_process.spent_s.items(), key=lambda kv: -kv[1])),
            "hotspots": hotspots,
            "profiled_s": profiled_total[0],
            "rows": sum(before["row_counts"].values()),
            "tools": tools,
            # The machine is shared: how busy it was says how far these figures are from an idle one.
            "load_1min": os.getloadavg()[0],
        }
    finally:
        if ledger is not None:
            ledger.close()
        store.drop()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--members", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="Members per cooperative.")
@click.option("--coops", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--years", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--stores", default="sqlite,postgres", show_default=True, help="Comma-separated: sqlite, postgres.")
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option("--write/--no-write", default=True, show_default=True, help="Write the section of docs/benchmarks.md.")
def main(members: int, coops: int, years: int, stores: str, pg_url: str, write: bool) -> None:
    configure_logging()
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="coopledger-whole-") as tmp:
        data = write_commands(Path(tmp) / "commands.jsonl", coops=coops, members=members, years=years)
        log.info(
            "command_file_written", commands=data.commands, entries=data.entries, mb=round(data.path.stat().st_size / 2**20, 1)
        )
        for kind in stores.split(","):
            if kind not in LABELS:
                raise click.UsageError(f"--stores: unknown store {kind!r}")
            r = results[LABELS[kind]] = run_store(kind, data, pg_url)
            tools = ", ".join(f"{name} {t['seconds']:.2f} s" for name, t in r["tools"]["tools"].items())
            click.echo(
                f"{r['label']}: record {r['record_s']:.1f} s ({r['commands'] / r['record_s']:,.0f} commands/s), "
                f"rebuild {r['rebuild_s']:.2f} s (in process {r['in_process_s']:.2f} s), {tools}"
            )
            for name, seconds in r["per_view_s"].items():
                click.echo(f"    {name:<28} {seconds:7.2f} s")
    if write:
        write_report(results, data, time.perf_counter() - started)


if __name__ == "__main__":
    main()
