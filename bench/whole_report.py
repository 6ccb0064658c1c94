"""The whole benchmark's section of docs/benchmarks.md, between `<!-- whole:begin -->` and
`<!-- whole:end -->` (bench/sections.py): each figure beside its goal and its ratio to it."""

from __future__ import annotations

from typing import Any

from bench.machine import REPO, code, machine, now, postgres_version
from bench.sections import write_section
from bench.stores import DEFAULT_PG_URL
from bench.whole_data import WholeData

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- whole:begin -->", "<!-- whole:end -->"
GOAL_RECORD_PER_S = 10_000
GOAL_LEDGER_RATIO = 1.0  # the whole rebuild at least as fast as `ledger -f FILE bal`

# What the profiles said when this section was last worked on (see the commit history); the
# tables above it are measured by each run.
WHAT_IS_LEFT = """\
Before this work (same command, same machine, commit 5fc32ff, load average 7 to 11 while it ran):
`coopledger record` 508 commands/s on SQLite and 874 on PostgreSQL; `coopledger rebuild` 116.3 s on
SQLite and 418.6 s on PostgreSQL, `ledger -f FILE bal` 5.22 s in the same run (0.045× and 0.012×
ledger-cli's speed). What changed: the rebuild reads the log once in pages of 10,000 events, each
page one transaction (rows and positions); each projection's single-row INSERTs go together
(executemany on SQLite, COPY on PostgreSQL: projections/buffered.py); the registry reads and writes
the fee calls of a page once (projections/registry_fees.py; on PostgreSQL one UPDATE from a copied
temporary table), where it did a SELECT and an UPDATE per payment; `record` reads its lines with
orjson and checks them with less overhead. The load differed between the runs (see the load row), so
the same before and after were also run back to back at the same load (1-minute load 3.0 to 3.2) on
2 cooperatives × 1,000 members × 2 years (10,002 commands, as CLI processes): `coopledger rebuild`
on PostgreSQL 16.7 s and 14.9 s before, 6.8 s and 4.8 s after; on SQLite 5.8 s and 7.2 s before,
5.9 s and 4.9 s after; `coopledger record` on SQLite 10.7 s and 8.2 s before, 9.6 s and 9.3 s after
(start-up and the ledger dominate at that size: no difference beyond the noise).

What is left, from the per-view table and the profile above:

- **The database's own work**: the rebuild writes about 1.16 million rows (see "rows in the views")
  into indexed tables, one page of 10,000 events per transaction; on SQLite the `execute` and
  `executemany` calls of the profile (the balances view's INSERT ... SELECT over the stored JSON
  included), on PostgreSQL the time waiting for the server (`psycopg wait`) and adapting COPY rows.
- **Reading and decoding the log**, the largest share in Python: eventsourcing's mapper decodes each
  stored state with the standard library's JSON decoder and an object hook per dict, and builds a
  UUID per notification (`uuid.py __init__`, `raw_decode` in the profile). Every Python projection
  needs the event objects, so this is paid once per event whatever the views do; a faster
  transcoder is configured in ledger/app.py (not changed here).
- **The views that write one row or more per event** (the audit trail and its accounts, journal
  entries and lines, the feed's facts with their JSON, the observatory's counts): building the
  rows, formatting timestamps (`isoformat`, five times per event across the views). Set-based
  rebuilds of the journal and the audit trail (INSERT ... SELECT over the stored JSON, as the
  balances view does) would skip the Python for them, not the decoding the other views need.
- **The registry on PostgreSQL** is its slowest view after the audit trail and the journal, mostly
  waiting for the server. Profiled on 10 × 1,000 × 1 year (30,010 commands): 2.9 s, of which 1.0 s
  reading the fee calls a page's payments touch with `member_id IN (...)` lists of up to 500
  parameters (a new statement text each time, planned each time: now one `= ANY(array)` statement,
  0.45 s) and about 1 s writing them (COPY, then the UPDATE from the temporary table).
- **The goal** (the whole rebuild at least as fast as `ledger -f FILE bal`) is out of reach of a
  rebuild that builds every view, in Python, from events: ledger-cli parses and sums a text file in
  C++ and writes nothing; the rebuild writes every view's rows (see "rows in the views").
- **record**: the CLI's own share (reading and checking each line) is now a few percent; the rest
  is `Ledger.execute_batch` (deciders, the stdlib JSON encoding of events, UUIDs and timestamps, the
  hash chain, receipts, fingerprints), the write path another engineer is making faster. Seen in its
  profile: a `typing` Protocol isinstance check per command (`typing._get_protocol_attrs`, about 4%),
  `domain/fees.py` `called_cents` called about twice per fee command (about 2%), and Python's
  start-up importing the whole program (psycopg, structlog, every family's dataclasses: one to
  several seconds here, depending on the load) before the first line is read.
"""


def _ratio(value: float, goal: float) -> str:
    r = value / goal
    return f"{r:.2f}× of goal" + ("" if r >= 1 else f" ({1 / r:.1f}× short)")


