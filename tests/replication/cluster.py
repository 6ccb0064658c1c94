"""A PostgreSQL primary and its hot standby of our own, for the replication tests and bench.

The primary is made by `initdb` into a temporary directory and runs on a free port of its own;
the standby is a `pg_basebackup -R` of it, on another port. Both run as the `postgres` user when
run by root (PostgreSQL refuses root), else as the caller, each its own postmaster; `close()` stops both and removes the
directory. The shared server on 5432 is never touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

STANDBY_NAME = "coopledger_standby"
RUN_AS = "postgres" if os.geteuid() == 0 else None  # None: as the caller
START_WAIT_S = 30
SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
port = {port}
shared_buffers = 16MB
max_connections = 50
wal_level = replica
max_wal_senders = 4
wal_keep_size = 64MB
hot_standby = on
hot_standby_feedback = on
synchronous_commit = {synchronous_commit}
logging_collector = off
"""


class ClusterError(RuntimeError):
    """The primary or the standby could not be made or started."""


def pg_bin_dir() -> Path:
    """Debian's binaries of the newest PostgreSQL installed, or those on PATH (pg_config --bindir)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise ClusterError("initdb not found: install PostgreSQL's server binaries")
    return Path(initdb).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data: Path
    port: int
    log: Path

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=3"

    def url(self, schema: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?schema={schema}"

    def postmaster_pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []


@dataclass
class Cluster:
    root: Path
    bin_dir: Path = field(default_factory=pg_bin_dir)
    primary: Server | None = None
    standby: Server | None = None

    @classmethod
    def start(cls, *, synchronous: bool, synchronous_commit: str = "on") -> Cluster:
        """A running primary and its standby, streaming; synchronous ones when `synchronous`."""
        root = Path(tempfile.mkdtemp(prefix="coopledger-pg-"))
        if RUN_AS is not None:
            shutil.chown(root, RUN_AS, RUN_AS)
        cluster = cls(root)
        try:
            cluster.primary = cluster._init_primary(synchronous_commit)
            cluster.standby = cluster._base_backup()
            cluster.set_synchronous(synchronous)
            cluster.wait_streaming(sync=synchronous)
        except BaseException:
            cluster.close()
            raise
        return cluster

    def set_synchronous(self, synchronous: bool) -> None:
        """Commits wait for the standby (synchronous_standby_names names it), or not. Set only once
        the standby exists: before that, every commit on the primary would wait for it."""
        assert self.primary is not None
        self.primary.sql(f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME if synchronous else ''}'")
        self.primary.sql("SELECT pg_reload_conf()")

    def _run(self, *args: str, timeout_s: float = START_WAIT_S) -> None:
        done = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            user=RUN_AS,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def _pg_ctl_start(self, server: Server) -> None:
        try:
            self._run("pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", "-t", str(START_WAIT_S), "start")
        except ClusterError as exc:
            tail = server.log.read_text()[-2000:] if server.log.exists() else ""
            raise ClusterError(f"{exc}\n{tail}") from None

    def _init_primary(self, synchronous_commit: str) -> Server:
        server = Server(self.root / "primary", free_port(), self.root / "primary.log")
        self._run("initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        with open(server.data / "postgresql.conf", "a") as conf:
            conf.write(SETTINGS.format(sockets=self.root, port=server.port, synchronous_commit=synchronous_commit))
        self._pg_ctl_start(server)
        return server

    def _base_backup(self) -> Server:
        assert self.primary is not None
        server = Server(self.root / "standby", free_port(), self.root / "standby.log")
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(server.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        with open(server.data / "postgresql.auto.conf", "a") as conf:
            # The walreceiver's application_name is the cluster_name: what synchronous_standby_names names.
            conf.write(f"port = {server.port}\ncluster_name = '{STANDBY_NAME}'\n")
        self._pg_ctl_start(server)
        return server

    def wait_streaming(self, *, sync: bool, timeout_s: float = START_WAIT_S) -> None:
        assert self.primary is not None
        wanted = "sync" if sync else "async"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = self.primary.sql(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s AND state = 'streaming'", (STANDBY_NAME,)
            )
            if rows and rows[0][0] == wanted:
                return
            time.sleep(0.05)
        raise ClusterError(f"the standby is not streaming ({wanted}) after {timeout_s} s")

    def wait_replayed(self, timeout_s: float = 10.0) -> None:
        """Until the standby has replayed everything the primary wrote so far."""
        assert self.primary is not None and self.standby is not None
        ((lsn,),) = self.primary.sql("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ((done,),) = self.standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
            if done:
                return
            time.sleep(0.01)
        raise ClusterError(f"the standby has not replayed {lsn} after {timeout_s} s")

    def kill_primary(self, *, every_process: bool = False) -> None:
        """SIGKILL of the primary's postmaster: no shutdown checkpoint, no goodbye to the standby. Its
        backends and WAL sender live on until they notice (a commit may still be acknowledged, WAL
        still sent); with every_process they die at once too, as when the machine is lost."""
        assert self.primary is not None
        pid = self.primary.postmaster_pid()
        assert pid is not None, "the primary is not running"
        os.kill(pid, signal.SIGKILL)
        if every_process:
            kill_processes_in(self.primary.data)

    def promote(self) -> None:
        assert self.standby is not None
        self._run("pg_ctl", "-D", str(self.standby.data), "-w", "-t", str(START_WAIT_S), "promote")

    def stop_standby(self) -> None:
        assert self.standby is not None
        self._run("pg_ctl", "-D", str(self.standby.data), "-m", "fast", "-w", "stop")

    def start_standby(self) -> None:
        assert self.standby is not None
        self._pg_ctl_start(self.standby)

    def close(self) -> None:
        """Stops whatever still runs (immediate: nothing here is worth a checkpoint), removes all."""
        try:
            for server in (self.standby, self.primary):
                if server is not None and server.postmaster_pid() is not None:
                    _stop_immediately(self.bin_dir, server)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _stop_immediately(bin_dir: Path, server: Server) -> None:
    done = subprocess.run(
        [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"],
        user=RUN_AS,
        capture_output=True,
        text=True,
        timeout=START_WAIT_S,
        check=False,
    )
    if done.returncode != 0:  # a killed postmaster leaves its pid file, and maybe backends not yet gone
        kill_processes_in(server.data)


def kill_processes_in(data: Path) -> None:
    """SIGKILL to every process working in this data directory (a backend's working directory is
    its cluster's): only the servers made here, never another PostgreSQL of the machine."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) == data:
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile, or not ours to read
