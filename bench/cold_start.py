"""Cold start benchmark: the first command on a large cooperative after a restart.

    .venv/bin/python -m bench.cold_start                                  # 1,000,000 events, both stores
    .venv/bin/python -m bench.cold_start --events 100000 --stores sqlite --no-write
    .venv/bin/python -m bench.cold_start --stores sqlite --no-write --keep cold_1m   # again: reuses the store

One cooperative gets `--events` events through the real write path (`Ledger.execute_batch`, batches
of up to 10,000 AcceptReadings: one financial event each, hash chain and receipts on). Then a FRESH
Python process opens the store and times its first command on that cooperative: the aggregate is
not in any cache, so it is loaded from its latest snapshot and the events after it
(ledger/snapshots.py). The store is generated so that the load replays the most events it ever can
(SNAPSHOT_EVERY_EVENTS - 1 after the snapshot): the figure is the worst case, not the best.

For comparison, at `--replay-events` (smaller: a full replay of 1,000,000 events takes minutes and
gigabytes) the same probe runs again with the snapshots table emptied, as before snapshots existed.
Each probe reports its peak memory (VmHWM, /proc/self/status). The section between the cold_start
markers of docs/benchmarks.md is rewritten.

`--keep NAME` keeps the store and reuses it on the next run, which grows it by one snapshot
interval to the next worst case and probes again (no probe with the snapshots emptied: that would
cost a full replay): a change to the load path is measured on the same million events, generated
once. A kept store's snapshot of another STATE_SCHEMA is replaced first (one paged replay).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from bench.ingest import COOP, SENSORS, START, _setup
from bench.logs import configure_logging
from bench.machine import REPO
from bench.sections import date_and_machine_line, write_section
from bench.stores import DEFAULT_PG_URL, LABELS, BenchStore
from domain.cooperative import coop_id
from domain.sensors import AcceptReadings
from ledger import snapshots
from ledger.service import MAX_BATCH_COMMANDS, Ledger
from ledger.snapshot_check import replay
from ledger.store import StoreConfig

GOAL_FIRST_COMMAND_S = 1.0
GOAL_EVENTS = 1_000_000
REPLAY_EVENTS = 100_000  # the largest size at which the probe also runs without snapshots
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- cold_start:begin -->", "<!-- cold_start:end -->"


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _probe(url: str, probe: int) -> dict[str, Any]:
    """In a fresh process: open the store, time the first command on the cooperative."""
    baseline_kib = _vm_kib("VmHWM")
    load = os.getloadavg()[0]  # the machine is shared: how busy it was is part of the figure
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        day = START + timedelta(days=10**4 + probe)  # after every generated day: always accepted
        command = AcceptReadings(COOP, "s0", day, 96, day)
        stored = ledger.app.snapshots.stored(coop_id(COOP))  # type: ignore[union-attr]  # the one the load will read
        started = time.perf_counter()
        result = ledger.execute(command, f"cold-probe-{probe}", "bench")
        seconds = time.perf_counter() - started
        assert result.accepted, result.error
        coop = ledger.cooperative(COOP)
        return {
            "first_command_s": seconds,
            "version": coop.version,
            "snapshot_version": stored.originator_version if stored is not None else 0,
            "took_snapshot": ledger.app.snapshots.latest.get(coop.id, 0) == coop.version,  # type: ignore[union-attr]
            "peak_kib": _vm_kib("VmHWM"),
            "baseline_kib": baseline_kib,
            "load_1min": load,
        }
    finally:
        ledger.close()


def _run_probe(url: str, probe: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold_start", "--probe-url", url, "--probe", str(probe)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Generator:
    """Grows the cooperative through Ledger.execute_batch, one AcceptReadings per event."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.readings = 0
        self.generated = 0  # by this run (a kept store holds readings of earlier runs)
        self.seconds = 0.0

    def version(self) -> int:
        return self.ledger.cooperative(COOP).version

    def resume(self) -> int:
        """On a kept store: picks up where the last run stopped; returns the probes it already ran
        (0 on a new store, which gets its members and sensors)."""
        events = list(self.ledger.app.events.get(coop_id(COOP), desc=True, limit=1))
        if not events:
            _setup(self.ledger)
            return 0
        stored = self.ledger.app.snapshots.stored(coop_id(COOP))  # type: ignore[union-attr]
        try:
            usable = stored is not None and stored.usable() is not None
        except snapshots.UnusableSnapshot:
            usable = False
        if not usable:  # written by another STATE_SCHEMA: one paged replay (bounded memory), not a load of it all
            snapshots.take(self.ledger, replay(self.ledger.app, coop_id(COOP), events[0].originator_version))
        # Reading n credits sensor n % SENSORS on day n // SENSORS from START; a probe, a day 10**4 days later.
        sensors = self.ledger.cooperative(COOP).sensors.sensors.values()
        self.readings = sum((s.credited_days & ((1 << 10**4) - 1)).bit_count() for s in sensors)
        return sum((s.credited_days >> 10**4).bit_count() for s in sensors)

    def grow_to(self, version: int) -> None:
        started = time.perf_counter()
        left = version - self.version()
        while left > 0:
            size = min(MAX_BATCH_COMMANDS, left)
            items = []
            for n in range(self.readings, self.readings + size):
                day = START + timedelta(days=n // SENSORS)
                items.append((AcceptReadings(COOP, f"s{n % SENSORS}", day, 96, day), f"r-{n}", "bench"))
            results = self.ledger.execute_batch(items)
            assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
            self.readings += size
            self.generated += size
            left -= size
        self.seconds += time.perf_counter() - started

    def worst_case_at(self, version: int) -> None:
        """Grows to `version` with the last snapshot SNAPSHOT_EVERY_EVENTS - 2 events before it: the
        most a load ever replays when the command after it does not also take the next snapshot
        (one command in SNAPSHOT_EVERY_EVENTS does: its cost is reported apart, `take_ms`)."""
        every = snapshots.SNAPSHOT_EVERY_EVENTS
        self.grow_to(version - every + 2)
        coop = self.ledger.cooperative(COOP)
        if self.ledger.app.snapshots.latest.get(coop.id) != coop.version:  # type: ignore[union-attr]
            snapshots.take(self.ledger, coop)
        self.grow_to(version)  # fewer events than the interval: no snapshot


def _empty_snapshots(ledger: Ledger) -> None:
    with ledger.db.transaction() as tx:
        tx.execute(f"DELETE FROM {snapshots.SNAPSHOT_TABLES[ledger.db.dialect]}")  # noqa: S608


def _snapshot_costs(ledger: Ledger) -> dict[str, float]:
    """What one snapshot of the cooperative as it is costs: taking (encoding), size, reading."""
    coop = ledger.cooperative(COOP)
    started = time.perf_counter()
    snapshot = snapshots.CooperativeSnapshot.take(coop)
    taken = time.perf_counter()
    snapshot.usable().mutate(None)
    read = time.perf_counter()
    return {"take_ms": (taken - started) * 1000, "read_ms": (read - taken) * 1000, "chars": len(snapshot.state["data"])}


def _run_store(kind: str, events: int, replay_events: int, pg_url: str, keep: str | None) -> dict[str, Any]:
    store = BenchStore.kept(kind, keep, pg_url=pg_url) if keep else BenchStore.create(kind, pg_url=pg_url)
    rows: list[dict[str, Any]] = []
    try:
        ledger = Ledger(StoreConfig.from_url(store.url))
        try:
            gen = Generator(ledger)
            probes = gen.resume()
            every = snapshots.SNAPSHOT_EVERY_EVENTS
            # A kept store may be past these sizes already: it then grows by one interval, to the
            # next worst case (a load replaying every - 2 events after a snapshot just taken).
            sizes = [s for s in sorted({min(replay_events, events), events}) if s >= gen.version() + every - 2]
            for size in sizes or [gen.version() + every]:
                gen.worst_case_at(size)
                rows.append({"events": size, "snapshots": True, **_run_probe(store.url, probes + len(rows))})
                click.echo(f"{kind} {size:,} events, snapshots on: {_line(rows[-1])}")
                if size <= replay_events and not keep:  # emptying them would cost a kept store a full replay
                    _empty_snapshots(ledger)
                    rows.append({"events": size, "snapshots": False, **_run_probe(store.url, probes + len(rows))})
                    click.echo(f"{kind} {size:,} events, snapshots emptied: {_line(rows[-1])}")
                ledger._evict([COOP])  # the probe wrote: reload (from the snapshot) before going on
            costs = _snapshot_costs(ledger)
            rate = gen.generated / gen.seconds
        finally:
            ledger.close()
    finally:
        if not keep:
            store.drop()
    return {"rows": rows, "costs": costs, "generate_rate": rate, "generate_s": gen.seconds}


def _line(r: dict[str, Any]) -> str:
    replayed = r["version"] - 1 - r["snapshot_version"]
    return (
        f"first command {r['first_command_s']:.3f} s (goal ≤ {GOAL_FIRST_COMMAND_S:g} s), {replayed:,} events replayed, "
        f"peak memory {r['peak_kib'] / 1024:,.0f} MiB, load average {r['load_1min']:.1f}"
    )


def _write(results: dict[str, dict[str, Any]]) -> None:
    rows = [r for result in results.values() for r in result["rows"]]
    emptied = [r["events"] for r in rows if not r["snapshots"]]
    largest = max(r["events"] for r in rows)
    baseline_mib = min(r["baseline_kib"] for r in rows) / 1024
    lines = [
        BEGIN,
        "## Cold start: the first command on a large cooperative after a restart",
        "",
        date_and_machine_line(),
        f"- Command: `.venv/bin/python -m bench.cold_start` (one cooperative grown through `Ledger.execute_batch`, batches "
        f"of up to {MAX_BATCH_COMMANDS:,} AcceptReadings; then a fresh process times its first command; snapshots every "
        f"{snapshots.SNAPSHOT_EVERY_EVENTS:,} events, the store arranged so the load replays "
        f"{snapshots.SNAPSHOT_EVERY_EVENTS - 2:,} events after the snapshot: the worst case of a load; the one command in "
        f'{snapshots.SNAPSHOT_EVERY_EVENTS:,} that takes the next snapshot also pays "taking one" below)',
        f"- Without snapshots (the table emptied) the probe runs at {max(emptied):,} events only: a full replay of "
        f"{GOAL_EVENTS:,} events takes over a minute. That probe then takes the first snapshot, inside its timed command."
        if emptied
        else "- Without snapshots: not probed in this run, which reused stores kept by an earlier one (`--keep`): emptying "
        "their snapshots would cost each a full replay. A run without `--keep` probes it.",
        "",
        "| store | events | snapshots | events replayed | first command | goal | peak memory (VmHWM) | load average (1 min) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, result in results.items():
        for r in result["rows"]:
            replayed = r["version"] - 1 - r["snapshot_version"]
            figure = f"**{r['first_command_s']:.3f} s**" if r["snapshots"] else f"{r['first_command_s']:.3f} s"
            lines.append(
                f"| {LABELS[kind]} | {r['events']:,} | {'on' if r['snapshots'] else 'emptied'} | {replayed:,} | {figure} | "
                f"≤ {GOAL_FIRST_COMMAND_S:g} s at {GOAL_EVENTS:,} | {r['peak_kib'] / 1024:,.0f} MiB | {r['load_1min']:.1f} |"
            )
    lines += [
        "",
        "| store | snapshot size | taking one | reading one | generating (events/s, this run's events) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, result in results.items():
        c = result["costs"]
        lines.append(
            f"| {LABELS[kind]} | {c['chars'] / 2**20:.1f} MiB | {c['take_ms']:.0f} ms | {c['read_ms']:.0f} ms | "
            f"{result['generate_rate']:,.0f} |"
        )
    lines += [
        "",
        f"Peak memory is the probe process's, imports included ({baseline_mib:.0f} MiB before it opens the store). "
        "Snapshot size, taking and reading are of the cooperative at the largest size; a snapshot is taken by the "
        f"write path once every {snapshots.SNAPSHOT_EVERY_EVENTS:,} events (docs/decisions/0011-snapshots.md). The "
        "machine is shared: the load average beside each probe says how busy it was (2 CPUs).",
    ]
    if largest < GOAL_EVENTS:
        lines.append(f"\nThis run stopped at {largest:,} events (`--events`): the goal's size was not measured here.")
    lines.append(END)
    write_section(DOC, BEGIN, END, "\n".join(lines))


@click.command()
@click.option("--events", default=GOAL_EVENTS, show_default=True, type=click.IntRange(20_000, 10_000_000))
@click.option("--replay-events", default=REPLAY_EVENTS, show_default=True, type=click.IntRange(20_000, 10_000_000))
@click.option("--stores", default="sqlite,postgres", show_default=True)
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option("--write/--no-write", default=True, show_default=True)
@click.option(
    "--keep",
    default=None,
    metavar="NAME",
    help="Keep the store (SQLite file NAME.sqlite in the temporary directory, PostgreSQL schema NAME) and reuse it "
    "next time: a run on a kept store grows it by one snapshot interval and probes again, to measure a change "
    "to the load path without generating the events again.",
)
@click.option("--probe-url", default=None, hidden=True)
@click.option("--probe", default=0, hidden=True, type=int)
def main(
    events: int, replay_events: int, stores: str, pg_url: str, write: bool, keep: str | None, probe_url: str | None, probe: int
) -> None:
    configure_logging(logging.WARNING)  # on stderr: a probe's stdout is its one JSON line
    if probe_url is not None:
        click.echo(json.dumps(_probe(probe_url, probe)))
        return
    results = {}
    for kind in stores.split(","):
        if kind not in LABELS:
            raise click.UsageError(f"--stores: unknown store {kind!r}")
        results[kind] = r = _run_store(kind, events, replay_events, pg_url, keep)
        c = r["costs"]
        click.echo(
            f"{kind}: generated at {r['generate_rate']:,.0f} events/s ({r['generate_s']:.0f} s); snapshot "
            f"{c['chars'] / 2**20:.1f} MiB, taken in {c['take_ms']:.0f} ms, read in {c['read_ms']:.0f} ms"
        )
    if write:
        _write(results)


if __name__ == "__main__":
    main()
