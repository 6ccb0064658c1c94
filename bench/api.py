"""HTTP API benchmark: what a read and a command cost above FastAPI itself, measured with `wrk`.

    .venv/bin/python -m bench.api             # 10 s per run, --workers 1 then 2, writes docs/benchmarks.md
    .venv/bin/python -m bench.api --quick     # 2 s per run, --workers 1 only, writes nothing (smoke run)

A fresh PostgreSQL schema gets the demo (`coopledger demo`) and cooperatives of sensors (a new
sensor-day is a command that is always accepted); API keys are made with the real key code. Then
`coopledger serve --workers N` runs in a child process (log level WARNING) beside the trivial app
of bench/trivial_app.py, served with the same uvicorn settings; the load comes from `wrk`
(bench/http_load.py, scripts in bench/wrk/). Before each scenario the trivial route gets the same
load for the same time: each ratio compares two figures measured a few seconds apart.

1. reads, 16 connections: an account's balance for one party (reader key), the trial balance, a
   statement page, governance as of a date, the observatory's indicators (auditor key); the trial
   balance, the statement page and governance again with another `as_of` each request (bench/wrk/get.lua),
   so that none is answered from the answers the server remembers;
2. single commands, 32 connections: POST .../commands/AcceptReadings with a fresh Idempotency-Key each;
3. the batch route, 4 connections: 1,000 AcceptReadings per request; events/s = commands accepted per second.
Any answer that is not 2xx stops the run. Then the correctness checks: the parties' balances read
over HTTP add up to the trial balance's, and every command acknowledged is in the journal, once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import psycopg

from bench.http_load import WRK_THREADS, free_port, get_json, start, start_trivial, stop, wrk
from bench.machine import REPO
from bench.stores import DEFAULT_PG_URL

START = date(2020, 1, 1)
SENSORS_PER_COOP = 200
PORT, TRIVIAL_PORT = free_port(), free_port()
DEMO = "mednum-scic"
# Days cycled through by the "another date" reads: far more than the answers the server remembers,
# from the demo's first year (most of them after its last entry: whole answers, not empty ones).
MISS_DAYS, MISS_FROM = 2000, "2025-01-01"
READS = (  # (what, path, the key's role, days: 0 = the same request each time, else another as_of each)
    ("balance of a party", f"/v1/coops/{DEMO}/accounts/411/balance?party=BEN-01", "reader", 0),
    ("trial balance", f"/v1/coops/{DEMO}/trial-balance", "reader", 0),
    ("trial balance, another date each request", f"/v1/coops/{DEMO}/trial-balance", "reader", MISS_DAYS),
    ("statement page (100 lines)", f"/v1/coops/{DEMO}/accounts/411/statement?limit=100", "auditor", 0),
    ("statement page, another date each request", f"/v1/coops/{DEMO}/accounts/411/statement?limit=100", "auditor", MISS_DAYS),
    ("governance as of a date", f"/v1/coops/{DEMO}/governance?as_of=2026-06-30", "auditor", 0),
    ("governance, another date each request", f"/v1/coops/{DEMO}/governance", "auditor", MISS_DAYS),
    ("observatory (JSON)", f"/v1/coops/{DEMO}/observatory?as_of=2026-06-30", "auditor", 0),
)
READ_CONNECTIONS, COMMAND_CONNECTIONS, BATCH_CONNECTIONS = 16, 32, 4
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- api:begin -->", "<!-- api:end -->"


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
            for first in range(0, len(items), 500):
                results = ledger.execute_batch(items[first : first + 500])
                assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
        return {
            "coops": slugs,
            "reader": create_key(ledger.db, role="reader", coops=slugs, label="bench")[1],
            "clerk": create_key(ledger.db, role="clerk", coops=slugs, label="bench")[1],
        }
    finally:
        ledger.close()


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


def _load_demo(url: str) -> dict[str, str]:
    """The demo, as `coopledger demo` loads it; keys for its reads."""
    from api.keys import create_key
    from ledger.db import Database
    from ledger.store import StoreConfig

    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url}
    subprocess.run([_coopledger(), "demo"], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    db = Database(StoreConfig.from_url(url))
    try:
        return {role: create_key(db, role=role, coops=[DEMO], label="bench")[1] for role in ("reader", "auditor")}
    finally:
        db.close()


def _coopledger() -> str:
    return str(Path(sys.executable).parent / "coopledger")


def _serve(url: str, workers: int) -> subprocess.Popen[bytes]:
    # serve's default (INFO) logs every request to a pipe read only if the server dies: WARNING.
    # The load is one key: per-key rate limits (api/rate_limits.py) would measure the limiter.
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url, "COOPLEDGER_LOG_LEVEL": "WARNING", "COOPLEDGER_WRITE_RATE_LIMIT": "off"}

    def ready() -> bool:  # up, and the views include the set-up (else reads would see no cooperative yet)
        health = get_json(PORT, "/health")
        return bool(health["projected"] >= health["position"])

    return start([_coopledger(), "serve", "--port", str(PORT), "--workers", str(workers)], env, ready)


def _measured(server: subprocess.Popen[bytes], path: str, connections: int, seconds: float, **load: Any) -> dict[str, Any]:
    """The trivial route, then the scenario, under the same load; the server's CPU per request."""
    floor = wrk(TRIVIAL_PORT, "/trivial", connections=connections, seconds=seconds)
    cpu_before = server_cpu_s(server.pid)
    got = wrk(PORT, path, connections=connections, seconds=seconds, **load)
    got["server_cpu_ms"] = (server_cpu_s(server.pid) - cpu_before) * 1000 / max(1, got["requests"])
    got["load_1min"] = os.getloadavg()[0]
    return {"floor": floor, "got": got}


