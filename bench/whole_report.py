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
History (same command, same machine; each run's load decides much, see the load row): at commit 5fc32ff
`coopledger rebuild` took 116.3 s on SQLite and 418.6 s on PostgreSQL (0.045× and 0.012× ledger-cli);
then the rebuild read the log in pages of 10,000 events, one transaction each, batched each view's
INSERTs (executemany on SQLite, COPY on PostgreSQL: projections/buffered.py) and the registry's fee
calls (projections/registry_fees.py): 28.9 s and 38.9 s at a load of 1 (commit fa4e5ae). Then the
runner read the log itself (projections/log_reader.py, docs/decisions/0016-runner-reads-the-log-itself.md):
a page reads at most twice its size of positions (PostgreSQL sorted every later row on every page),
decodes as the mapper does with the class and the aggregate id resolved once, reads the identity keys
of a page at once, and the cyclic garbage collector is paused during a rebuild (15-20% of its CPU, for
nothing found); reading and decoding the log went from 5.1-5.9 s to about 1 s, and the rebuild's own CPU
by about 1.4× on SQLite and 1.8× on PostgreSQL, measured side by side. `record` gained from the write
path's work (docs/benchmarks.md, ingest) and reads its lines with orjson.

What is left, from the per-view table and the profile above:

- **The views that write one row or more per event** (the audit trail and its accounts, journal
  entries and lines, the feed's facts with their JSON, the observatory's counts): building the rows in
  Python, formatting timestamps (`isoformat`, five times per event across the views), then the
  database writing about 1.16 million rows (see "rows in the views") into indexed tables (on SQLite the
  `execute` and `executemany` calls of the profile, on PostgreSQL `psycopg wait` and adapting COPY rows).
  Set-based rebuilds of the journal and the audit trail in SQL would skip the Python for those two; the
  feed's facts and the trail's reasons hold sealed identities that only the program can open.
- **The goal** (the whole rebuild at least as fast as `ledger -f FILE bal`) is out of reach of a
  rebuild that builds every view, in Python, from events: ledger-cli parses and sums a text file in C++
  and writes nothing, where the rebuild writes every view's rows. The balances alone (what ledger-cli's
  `bal` computes) take a few tenths of a second of it (the balances line of the per-view table).
- **record**: `Ledger.execute_batch` per command (deciders, events and receipts encoded, the hash chain,
  fingerprints: the step table of the ingest section), and Python's start-up importing the program
  before the first line is read.
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
