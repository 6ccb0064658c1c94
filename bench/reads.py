"""Reads at scale: balance queries with 10,000 and with 10,000,000 postings in history, side by side.

    .venv/bin/python -m bench.reads            # 10k and 10M postings, both stores, writes its section
    .venv/bin/python -m bench.reads --quick    # 10k and 1M postings, nothing written

The histories are built by inserting the balances view's rows directly (COPY on PostgreSQL,
executemany on SQLite), not through the domain: recording 10 million postings through
`Ledger.execute_batch` would take hours on this machine (see the ingest figures). The rows are
what the projection would hold for that history: one cooperative, ten years, members paying fees
(411 per member, 512 per day), then the party-less totals derived by the projection's own
`finish_rebuild_in_store`. Each query runs REPEAT times per history; the median and p95 are shown.
The same trial balance summed from the daily rows (the read before migration 0011) is timed too.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import click
import structlog

from bench.logs import configure_logging
from bench.machine import REPO
from bench.sections import date_and_machine_line, write_section
from bench.stores import DEFAULT_PG_URL, BenchStore
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import BalancesProjection, account_balance, trial_balance

log = structlog.get_logger("coopledger.bench")

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- reads:begin -->", "<!-- reads:end -->"
COOP = "reads"
START = date(2015, 1, 1)
DAYS = 3650
REPEAT = 30
CHUNK = 100_000
AS_OF = START + timedelta(days=DAYS * 3 // 4)


def _rows(postings: int) -> Any:
    """The view's rows for `postings` postings: half on 411 (one member each), half on 512 (per day)."""
    entries = postings // 2
    members = max(50, entries // 100)
    bank: dict[str, int] = {}
    for j in range(entries):
        day = (START + timedelta(days=j * DAYS // entries)).isoformat()
        amount = 1000 + j % 97
        yield (COOP, "411", f"m{j % members:07d}", "EUR", day, 0, amount)
        bank[day] = bank.get(day, 0) + amount
    for day, amount in bank.items():
        yield (COOP, "512", "", "EUR", day, amount, 0)


def _load(ledger: Ledger, postings: int) -> int:
    rows = 0
    if ledger.db.dialect == "postgres":
        with ledger.db._pool.connection() as conn, conn.cursor() as cur:  # noqa: SLF001 (bulk load for the benchmark only)
            with cur.copy("COPY account_balances_by_day (coop, account, party, unit, day, debit, credit) FROM STDIN") as copy:
                for row in _rows(postings):
                    copy.write_row(row)
                    rows += 1
    else:
        batch: list[tuple[Any, ...]] = []
        for row in _rows(postings):
            batch.append(row)
            if len(batch) == CHUNK:
                with ledger.db.transaction() as tx:
                    tx.executemany("INSERT INTO account_balances_by_day VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                rows, batch = rows + len(batch), []
        with ledger.db.transaction() as tx:
            tx.executemany("INSERT INTO account_balances_by_day VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        rows += len(batch)
    with ledger.db.transaction() as tx:
        BalancesProjection().finish_rebuild_in_store(tx)
        for table in BalancesProjection.tables:
            tx.execute(f"ANALYZE {table}")  # noqa: S608
    return rows


def _by_day_trial_balance(ledger: Ledger, as_of: date) -> int:
    """The trial balance as read before migration 0011: every daily row up to the date."""
    with ledger.db.read() as tx:
        return len(
            tx.execute(
                "SELECT account, unit, SUM(debit), SUM(credit) FROM account_balances_by_day"
                " WHERE coop = ? AND day <= ? GROUP BY account, unit",
                (COOP, as_of.isoformat()),
            )
        )


def _time(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()  # warm: the first call pays for caches and plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)]}


QUERIES: dict[str, Callable[[Ledger], Any]] = {
    "trial balance as of a date": lambda ledger: trial_balance(ledger.db, COOP, as_of=AS_OF),
    "trial balance, today": lambda ledger: trial_balance(ledger.db, COOP),
    "account 411 (all members) as of a date": lambda ledger: account_balance(ledger.db, COOP, "411", as_of=AS_OF),
    "account 411, one member, as of a date": lambda ledger: account_balance(
        ledger.db, COOP, "411", party="m0000007", as_of=AS_OF
    ),
    "account 512 as of a date": lambda ledger: account_balance(ledger.db, COOP, "512", as_of=AS_OF),
}


def _measure(kind: str, postings: int, pg_url: str, repeat: int, old_query: bool) -> dict[str, Any]:
    store = BenchStore.create(kind, pg_url=pg_url)
    ledger = Ledger(StoreConfig.from_url(store.url))
    try:
        migrate(ledger.db)
        started = time.perf_counter()
        rows = _load(ledger, postings)
        load_s = time.perf_counter() - started
        log.info("reads_history_loaded", store=kind, postings=postings, rows=rows, seconds=round(load_s, 1))
        out: dict[str, Any] = {"rows": rows, "load_s": load_s, "queries": {}}
        for name, fn in QUERIES.items():
            out["queries"][name] = _time(lambda fn=fn: fn(ledger), repeat)
        if old_query:
            out["queries"]["(before 0011) trial balance summed from daily rows"] = _time(
                lambda: _by_day_trial_balance(ledger, AS_OF), max(3, repeat // 10)
            )
        return out
    finally:
        ledger.close()
        store.drop()


def _write(results: dict[str, dict[int, dict[str, Any]]], sizes: tuple[int, int], repeat: int) -> None:
    small, large = sizes
    lines = [
        BEGIN,
        "## Reads at scale: balances with 10,000 and with 10,000,000 postings in history",
        "",
        date_and_machine_line(),
        f"- Command: `.venv/bin/python -m bench.reads` (history built by inserting the view's rows directly, "
        f"see bench/reads.py; each query {repeat} times after one warm-up; median, p95 in brackets)",
        "- Goal: as fast with 10 million postings as with 10,000 (ratio large/small close to 1).",
        "",
    ]
    for store, by_size in results.items():
        lines += [
            f"### {store}",
            "",
            f"| query | {small:,} postings | {large:,} postings | large / small |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in by_size[large]["queries"]:
            a, b = by_size[small]["queries"].get(name), by_size[large]["queries"][name]
            cell_a = f"{a['median_ms']:.2f} ms ({a['p95_ms']:.2f})" if a else "not run"
            ratio = f"{b['median_ms'] / a['median_ms']:.2f}×" if a else ""
            lines.append(f"| {name} | {cell_a} | {b['median_ms']:.2f} ms ({b['p95_ms']:.2f}) | {ratio} |")
        lines += [
            "",
            f"Rows in `account_balances_by_day`: {by_size[small]['rows']:,} and {by_size[large]['rows']:,} "
            f"(loaded in {by_size[large]['load_s']:.0f} s).",
            "",
        ]
    lines += [
        "How: an as-of read adds the monthly totals before the date's month and the daily totals of that month "
        "(`account_totals_by_month`, `account_totals_by_day`, migration 0011, kept by the balances projection), "
        "at most (months + 31) rows per account; one member's balance is a range of the daily rows' primary key. "
        "The last line is the trial balance as it was read before: it grows with the history.",
        END,
    ]
    write_section(DOC, BEGIN, END, "\n".join(lines))


@click.command()
@click.option("--quick", is_flag=True, help="10k and 1M postings, 10 repeats, nothing written.")
@click.option("--stores", default="sqlite,postgres", show_default=True)
@click.option("--pg-url", default=DEFAULT_PG_URL, show_default=True)
@click.option("--write/--no-write", default=None, help="Write the section (default: yes, except --quick).")
def main(quick: bool, stores: str, pg_url: str, write: bool | None) -> None:
    configure_logging()
    sizes = (10_000, 1_000_000) if quick else (10_000, 10_000_000)
    repeat = 10 if quick else REPEAT
    labels = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for kind in stores.split(","):
        results[labels[kind]] = {size: _measure(kind, size, pg_url, repeat, old_query=size == sizes[1]) for size in sizes}
        for name, r in results[labels[kind]][sizes[1]]["queries"].items():
            small = results[labels[kind]][sizes[0]]["queries"].get(name)
            click.echo(
                f"{labels[kind]}: {name}: {small['median_ms'] if small else float('nan'):.2f} ms with {sizes[0]:,} "
                f"postings, {r['median_ms']:.2f} ms with {sizes[1]:,}"
            )
    if write if write is not None else not quick:
        _write(results, sizes, repeat)


if __name__ == "__main__":
    main()