def run_workers(url: str, job: dict[str, Any], workers: int, seconds: float) -> dict[str, Any]:
    """Every scenario against `coopledger serve --workers N`, then the correctness checks."""
    server = _serve(url, workers)
    trivial = start_trivial(TRIVIAL_PORT, workers)
    results: dict[str, Any] = {}
    try:
        for what, path, role, days in READS:
            click.echo(f"  --workers {workers}: {what}...")
            results[what] = _measured(server, path, READ_CONNECTIONS, seconds, token=job[role], args=(str(days), MISS_FROM))
        coops, first_day = ",".join(job["coops"]), 1 + 2000 * (workers - 1)
        for what, connections, batch, day in (
            ("single commands", COMMAND_CONNECTIONS, 0, first_day),
            ("batch route", BATCH_CONNECTIONS, job["batch"], first_day + 1000),
        ):
            click.echo(f"  --workers {workers}: {what}...")
            run = f"{job['run']}-w{workers}{what[0]}"
            args = (run, job["clerk"], coops, str(SENSORS_PER_COOP), str(batch), str(day), str(WRK_THREADS))
            results[what] = _measured(server, "/", connections, seconds, script="commands.lua", args=args)
            results[what]["got"]["events_per_s"] = results[what]["got"]["rate"] * max(1, batch)
            _check_journal(url, run, results[what]["got"], connections, max(1, batch))
        _check_balances(job)
    finally:
        stop(trivial)
        stop(server)
    return results


def _cents(value: Any) -> int:
    """An amount as the API writes it (minor units, or a decimal string with two places) in cents."""
    if isinstance(value, dict):
        value = value.get("amount", value.get("value"))
    return int(value) if isinstance(value, int) else int(Decimal(str(value)) * 100)


def _check_balances(job: dict[str, Any]) -> None:
    """Each party's balance on 411, read over HTTP, adds up to the trial balance's 411 (EUR)."""
    statement = get_json(PORT, f"/v1/coops/{DEMO}/accounts/411/statement?limit=1000", job["auditor"])
    parties = sorted({line["party"] for line in statement["lines"] if line.get("party")})
    total = 0
    for party in parties:
        answer = get_json(PORT, f"/v1/coops/{DEMO}/accounts/411/balance?party={party}", job["reader"])
        total += _cents(answer.get("balance_minor", answer.get("balance")))
    trial = get_json(PORT, f"/v1/coops/{DEMO}/trial-balance", job["reader"])
    expected = sum(_cents(row["balance"]) for row in trial["accounts"] if row["account"] == "411" and row["unit"] == "EUR")
    if not parties or total != expected:
        raise RuntimeError(f"the balances of {parties} on 411 add up to {total}, the trial balance says {expected}")


