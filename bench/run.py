"""One benchmark run on one store: record the data set, measure the rebuild, check the answer."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench.dataset import Dataset
from bench.freeze import CODE_DIR
from bench.profile import ProfileSummary, summarize
from bench.record import Recording, record
from bench.stores import DOMAIN_TOPICS, FINANCIAL_TOPICS, BenchStore, count_events, store_size_bytes
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance

log = structlog.get_logger("coopledger.bench")

TrialBalances = dict[str, dict[tuple[str, str], tuple[int, int]]]


@dataclass
class Settings:
    events: int
    stores: list[str]
    batch_commands: int
    rebuild_batch: int
    repeat: int
    seed: int
    pg_url: str
    profile: str  # "auto" | "yes" | "no"
    keep: bool
    show_progress: bool
    headroom: bool = True


@dataclass
class RebuildRun:
    seconds: float
    cpu_seconds: float
    notifications: int
    peak_rss_kb: int  # VmHWM of the child: its own high-water mark
    baseline_rss_kb: int  # VmHWM just before the rebuild started (interpreter, imports, connections)
    ru_maxrss_kb: int  # reported for completeness; inflated by the parent's RSS at fork (see docs)
    cpu_probe_ms: float  # a fixed Python workload timed just before: how fast the machine was then
    machine_busy: float | None  # share of all CPUs busy during the rebuild, this process included


@dataclass
class Headroom:
    seconds: float
    events: int
    peak_rss_kb: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


@dataclass
class StoreResult:
    kind: str
    label: str
    recording: Recording
    financial_events: int  # counted in the event table
    domain_events: int  # what the rebuild reads (financial + membership + founding)
    stored_events: int  # including command receipts
    store_bytes: int | None
    runs: list[RebuildRun]
    checks: dict[str, Any]
    profile: ProfileSummary | None = None
    profile_seconds: float | None = None
    headroom: Headroom | None = None
    analyzed_runs: list[RebuildRun] | None = None  # PostgreSQL: the same rebuild after ANALYZE
    server: dict[str, Any] | None = None  # PostgreSQL: autovacuum setting, table statistics seen
    tools: dict[str, Any] | None = None  # ledger-cli / hledger on the same transactions (first store only)

    @property
    def analyzed_events_per_s(self) -> float | None:
        if not self.analyzed_runs:
            return None
        return self.financial_events / statistics.median(r.seconds for r in self.analyzed_runs)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def events_per_s(self) -> float:
        return self.financial_events / self.seconds

    @property
    def best_events_per_s(self) -> float:
        return self.financial_events / min(r.seconds for r in self.runs)

    @property
    def worst_events_per_s(self) -> float:
        return self.financial_events / max(r.seconds for r in self.runs)

    @property
    def all_runs(self) -> list[RebuildRun]:
        return self.runs + (self.analyzed_runs or [])

    @property
    def peak_rss_bytes(self) -> int:
        return max(r.peak_rss_kb for r in self.all_runs) * 1024

    @property
    def baseline_rss_bytes(self) -> int:
        return max(r.baseline_rss_kb for r in self.all_runs) * 1024

    @property
    def cpu_share(self) -> float:
        return statistics.median(r.cpu_seconds / r.seconds for r in self.runs)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def run_store(kind: str, settings: Settings, console: Console) -> StoreResult:
    store = BenchStore.create(kind, pg_url=settings.pg_url)
    log.info("store_created", store=kind, url=store.url)
    try:
        return _run(store, settings, console)
    finally:
        if settings.keep:
            log.info("store_kept", store=kind, url=store.url)
        else:
            store.drop()


def _run(store: BenchStore, settings: Settings, console: Console) -> StoreResult:
    ledger = Ledger(StoreConfig.from_url(store.url))
    try:
        migrate(ledger.db)
        dataset = Dataset(settings.events, seed=settings.seed)
        with _progress(console) as bar:
            task = bar.add_task(f"{store.label}: recording", total=settings.events, rate="")

            def advance(n: int) -> None:
                elapsed = bar.tasks[task].elapsed or 0
                done = bar.tasks[task].completed + n
                bar.update(task, advance=n, rate=f"{done / elapsed:,.0f} ev/s" if elapsed else "")

            recording = record(
                ledger,
                dataset,
                batch_commands=settings.batch_commands,
                project_batch=settings.rebuild_batch,
                advance=advance if settings.show_progress else None,
            )
        financial = count_events(ledger, FINANCIAL_TOPICS)
        domain = count_events(ledger, DOMAIN_TOPICS)
        stored = ledger.position()
        assert financial == recording.financial_events == settings.events, (
            f"{financial} financial events stored, {recording.financial_events} recorded, {settings.events} asked"
        )
        expected = {slug: dataset.expected_trial_balance(slug) for slug in dataset.slugs}
        incremental = _trial_balances(ledger, dataset.slugs)
        _compare("incremental", incremental, "data set model", expected)
        server = _pg_statistics(ledger) if store.kind == "postgres" else None
        runs = _measure(store, settings, ledger, dataset.slugs, incremental, financial, "as_is")
        analyzed_runs = None
        if store.kind == "postgres":
            # This server may not analyze by itself (autovacuum off): measure again with fresh
            # statistics, which is what a maintained server would have by now.
            table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
            with ledger.db.transaction() as tx:
                tx.execute(f"ANALYZE {table}")  # noqa: S608
                tx.execute("ANALYZE account_balances_by_day")
            assert server is not None
            after = _pg_statistics(ledger)
            server["first_batch_plan_after_analyze"] = after["first_batch_plan"]
            server["first_batch_ms_after_analyze"] = after["first_batch_ms"]
            log.info(
                "analyzed",
                tables=[table, "account_balances_by_day"],
                plan_before=server["first_batch_plan"],
                plan_after=server["first_batch_plan_after_analyze"],
            )
            analyzed_runs = _measure(store, settings, ledger, dataset.slugs, incremental, financial, "after_analyze")
        headroom = None
        if settings.headroom:
            headroom = _child_headroom(store.url, expected)
            log.info(
                "headroom_measured",
                store=store.kind,
                events_per_s=round(headroom.events_per_s),
                peak_rss_mb=round(headroom.peak_rss_kb / 1024, 1),
            )
        checks = {
            "coops": len(dataset.slugs),
            "accounts_compared": sum(len(v) for v in expected.values()),
            "rebuilt_equals_incremental": True,
            "incremental_equals_model": True,
            "debits": sum(d for tb in expected.values() for d, _ in tb.values()),
            "credits": sum(c for tb in expected.values() for _, c in tb.values()),
        }
        tools = None
        if store.kind == settings.stores[0]:
            from bench.plaintext_tools import time_tools

            tools = time_tools(ledger, dataset.slugs)
        profile = profile_s = None
        if settings.profile == "yes" or (
            settings.profile == "auto" and financial / statistics.median(r.seconds for r in runs) < 100_000
        ):
            # On PostgreSQL this runs after ANALYZE: it shows what the code costs, not the plan.
            profile, profile_s = _profile(store.url, settings.rebuild_batch)
            _compare("rebuilt (profiled)", _trial_balances(ledger, dataset.slugs), "incremental", incremental)
        return StoreResult(
            kind=store.kind,
            label=store.label,
            recording=recording,
            financial_events=financial,
            domain_events=domain,
            stored_events=stored,
            store_bytes=store_size_bytes(store, ledger),
            runs=runs,
            checks=checks,
            profile=profile,
            profile_seconds=profile_s,
            headroom=headroom,
            analyzed_runs=analyzed_runs,
            server=server,
            tools=tools,
        )
    finally:
        ledger.close()


def _measure(
    store: BenchStore,
    settings: Settings,
    ledger: Ledger,
    slugs: list[str],
    incremental: TrialBalances,
    financial: int,
    phase: str,
) -> list[RebuildRun]:
    runs = []
    for i in range(settings.repeat):
        log.info("rebuild_measured_start", store=store.kind, phase=phase, run=i + 1, of=settings.repeat)
        runs.append(_child_rebuild(store.url, settings.rebuild_batch, progress=settings.show_progress))
        _compare("rebuilt", _trial_balances(ledger, slugs), "incremental", incremental)
        run = runs[-1]
        log.info(
            "rebuild_measured",
            store=store.kind,
            phase=phase,
            run=i + 1,
            seconds=round(run.seconds, 3),
            events_per_s=round(financial / run.seconds),
            peak_rss_mb=round(run.peak_rss_kb / 1024, 1),
            cpu_probe_ms=round(run.cpu_probe_ms),
            machine_busy=run.machine_busy and round(run.machine_busy, 2),
        )
    return runs


def _pg_statistics(ledger: Ledger) -> dict[str, Any]:
    """Whether the server keeps statistics itself, and whether the event table has any yet."""
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    with ledger.db.read() as tx:
        autovacuum = tx.execute("SHOW autovacuum")[0][0]
        rows = tx.execute(
            "SELECT n_mod_since_analyze, last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
            " FROM pg_stat_user_tables WHERE relid = to_regclass(?)",
            (table,),
        )
        # The runner's first batch of a rebuild, run once by the server with timing.
        plan = tx.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM {table} WHERE notification_id >= 1"  # noqa: S608
            " AND notification_id <= ? AND topic = ANY(?) ORDER BY notification_id LIMIT ?",
            (ledger.position(), DOMAIN_TOPICS, 1000),
        )
    modified, analyzed = rows[0] if rows else (None, None)
    shape, ms = _plan_shape(plan[0][0])
    return {
        "autovacuum": autovacuum,
        "events_table": table,
        "modified_since_analyze": modified,
        "ever_analyzed": analyzed,
        "first_batch_plan": shape,
        "first_batch_ms": ms,
    }


def _plan_shape(explained: Any) -> tuple[str, float]:
    """('Limit > Sort > Bitmap Heap Scan > Bitmap Index Scan', execution ms) from EXPLAIN (ANALYZE, FORMAT JSON)."""
    if isinstance(explained, str):
        explained = json.loads(explained)
    node, names = explained[0]["Plan"], []
    while node:
        names.append(node["Node Type"])
        node = (node.get("Plans") or [None])[0]
    return " > ".join(names), float(explained[0].get("Execution Time", 0.0))


def _trial_balances(ledger: Ledger, slugs: list[str]) -> TrialBalances:
    out: TrialBalances = {}
    for slug in slugs:
        tb = trial_balance(ledger.db, slug)
        out[slug] = {(a["account"], a["unit"]): (a["debit"], a["credit"]) for a in tb["accounts"]}
    return out


class WrongAnswer(AssertionError):
    """The rebuilt balances differ from what they must be: the measurement is worthless."""


def _compare(left_name: str, left: TrialBalances, right_name: str, right: TrialBalances) -> None:
    for slug in sorted(set(left) | set(right)):
        a, b = left.get(slug, {}), right.get(slug, {})
        if a != b:
            diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
            raise WrongAnswer(f"{slug}: {left_name} trial balance differs from {right_name}: {diff}")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE_DIR), env.get("PYTHONPATH", "")) if p)
    return env


def _child_rebuild(url: str, batch_size: int, *, progress: bool, profile: Path | None = None) -> RebuildRun:
    cmd = [sys.executable, "-m", "bench.rebuild", url, "--batch-size", str(batch_size)]
    if progress:
        cmd.append("--progress")
    if profile is not None:
        cmd += ["--profile", str(profile)]
    done = subprocess.run(cmd, cwd=CODE_DIR, env=_child_env(), stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rebuild child failed with exit code {done.returncode}; its stderr is above")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["position"] == out["upto"], f"rebuild stopped at {out['position']} of {out['upto']}"
    return RebuildRun(
        seconds=out["seconds"],
        cpu_seconds=out["cpu_seconds"],
        notifications=out["notifications"],
        peak_rss_kb=out["vm_hwm_kb"],
        baseline_rss_kb=out["baseline_vm_hwm_kb"],
        ru_maxrss_kb=out["peak_rss_kb"],
        cpu_probe_ms=out["cpu_probe_ms"],
        machine_busy=out["machine_busy"],
    )


def _child_headroom(url: str, expected: TrialBalances) -> Headroom:
    cmd = [sys.executable, "-m", "bench.headroom", url]
    done = subprocess.run(cmd, cwd=CODE_DIR, env=_child_env(), stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"headroom child failed with exit code {done.returncode}; its stderr is above")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    got: TrialBalances = {
        coop: {tuple(key.split("|")): (d, c) for key, (d, c) in accounts.items()}  # type: ignore[misc]
        for coop, accounts in out["totals"].items()
    }
    _compare("headroom probe", got, "data set model", expected)
    return Headroom(seconds=out["seconds"], events=out["events"], peak_rss_kb=out["vm_hwm_kb"])


def _profile(url: str, batch_size: int) -> tuple[ProfileSummary, float]:
    with tempfile.TemporaryDirectory(prefix="coopledger-bench-prof-") as tmp:
        path = Path(tmp) / "rebuild.prof"
        log.info("rebuild_profiling", url=url)
        run = _child_rebuild(url, batch_size, progress=False, profile=path)
        return summarize(path), run.seconds
