"""Applies the numbered, forward-only SQL files in migrations/ before the program serves."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import structlog

from ledger.db import Database, Tx

log = structlog.get_logger("coopledger.migrate")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any number fits in a PostgreSQL advisory lock; this one says "coopledger migrations".
ADVISORY_LOCK_KEY = 0x636F6F70


def migration_files() -> list[tuple[int, Path]]:
    files = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = NAME.match(path.name)
        assert match, f"migration {path.name} is not named NNNN_name.sql"
        files.append((int(match.group(1)), path))
    versions = [v for v, _ in files]
    assert versions == list(range(1, len(files) + 1)), f"migration numbers must be 1..N without gaps: {versions}"
    return files


def migrate(db: Database) -> list[int]:
    """Applies every migration not yet applied, each in its own transaction. Returns them."""
    applied_now = []
    with db.transaction() as tx:
        _ensure_table(tx)
    for version, path in migration_files():
        with db.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK_KEY,))
            if tx.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)):
                continue
            tx.script(path.read_text(encoding="utf-8"))
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, path.name, datetime.now(UTC).isoformat()),
            )
            applied_now.append(version)
            log.info("migration_applied", version=version, name=path.name)
    return applied_now


def _ensure_table(tx: Tx) -> None:
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
