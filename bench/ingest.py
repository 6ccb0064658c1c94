"""Ingest benchmark: sensor reading batches recorded through the ledger's batch path.

    .venv/bin/python -m bench.ingest                      # 100,000 AcceptReadings, batches of 1,000, both stores
    .venv/bin/python -m bench.ingest --events 10000 --no-write

Each AcceptReadings is one financial event (credits to the host, CREDIT unit). The run is the
real command path: Ledger.execute_batch, receipts, hash chain, optimistic concurrency. It writes
its own section into docs/benchmarks.md between two markers, leaving the rest of the file alone.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import click
import psycopg

from bench import ingest_phases
from bench.ingest_ceiling import concurrent_singles, raw_ceiling
from bench.machine import REPO, machine, now
from bench.sections import write_section
from bench.stores import DEFAULT_PG_URL
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.membership import AdmitMember
from domain.sensors import AcceptReadings, RegisterSensor, SetSensorRewardTerms
from ledger import gc_tuning
from ledger.service import Ledger
from ledger.store import StoreConfig

GOAL_EVENTS_PER_S = 20_000
GOAL_SINGLES_PER_S = 2_000
SINGLE_THREADS = 32
SENSORS = 500
COOP = "capteurs"
START = date(2020, 1, 1)
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- ingest:begin -->", "<!-- ingest:end -->"


def _setup(ledger: Ledger) -> None:
    colleges = [CollegeSpec("hosts", "Hébergeurs", "50"), CollegeSpec("users", "Usagers", "50")]
    ledger.execute(
        FoundCooperative(
            COOP, "Réseau citoyen de capteurs", "association", START, colleges, [FeeBracket(1, None, Decimal("10"))]
        ),
        "setup-found",
    )
    ledger.execute(
        SetSensorRewardTerms(COOP, START, Decimal("0.01"), Decimal("1000"), Decimal("0.05"), Decimal("0.10")), "setup-terms"
    )
    setup = []
    for i in range(SENSORS):
        setup.append((AdmitMember(COOP, f"h{i}", f"Hôte {i}", "person", "hosts", START), f"setup-admit-{i}", "bench"))
        setup.append((RegisterSensor(COOP, f"s{i}", f"h{i}", "pm2.5", START), f"setup-sensor-{i}", "bench"))
    results = ledger.execute_batch(setup)
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]


def _run(url: str, events: int, batch: int, singles: int) -> dict[str, Any]:
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        _setup(ledger)
        after_setup = ledger.position()
        done, started = 0, time.perf_counter()
        while done < events:
            size = min(batch, events - done)
            items = []
            for n in range(done, done + size):
                sensor, day = n % SENSORS, START + timedelta(days=n // SENSORS)
                items.append((AcceptReadings(COOP, f"s{sensor}", day, 96, day), f"r-{n}", "bench"))
            results = ledger.execute_batch(items)
            assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
            done += size
        seconds = time.perf_counter() - started
        assert ledger.cooperative(COOP).journal.last_number == events  # one entry per batch of readings
        out: dict[str, Any] = {"events": events, "seconds": seconds, "rate": events / seconds, "after_setup": after_setup}
        if singles:
            first_day = START + timedelta(days=events // SENSORS + 1)
            out["singles"] = concurrent_singles(ledger, singles, SINGLE_THREADS, first_day, SENSORS)
        return out
    finally:
        ledger.close()


def _machine_line() -> str:
    m = machine()
    return (
        f"{m['cpu_model']}, {m['logical_cpus']} logical CPUs, {m['memory_bytes'] / 2**30:.1f} GiB; "
        f"{m['kernel']}, Python {m['python']}, SQLite {m['sqlite']}, eventsourcing {m['eventsourcing']}"
    )


def _write(rows: dict[str, dict[str, float]], batch: int) -> None:
    lines = [
        BEGIN,
        "## Ingest: sensor reading batches through the ledger's batch path",
        "",
        f"- Date: {now():%Y-%m-%d %H:%M} UTC; machine: {_machine_line()}",
        f"- Command: `.venv/bin/python -m bench.ingest` ({batch:,} commands per `Ledger.execute_batch`, "
        f"{SENSORS} sensors, one `AcceptReadings` = one financial event, hash chain and receipts on; the garbage "
        "collector tuned as the program's entry points tune it: ledger/gc_tuning.py)",
        "",
        "| store | events | seconds | events/s | goal | ratio to goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for store, r in rows.items():
        lines.append(
            f"| {store} | {r['events']:,.0f} | {r['seconds']:.1f} | **{r['rate']:,.0f}** | ≥ {GOAL_EVENTS_PER_S:,} | "
            f"{r['rate'] / GOAL_EVENTS_PER_S:.3f}× |"
        )
    if len(rows) == 2:
        s, p = rows["SQLite"]["rate"], rows["PostgreSQL"]["rate"]
        lines += ["", f"Side by side: SQLite ingests {s / p:.2f}× as fast as PostgreSQL."]
    with_singles = {k: v["singles"] for k, v in rows.items() if "singles" in v}
    if with_singles:
        lines += [
            "",
            f"Single commands: {SINGLE_THREADS} threads each calling `Ledger.execute` (no HTTP), group commit on:",
            "",
            "| store | commands | commands/s | goal | ratio | p50 | p99 (goal ≤ 50 ms) | commands per group |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for store, g in with_singles.items():
            lines.append(
                f"| {store} | {g['commands']:,} | **{g['rate']:,.0f}** | ≥ {GOAL_SINGLES_PER_S:,} | "
                f"{g['rate'] / GOAL_SINGLES_PER_S:.2f}× | {g['p50_ms']:.1f} ms | {g['p99_ms']:.1f} ms | {g['mean_group']:.1f} |"
            )
    ceiling = rows.get("PostgreSQL", {}).get("ceiling")
    if ceiling:
        ledger_rows = 2 * rows["PostgreSQL"]["rate"]  # each command: its event and its receipt
        lines += [
            "",
            f"PostgreSQL's ceiling on this machine: the same {ceiling['rows']:,} stored rows (events and receipts) "
            "inserted again with plain psycopg into a table of the same shape (bench/ingest_ceiling.py):",
            "",
            "| path | rows/s | ledger's batch path (rows/s) as a share |",
            "| --- | ---: | ---: |",
        ]
        for label, key in (
            ("one transaction per row (autocommit INSERT)", "per_row_rows_per_s"),
            (f"executemany, {1000:,} rows per transaction", "batched_rows_per_s"),
            ("COPY, 10,000 rows per transaction", "copy_rows_per_s"),
        ):
            lines.append(f"| {label} | {ceiling[key]:,.0f} | {ledger_rows / ceiling[key]:.2f}× |")
        lines.append(f"| **the ledger, batches of 1,000 commands** | **{ledger_rows:,.0f}** | |")
    phased = {k: v["phases"] for k, v in rows.items() if "phases" in v}
    if phased:
        first = next(iter(phased.values()))
        lines += [
            "",
            f"Where a batch's time goes: one more run of {first['events']:,} readings per store, each step of "
            "`Ledger.execute_batch` timed with the process's CPU clock (bench/ingest_phases.py; indented steps are "
            "part of the one above; the timers themselves add about a microsecond per timed call). On PostgreSQL "
            "the server's own work (the INSERTs under the table lock the recorder takes per transaction) is not "
            "in this process's CPU: it is the gap between the CPU figure and the wall time above.",
            "",
            *ingest_phases.table(phased),
        ]
    lines += ["", "See docs/scaling.md for what one PostgreSQL server holds.", END]
    write_section(DOC, BEGIN, END, "\n".join(lines))


def _timed_steps(store: str, pg_url: str, tag: str, events: int, batch: int) -> dict[str, Any]:
    """One more run on a fresh store, each step of the write path timed (bench/ingest_phases.py)."""
    if store == "sqlite":
        path = REPO / "var" / f"bench-ingest-{tag}.sqlite"
        try:
            return ingest_phases.phases(f"sqlite:///{path}", events, batch)
        finally:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    schema = f"bench_ingest_{tag}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        return ingest_phases.phases(f"{pg_url}?schema={schema}", events, batch)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@click.command()
@click.option("--events", default=100_000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--stores", default="sqlite,postgres", show_default=True)
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option(
    "--singles",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help=f"Single commands sent by {SINGLE_THREADS} threads through Ledger.execute (group commit) after the batches.",
)
@click.option(
    "--phases",
    default=10_000,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="Readings of one more run per store whose steps are timed (bench/ingest_phases.py); 0 skips it.",
)
@click.option("--write/--no-write", default=True, show_default=True)
def main(events: int, batch: int, stores: str, pg_url: str, singles: int, phases: int, write: bool) -> None:
    gc_tuning.tune()  # as `coopledger serve` and `coopledger record` run the write path
    rows: dict[str, dict[str, float]] = {}
    tag = uuid.uuid4().hex[:8]
    for store in stores.split(","):
        if store == "sqlite":
            path = REPO / "var" / f"bench-ingest-{tag}.sqlite"
            try:
                rows["SQLite"] = _run(f"sqlite:///{path}", events, batch, singles)
            finally:
                for suffix in ("", "-wal", "-shm"):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
        elif store == "postgres":
            schema = f"bench_ingest_{tag}"
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            try:
                rows["PostgreSQL"] = _run(f"{pg_url}?schema={schema}", events, batch, singles)
                rows["PostgreSQL"]["ceiling"] = raw_ceiling(
                    pg_url, schema, "coopledger_events", rows["PostgreSQL"]["after_setup"]
                )
            finally:
                with psycopg.connect(pg_url, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
        else:
            raise click.UsageError(f"--stores: unknown store {store!r}")
        r = rows["SQLite" if store == "sqlite" else "PostgreSQL"]
        if phases:
            r["phases"] = _timed_steps(store, pg_url, f"{tag}p", phases, batch)
            click.echo(
                f"{store}: steps timed over {phases:,} more readings: {r['phases']['cpu_us_per_event']:.1f} µs of CPU each"
            )
        click.echo(
            f"{store}: {r['events']:,.0f} reading batches in {r['seconds']:.1f} s = {r['rate']:,.0f} events/s "
            f"(goal {GOAL_EVENTS_PER_S:,}, ratio {r['rate'] / GOAL_EVENTS_PER_S:.3f})"
        )
        if "singles" in r:
            g = r["singles"]
            click.echo(
                f"{store}: {g['commands']:,} single commands from {g['threads']} threads = {g['rate']:,.0f}/s, "
                f"p99 {g['p99_ms']:.1f} ms, {g['mean_group']:.1f} commands per group commit"
            )
        if "ceiling" in r:
            c = r["ceiling"]
            click.echo(
                f"{store}: raw psycopg ceiling on the same {c['rows']:,} rows: {c['per_row_rows_per_s']:,.0f} rows/s "
                f"one transaction per row, {c['batched_rows_per_s']:,.0f} batched, {c['copy_rows_per_s']:,.0f} COPY; "
                f"the ledger writes {2 * r['rate']:,.0f} rows/s = {2 * r['rate'] / c['batched_rows_per_s']:.2f}× of batched"
            )
    if write:
        _write(rows, batch)


if __name__ == "__main__":
    main()
