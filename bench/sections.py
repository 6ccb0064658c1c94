"""docs/benchmarks.md is written by several benchmarks: each owns the text between its own
`<!-- name:begin -->` and `<!-- name:end -->` markers and leaves the rest of the file alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def write_section(doc: Path, begin: str, end: str, section: str) -> None:
    """Replaces the marked section of `doc` with `section` (which starts with `begin` and ends with
    `end`), or appends it when the file has no such section yet."""
    assert section.startswith(begin) and section.endswith(end), "a section carries its own markers"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _m: section, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def date_and_machine_line() -> str:
    """The first line of a section: when and on what the figures were measured."""
    from bench.machine import machine, now

    m = machine()
    return (
        f"- Date: {now():%Y-%m-%d %H:%M} UTC; machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs; "
        f"Python {m['python']}, SQLite {m['sqlite']}"
    )


def latency_per_store(
    stores: str, rate: float, seconds: float, run: Callable[[str, float, float], dict[str, Any]], what: str, goal_p99_ms: float
) -> dict[str, dict[str, Any]]:
    """Runs a latency benchmark on each store named in `stores` ("postgres,sqlite"), printing each
    store's p50/p99/max beside the goal; returns the rows by store label."""
    rows = {}
    for kind in stores.split(","):
        label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[kind]
        click.echo(f"{label}: {rate:g} commands/s for {seconds:g} s …")
        rows[label] = r = run(kind, rate, seconds)
        click.echo(
            f"{label}: {r['commands']} commands, {what} p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
            f"max {r['max']:.1f} ms (goal p99 ≤ {goal_p99_ms:.0f} ms)"
        )
    return rows
