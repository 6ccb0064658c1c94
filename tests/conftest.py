"""Shared fixtures: one contract suite, run against SQLite and PostgreSQL.

`store_url` is parametrised over both stores. PostgreSQL is expected at 127.0.0.1:5432
(user postgres, trust auth, database `test`); each test gets a schema of its own, dropped
afterwards; when the test's fixtures migrate it anyway, one migrated before and emptied since
(MigratedSchemas: seconds saved per test). When PostgreSQL cannot be reached, the postgres
cases are skipped on a developer machine but FAIL when CI=true: a CI run that silently tested
only SQLite would prove nothing about production.

Hypothesis profiles: "ci" (the default, bounded) and "thorough"; pick with HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from api import problem_rules
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

# Many tests send hundreds of commands a second with one key (load, faults, races): the per-key
# write limit (api/rate_limits.py, on by default) is tested by tests/api/test_rate_limits.py alone.
os.environ.setdefault("COOPLEDGER_WRITE_RATE_LIMIT", "off")

# A problem naming a rule outside the catalogue (domain/rule_catalogue.py) is logged in service;
# under the tests it fails the request, so that any test meeting such a refusal fails.
problem_rules.STRICT = True

# ---------------------------------------------------------------- PostgreSQL

PG_HOST = os.environ.get("COOPLEDGER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("COOPLEDGER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("COOPLEDGER_TEST_PG_USER", "postgres")
PG_DBNAME = os.environ.get("COOPLEDGER_TEST_PG_DBNAME", "test")


# What a test waits for an answer from a fresh live server (uvicorn on a loopback port): its first
# requests build its routes and its OpenAPI document, seconds on a loaded CI machine (httpx's 5 s
# default timed out there). Such tests check answers, not speed.
LIVE_HTTP_TIMEOUT_S = 30.0


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


class MigratedSchemas:
    """PostgreSQL schemas migrated once and handed out again, emptied, test after test (one pool per
    process, so per xdist worker).

    A store made and migrated for each test costs 1 to 3 s on PostgreSQL (~70 tables created, then
    dropped), most of a PostgreSQL test's time; the migrations of concurrent processes queue on one
    advisory lock (ledger/migrate.py); and on a server without autovacuum every table created and
    dropped leaves dead rows in the system catalogs that slow down all later DDL. Emptying a schema
    costs a TRUNCATE of the tables the test filled.

    An emptied schema is a store just migrated: the same objects, made the same way (compared with
    the first schema this process migrated: one whose tables, columns, constraints, indexes,
    functions... a test changed, dropped or added is dropped instead), each table that holds rows
    truncated (new, empty storage, as CREATE TABLE made it), the rows the migrations left
    (schema_migrations) as they were, each sequence where it was. It is then renamed: the next
    test's store has a name never used before, and a connection left open by the last test finds
    no table there, as if the schema had been dropped."""

    def __init__(self) -> None:
        self.free: list[str] = []
        self.structure: list[str] | None = None  # of the first schema migrated here
        self.seeds: dict[str, dict[str, bytes]] = {}  # schema -> table -> its rows just after migrating
        self.sequences: dict[str, list[tuple[str, int, bool]]] = {}  # schema -> (sequence, value, is_called)

    def take(self) -> str:
        return self.free.pop() if self.free else self._migrate_new()

    def give_back(self, schema: str) -> None:
        """Empties the schema for the next test, or drops it when it cannot be made as new again."""
        try:
            emptied = self._empty(schema)
        except Exception:  # noqa: BLE001 (locked by a connection still open, changed by the test...: not reused)
            emptied = None
        if emptied is None:
            self.seeds.pop(schema, None)
            self.sequences.pop(schema, None)
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            self.free.append(emptied)

    def close(self) -> None:
        for schema in self.free:
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.free.clear()

    def _migrate_new(self) -> str:
        import psycopg

        schema = _new_schema_name()
        _pg_admin(f'CREATE SCHEMA "{schema}"')
        try:
            ledger = Ledger(StoreConfig.from_url(_pg_url(schema)))
            try:
                migrate(ledger.db)
            finally:
                ledger.close()
            with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
                catalog = _Catalog.read(conn, schema)
                seeds = {t: _copy_out(conn, schema, t) for t in catalog.tables_with_rows(conn)}
                sequences = catalog.sequence_states(conn)
        except BaseException:
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            raise
        if self.structure is None:
            self.structure = catalog.structure
        self.seeds[schema], self.sequences[schema] = seeds, sequences
        return schema

    def _empty(self, schema: str) -> str | None:
        import psycopg

        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn, conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            catalog = _Catalog.read(conn, schema)
            if schema not in self.seeds or catalog.structure != self.structure:
                return None
            seeds, sequences = self.seeds.pop(schema), self.sequences.pop(schema)
            filled = [t for t in catalog.tables_with_rows(conn) if t not in seeds]
            if filled:  # CASCADE: a table that references one of these must be named too, even empty
                conn.execute(f"TRUNCATE {', '.join(_qualified(schema, t) for t in filled)} CASCADE")
            for table, rows in seeds.items():
                if _copy_out(conn, schema, table) != rows:
                    conn.execute(f"TRUNCATE {_qualified(schema, table)}")
                    with conn.cursor() as cur, cur.copy(f"COPY {_qualified(schema, table)} FROM STDIN") as copy:
                        copy.write(rows)
            for sequence, value, is_called in sequences:
                conn.execute("SELECT setval(%s::regclass, %s, %s)", (_qualified(schema, sequence), value, is_called))
            renamed = _new_schema_name()
            conn.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{renamed}"')
            # A function's body is text: one that names its schema (eventsourcing's insert function
            # does) is made again naming the new one, as it would have been made there.
            for definition in catalog.function_definitions:
                if schema in definition:
                    conn.execute(definition.replace(schema, renamed))
        self.seeds[renamed], self.sequences[renamed] = seeds, sequences
        return renamed


def _new_schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def _pg_url(schema: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DBNAME}?schema={schema}"


def _qualified(schema: str, name: str) -> str:
    return f'"{schema}"."{name}"'


def _copy_out(conn, schema: str, table: str) -> bytes:
    with conn.cursor() as cur, cur.copy(f"COPY {_qualified(schema, table)} TO STDOUT") as copy:
        return b"".join(bytes(block) for block in copy)


# Every object of a schema and how it is made. The objects are found through pg_depend (each
# relation, function and type of a schema depends on it), by index: pg_class has no index on the
# schema, and on a server without autovacuum its scans grow with every table ever dropped.
_CATALOG = """
WITH objects AS (
    SELECT classid, objid FROM pg_depend
     WHERE refclassid = 'pg_namespace'::regclass AND refobjid = %(ns)s AND deptype = 'n'
), rels AS MATERIALIZED (
    SELECT c.* FROM pg_class c JOIN objects o ON o.classid = 'pg_class'::regclass AND o.objid = c.oid
), owned AS MATERIALIZED (  -- the schema's relations and their indexes
    SELECT oid, relname, relkind FROM rels
    UNION ALL
    SELECT c.oid, c.relname, c.relkind FROM pg_index i JOIN rels r ON r.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid
)
SELECT 'relation', o.relname,
       o.relkind::text || ' ' || c.relpersistence::text || ' ' || c.relrowsecurity || ' ' || c.relforcerowsecurity
  FROM owned o JOIN pg_class c ON c.oid = o.oid