def _check_journal(url: str, run: str, got: dict[str, Any], connections: int, per_request: int) -> None:
    """Every command acknowledged (2xx) is in the journal once: as many entries as keys, at least one
    per acknowledged command, and no more than the requests wrk had in flight when it stopped could add."""
    base, _, query = url.partition("?schema=")
    with psycopg.connect(base, options=f"-c search_path={query}") as conn:
        health_wait(conn, run)
        entries, keys = conn.execute(
            "SELECT count(*), count(DISTINCT idempotency_key) FROM journal_entries WHERE idempotency_key LIKE %s", (f"{run}-%",)
        ).fetchone()  # type: ignore[misc]
    acked = got["acked"] * per_request
    if entries != keys or not acked <= entries <= acked + connections * per_request:
        raise RuntimeError(
            f"{run}: {got['acked']} requests acknowledged ({acked} commands); the journal has {entries} entries, {keys} keys"
        )


def health_wait(conn: Any, run: str) -> None:
    """Until the views include everything recorded (the journal is a view)."""
    import time

    for _ in range(300):
        health = get_json(PORT, "/health")
        if health["projected"] >= health["position"]:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{run}: the views did not catch up within 30 s")


# ---------------------------------------------------------------- report

READ_RATIO, READ_P99_RATIO = 0.5, 2.0  # of the trivial route's req/s; of its p99
COMMAND_RATIO, COMMAND_P99_MS = 0.3, 50.0
BATCH_EVENTS_PER_S = 20_000


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def rows(results: dict[str, Any]) -> list[str]:
    """One table row per scenario: the trivial route's figures, the scenario's, the ratios and goals."""
    out = []
    for what, r in results.items():
        floor, got = r["floor"], r["got"]
        ratio, p99_ratio = got["rate"] / floor["rate"], got["p99_ms"] / floor["p99_ms"]
        if what == "batch route":
            goal = f"≥ {BATCH_EVENTS_PER_S:,} events/s: {_verdict(got['events_per_s'] >= BATCH_EVENTS_PER_S)}"
            measured = f"{got['rate']:,.1f} req/s = **{got['events_per_s']:,.0f} events/s**, p99 {got['p99_ms']:,.0f} ms"
        elif what == "single commands":
            ok = ratio >= COMMAND_RATIO and got["p99_ms"] <= COMMAND_P99_MS
            goal = f"≥ {COMMAND_RATIO}×, p99 ≤ {COMMAND_P99_MS:.0f} ms: {_verdict(ok)}"
            measured = f"{got['rate']:,.0f} req/s, p99 {got['p99_ms']:.1f} ms"
        else:  # a read
            ok = ratio >= READ_RATIO and p99_ratio <= READ_P99_RATIO
            goal = f"≥ {READ_RATIO}×, p99 ≤ {READ_P99_RATIO:.0f}× trivial: {_verdict(ok)}"
            measured = f"{got['rate']:,.0f} req/s, p99 {got['p99_ms']:.1f} ms"
        if got.get("contended"):  # 503 write_contention: not counted in req/s, retried by a real client
            measured += f" (+{got['contended']:,} answered 503 write_contention)"
        out.append(
            f"| {what} | {floor['rate']:,.0f} req/s, p99 {floor['p99_ms']:.1f} ms | {measured} | **{ratio:.2f}×** | "
            f"{p99_ratio:.1f}× | {goal} | {got['server_cpu_ms']:.2f} ms |"
        )
    return out


