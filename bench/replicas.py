"""Reads from a hot standby while the primary ingests, beside reads from the primary under the same
ingest; and the lag from a command's commit to its effect in the standby's views.

    .venv/bin/python -m bench.replicas                       # 8 s per phase, 4 reader threads
    .venv/bin/python -m bench.replicas --seconds 4 --no-write

A primary and its synchronous standby of their own (tests/replication/cluster.py: initdb into a
temporary directory, pg_basebackup -R, free ports; the shared server is not touched). An ingest
process records batches of 50 PayFee commands through `Ledger.execute_batch` for the whole run,
a projection runner in it keeping the views current. This process reads one balance
(`account_balance`) in reader threads: first from the primary, then from the standby, each for
`--seconds`, under a steady ingest (`--rate`, 100 commands/s by default). Meanwhile a probe
process records a single command every 50 ms and times until the standby's views include it
(replication plus projection lag), and until the primary's do (projection lag).
Writes its section of docs/benchmarks.md between its markers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

import click

from bench.machine import REPO
from bench.sections import date_and_machine_line, write_section
from domain.fees import CallFee, PayFee
from ledger.db import Database
from ledger.replicas import views_position
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import account_balance
from projections.catalog import all_projections
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, ok
from tests.replication.cluster import Cluster
from tests.replication.failover import COOP, prepare

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- replicas:begin -->", "<!-- replicas:end -->"
BATCH = 50
PROBE_EVERY_S = 0.05
PROBE_WAIT_S = 10.0
NAMES = [cls.name for cls in all_projections()]
# The probe's commands go to a cooperative of their own: on the ingest's, each would first lose a
# race for the cooperative with the other process (a save conflict, then a retry) and time that.
PROBE_COOP = "probe"


def ingest(url: str, seconds: float, rate: float) -> None:
    """The ingest process: batches of PayFee at `rate` commands/s for `seconds`, its own projection
    runner at work (a steady load the projections keep up with, not a flood: lag is then measured
    under ingest, not behind a growing queue)."""
    ledger = Ledger(StoreConfig.from_url(url))
    runner = ProjectionRunner(ledger)
    runner.start()
    done, started = 0, time.monotonic()
    for n in range(int(seconds * rate / BATCH) + 1):  # a steady rate: a batch when it is due
        time.sleep(max(0.0, started + n * BATCH / rate - time.monotonic()))
        items = [(PayFee(COOP, "m1", 2025, Decimal("0.01"), date(2025, 3, 1)), f"i-{done + i}", "bench") for i in range(BATCH)]
        results = ledger.execute_batch(items)
        assert all(r.accepted for r in results), next(r.error for r in results if not r.accepted)
        done += BATCH
    runner.stop()
    ledger.close()
    print(f"ingested {done}", flush=True)


def read_rate(db: Database, seconds: float, threads: int) -> float:
    """Balance reads per second from `db`, by `threads` reader threads."""
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def reader(i: int) -> None:
        while time.monotonic() < deadline:
            account_balance(db, COOP, "512")
            counts[i] += 1

    workers = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 30)
    return sum(counts) / seconds


def lag_probe(url: str, standby_url: str, seconds: float) -> None:
    """The probe process (its own, so that reader threads do not hold it up): a command every
    PROBE_EVERY_S for `seconds`, timed until the primary's and the standby's views include it.
    Prints the lags as JSON."""
    ledger = Ledger(StoreConfig.from_url(url))
    standby = Database(StoreConfig.from_url(standby_url))
    lags_ms: dict[str, list[float]] = {"primary": [], "standby": []}
    deadline = time.monotonic() + seconds
    for n in range(int(seconds / PROBE_EVERY_S) + 1):
        if time.monotonic() >= deadline:
            break
        time.sleep(PROBE_EVERY_S)
        result = ledger.execute(PayFee(PROBE_COOP, "m1", 2025, Decimal("0.01"), date(2025, 3, 1)), f"p-{n}", "bench")
        committed = time.perf_counter()  # acknowledged: from here on a reader may ask for it
        for name, db in (("primary", ledger.db), ("standby", standby)):
            if _until(db, result.position or 0):
                lags_ms[name].append((time.perf_counter() - committed) * 1000)
    standby.close()
    ledger.close()
    print(json.dumps(lags_ms), flush=True)


def _until(db: Database, position: int) -> bool:
    """Polls `db`'s views (1 ms apart) until they include `position`; False after PROBE_WAIT_S."""
    deadline = time.monotonic() + PROBE_WAIT_S
    while time.monotonic() < deadline:
        if views_position(db, NAMES) >= position:
            return True
        time.sleep(0.001)
    return False


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench.replicas", *args], cwd=REPO, stdout=subprocess.PIPE, text=True)