UNION ALL
SELECT 'column', o.relname, a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
       || a.attidentity::text || a.attgenerated::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM owned o JOIN pg_attribute a ON a.attrelid = o.oid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', r.relname, k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN rels r ON r.oid = k.conrelid
UNION ALL
SELECT 'index', r.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rels r ON r.oid = i.indrelid
UNION ALL
SELECT 'trigger', r.relname, pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
  FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT 'policy', r.relname, p.polname || ' ' || p.polcmd::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
  FROM pg_policy p JOIN rels r ON r.oid = p.polrelid
UNION ALL
SELECT 'rule', r.relname, pg_get_ruledef(w.oid) FROM pg_rewrite w JOIN rels r ON r.oid = w.ev_class
UNION ALL
SELECT 'sequence', r.relname, s.seqtypid::regtype::text || ' ' || s.seqstart || ' ' || s.seqincrement || ' ' || s.seqmin || ' '
       || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle
  FROM pg_sequence s JOIN rels r ON r.oid = s.seqrelid
UNION ALL
SELECT 'function', p.proname, pg_get_functiondef(p.oid)
  FROM pg_proc p JOIN objects o ON o.classid = 'pg_proc'::regclass AND o.objid = p.oid WHERE p.prokind IN ('f', 'p')
UNION ALL
SELECT 'routine', p.proname, p.prokind::text || ' ' || pg_get_function_identity_arguments(p.oid)
  FROM pg_proc p JOIN objects o ON o.classid = 'pg_proc'::regclass AND o.objid = p.oid WHERE p.prokind NOT IN ('f', 'p')
UNION ALL
SELECT 'type', t.typname, t.typtype::text || ' ' || coalesce(format_type(t.typbasetype, t.typtypmod), '')
  FROM pg_type t JOIN objects o ON o.classid = 'pg_type'::regclass AND o.objid = t.oid
UNION ALL
SELECT 'other', o.classid::regclass::text, pg_describe_object(o.classid, o.objid, 0) FROM objects o
 WHERE o.classid NOT IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
