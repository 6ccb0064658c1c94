"""What PostgreSQL itself does on this machine with the rows the ledger just wrote, and what
32 threads sending single commands get through group commit.

The ceiling copies the ledger's own stored rows (events and receipts: originator_id, version,
topic, state) into a fresh table shaped like eventsourcing's (same primary key, a bigserial
notification id) with plain psycopg: one transaction per row (autocommit), executemany in
transactions of BATCH rows, and COPY. The ledger's batch rate divided by these is its share of
the ceiling. Per-row inserts are timed on the first PER_ROW_LIMIT rows only (they are slow).
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import date, timedelta
from typing import Any

import psycopg

BATCH = 1000
PER_ROW_LIMIT = 5_000
CREATE = (
    "CREATE TABLE {t} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,"
    " notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)


def raw_ceiling(pg_url: str, schema: str, events_table: str, after: int) -> dict[str, Any]:
    """Rows per second for plain inserts of the ledger's rows stored after position `after`."""
    with psycopg.connect(pg_url, options=f"-c search_path={schema}", autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {events_table}"  # noqa: S608
            " WHERE notification_id > %s ORDER BY notification_id",
            (after,),
        ).fetchall()
        out: dict[str, Any] = {"rows": len(rows)}
        # One transaction per row: each INSERT commits (and waits for its WAL flush) alone.
        conn.execute(CREATE.format(t="ceiling_per_row"))
        sample = rows[:PER_ROW_LIMIT]
        started = time.perf_counter()
        for row in sample:
            conn.execute(
                "INSERT INTO ceiling_per_row (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)", row
            )
        out["per_row_rows_per_s"] = len(sample) / (time.perf_counter() - started)
        # Batched: executemany (pipelined by psycopg) in transactions of BATCH rows.
        conn.execute(CREATE.format(t="ceiling_batched"))
        started = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(rows), BATCH):
                with conn.transaction():
                    cur.executemany(
                        "INSERT INTO ceiling_batched (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                        rows[start : start + BATCH],
                    )
        out["batched_rows_per_s"] = len(rows) / (time.perf_counter() - started)
        conn.execute(CREATE.format(t="ceiling_copy"))
        started = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(rows), BATCH * 10):
                with (
                    conn.transaction(),
                    cur.copy("COPY ceiling_copy (originator_id, originator_version, topic, state) FROM STDIN") as copy,
                ):
                    for row in rows[start : start + BATCH * 10]:
                        copy.write_row(row)
        out["copy_rows_per_s"] = len(rows) / (time.perf_counter() - started)
        for t in ("ceiling_per_row", "ceiling_batched", "ceiling_copy"):
            conn.execute(f"DROP TABLE {t}")  # noqa: S608
    return out


def concurrent_singles(ledger: Any, commands: int, threads: int, start_day: date, sensors: int) -> dict[str, float]:
    """`threads` threads each sending single AcceptReadings through Ledger.execute (group commit)."""
    from domain.sensors import AcceptReadings

    latencies: list[float] = []
    lock = threading.Lock()
    groups_before, grouped_before = ledger.group.groups, ledger.group.grouped_commands
    errors: list[str] = []

    def client(t: int) -> None:
        mine = []
        for n in range(t, commands, threads):
            sensor, day = n % sensors, start_day + timedelta(days=n // sensors)
            began = time.perf_counter()
            r = ledger.execute(AcceptReadings("capteurs", f"s{sensor}", day, 96, day), f"single-{n}", "bench")
            mine.append(time.perf_counter() - began)
            if not r.accepted:
                errors.append(str(r.error))
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    assert not errors, errors[:3]
    latencies.sort()
    groups = ledger.group.groups - groups_before
    return {
        "commands": commands,
        "threads": threads,
        "seconds": seconds,
        "rate": commands / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "groups": groups,
        "mean_group": (ledger.group.grouped_commands - grouped_before) / max(groups, 1),
    }
