"""Feed latency: command committed → its fact received by a follower of the SSE feed.

    .venv/bin/python -m bench.feed                          # PostgreSQL then SQLite, 50 commands/s for 20 s
    .venv/bin/python -m bench.feed --rate 100 --seconds 10 --stores postgres --no-write

A real server (uvicorn on a loopback port, with its projection runner and feed head) serves
GET /v1/coops/{coop}/feed as text/event-stream to a follower holding a reader's key; a second
Ledger on the same store (another API worker, as in production) records PayFee commands at a
steady rate. A command's latency is the time from its commit (Ledger.execute returned) to the
arrival of the SSE event whose id is that command's position: the runner waking (LISTEN/NOTIFY on
PostgreSQL, polling on SQLite), every projection applying the batch in one transaction, the feed
head noticing, the stream reading its page and sending. Goal: p99 ≤ 100 ms. Writes its section of
docs/benchmarks.md between its markers, leaving the rest alone.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

import click
import httpx
import orjson
import uvicorn

from api.app import create_app
from api.keys import create_key
from bench.machine import REPO
from bench.sections import date_and_machine_line, latency_per_store, write_section
from bench.stores import BenchStore
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig

GOAL_P99_MS = 100.0
COOP = "suivi"
MEMBERS = 100
DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- feed:begin -->", "<!-- feed:end -->"


def _seed(ledger: Ledger, year: int) -> None:
    commands: list[Any] = [
        FoundCooperative(
            COOP,
            "Suivi",
            "association",
            date(year - 1, 1, 1),
            [CollegeSpec("a", "A", "50"), CollegeSpec("b", "B", "50")],
            [FeeBracket(1, None, Decimal("1000"))],
        )
    ]
    for i in range(MEMBERS):
        commands.append(AdmitMember(COOP, f"m{i}", f"Membre {i}", "person", "ab"[i % 2], date(year - 1, 2, 1)))
        commands.append(CallFee(COOP, f"m{i}", year, date(year, 1, 2)))
    results = ledger.execute_batch([(c, f"seed-{i}", "bench") for i, c in enumerate(commands)])
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _run(kind: str, rate: float, seconds: float) -> dict[str, Any]:
    os.environ["COOPLEDGER_FEED_HEARTBEAT_MS"] = "200"  # so the follower notices the end of the run quickly
    store = BenchStore.create(kind)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    client = httpx.Client(timeout=None)
    try:
        config = StoreConfig.from_url(store.url)
        app = create_app(config)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, timeout_graceful_shutdown=2)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        writer = Ledger(config)  # another worker's ledger: the server learns of its commits like any other
        migrate(writer.db)
        year = date.today().year
        _seed(writer, year)
        start = writer.position()
        token = create_key(writer.db, role="reader", coops=[COOP])[1]
        for _ in range(400):  # the server has projected the seed: the cooperative is known to its views
            if httpx.get(f"http://127.0.0.1:{port}/health").json()["projected"] >= start:
                break
            time.sleep(0.05)
        arrivals: dict[str, float] = {}  # idempotency key -> monotonic time received
        opened, stop = threading.Event(), threading.Event()

        def listen() -> None:
            headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream", "Last-Event-ID": str(start)}
            with client.stream(
                "GET", f"http://127.0.0.1:{port}/v1/coops/{COOP}/feed", headers=headers, params={"kinds": "fee.paid"}
            ) as response:
                assert response.status_code == 200, response.read()
                for line in response.iter_lines():
                    opened.set()
                    if line.startswith("data: "):
                        fact = orjson.loads(line[6:])
                        assert fact["idempotency_key"] not in arrivals, "a fact came twice"
                        arrivals[fact["idempotency_key"]] = time.monotonic()
                    if stop.is_set():
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(10), "the feed did not open"
        commits: list[tuple[float, str]] = []
        interval_s, started = 1.0 / rate, time.monotonic()
        for i in range(int(rate * seconds)):  # steady: the i-th command at started + i × interval
            time.sleep(max(0.0, started + i * interval_s - time.monotonic()))
            result = writer.execute(PayFee(COOP, f"m{i % MEMBERS}", year, Decimal("0.01"), date(year, 1, 3)), f"pay{i}", "bench")
            assert result.accepted, result.error
            commits.append((time.monotonic(), f"pay{i}"))
        deadline = time.monotonic() + 5
        while len(arrivals) < len(commits) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        listener.join(5)  # it sees the flag at the next heartbeat (200 ms here) and closes the stream
        missing = [key for _t, key in commits if key not in arrivals]
        assert not missing and len(arrivals) == len(commits), f"{len(missing)} facts never reached the follower"
        lags_ms = [(arrivals[key] - t) * 1000 for t, key in commits]
        writer.close()
        return {
            "commands": len(commits),
            "p50": _percentile(lags_ms, 0.5),
            "p99": _percentile(lags_ms, 0.99),
            "max": max(lags_ms),
            "load": os.getloadavg()[0],
        }
    finally:  # the follower, then the server (its runner and worker), then the store
        client.close()
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(15)
        store.drop()


def _write(rows: dict[str, dict[str, Any]], rate: float, seconds: float) -> None:
    lines = [
        BEGIN,
        "## Feed latency: command committed → fact received by a follower",
        "",
        date_and_machine_line(),
        f"- Command: `.venv/bin/python -m bench.feed` ({rate:g} PayFee commands/s for {seconds:g} s from a second "
        f"Ledger on the same store, {MEMBERS} members; one follower with a reader's key on "
        "`GET /v1/coops/{coop}/feed?kinds=fee.paid`, `Accept: text/event-stream`; latency = commit → the SSE "
        "event carrying the command's fact (matched by idempotency key); every fact checked received, once)",
        "",
        "| store | commands | p50 ms | p99 ms | max ms | goal p99 | load average (1 min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for store, r in rows.items():
        lines.append(
            f"| {store} | {r['commands']:,} | {r['p50']:.1f} | **{r['p99']:.1f}** | {r['max']:.1f} | "
            f"≤ {GOAL_P99_MS:.0f} | {r['load']:.1f} |"
        )
    lines += [
        "",
        "What the latency is made of: the projection runner waking (PostgreSQL: LISTEN/NOTIFY; SQLite: "
        "polling every 50 ms), every projection applying the batch in one transaction (the feed's row is "
        "written beside all the others, so the slowest projection sets the pace), the feed head reading the "
        "new position (woken by the runner, at least every 100 ms), the stream reading its page and sending.",
        "",
        "The load average is the machine's at the end of the run: above the CPU count, other work competed "
        "for the CPUs and the tail grows with it. Per batch, the feed projection's own share of the runner's "
        "transaction is well under a millisecond (one INSERT per event); the tail is the runner's whole "
        "batch (all projections) and CPU contention.",
        END,
    ]
    write_section(DOC, BEGIN, END, "\n".join(lines))


@click.command()
@click.option("--rate", default=50.0, show_default=True, type=click.FloatRange(0.5, 500), help="Commands per second.")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(1, 600))
@click.option("--stores", default="postgres,sqlite", show_default=True)
@click.option("--write/--no-write", default=True, show_default=True)
def main(rate: float, seconds: float, stores: str, write: bool) -> None:
    rows = latency_per_store(stores, rate, seconds, _run, "feed latency", GOAL_P99_MS)
    if write:
        _write(rows, rate, seconds)


if __name__ == "__main__":
    main()