def _head(results: dict[str, dict[str, Any]], data: WholeData, run_s: float) -> list[str]:
    m, c = machine(), code()
    pg = f", PostgreSQL {postgres_version(DEFAULT_PG_URL)} (same machine)" if "PostgreSQL" in results else ""
    return [
        BEGIN,
        "## The whole `coopledger record` and `coopledger rebuild` (every view), as a treasurer runs them",
        "",
        f"- Date: {now():%Y-%m-%d %H:%M} UTC (run took {run_s / 60:.1f} min); code: commit `{c['commit']}`"
        + (" with uncommitted changes to the core" if c["dirty_core_files"] else ""),
        f"- Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs, {m['memory_bytes'] / 2**30:.1f} GiB; "
        f"{m['kernel']}, Python {m['python']}, SQLite {m['sqlite']}{pg}, eventsourcing {m['eventsourcing']}",
        f"- Command: `.venv/bin/python -m bench.whole --coops {data.coops} --members {data.members} --years {data.years}`",
        f"- Data set: {data.coops} associations × {data.members:,} members × {data.years} years, one JSON line per "
        f"command ({', '.join(f'{n:,} {k}' for k, n in data.counts.items())}: {data.commands:,} commands, "
        f"{data.entries:,} journal entries). `coopledger record FILE` and `coopledger rebuild` run as the CLI in a "
        "process of their own on a fresh store (wall time, start-up included); `ledger` and `hledger` on the "
        "plain-text export of the same store (ledger/exports/plaintext.py), in the same run.",
        "- Checked: every command accepted; each trial balance equal to the data set's model, and after the "
        "rebuild equal to the one kept incrementally before it; every view's row count unchanged by the rebuild.",
        "",
    ]


def _figures(results: dict[str, dict[str, Any]]) -> list[str]:
    labels = list(results)
    lines = ["| figure | " + " | ".join(labels) + " | goal |", "| --- | " + " | ".join("---:" for _ in labels) + " | --- |"]

    def row(name: str, cells: list[str], goal: str) -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {goal} |")

    rates = [r["commands"] / r["record_s"] for r in results.values()]
    row("`coopledger record FILE`: wall time", [f"{r['record_s']:.1f} s" for r in results.values()], "")
    row("record: commands/s", [f"**{x:,.0f}**" for x in rates], f"≥ {GOAL_RECORD_PER_S:,}")
    row("record: ratio to goal", [_ratio(x, GOAL_RECORD_PER_S) for x in rates], "1")
    row("`coopledger rebuild`: wall time", [f"**{r['rebuild_s']:.2f} s**" for r in results.values()], "")
    row("rebuild in process (`ProjectionRunner.rebuild()`)", [f"{r['in_process_s']:.2f} s" for r in results.values()], "")
    ledger_s = [r["tools"]["tools"].get("ledger-cli", {}).get("seconds") for r in results.values()]
    hledger_s = [r["tools"]["tools"].get("hledger", {}).get("seconds") for r in results.values()]
    row("`ledger -f FILE bal` (same journal)", [f"{s:.2f} s" if s else "not installed" for s in ledger_s], "")
    row("`hledger -f FILE bal` (same journal)", [f"{s:.2f} s" if s else "not installed" for s in hledger_s], "")
    speed = [s / r["rebuild_s"] if s else None for s, r in zip(ledger_s, results.values(), strict=True)]
    row("rebuild speed ÷ ledger-cli's", [f"**{x:.2f}×**" if x else "" for x in speed], f"≥ {GOAL_LEDGER_RATIO:g}×")
    row("ratio to goal", [_ratio(x, GOAL_LEDGER_RATIO) if x else "" for x in speed], "1")
    hspeed = [s / r["rebuild_s"] if s else None for s, r in zip(hledger_s, results.values(), strict=True)]
    row("rebuild speed ÷ hledger's", [f"{x:.2f}×" if x else "" for x in hspeed], "(for information)")
    row("views caught up incrementally after record (in process)", [f"{r['catch_up_s']:.2f} s" for r in results.values()], "")
    row("rows in the views", [f"{r['rows']:,}" for r in results.values()], "")
    row("load average (1 min) at the end, on this many CPUs", [f"{r['load_1min']:.1f}" for r in results.values()], "≤ CPUs: idle")
    row(
        "plain-text export (in process)",
        [f"{r['tools']['export_s']:.2f} s, {r['tools']['journal_bytes'] / 2**20:.1f} MB" for r in results.values()],
        "",
    )
    return lines


def _per_view(results: dict[str, dict[str, Any]]) -> list[str]:
    labels = list(results)
    names = list(next(iter(results.values()))["per_view_s"])
    lines = [
        "",
        "Per view, the in-process rebuild (`ProjectionRunner.spent_s`: each projection's own time over the whole "
        "log, its SQL included; reading and decoding the log is shared by all; the rest is clearing the views, "
        "positions and commits):",
        "",
        "| view | " + " | ".join(labels) + " |",
        "| --- | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for name in names:
        cells = [f"{r['per_view_s'].get(name, 0.0):.2f} s" for r in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    rest = [r["in_process_s"] - sum(r["per_view_s"].values()) for r in results.values()]
    lines.append("| (rest) | " + " | ".join(f"{s:.2f} s" for s in rest) + " |")
    lines.append("| **total** | " + " | ".join(f"**{r['in_process_s']:.2f} s**" for r in results.values()) + " |")
    return lines


def _hotspots(results: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for label, r in results.items():
        lines += [
            "",
            f"Costliest functions by own time, one more rebuild under cProfile, {label} "
            f"({r['profiled_s']:.2f} s profiled; the shares matter, not the seconds):",
            "",
            "| function | calls | own time | share | cumulative |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for h in r["hotspots"]:
            lines.append(f"| `{h.function}` | {h.calls:,} | {h.own_s:.3f} s | {h.share:.0%} | {h.cumulative_s:.3f} s |")
    return lines


def write_report(results: dict[str, dict[str, Any]], data: WholeData, run_s: float) -> None:
    lines = _head(results, data, run_s) + _figures(results) + _per_view(results) + _hotspots(results)
    if WHAT_IS_LEFT.strip():
        lines += ["", WHAT_IS_LEFT.strip()]
    lines.append(END)
    write_section(DOC, BEGIN, END, "\n".join(lines))
