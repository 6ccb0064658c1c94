"""HTTP API benchmark: the server in its own process, the load from other processes.

    .venv/bin/python -m bench.api             # 10 s per scenario against PostgreSQL, writes docs/benchmarks.md
    .venv/bin/python -m bench.api --quick     # 2 s per scenario, writes nothing (smoke run)

Against a fresh PostgreSQL schema, `coopledger serve` (uvicorn, --workers N) runs in a child
process with its default log level; API keys are created with the real key code. The load comes
from separate processes (multiprocessing, spawn), each running threads with one keep-alive
HTTP/1.1 connection apiece (http.client): a connection sends its next request when the previous
answer arrived (closed loop), so req/s and latency are measured together, as a client sees them.

1. balance reads: GET /v1/coops/{coop}/accounts/411/balance?party=...; 16 connections, reader key.
2. single commands: POST .../commands/AcceptReadings, each a new sensor-day (an accepted command
   with one journal entry, hash chain, receipt); 32 connections, clerk key, spread over the
   cooperatives (--coops).
3. batch route: POST .../commands with --batch AcceptReadings per request, 4 connections;
   events/s = accepted commands (one event each) per second.
A scenario counts only 2xx answers; any other status stops the run with its body.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import psycopg

from bench.machine import REPO, machine, now
from bench.sections import write_section
from bench.stores import DEFAULT_PG_URL

GOALS = {"reads_per_s": 3000, "reads_p99_ms": 10.0, "commands_per_s": 1000, "commands_p99_ms": 50.0, "batch_events_per_s": 20_000}
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- api:begin -->", "<!-- api:end -->"
START = date(2020, 1, 1)
SENSORS_PER_COOP = 200
PORT = 8765


# ---------------------------------------------------------------- set-up (this process)


def _setup(url: str, coops: int) -> dict[str, Any]:
    """Cooperatives with members, fees and sensors; keys. Returns what the load needs."""
    from api.keys import create_key
    from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
    from domain.fees import CallFee
    from domain.membership import AdmitMember
    from domain.sensors import RegisterSensor, SetSensorRewardTerms
    from ledger.migrate import migrate
    from ledger.service import Ledger
    from ledger.store import StoreConfig

    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        slugs = [f"capteurs-{i}" for i in range(coops)]
        for slug in slugs:
            items: list[tuple[Any, str, str]] = [
                (
                    FoundCooperative(
                        slug,
                        "Réseau citoyen de capteurs",
                        "association",
                        START,
                        [CollegeSpec("hosts", "Hébergeurs", "50"), CollegeSpec("users", "Usagers", "50")],
                        [FeeBracket(1, None, Decimal("10"))],
                    ),
                    f"{slug}-found",
                    "bench",
                ),
                (
                    SetSensorRewardTerms(slug, START, Decimal("0.01"), Decimal("1000"), Decimal("0.05"), Decimal("0.10")),
                    f"{slug}-terms",
                    "bench",
                ),
            ]
            for i in range(SENSORS_PER_COOP):
                items.append((AdmitMember(slug, f"h{i}", f"Hôte {i}", "person", "hosts", START), f"{slug}-admit-{i}", "bench"))
                items.append((CallFee(slug, f"h{i}", 2020, START), f"{slug}-fee-{i}", "bench"))
                items.append((RegisterSensor(slug, f"s{i}", f"h{i}", "pm2.5", START), f"{slug}-sensor-{i}", "bench"))
            for start in range(0, len(items), 500):
                results = ledger.execute_batch(items[start : start + 500])
                assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
        return {
            "coops": slugs,
            "reader": create_key(ledger.db, role="reader", coops=slugs, label="bench")[1],
            "clerk": create_key(ledger.db, role="clerk", coops=slugs, label="bench")[1],
        }
    finally:
        ledger.close()


def _serve(url: str, workers: int) -> subprocess.Popen[bytes]:
    # WARNING: serve's default (INFO) logs every request, and this pipe is read only if the server dies.
    # The load is one key: per-key rate limits (api/rate_limits.py) would measure the limiter.
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url, "COOPLEDGER_LOG_LEVEL": "WARNING", "COOPLEDGER_WRITE_RATE_LIMIT": "off"}
    cmd = [str(Path(sys.executable).parent / "coopledger"), "serve", "--port", str(PORT), "--workers", str(workers)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/health")
            response = conn.getresponse()
            health = json.loads(response.read())
            # Up, and the views include the set-up (else reads would see no cooperative yet).
            if response.status == 200 and health["projected"] >= health["position"]:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not answer /health within 60 s")


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server process and its direct children
    (uvicorn's workers): with CPUs shared, CPU per request says what a server core could do."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


# ---------------------------------------------------------------- load (other processes)


def _requests(scenario: str, conn_id: int, n: int, job: dict[str, Any]) -> tuple[str, str, bytes, dict[str, str]]:
    """The n-th request of connection conn_id: (method, path, body, headers)."""
    coops = job["coops"]
    if scenario == "reads":
        coop = coops[conn_id % len(coops)]
        party = f"h{(conn_id * 7919 + n) % SENSORS_PER_COOP}"
        return "GET", f"/v1/coops/{coop}/accounts/411/balance?party={party}", b"", {"Authorization": f"Bearer {job['reader']}"}
    # Commands: connection c writes sensor-days no other connection writes (distinct sensor ranges).
    coop = coops[conn_id % len(coops)]
    per_coop = -(-job["connections"] // len(coops))
    lane = conn_id // len(coops)
    width = SENSORS_PER_COOP // per_coop
    headers = {"Authorization": f"Bearer {job['clerk']}", "Content-Type": "application/json"}
    if scenario == "commands":
        sensor, day = lane * width + n % width, START + timedelta(days=1 + n // width)
        body = {"sensor_id": f"s{sensor}", "period": day.isoformat(), "readings": 96, "effective_date": day.isoformat()}
        headers["Idempotency-Key"] = f"{job['run']}-c{conn_id}-{n}"
        return "POST", f"/v1/coops/{coop}/commands/AcceptReadings", json.dumps(body).encode(), headers
    items = []
    for k in range(job["batch"]):
        m = n * job["batch"] + k
        sensor, day = lane * width + m % width, START + timedelta(days=5000 + m // width)
        items.append(
            {
                "command": "AcceptReadings",
                "idempotency_key": f"{job['run']}-b{conn_id}-{m}",
                "fields": {
                    "sensor_id": f"s{sensor}",
                    "period": day.isoformat(),
                    "readings": 96,
                    "effective_date": day.isoformat(),
                },
            }
        )
    return "POST", f"/v1/coops/{coop}/commands", json.dumps({"commands": items}).encode(), headers


def _connection(scenario: str, conn_id: int, job: dict[str, Any], out: list[Any]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    latencies, events, n = [], 0, 0
    end = job["start_at"] + job["seconds"]
    while time.time() < job["start_at"]:
        time.sleep(0.001)
    while time.time() < end:
        method, path, body, headers = _requests(scenario, conn_id, n, job)
        started = time.perf_counter()
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status >= 300:
            out.append(("error", f"{method} {path}: {response.status} {payload[:300]!r}"))
            return
        if scenario == "batch":
            answer = json.loads(payload)
            if answer["refused"]:
                out.append(("error", f"batch refused {answer['refused']}: {answer['results'][0]}"))
                return
            events += answer["accepted"]
        else:
            events += 1
        n += 1
    out.append(("ok", latencies, events))


def _load_process(scenario: str, conn_ids: list[int], job: dict[str, Any], queue: Any) -> None:
    import threading

    out: list[Any] = []
    threads = [threading.Thread(target=_connection, args=(scenario, c, job, out)) for c in conn_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run_scenario(scenario: str, connections: int, seconds: float, job: dict[str, Any], processes: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    job = {**job, "connections": connections, "seconds": seconds, "start_at": time.time() + 3.0}  # 3 s to spawn
    groups = [list(range(connections))[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_load_process, args=(scenario, g, job, queue)) for g in groups if g]
    for p in procs:
        p.start()
    outs = [item for _ in procs for item in queue.get(timeout=seconds + 120)]
    for p in procs:
        p.join()
    load_1min = os.getloadavg()[0]  # taken at the end: how busy the machine was during the scenario
    errors = [o[1] for o in outs if o[0] == "error"]
    if errors:
        raise RuntimeError(f"{scenario}: {len(errors)} connection(s) failed, first: {errors[0]}")
    latencies = sorted(x for o in outs for x in o[1])
    events = sum(o[2] for o in outs)
    return {
        "requests": len(latencies),
        "events": events,
        "seconds": seconds,
        "rate": len(latencies) / seconds,
        "events_per_s": events / seconds,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "load_1min": load_1min,
    }


# ---------------------------------------------------------------- report


def _machine_line() -> str:
    m = machine()
    return (
        f"{m['cpu_model']}, {m['logical_cpus']} logical CPUs, {m['memory_bytes'] / 2**30:.1f} GiB; "
        f"{m['kernel']}, Python {m['python']}, psycopg {m['psycopg']}"
    )


def _rows(results: dict[str, dict[str, float]]) -> list[tuple[str, str, str, float]]:
    """(what, measured, goal, ratio): ratio > 1 means the goal is met."""
    reads, commands, batch = results["reads"], results["commands"], results["batch"]
    return [
        (
            "balance reads, 16 connections: req/s",
            f"{reads['rate']:,.0f}",
            f"≥ {GOALS['reads_per_s']:,}",
            reads["rate"] / GOALS["reads_per_s"],
        ),
        (
            "balance reads: p50 / p99 latency",
            f"{reads['p50_ms']:.1f} / {reads['p99_ms']:.1f} ms",
            f"p99 ≤ {GOALS['reads_p99_ms']:.0f} ms",
            GOALS["reads_p99_ms"] / reads["p99_ms"],
        ),
        (
            "single commands, 32 clients: commands/s",
            f"{commands['rate']:,.0f}",
            f"≥ {GOALS['commands_per_s']:,}",
            commands["rate"] / GOALS["commands_per_s"],
        ),
        (
            "single commands: p50 / p99 latency",
            f"{commands['p50_ms']:.1f} / {commands['p99_ms']:.1f} ms",
            f"p99 ≤ {GOALS['commands_p99_ms']:.0f} ms",
            GOALS["commands_p99_ms"] / commands["p99_ms"],
        ),
        (
            f"batch route ({results['batch_size']:,} commands per request, 4 clients): events/s",
            f"{batch['events_per_s']:,.0f}",
            f"≥ {GOALS['batch_events_per_s']:,}",
            batch["events_per_s"] / GOALS["batch_events_per_s"],
        ),
        ("batch route: p50 / p99 latency per request", f"{batch['p50_ms']:.0f} / {batch['p99_ms']:.0f} ms", "", 0.0),
        (
            "server CPU per request: read / command / batch of commands",
            f"{reads['server_cpu_ms']:.2f} / {commands['server_cpu_ms']:.2f} / {batch['server_cpu_ms']:.0f} ms",
            "",
            0.0,
        ),
    ]


def _write(results: dict[str, Any], settings: dict[str, Any]) -> None:
    lines = [
        BEGIN,
        "## HTTP API: balance reads, single commands, the batch route",
        "",
        f"- Date: {now():%Y-%m-%d %H:%M} UTC; machine: {_machine_line()}; PostgreSQL {settings['pg_version']}",
        f"- Command: `.venv/bin/python -m bench.api` ({settings['seconds']:.0f} s per scenario; server "
        f"`coopledger serve --workers {settings['workers']}` in its own process, log level WARNING; load from "
        f"{settings['processes']} other processes, one keep-alive connection per thread, closed loop; "
        f"{len(settings['coops'])} cooperatives of {SENSORS_PER_COOP} members and sensors, fresh schema)",
        "- Reads: `GET /v1/coops/{coop}/accounts/411/balance?party=…` with a reader key. Commands: "
        "`POST …/commands/AcceptReadings` (a new sensor-day each: one event, one journal entry, receipt, hash "
        "chain) with a clerk key. Latency is per request, from send to the last byte of the answer.",
        "",
        "| measure | measured | goal | ratio to goal |",
        "| --- | ---: | ---: | ---: |",
    ]
    for what, measured, goal, ratio in _rows(results):
        lines.append(f"| {what} | **{measured}** | {goal} | {f'{ratio:.2f}×' if ratio else ''} |")
    loads = ", ".join(f"{name} {results[name]['load_1min']:.1f}" for name in ("reads", "commands", "batch"))
    lines += [
        "",
        "A ratio above 1 meets the goal (for latencies: goal ÷ measured). On this machine the server, "
        "PostgreSQL and the load generator share the same CPUs, so every figure here is a lower bound for a "
        f"server with cores of its own. 1-minute load average at the end of each scenario: {loads} (on "
        f"{os.cpu_count()} logical CPUs; above that number other work was competing for them). Server CPU per "
        "request (user + system time of the server's processes ÷ requests answered) does not depend on that "
        "contention: 1,000 ÷ it is what one core of the server could answer per second, PostgreSQL apart.",
        END,
    ]
    write_section(DOC, BEGIN, END, "\n".join(lines))


@click.command()
@click.option("--quick", is_flag=True, help="2 s per scenario and write nothing: a smoke run.")
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(0.5, 600))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Server processes (1, as `coopledger serve`; with 2, commands on one cooperative conflict across them).",
)
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 16), help="Load generator processes.")
@click.option("--coops", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--batch", "batch_size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option("--write/--no-write", default=True, show_default=True)
def main(
    quick: bool, seconds: float, workers: int, processes: int, coops: int, batch_size: int, pg_url: str, write: bool
) -> None:
    from bench.machine import postgres_version

    if quick:
        seconds, write = min(seconds, 2.0), False
    tag = uuid.uuid4().hex[:8]
    schema = f"bench_api_{tag}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{pg_url}?schema={schema}"
    server = None
    try:
        click.echo(f"setting up {coops} cooperatives in schema {schema}...")
        job = {**_setup(url, coops), "run": tag, "batch": batch_size}
        server = _serve(url, workers)
        results: dict[str, Any] = {"batch_size": batch_size}
        for scenario, connections in (("reads", 16), ("commands", 32), ("batch", 4)):
            click.echo(f"{scenario}: {connections} connections for {seconds:.0f} s...")
            cpu_before = server_cpu_s(server.pid)
            results[scenario] = run_scenario(scenario, connections, seconds, job, processes)
            # Includes the ~3 s the load processes take to start (an idle server uses little CPU then).
            results[scenario]["server_cpu_ms"] = (server_cpu_s(server.pid) - cpu_before) * 1000 / results[scenario]["requests"]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    for what, measured, goal, ratio in _rows(results):
        click.echo(f"{what}: {measured}" + (f" (goal {goal}, ratio {ratio:.2f})" if goal else ""))
    click.echo(
        "1-minute load average after each scenario: "
        + ", ".join(f"{k} {results[k]['load_1min']:.1f}" for k in ("reads", "commands", "batch"))
    )
    if write:
        _write(
            results,
            {
                "seconds": seconds,
                "workers": workers,
                "processes": processes,
                "coops": job["coops"],
                "pg_version": postgres_version(pg_url),
            },
        )
        click.echo(f"written to {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
