"""Backups of a store, and restoring one into an empty store.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot, page by
page, while the service keeps writing. PostgreSQL: `pg_dump --format=custom` of the store's schema
(one consistent snapshot, taken while the service runs), restored with `pg_restore` and `psql` in
one transaction: a failed restore leaves the target as it was.

Either way the backup holds everything: events, command receipts, API keys (hashed), migrations
and the projections' tables. A restore goes into an EMPTY store only (never over books), after
which the caller rebuilds every projection from the events (cli/backup.py does), so the views
are proved to come from the restored log.

A PostgreSQL dump names the schema it came from; a restore into a schema of another name
rewrites that name in the dump's statements (never inside the rows of COPY data).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from domain.errors import Conflict, InvalidCommand
from ledger.store import StoreConfig

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SQLITE_PAGES_PER_STEP = 4096  # the backup API copies this many pages, then lets writers in
PG_TOOL_TIMEOUT_S = 3600  # a dump or restore of a large store; never an unbounded wait
SQLITE_EVENTS_TABLE = "stored_events"  # eventsourcing's table on SQLite


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str  # "sqlite" | "postgres"
    size_bytes: int


def backup(config: StoreConfig, out: Path) -> BackupInfo:
    """Writes a consistent backup of the store to `out` (refused if `out` exists)."""
    if out.exists():
        raise Conflict("out", "new_file", f"{out} already exists: a backup never overwrites a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # renamed only once complete
    partial.unlink(missing_ok=True)
    try:
        if config.kind == "sqlite":
            _sqlite_backup(config, partial)
        else:
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--schema={_quote_ident(config.pg_schema)}",
                    f"--file={partial}",
                ],
                config,
            )
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(out, config.kind, out.stat().st_size)


def restore(config: StoreConfig, backup_file: Path) -> str:
    """Restores a backup into the (empty) store of `config`. Returns the backup's kind."""
    kind = backup_kind(backup_file)
    if kind != config.kind:
        raise InvalidCommand(
            "file",
            "same_kind",
            f"{backup_file} is a {kind} backup; the store is {config.kind} (restore it into a store of the same kind)",
        )
    if kind == "sqlite":
        _sqlite_restore(config, backup_file)
    else:
        _pg_restore(config, backup_file)
    return kind


def backup_kind(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgres"
    raise InvalidCommand("file", "backup_file", f"{path} is neither a SQLite backup nor a pg_dump custom-format file")


# ---------------------------------------------------------------- SQLite


def _sqlite_backup(config: StoreConfig, out: Path) -> None:
    assert config.sqlite_path is not None
    if not config.sqlite_path.exists():
        raise InvalidCommand("store", "exists", f"there is no store at {config.sqlite_path}")
    source = sqlite3.connect(config.sqlite_path)
    target = sqlite3.connect(out)
    try:
        source.backup(target, pages=SQLITE_PAGES_PER_STEP)
        # The copy inherits the store's WAL mode, and a WAL file opened later grows -shm and -wal
        # files beside it: a backup is one self-contained file.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


def _sqlite_restore(config: StoreConfig, backup_file: Path) -> None:
    assert config.sqlite_path is not None
    # immutable: nothing writes a backup, so SQLite creates no -shm/-wal beside it (older WAL-mode backups too).
    source = sqlite3.connect(f"file:{backup_file}?mode=ro&immutable=1", uri=True)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise InvalidCommand("file", "intact_backup", f"{backup_file} fails SQLite's integrity check")
        if SQLITE_EVENTS_TABLE not in _sqlite_tables(source):
            raise InvalidCommand("file", "backup_file", f"{backup_file} holds no coopledger events")
        config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(config.sqlite_path)
        try:
            if _sqlite_tables(target):
                raise Conflict("store", "empty_store", f"{config.sqlite_path} is not empty: restore into a new store")
            source.backup(target, pages=SQLITE_PAGES_PER_STEP)
        finally:
            target.close()
    finally:
        source.close()


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# ---------------------------------------------------------------- PostgreSQL


def _pg_restore(config: StoreConfig, backup_file: Path) -> None:
    literal = "'" + config.pg_schema.replace("'", "''") + "'"
    count_sql = f"SELECT count(*) FROM pg_tables WHERE schemaname = {literal}"  # noqa: S608 (quoted literal)
    tables = _run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", count_sql], config).strip()
    if tables != "0":
        raise Conflict(
            "store", "empty_store", f"schema {config.pg_schema} is not empty ({tables} tables): restore into an empty schema"
        )
    sql = _run(["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(backup_file)], config)
    sql = rename_schema(sql, config.pg_schema)
    # One transaction: on any error nothing of the backup stays in the target.
    _run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-"], config, stdin=sql)


CREATE_SCHEMA = re.compile(r"^CREATE SCHEMA (\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*);$", re.MULTILINE)


def rename_schema(sql: str, target: str) -> str:
    """The dump's statements with its schema renamed to `target`, and created only if missing
    (an empty schema made beforehand is a valid target). COPY data rows are left untouched."""
    found = CREATE_SCHEMA.findall(sql)
    if len(found) != 1:
        raise InvalidCommand("file", "one_schema", f"the dump should create exactly one schema, it creates {len(found)}")
    source, target_ident = found[0], _quote_ident(target)
    name = re.compile(r"(?<![\w$\"])" + re.escape(source) + r"(?=[.;])")
    lines, in_copy = [], False
    for line in sql.split("\n"):
        if in_copy:
            in_copy = line != "\\."
        elif line.startswith("COPY ") and line.endswith("FROM stdin;"):
            line, in_copy = name.sub(target_ident, line), True
        elif line == f"CREATE SCHEMA {source};":
            line = f"CREATE SCHEMA IF NOT EXISTS {target_ident};"
        elif not line.startswith("--"):
            line = name.sub(target_ident, line)
        lines.append(line)
    return "\n".join(lines)


def _quote_ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _run(argv: list[str], config: StoreConfig, stdin: str | None = None) -> str:
    """Runs a PostgreSQL client tool on the store's server; its error becomes a clear message."""
    env = {
        **os.environ,
        "PGHOST": config.pg_host,
        "PGPORT": str(config.pg_port),
        "PGUSER": config.pg_user,
        "PGDATABASE": config.pg_dbname,
    }
    if config.pg_password:
        env["PGPASSWORD"] = config.pg_password  # not on the command line, where `ps` would show it
    try:
        done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise InvalidCommand(
            "store",
            "pg_tools",
            f"{argv[0]} is not installed (PostgreSQL client tools, same major version as the server or newer)",
        ) from None
    if done.returncode != 0:
        raise InvalidCommand("store", "pg_tool_succeeds", f"{argv[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout
