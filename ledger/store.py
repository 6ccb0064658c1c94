"""Store selection: COOPLEDGER_DATABASE_URL picks SQLite (embedded default) or PostgreSQL.

sqlite:///relative/path.sqlite, sqlite:////absolute/path.sqlite
postgresql://user:password@host:port/dbname?schema=name
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_SQLITE_PATH = Path("var/coopledger.sqlite")
# Writers wait this long for the table lock before failing, instead of hanging forever.
LOCK_TIMEOUT_S = 5


@dataclass(frozen=True)
class StoreConfig:
    kind: str  # "sqlite" | "postgres"
    sqlite_path: Path | None = None
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    pg_dbname: str = ""
    pg_schema: str = "public"

    @classmethod
    def from_url(cls, url: str | None = None) -> StoreConfig:
        url = url if url is not None else os.environ.get("COOPLEDGER_DATABASE_URL", "")
        if not url:
            return cls(kind="sqlite", sqlite_path=DEFAULT_SQLITE_PATH)
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            path = unquote(parsed.path)
            if path.startswith("/"):
                path = path[1:]  # sqlite:///rel -> "rel"; sqlite:////abs -> "/abs"
            if not path:
                raise ValueError("COOPLEDGER_DATABASE_URL: sqlite URL needs a file path, e.g. sqlite:///var/books.sqlite")
            return cls(kind="sqlite", sqlite_path=Path(path))
        if parsed.scheme in ("postgres", "postgresql"):
            query = parse_qs(parsed.query)
            dbname = parsed.path.lstrip("/")
            if not dbname:
                raise ValueError("COOPLEDGER_DATABASE_URL: postgresql URL needs a database name")
            return cls(
                kind="postgres",
                pg_host=parsed.hostname or "127.0.0.1",
                pg_port=parsed.port or 5432,
                pg_user=unquote(parsed.username or "postgres"),
                pg_password=unquote(parsed.password or ""),
                pg_dbname=dbname,
                pg_schema=query.get("schema", ["public"])[0],
            )
        raise ValueError(f"COOPLEDGER_DATABASE_URL: unsupported scheme {parsed.scheme!r} (use sqlite:// or postgresql://)")

    def eventsourcing_env(self) -> dict[str, str]:
        env = {
            # Commands mutate the cached aggregate under a per-cooperative lock and evict it on
            # any failure, so the per-get deep copy (costly for a large cooperative) is off.
            "AGGREGATE_CACHE_MAXSIZE": "64",
            "AGGREGATE_CACHE_FASTFORWARD": "y",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
            "CREATE_TABLE": "y",
        }
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                # The recorder that also writes each event's link of the event chain (ledger/chain.py).
                APPLICATION_RECORDER_TOPIC="ledger.chain:ChainedSQLiteRecorder",
                SQLITE_DBNAME=str(self.sqlite_path),
                SQLITE_LOCK_TIMEOUT=str(LOCK_TIMEOUT_S),
            )
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                APPLICATION_RECORDER_TOPIC="ledger.chain:ChainedPostgresRecorder",
                POSTGRES_DBNAME=self.pg_dbname,
                POSTGRES_HOST=self.pg_host,
                POSTGRES_PORT=str(self.pg_port),
                POSTGRES_USER=self.pg_user,
                POSTGRES_PASSWORD=self.pg_password,
                POSTGRES_SCHEMA=self.pg_schema,
                POSTGRES_LOCK_TIMEOUT=str(LOCK_TIMEOUT_S),
                POSTGRES_POOL_SIZE="5",
                # Bounded waits (for a pooled connection; eventsourcing retries 10 times) and checked
                # connections when PostgreSQL goes away (see ledger/db.py).
                POSTGRES_CONNECT_TIMEOUT="1",
                POSTGRES_PRE_PING="y",
                POSTGRES_MAX_OVERFLOW="10",
                # Keep the default insert path: the database functions lose events for
                # subscribers under concurrent writes (see the project brief).
                POSTGRES_ENABLE_DB_FUNCTIONS="n",
            )
        return env

    def exists(self) -> bool:
        """Whether the store was created already (a reading command must not create one)."""
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            return self.sqlite_path.is_file()
        import psycopg

        with psycopg.connect(host=self.pg_host, port=self.pg_port, user=self.pg_user, password=self.pg_password,
                             dbname=self.pg_dbname, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f'"{self.pg_schema}".schema_migrations',)).fetchone()
        return row is not None and row[0] is not None

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.pg_dbname}?schema={self.pg_schema}"