def section(by_workers: dict[int, dict[str, Any]], settings: dict[str, Any]) -> str:
    from bench.machine import machine, now

    m = machine()
    lines = [
        BEGIN,
        "## HTTP API: reads, single commands, the batch route, against FastAPI's own floor",
        "",
        f"- Date: {now():%Y-%m-%d %H:%M} UTC; machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs, "
        f"{m['memory_bytes'] / 2**30:.1f} GiB; {m['kernel']}, Python {m['python']}, psycopg {m['psycopg']}; "
        f"PostgreSQL {settings['pg_version']}; uvicorn {settings['uvicorn']}",
        f"- Command: `make bench` runs `.venv/bin/python -m bench.api` ({settings['seconds']:.0f} s per measure, wrk "
        f"with 2 threads; the demo and {len(settings['coops'])} cooperatives of {SENSORS_PER_COOP} sensors in a fresh "
        "schema; `coopledger serve --workers N`, log level WARNING, COOPLEDGER_WRITE_RATE_LIMIT=off).",
        "- *trivial*: bench/trivial_app.py (a FastAPI `def` route returning a 4-field dict) served by the same "
        "uvicorn settings and worker count, under the same load, right before each line's measure. Ratio = "
        "req/s ÷ the trivial route's req/s; p99 ratio = p99 ÷ the trivial route's p99. Server CPU: user + "
        "system time of the server's processes per request answered (PostgreSQL's not included).",
        "- Checked after the load: the parties' balances on 411 read over HTTP add up to the trial balance's "
        "411, and every command acknowledged is in the journal once.",
    ]
    for workers, results in by_workers.items():
        lines += [
            "",
            f"### `--workers {workers}`",
            "",
            "| scenario | trivial route | measured | ratio | p99 ratio | goal | server CPU per request |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
            *rows(results),
        ]
        loads = ", ".join(f"{r['got']['load_1min']:.1f}" for r in results.values())
        lines += ["", f"1-minute load average after each line: {loads} (on {os.cpu_count()} logical CPUs)."]
    lines += ["", NOTES, END]
    return "\n".join(lines)


NOTES = (
    "The server, PostgreSQL and wrk share the machine's CPUs (and other work may run: see the load "
    "averages), so absolute figures are lower bounds; the ratios are what the goals are about. "
    "1,000 ÷ the server CPU per request is what one core of a machine with cores to spare would answer "
    "per second, PostgreSQL apart; with two cores shared by the server, PostgreSQL and wrk, a second "
    "worker can only help when a single process leaves CPU idle. Governance, the trial balance and "
    "the statement page remember their answers by the rows read (api/answer_memo.py: the read is always "
    "made, the answer is made again only from other rows); a load repeating one request measures the "
    "remembered answer, so each is measured again with another `as_of` each request (the lines "
    '"another date each request"), where every answer is made from its rows.'
)


@click.command()
@click.option("--quick", is_flag=True, help="2 s per measure, --workers 1 only, write nothing: a smoke run.")
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(1, 600))
@click.option(
    "--workers", "worker_counts", multiple=True, type=click.IntRange(1, 16), help="Server processes [default: 1 and 2]."
)
@click.option("--coops", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--batch", "batch_size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option("--write/--no-write", default=True, show_default=True)
def main(
    quick: bool, seconds: float, worker_counts: tuple[int, ...], coops: int, batch_size: int, pg_url: str, write: bool
) -> None:
    from importlib.metadata import version

    from bench.machine import postgres_version
    from bench.sections import write_section

    if quick:
        seconds, write, worker_counts = min(seconds, 2.0), False, worker_counts or (1,)
    tag = uuid.uuid4().hex[:8]
    schema = f"bench_api_{tag}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{pg_url}?schema={schema}"
    by_workers: dict[int, dict[str, Any]] = {}
    try:
        click.echo(f"loading the demo and {coops} cooperatives of sensors in schema {schema}...")
        job = {**_setup(url, coops), **_load_demo(url), "run": tag, "batch": batch_size}
        for workers in worker_counts or (1, 2):
            by_workers[workers] = run_workers(url, job, workers, seconds)
            click.echo("\n".join(rows(by_workers[workers])))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    if write:
        settings = {
            "seconds": seconds,
            "coops": job["coops"],
            "pg_version": postgres_version(pg_url),
            "uvicorn": version("uvicorn"),
        }
        write_section(DOC, BEGIN, END, section(by_workers, settings))
        click.echo(f"written to {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
