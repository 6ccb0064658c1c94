"""Where a batch's CPU goes: each step of `Ledger.execute_batch`, timed in one more ingest run.

The steps are the write path's own functions, wrapped for the run's duration with a timer of the
process's CPU time (`time.process_time`: the machine is shared, so wall time would count other
work; on SQLite the database's work is in this process, on PostgreSQL the server's is not).
Nested steps are shown indented under their parent; a parent's figure includes its children.
Bench code only: the product's functions are wrapped here, never changed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import ledger.chain as chain
import ledger.identity_keys as identity_keys
import ledger.postings as postings
import ledger.service as service
from domain.sensors import AcceptReadings
from ledger.store import StoreConfig

# (label, depth, where, attribute): `where` is resolved against the run's ledger ("ledger",
# "app", "mapper", "recorder") or is a module. Depth 1 steps are disjoint parts of a batch.
STEPS: tuple[tuple[str, int, str, Any, str], ...] = (
    ("fingerprint of each command", 1, "module", service, "fingerprint"),
    ("receipts already stored (one query)", 1, "module", service, "stored_receipts"),
    ("deciding (rules, events, journal hash)", 1, "class", service.Ledger, "_decide"),
    ("collecting events, building receipts", 1, "class", service.Ledger, "_accept"),
    ("saving the batch, answering each command", 1, "class", service.Ledger, "_save"),
    ("one transaction (eventsourcing's save)", 2, "app", None, "save"),
    ("encoding events and receipts", 3, "mapper", None, "to_stored_event"),
    ("event chain links", 3, "module", chain, "links_for"),
    ("postings rows from the stored states", 3, "module", postings, "pending_rows"),
    ("personal data keys", 3, "module", identity_keys, "write_keys"),
    ("snapshots (one in 2,000 events)", 1, "class", service.Ledger, "_snapshot"),
    ("loading the cooperative (cached)", 1, "class", service.Ledger, "_load"),
)


def _wrap(owner: Any, name: str, label: str, spent: Counter[str]) -> Callable[[], None]:
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    setattr(owner, name, timed)
    return lambda: setattr(owner, name, original)


def phases(url: str, events: int, batch: int) -> dict[str, Any]:
    """One more ingest of `events` readings on a fresh store at `url`, its steps timed."""
    from bench.ingest import COOP, SENSORS, START, _setup

    ledger = service.Ledger(StoreConfig.from_url(url))
    spent: Counter[str] = Counter()
    undo: list[Callable[[], None]] = []
    try:
        _setup(ledger)
        owners = {"app": ledger.app, "mapper": ledger.app.mapper}
        for label, _depth, where, owner, name in STEPS:
            undo.append(_wrap(owners.get(where, owner), name, label, spent))
        started = time.process_time()
        for first in range(0, events, batch):
            items = []
            for n in range(first, min(events, first + batch)):
                day = START + timedelta(days=n // SENSORS)
                items.append((AcceptReadings(COOP, f"s{n % SENSORS}", day, 96, day), f"r-{n}", "bench"))
            assert all(r.accepted for r in ledger.execute_batch(items))
        total = time.process_time() - started
    finally:
        for restore in reversed(undo):
            restore()
        ledger.close()
    rows = [(label, depth, spent[label] / events * 1e6) for label, depth, *_ in STEPS]
    rest = total / events * 1e6 - sum(us for _label, depth, us in rows if depth == 1)
    return {"events": events, "cpu_us_per_event": total / events * 1e6, "steps": rows, "rest_us": rest}


def table(by_store: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines: one row per step, one column per store (CPU µs per command and share)."""
    stores = list(by_store)
    lines = [
        "| step (CPU of this process per command) | " + " | ".join(stores) + " |",
        "| --- | " + " | ".join("---:" for _ in stores) + " |",
    ]
    labels = [(label, depth) for label, depth, *_ in STEPS]
    for i, (label, depth) in enumerate(labels):
        cells = []
        for store in stores:
            r = by_store[store]
            us = r["steps"][i][2]
            cells.append(f"{us:.1f} µs ({us / r['cpu_us_per_event']:.0%})")
        lines.append(f"| {'&nbsp;&nbsp;&nbsp;&nbsp;' * (depth - 1)}{label} | " + " | ".join(cells) + " |")
    lines.append(
        "| the rest (the batch's own loop, results, locks) | "
        + " | ".join(f"{r['rest_us']:.1f} µs ({r['rest_us'] / r['cpu_us_per_event']:.0%})" for r in by_store.values())
        + " |"
    )
    lines.append("| **all of it** | " + " | ".join(f"**{r['cpu_us_per_event']:.1f} µs**" for r in by_store.values()) + " |")
    return lines
