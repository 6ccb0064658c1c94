"""Failover: how many acknowledged commands a killed primary takes with it, with and without
synchronous replication.

    .venv/bin/python -m bench.failover                 # 3 runs of each
    .venv/bin/python -m bench.failover --runs 1 --no-write

The scenario of tests/replication/failover.py, on a primary and standby of its own each run: four
writer threads record PayFee commands (each acknowledged one remembered), the primary's postmaster
is killed (SIGKILL) after `--load-seconds` (then, in a second series, every process of the primary
at once: a postmaster killed alone leaves its WAL sender shipping for a moment), the standby
promoted; the commands acknowledged before the kill are then looked for on the promoted server.
Synchronous: synchronous_standby_names names the standby, synchronous_commit = on (the writers then
carry on on the promoted server). Asynchronous:
no synchronous standby; the writers stop at the kill (one that wrote on, through a cache holding
versions the promoted server never received, would fork a cooperative's history). Writes its section
of docs/benchmarks.md between its markers.
"""

from __future__ import annotations

import uuid
from typing import Any

import click

from bench.machine import REPO
from bench.sections import date_and_machine_line, write_section
from tests.replication import failover
from tests.replication.cluster import Cluster

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- failover:begin -->", "<!-- failover:end -->"


def one_run(synchronous: bool, load_s: float, every_process: bool) -> dict[str, Any]:
    cluster = Cluster.start(synchronous=synchronous)
    try:
        assert cluster.primary is not None
        schema = f"f_{uuid.uuid4().hex[:8]}"
        cluster.primary.sql(f'CREATE SCHEMA "{schema}"')
        ledger, runner, outcome = failover.run(
            cluster, schema, load_s=load_s, after_s=1.5, keep_writing=synchronous, every_process=every_process
        )
        runner.stop()
        ledger.close()
    finally:
        cluster.close()
    return {
        "acked_before_kill": len(outcome.acked_before_kill),
        "acked": len(outcome.acked),
        "lost": len(outcome.lost),
        "duplicated": len(outcome.duplicated),
        "first_ack_after_promotion_s": outcome.first_ack_after_promotion_s,
        "unflushed_bytes": outcome.unflushed_bytes_at_kill,
    }


def section(rows: list[tuple[str, dict[str, Any]]], load_s: float) -> str:
    lines = [
        BEGIN,
        "## Failover: acknowledged commands lost when the primary is killed (`bench/failover.py`)",
        "",
        date_and_machine_line(),
        f"- A primary and its standby on this machine; four writer threads recording PayFee commands through one "
        f"Ledger; SIGKILL of the primary's postmaster after {load_s:g} s (or of every process of the primary at once, "
        "as when its machine is lost), then `pg_ctl promote` of the standby. "
        "WAL not on the standby: written by the primary, not yet flushed by the standby, just before the kill "
        "(`pg_stat_replication`). Writing again: from the end of `pg_ctl promote` to the first command acknowledged "
        "after it, by the same Ledger (asynchronous runs stop their writers at the kill; a command then in flight "
        "may still complete on the promoted server through eventsourcing's own retries).",
        "",
        "| replication | acknowledged before the kill | lost (of all acknowledged) | twice | WAL not on the standby at the "
        "kill | "
        "writing again after the promotion |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, r in rows:
        after = "—" if r["first_ack_after_promotion_s"] is None else f"{r['first_ack_after_promotion_s']:.2f} s"
        lines.append(
            f"| {mode} | {r['acked_before_kill']} | {r['lost']} | {r['duplicated']} | {r['unflushed_bytes']:,} bytes | {after} |"
        )
    lines.append(END)
    return "\n".join(lines)


@click.command()
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1, 20), help="Runs of each mode.")
@click.option("--load-seconds", default=2.0, show_default=True, type=click.FloatRange(0.5, 60))
@click.option("--write/--no-write", default=True, show_default=True)
def main(runs: int, load_seconds: float, write: bool) -> None:
    rows = []
    for every_process in (False, True):
        for synchronous in (True, False):
            for n in range(runs):
                r = one_run(synchronous, load_seconds, every_process)
                mode = ("synchronous (`synchronous_commit = on`)" if synchronous else "asynchronous") + (
                    ", every process of the primary killed" if every_process else ", postmaster killed"
                )
                click.echo(f"{mode} run {n + 1}: {r}")
                rows.append((mode, r))
    text = section(rows, load_seconds)
    click.echo(text)
    if write:
        write_section(DOC, BEGIN, END, text)


if __name__ == "__main__":
    main()
