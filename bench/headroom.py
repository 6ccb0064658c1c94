"""A headroom probe: how fast could balances be rebuilt from the same store, on this machine,
by a lean path? Not the product's code path, and it writes nothing the product reads.

It reads only the `state` column of financial events in log order, decodes it with orjson,
sums postings per (coop, account, party, unit, day) in memory for the whole log, and writes
the sums once into a TEMPORARY table shaped like `account_balances_by_day` (COPY on
PostgreSQL, one executemany on SQLite). It returns the per-account totals so the caller can
check it computed the same books. The difference between this figure and the measured one
is the cost of the current design, not of Python or of the store.

Run as `python -m bench.headroom URL`; prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from typing import Any

import orjson

from bench.rebuild import _vm_hwm_kb

FETCH = 10_000


def _sum(rows: Any, cells: dict[tuple[str, str, str, str, str], list[int]]) -> int:
    n = 0
    loads = orjson.loads
    for (state,) in rows:
        e = loads(state)
        coop, day = e["coop"], e["effective_date"]["_data_"]
        for account, party, unit, amount in e["postings"]:
            cell = cells[(coop, account, party or "", unit, day)]
            if amount > 0:
                cell[0] += amount
            else:
                cell[1] -= amount
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.headroom")
    parser.add_argument("url")
    args = parser.parse_args(argv)

    from bench.stores import FINANCIAL_TOPICS
    from ledger.service import Ledger
    from ledger.store import StoreConfig

    config = StoreConfig.from_url(args.url)
    ledger = Ledger(config)  # only to learn the event table's name
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    ledger.close()
    cells: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    create = (
        "CREATE TEMPORARY TABLE headroom_balances (coop TEXT NOT NULL, account TEXT NOT NULL, party TEXT NOT NULL,"
        " unit TEXT NOT NULL, day TEXT NOT NULL, debit BIGINT NOT NULL, credit BIGINT NOT NULL,"
        " PRIMARY KEY (coop, account, party, unit, day))"
    )
    baseline_kb = _vm_hwm_kb()
    if config.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(str(config.sqlite_path), isolation_level=None)
        started = time.perf_counter()
        marks = ",".join("?" for _ in FINANCIAL_TOPICS)
        cur = conn.execute(
            f"SELECT state FROM {table} WHERE topic IN ({marks}) ORDER BY rowid",
            FINANCIAL_TOPICS,  # noqa: S608
        )
        events = 0
        while rows := cur.fetchmany(FETCH):
            events += _sum(rows, cells)
        conn.execute(create)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO headroom_balances VALUES (?, ?, ?, ?, ?, ?, ?)", [(*k, d, c) for k, (d, c) in cells.items()]
        )
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
    else:
        import psycopg

        with psycopg.connect(
            f"host={config.pg_host} port={config.pg_port} user={config.pg_user} dbname={config.pg_dbname}"
            + (f" password={config.pg_password}" if config.pg_password else ""),
            options=f"-c search_path={config.pg_schema}",
        ) as conn:
            started = time.perf_counter()
            events = 0
            with conn.cursor(name="headroom") as cur:  # server-side: rows arrive in pages
                cur.itersize = FETCH
                cur.execute(
                    f"SELECT state FROM {table} WHERE topic = ANY(%s) ORDER BY notification_id",  # noqa: S608
                    (FINANCIAL_TOPICS,),
                )
                while rows := cur.fetchmany(FETCH):
                    events += _sum(((bytes(s),) for (s,) in rows), cells)
            with conn.cursor() as cur:
                cur.execute(create)
                with cur.copy("COPY headroom_balances FROM STDIN") as copy:
                    for k, (d, c) in cells.items():
                        copy.write_row((*k, d, c))
            conn.commit()
            seconds = time.perf_counter() - started
    totals: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (coop, account, _party, unit, _day), (d, c) in cells.items():
        t = totals[coop][f"{account}|{unit}"]
        t[0] += d
        t[1] += c
    json.dump(
        {
            "seconds": seconds,
            "events": events,
            "rows": len(cells),
            "baseline_vm_hwm_kb": baseline_kb,
            "vm_hwm_kb": _vm_hwm_kb(),
            "totals": totals,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
