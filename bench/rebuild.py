"""One measured rebuild of the balances view, in a process of its own.

Run by the benchmark as `python -m bench.rebuild URL --batch-size N`; prints one JSON object
on stdout. A fresh interpreter makes the peak memory honest: the peak resident set of this
process is the high-water mark of everything the rebuild needed (interpreter, libraries, connections,
batches, decoded events), not what the parent built while recording the data set.

Peak memory is VmHWM from /proc/self/status, not ru_maxrss: on Linux ru_maxrss survives
fork + exec, so a child started by a parent holding 150 MB reports at least 150 MB even if
it never used that much itself. VmHWM belongs to the new address space made by exec.

With --profile PATH it runs the same rebuild under cProfile and writes the stats there;
its timings are then for the profile only, never quoted as the measurement.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def _vm_hwm_kb() -> int | None:
    """Peak resident set size of this address space, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _proc_stat() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, to say how busy it was during the run."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def machine_busy(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Share of all CPUs busy between two _proc_stat() readings (this process included)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


PROBE_DOC = json.dumps(
    {
        "coop": "probe",
        "postings": [["411", "m000001", "EUR", 12345], ["7561", None, "EUR", -12345]],
        "label": "Cotisation 2020 – m000001",
        "chain_hash": "0" * 64,
    }
)


def cpu_probe_ms(rounds: int = 20_000) -> float:
    """A fixed pure-Python workload (stdlib JSON decoding), timed: the same code on the same
    machine, so its spread between runs shows how steady the machine was."""
    loads = json.loads
    started = time.perf_counter()
    for _ in range(rounds):
        loads(PROBE_DOC)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild")
    parser.add_argument("url")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    args = parser.parse_args(argv)

    from bench.logs import configure_logging

    configure_logging()

    from ledger.service import Ledger
    from ledger.store import StoreConfig
    from projections.balances import BalancesProjection
    from projections.runner import ProjectionRunner

    ledger = Ledger(StoreConfig.from_url(args.url))
    runner = ProjectionRunner(ledger, projections=(BalancesProjection,), batch_size=args.batch_size)
    upto = ledger.position()
    baseline_hwm_kb = _vm_hwm_kb()

    progress_cb = None
    bar = None
    if args.progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("  rebuild"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("notifications"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        task = bar.add_task("rebuild", total=upto)

        def progress_cb(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        bar.start()
    profiler = None
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    probe_ms = cpu_probe_ms()
    stat_before = _proc_stat()
    started = time.perf_counter()
    cpu_started = time.process_time()
    notifications = runner.rebuild(progress=progress_cb)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    busy = machine_busy(stat_before, _proc_stat())
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    if bar is not None:
        bar.stop()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    position = runner.position()
    ledger.close()
    json.dump(
        {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "notifications": notifications,
            "position": position,
            "cpu_probe_ms": probe_ms,
            "machine_busy": busy,
            "upto": upto,
            "baseline_vm_hwm_kb": baseline_hwm_kb,
            "vm_hwm_kb": _vm_hwm_kb(),
            "peak_rss_kb": peak_kb,  # ru_maxrss: see the module's docstring
            "batch_size": args.batch_size,
            "python": sys.version.split()[0],
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