"""


class _Catalog:
    """What the system catalogs say of one schema: `structure` (every object and how it is made, the
    schema's own name written <schema>: two schemas made by the same migrations give the same
    list), its tables, sequences and function definitions."""

    def __init__(self, schema: str, rows: list[tuple[str, str, str]]) -> None:
        self.schema = schema
        self.structure = sorted(" ".join(row).replace(schema, "<schema>") for row in rows)
        relations = {name: info.split()[0] for kind, name, info in rows if kind == "relation"}
        self.tables = sorted(name for name, relkind in relations.items() if relkind in ("r", "p"))
        self.sequences = sorted(name for name, relkind in relations.items() if relkind == "S")
        self.function_definitions = [info for kind, _, info in rows if kind == "function"]

    @classmethod
    def read(cls, conn, schema: str) -> _Catalog:
        ((ns,),) = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (schema,)).fetchall()
        return cls(schema, [tuple(row) for row in conn.execute(_CATALOG, {"ns": ns}).fetchall()])

    def tables_with_rows(self, conn) -> list[str]:
        if not self.tables:
            return []
        probes = " UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT FROM {_qualified(self.schema, t)})" for i, t in enumerate(self.tables)
        )
        return [self.tables[i] for (i,) in conn.execute(probes)]

    def sequence_states(self, conn) -> list[tuple[str, int, bool]]:
        return [
            (s, *conn.execute(f"SELECT last_value, is_called FROM {_qualified(self.schema, s)}").fetchone())
            for s in self.sequences
        ]


@pytest.fixture(scope="session")
def migrated_schemas() -> Iterator[MigratedSchemas]:
    schemas = MigratedSchemas()
    yield schemas
    schemas.close()


class StoreFactory:
    """Makes fresh stores of one kind: SQLite files, or PostgreSQL schemas of their own; empty, or
    (`migrated=True`) as just migrated. Whatever is not dropped explicitly is dropped when the test ends."""

    def __init__(self, kind: str, directory, migrated_schemas: MigratedSchemas | None = None) -> None:
        self.kind = kind
        self.directory = directory
        self.migrated_schemas = migrated_schemas
        self.schemas: list[str] = []
        self.reused: set[str] = set()  # schemas from migrated_schemas, given back instead of dropped
        self.count = 0

    def new(self, *, migrated: bool = False) -> str:
        """A new store. `migrated`: one on which every migration has run, as `migrate()` leaves it:
        on PostgreSQL a schema of `migrated_schemas`, which makes one in milliseconds instead of
        seconds (SQLite migrates a new file in milliseconds: a new, empty one is given)."""
        self.count += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / f'books-{self.count}.sqlite'}"
        if migrated and self.migrated_schemas is not None:
            schema = self.migrated_schemas.take()
            self.reused.add(schema)
        else:
            schema = _new_schema_name()
            _pg_admin(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return _pg_url(schema)

    def drop(self, url: str) -> None:
        """Drops a store made here (close every Ledger on it first)."""
        if self.kind == "sqlite":
            return  # tmp_path is cleaned by pytest
        schema = StoreConfig.from_url(url).pg_schema
        self._release(schema)
        self.schemas.remove(schema)

    def drop_all(self) -> None:
        for schema in list(self.schemas):
            self._release(schema)
        self.schemas.clear()

    def _release(self, schema: str) -> None:
        if schema in self.reused:
            self.reused.discard(schema)
            assert self.migrated_schemas is not None
            self.migrated_schemas.give_back(schema)
        else:
            _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store_factory(store_kind: str, tmp_path, migrated_schemas: MigratedSchemas) -> Iterator[StoreFactory]:
    if store_kind == "postgres":
        _require_postgres()
    factory = StoreFactory(store_kind, tmp_path, migrated_schemas)
    try:
        yield factory
    finally:
        factory.drop_all()


def migrates_the_store(fixture: Callable[..., Any]) -> Callable[..., Any]:
    """Under @pytest.fixture, for a fixture whose set-up migrates `store_url` before anything else
    touches it (opens a Ledger on it and migrates, or create_app): `store_url` then gives the tests
    that use it a store migrated already (StoreFactory.new). They see the same store, made in
    milliseconds instead of seconds on PostgreSQL; a test without such a fixture gets an empty one."""
    fixture.migrates_the_store = True  # type: ignore[attr-defined]
    return fixture


def _migrated_at_set_up(request: pytest.FixtureRequest) -> bool:
    info = getattr(request.node, "_fixtureinfo", None)
    if info is None:
        return False
    return any(getattr(defs[-1].func, "migrates_the_store", False) for defs in info.name2fixturedefs.values() if defs)


@pytest.fixture
def store_url(store_factory: StoreFactory, request: pytest.FixtureRequest) -> str:
    """A fresh store: a SQLite file, or a PostgreSQL schema of its own. Empty, unless a fixture of the
    test migrates it at set-up anyway (@migrates_the_store, as `ledger`): then migrated already."""
    return store_factory.new(migrated=_migrated_at_set_up(request))


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
@migrates_the_store
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    return make_ledger()


@pytest.fixture
def runner(ledger: Ledger) -> Iterator[ProjectionRunner]:
    r = ProjectionRunner(ledger)
    yield r
    r.stop()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that runs against a store, so `-m "not storage"` runs the pure ones.

    Under pytest-xdist (`make test` runs the suite on several workers, --dist loadgroup), the tests
    of a module that share a fixture of this project scoped to the module (a demo store, a browser,
    a primary and standby) are kept on one worker: split, each worker would build that fixture again.
    A test already in an xdist_group keeps its group."""
    for item in items:
        if "store_kind" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.storage)
        if not any(item.iter_markers("xdist_group")) and _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        d.scope in ("class", "module", "package") and getattr(d.func, "__module__", "").startswith("tests.")
        for defs in info.name2fixturedefs.values()
        for d in defs
    )


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
