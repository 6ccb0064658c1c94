"""Store selection from COOPLEDGER_DATABASE_URL, and the migrations that create the views."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.migrate import migrate, migration_files
from ledger.store import DEFAULT_SQLITE_PATH, StoreConfig


def test_sqlite_urls_relative_and_absolute():
    assert StoreConfig.from_url("sqlite:///var/books.sqlite").sqlite_path == Path("var/books.sqlite")
    assert StoreConfig.from_url("sqlite:////tmp/books.sqlite").sqlite_path == Path("/tmp/books.sqlite")
    assert StoreConfig.from_url("sqlite:///var/my%20books.sqlite").sqlite_path == Path("var/my books.sqlite")
    assert StoreConfig.from_url("sqlite:///var/books.sqlite").kind == "sqlite"


def test_postgresql_url_with_schema_and_escaped_password():
    config = StoreConfig.from_url("postgresql://ledger:p%40ss@db.example:6543/books?schema=coop_a")
    assert (config.kind, config.pg_host, config.pg_port) == ("postgres", "db.example", 6543)
    assert (config.pg_user, config.pg_password, config.pg_dbname, config.pg_schema) == ("ledger", "p@ss", "books", "coop_a")
    env = config.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_SCHEMA"], env["POSTGRES_PORT"], env["POSTGRES_PASSWORD"]) == ("coop_a", "6543", "p@ss")


def test_postgresql_defaults():
    config = StoreConfig.from_url("postgres://127.0.0.1/test")
    assert (config.pg_port, config.pg_user, config.pg_schema) == (5432, "postgres", "public")
    assert config.describe() == "postgresql://postgres@127.0.0.1:5432/test?schema=public"


def test_no_url_means_the_embedded_default(monkeypatch):
    monkeypatch.delenv("COOPLEDGER_DATABASE_URL", raising=False)
    assert StoreConfig.from_url() == StoreConfig(kind="sqlite", sqlite_path=DEFAULT_SQLITE_PATH)
    monkeypatch.setenv("COOPLEDGER_DATABASE_URL", "postgresql://u@h:1/d?schema=s")
    assert StoreConfig.from_url().pg_schema == "s"


@pytest.mark.parametrize(
    ("url", "message"),
    [("sqlite:///", "file path"), ("postgresql://u@h:5432/", "database name"), ("mysql://u@h/db", "unsupported scheme")],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        StoreConfig.from_url(url)


def test_migrations_are_numbered_without_gaps_and_applied_once(ledger):
    files = migration_files()
    assert [v for v, _ in files] == list(range(1, len(files) + 1))
    # The `ledger` fixture already migrated: a second run applies nothing and changes nothing.
    assert migrate(ledger.db) == []
    with ledger.db.read() as tx:
        applied = [row[0] for row in tx.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert applied == [v for v, _ in files]
