"""The stores a benchmark runs on: a fresh SQLite file, or a fresh PostgreSQL schema.

Each is created empty for the run and removed afterwards (unless asked to keep it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from domain.events import EVENT_CLASSES
from ledger.postings import financial_topics
from ledger.service import Ledger

log = structlog.get_logger("coopledger.bench")

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
FINANCIAL_TOPICS = sorted(financial_topics())
DOMAIN_TOPICS = sorted(cls.TOPIC for cls in EVENT_CLASSES.values())
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class BenchStore:
    kind: str  # "sqlite" | "postgres"
    url: str
    cleanup_path: Path | None = None
    pg_base_url: str | None = None
    pg_schema: str | None = None

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @classmethod
    def create(cls, kind: str, *, pg_url: str = DEFAULT_PG_URL, workdir: Path | None = None) -> BenchStore:
        tag = f"{os.getpid()}"
        if kind == "sqlite":
            base = Path(tempfile.mkdtemp(prefix=f"coopledger-bench-{tag}-", dir=workdir))
            path = (base / "bench.sqlite").resolve()
            return cls(kind, f"sqlite:///{path}", cleanup_path=base)
        if kind == "postgres":
            import psycopg

            schema = f"bench_{tag}"
            with psycopg.connect(_libpq_url(pg_url), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                conn.execute(f"CREATE SCHEMA {schema}")
            return cls(kind, f"{pg_url}?schema={schema}", pg_base_url=pg_url, pg_schema=schema)
        raise ValueError(f"unknown store {kind!r} (sqlite or postgres)")

    @classmethod
    def kept(cls, kind: str, name: str, *, pg_url: str = DEFAULT_PG_URL) -> BenchStore:
        """A store kept between runs under `name` (created when missing, never dropped): a SQLite
        file NAME.sqlite in the temporary directory, or a PostgreSQL schema NAME."""
        if not name.isidentifier():
            raise ValueError(f"a kept store's name is a plain identifier, got {name!r}")
        if kind == "sqlite":
            path = (Path(tempfile.gettempdir()) / f"{name}.sqlite").resolve()
            return cls(kind, f"sqlite:///{path}")
        if kind == "postgres":
            import psycopg

            with psycopg.connect(_libpq_url(pg_url), autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
            return cls(kind, f"{pg_url}?schema={name}")
        raise ValueError(f"unknown store {kind!r} (sqlite or postgres)")

    def drop(self) -> None:
        if self.cleanup_path is not None:
            shutil.rmtree(self.cleanup_path, ignore_errors=True)
        if self.pg_schema is not None:
            import psycopg

            assert self.pg_base_url is not None
            with psycopg.connect(_libpq_url(self.pg_base_url), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self.pg_schema} CASCADE")
        log.info("store_dropped", store=self.kind)


def _libpq_url(url: str) -> str:
    return url.split("?", 1)[0]


def count_events(ledger: Ledger, topics: list[str]) -> int:
    """How many stored events have one of these topics (read straight from the event table)."""
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    marks = ", ".join("?" for _ in topics)
    with ledger.db.read() as tx:
        rows: list[Any] = tx.execute(f"SELECT COUNT(*) FROM {table} WHERE topic IN ({marks})", topics)  # noqa: S608
    return int(rows[0][0])


def store_size_bytes(store: BenchStore, ledger: Ledger) -> int | None:
    """On-disk size of the event store and views (SQLite file + WAL; PostgreSQL schema)."""
    if store.kind == "sqlite":
        assert store.cleanup_path is not None
        return sum(p.stat().st_size for p in store.cleanup_path.iterdir() if p.is_file())
    with ledger.db.read() as tx:
        rows = tx.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'",
            (store.pg_schema,),
        )
    return int(rows[0][0])
