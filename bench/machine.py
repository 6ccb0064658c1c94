"""What the benchmark ran on, and which code it measured."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.freeze import SOURCE_DIR

REPO = SOURCE_DIR  # the checkout measured (git, docs/), even when running from a frozen copy
CORE_DIRS = ("domain", "ledger", "projections", "migrations")


def _cpuinfo() -> tuple[str, int | None]:
    model, physical = "unknown", set()
    try:
        block: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines() + [""]:
            if not line.strip():
                if "physical id" in block and "core id" in block:
                    physical.add((block["physical id"], block["core id"]))
                block = {}
                continue
            key, _, value = line.partition(":")
            block[key.strip()] = value.strip()
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
    except OSError:
        pass
    return model, len(physical) or None


def _mem_total_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.rstrip("\n")
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    model, physical = _cpuinfo()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "physical_cores": physical,
        "memory_bytes": _mem_total_bytes(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": _version("eventsourcing"),
        "psycopg": _version("psycopg"),
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def code() -> dict[str, Any]:
    """The commit measured, and whether the core had uncommitted changes at the time."""
    dirty = [line[3:] for line in _git("status", "--porcelain", "--", *CORE_DIRS).splitlines() if line]
    return {
        "commit": _git("rev-parse", "--short=12", "HEAD") or "unknown",
        "subject": _git("log", "-1", "--format=%s"),
        "dirty_core_files": dirty,
    }


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def postgres_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url.split("?", 1)[0], connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as exc:  # informational only
        return f"unavailable ({type(exc).__name__})"
