"""Shared fixtures: one contract suite, run against SQLite and PostgreSQL.

`store_url` is parametrised over both stores. PostgreSQL is expected at 127.0.0.1:5432
(user postgres, trust auth, database `test`); each test gets a schema of its own, dropped
afterwards. When PostgreSQL cannot be reached, the postgres cases are skipped on a developer
machine but FAIL when CI=true: a CI run that silently tested only SQLite would prove nothing
about production.

Hypothesis profiles: "ci" (the default, bounded) and "thorough"; pick with HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, settings

from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner

# ---------------------------------------------------------------- hypothesis profiles

settings.register_profile(
    "ci",
    # 20 keeps the whole suite under 15 minutes on the 2-core machine (25 took 15 min 10 s once the
    # tamper, first-hour and replication tests joined); "thorough" runs 300 for a deeper search.
    max_examples=20,
    deadline=None,  # every example touches a real database: timings vary with the machine
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# ---------------------------------------------------------------- PostgreSQL

PG_HOST = os.environ.get("COOPLEDGER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("COOPLEDGER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("COOPLEDGER_TEST_PG_USER", "postgres")
PG_DBNAME = os.environ.get("COOPLEDGER_TEST_PG_DBNAME", "test")


def _pg_conninfo() -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={PG_DBNAME} connect_timeout=3"


@lru_cache(maxsize=1)
def _pg_unreachable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not (checked once per session)."""
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means "no PostgreSQL here"
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _require_postgres() -> None:
    reason = _pg_unreachable_reason()
    if reason is None:
        return
    message = (
        f"PostgreSQL is not reachable at {PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DBNAME} ({reason}). "
        "The contract suite must run against PostgreSQL; start it (make pg-up) and create the database "
        f"`{PG_DBNAME}`."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true: " + message, pytrace=False)
    pytest.skip(message)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql)


# ---------------------------------------------------------------- stores


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class StoreFactory:
    """Makes fresh, empty stores of one kind: SQLite files, or PostgreSQL schemas of their own.
    Whatever is not dropped explicitly is dropped when the test ends."""

    def __init__(self, kind: str, directory) -> None:
        self.kind = kind
        self.directory = directory
        self.schemas: list[str] = []
        self.count = 0

    def new(self) -> str:
        self.count += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / f'books-{self.count}.sqlite'}"
        schema = f"t_{uuid.uuid4().hex[:16]}"
        _pg_admin(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DBNAME}?schema={schema}"

    def drop(self, url: str) -> None:
        """Drops a store made here (close every Ledger on it first)."""
        if self.kind == "sqlite":
            return  # tmp_path is cleaned by pytest
        schema = StoreConfig.from_url(url).pg_schema
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.schemas.remove(schema)

    def drop_all(self) -> None:
        for schema in list(self.schemas):
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.schemas.clear()


@pytest.fixture
def store_factory(store_kind: str, tmp_path) -> Iterator[StoreFactory]:
    if store_kind == "postgres":
        _require_postgres()
    factory = StoreFactory(store_kind, tmp_path)
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture
def store_url(store_factory: StoreFactory) -> str:
    """A fresh, empty store: a SQLite file, or a PostgreSQL schema of its own."""
    return store_factory.new()


@pytest.fixture
def make_ledger(store_url: str) -> Iterator[Callable[[], Ledger]]:
    """Opens more Ledger instances on the same store (another "process"); closes them all."""
    opened: list[Ledger] = []

    def factory() -> Ledger:
        ledger = Ledger(StoreConfig.from_url(store_url))
        opened.append(ledger)
        migrate(ledger.db)
        return ledger

    yield factory
    for ledger in reversed(opened):
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    return make_ledger()


@pytest.fixture
def runner(ledger: Ledger) -> Iterator[ProjectionRunner]:
    r = ProjectionRunner(ledger)
    yield r
    r.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that runs against a store, so `-m "not storage"` runs the pure ones."""
    for item in items:
        if "store_kind" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.storage)


@pytest.fixture(autouse=True)
def _leave_logging_alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line configures structlog globally when it starts (WARNING level, loggers cached
    on first use); run in-process by CliRunner, that would silence the log assertions of whichever
    tests run next. Here the CLI configures as usual but caches nothing, and the session's
    configuration is put back after each test, whatever order the tests run in."""
    import structlog

    import api.logs

    saved = structlog.get_config()
    real = api.logs.configure

    def configure(level: str | None = None) -> None:
        real(level)
        structlog.configure(cache_logger_on_first_use=False)

    monkeypatch.setattr(api.logs, "configure", configure)
    yield
    structlog.configure(**saved)