def _last_line(child: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    """The child's last output line starting with `prefix` (its logs share its standard output)."""
    out, _ = child.communicate(timeout=timeout_s)
    found = [line for line in out.splitlines() if line.startswith(prefix)]
    assert child.returncode == 0 and found, f"{child.args} exited {child.returncode}: {out[-2000:]}"
    return found[-1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(seconds: float, threads: int, rate: float) -> dict[str, float]:
    cluster = Cluster.start(synchronous=True)
    try:
        assert cluster.primary is not None and cluster.standby is not None
        schema = f"b_{uuid.uuid4().hex[:8]}"
        cluster.primary.sql(f'CREATE SCHEMA "{schema}"')
        ledger = prepare(cluster.primary.url(schema))
        ok(ledger, found_association(PROBE_COOP))
        ok(ledger, admit(PROBE_COOP, "m1", "users", date(2025, 2, 1)))
        ok(ledger, CallFee(PROBE_COOP, "m1", 2025, date(2025, 2, 1)))
        ProjectionRunner(ledger).catch_up()
        standby = Database(StoreConfig.from_url(cluster.standby.url(schema)))
        run_s = 2 * seconds + 2
        ingest_child = _child("--ingest", cluster.primary.url(schema), "--seconds", str(run_s), "--rate", str(rate))
        time.sleep(1.0)  # the ingest under way
        probe_child = _child(
            "--probe", cluster.primary.url(schema), "--standby", cluster.standby.url(schema), "--seconds", str(2 * seconds)
        )
        try:
            primary_rate = read_rate(ledger.db, seconds, threads)
            standby_rate = read_rate(standby, seconds, threads)
        finally:
            lags = json.loads(_last_line(probe_child, "{", seconds * 3 + 60))
            ingested = int(_last_line(ingest_child, "ingested ", seconds * 3 + 60).split()[1])
        standby.close()
        ledger.close()
    finally:
        cluster.close()
    return {
        "primary_reads_per_s": primary_rate,
        "standby_reads_per_s": standby_rate,
        "ingest_commands_per_s": ingested / run_s,
        "probes": len(lags["standby"]),
        "standby_lag_p50_ms": percentile(lags["standby"], 0.5),
        "standby_lag_p99_ms": percentile(lags["standby"], 0.99),
        "primary_lag_p50_ms": percentile(lags["primary"], 0.5),
        "primary_lag_p99_ms": percentile(lags["primary"], 0.99),
    }


def section(r: dict[str, float], seconds: float, threads: int) -> str:
    return "\n".join(
        [
            BEGIN,
            "## Reads from a hot standby while the primary ingests (`bench/replicas.py`)",
            "",
            date_and_machine_line(),
            f"- A primary and its synchronous standby (`synchronous_commit = on`), both on this machine; an ingest process "
            f"recording batches of {BATCH} PayFee commands at a steady {r['ingest_commands_per_s']:,.0f} commands/s with "
            "its projection "
            f"runner, throughout; {threads} reader threads reading one balance for {seconds:g} s from each database in turn.",
            "",
            "| reads from | balance reads/s under ingest |",
            "| --- | ---: |",
            f"| primary | {r['primary_reads_per_s']:,.0f} |",
            f"| standby | {r['standby_reads_per_s']:,.0f} |",
            "",
            f"Command committed → in the views ({r['probes']} probes, one every {PROBE_EVERY_S * 1000:.0f} ms,"
            " under the ingest):",
            "",
            "| views of | p50 | p99 |",
            "| --- | ---: | ---: |",
            f"| primary (projection lag) | {r['primary_lag_p50_ms']:.1f} ms | {r['primary_lag_p99_ms']:.1f} ms |",
            f"| standby (replication + projection lag) | {r['standby_lag_p50_ms']:.1f} ms | {r['standby_lag_p99_ms']:.1f} ms |",
            END,
        ]
    )


@click.command()
@click.option("--seconds", default=8.0, show_default=True, type=click.FloatRange(1, 600), help="Reading time per database.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--rate", default=100.0, show_default=True, type=click.FloatRange(10, 5000), help="Ingest, commands/s.")
@click.option("--write/--no-write", default=True, show_default=True)
@click.option("--ingest", "ingest_url", default=None, hidden=True, help="Run as the ingest process on this store.")
@click.option("--probe", "probe_url", default=None, hidden=True, help="Run as the lag probe on this store...")
@click.option("--standby", "standby_url", default=None, hidden=True, help="...and this standby.")
def main(
    seconds: float, threads: int, rate: float, write: bool, ingest_url: str | None, probe_url: str | None, standby_url: str | None
) -> None:
    if ingest_url is not None:
        ingest(ingest_url, seconds, rate)
        return
    if probe_url is not None and standby_url is not None:
        lag_probe(probe_url, standby_url, seconds)
        return
    r = measure(seconds, threads, rate)
    text = section(r, seconds, threads)
    click.echo(text)
    if write:
        write_section(DOC, BEGIN, END, text)


if __name__ == "__main__":
    main()
