"""Store selection: COOPLEDGER_DATABASE_URL picks SQLite (embedded default) or PostgreSQL.

sqlite:///relative/path.sqlite, sqlite:////absolute/path.sqlite
postgresql://user:password@host:port/dbname?schema=name
postgresql://user@host1:port1,host2:port2/dbname?schema=name&target_session_attrs=read-write
    (libpq's multi-host form: the service connects to whichever host accepts writes, so after a
    failover it finds the promoted standby without a restart; docs/scaling.md)

COOPLEDGER_READ_DATABASE_URL (optional) names one or several hot standbys, separated by spaces or
commas between URLs, that serve the read routes (ledger/replicas.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
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
    # More (host, port) pairs after pg_host:pg_port, tried in order by libpq (failover).
    pg_more_hosts: tuple[tuple[str, int], ...] = ()
    # libpq's target_session_attrs ("read-write" to skip standbys); "" leaves libpq's default.
    pg_target_session_attrs: str = ""

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
            userinfo, _, hostlist = parsed.netloc.rpartition("@")
            user, _, password = userinfo.partition(":")
            (host, port), *more = _hosts(hostlist)
            attrs = query.get("target_session_attrs", [""])[0]
            if attrs not in TARGET_SESSION_ATTRS:
                raise ValueError(
                    f"COOPLEDGER_DATABASE_URL: target_session_attrs must be one of {sorted(TARGET_SESSION_ATTRS)}, not {attrs!r}"
                )
            return cls(
                kind="postgres",
                pg_host=host,
                pg_port=port,
                pg_user=unquote(user or "postgres"),
                pg_password=unquote(password),
                pg_dbname=dbname,
                pg_schema=query.get("schema", ["public"])[0],
                pg_more_hosts=tuple(more),
                pg_target_session_attrs=attrs,
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
                POSTGRES_HOST=self.pg_hosts(),
                POSTGRES_PORT=self.pg_ports(),
                POSTGRES_USER=self.pg_user,
                POSTGRES_PASSWORD=self.pg_password,
                POSTGRES_SCHEMA=self.pg_schema,
                POSTGRES_LOCK_TIMEOUT=str(LOCK_TIMEOUT_S),
                POSTGRES_POOL_SIZE="5",
                # Bounded waits (for a pooled connection; eventsourcing retries 10 times) and checked
                # connections when PostgreSQL goes away (see ledger/db.py).
                # 3 s for a new connection: opening the recorder's first one waits this long, and on
                # a machine whose CPUs are saturated 1 s was sometimes too short (a Ledger refused to
                # start); later waits for a pooled connection are 0.5 s (bound_event_store_waits).
                POSTGRES_CONNECT_TIMEOUT="3",
                POSTGRES_PRE_PING="y",
                POSTGRES_MAX_OVERFLOW="10",
                # Keep the default insert path: the database functions lose events for
                # subscribers under concurrent writes (see the project brief).
                POSTGRES_ENABLE_DB_FUNCTIONS="n",
            )
        if self.kind == "postgres" and self.pg_target_session_attrs:
            # eventsourcing has no option for it: a factory of ours adds it to its pool (ledger/failover.py).
            env.update(
                PERSISTENCE_MODULE="ledger.failover:FailoverPostgresFactory",
                POSTGRES_TARGET_SESSION_ATTRS=self.pg_target_session_attrs,
            )
        return env

    def exists(self) -> bool:
        """Whether the store was created already (a reading command must not create one)."""
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            return self.sqlite_path.is_file()
        import psycopg

        with psycopg.connect(
            host=self.pg_hosts(),
            port=self.pg_ports(),
            user=self.pg_user,
            password=self.pg_password,
            dbname=self.pg_dbname,
            connect_timeout=5,
        ) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f'"{self.pg_schema}".schema_migrations',)).fetchone()
        return row is not None and row[0] is not None

    def pg_hosts(self) -> str:
        """libpq's host list: "h1,h2" (one host without failover)."""
        return ",".join([self.pg_host, *(h for h, _ in self.pg_more_hosts)])

    def pg_ports(self) -> str:
        return ",".join(str(p) for p in [self.pg_port, *(p for _, p in self.pg_more_hosts)])

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        hosts = ",".join(f"{h}:{p}" for h, p in [(self.pg_host, self.pg_port), *self.pg_more_hosts])
        attrs = f"&target_session_attrs={self.pg_target_session_attrs}" if self.pg_target_session_attrs else ""
        return f"postgresql://{self.pg_user}@{hosts}/{self.pg_dbname}?schema={self.pg_schema}{attrs}"


TARGET_SESSION_ATTRS = frozenset({"", "any", "read-write", "read-only", "primary", "standby", "prefer-standby"})


def _hosts(hostlist: str) -> list[tuple[str, int]]:
    """ "h1:p1,h2" -> [(h1, p1), (h2, 5432)]; IPv6 hosts in brackets, as in libpq URLs."""
    found: list[tuple[str, int]] = []
    for item in (hostlist or "127.0.0.1").split(","):
        host, port = item, "5432"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "5432"
        elif ":" in item:
            host, port = item.rsplit(":", 1)
        if not port.isdigit():
            raise ValueError(f"COOPLEDGER_DATABASE_URL: port of host {item!r} must be a number")
        found.append((unquote(host) or "127.0.0.1", int(port)))
    return found


def read_configs(primary: StoreConfig, urls: str | None = None) -> list[StoreConfig]:
    """The standbys of COOPLEDGER_READ_DATABASE_URL (or `urls`): PostgreSQL only, each on the
    primary's schema unless its URL names one. Empty when unset."""
    urls = urls if urls is not None else os.environ.get("COOPLEDGER_READ_DATABASE_URL", "")
    found = []
    for url in urls.replace(",postgres", " postgres").split():
        if primary.kind != "postgres":
            raise ValueError("COOPLEDGER_READ_DATABASE_URL: read standbys need a PostgreSQL primary")
        config = StoreConfig.from_url(url)
        if config.kind != "postgres" or config.pg_more_hosts:
            raise ValueError(f"COOPLEDGER_READ_DATABASE_URL: each standby is one postgresql:// URL with one host, not {url!r}")
        if "schema=" not in url:
            config = replace(config, pg_schema=primary.pg_schema)
        found.append(config)
    return found
