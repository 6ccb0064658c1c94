"""HTTP load with `wrk`, and the floor it is compared against (bench/api.py drives both).

`wrk` (Debian package `wrk`, installed by `make tools`) is a C load generator: on a 2-core machine
it leaves the CPUs to the server far more than a Python client would. Each scenario runs right
after the same load against bench/trivial_app.py (FastAPI, one `def` route returning a 4-field
dict) served by the same uvicorn settings: the ratio of the two, measured minutes apart on the same
machine, says what the ledger costs above FastAPI itself, whatever else the machine is doing.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.machine import REPO

SCRIPTS = Path(__file__).resolve().parent / "wrk"
WRK_THREADS = 2  # one per core of the machine measured; more only adds switching


def free_port() -> int:
    """A port nothing listens on now (the machine may run other servers, other benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make tools` installs it (Debian package wrk)")
    return found


def uvicorn_command(target: str, port: int, workers: int, *, factory: bool = False) -> list[str]:
    """The uvicorn settings of `coopledger serve` (cli/service.py): default loop and HTTP parser (uvloop and
    httptools when installed), no access log of uvicorn's own; used for the trivial app too."""
    cmd = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--workers", str(workers), "--no-access-log"]
    return cmd + (["--factory"] if factory else [])


def start(cmd: list[str], env: dict[str, str], ready: Any, timeout_s: float = 60) -> subprocess.Popen[bytes]:
    """Starts a server and waits until `ready()` is true (it may raise OSError while the server starts)."""
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if ready():
                return server
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{' '.join(cmd)} did not answer within {timeout_s:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_trivial(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return start(uvicorn_command("bench.trivial_app:app", port, workers), env, lambda: get_json(port, "/trivial") is not None)


def get_json(port: int, path: str, token: str | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)
    finally:
        conn.close()


def wrk(
    port: int,
    path: str,
    *,
    connections: int,
    seconds: float,
    token: str | None = None,
    script: str = "get.lua",
    args: tuple[str, ...] = (),
) -> dict[str, float]:
    """One wrk run: requests, req/s, p50 and p99 in ms; with a script that counts them, 2xx answers
    (`acked`, and req/s counts only those) and 503 write_contention answers (`contended`). Any other
    non-2xx answer or socket error stops the benchmark with what the server answered."""
    cmd = [require_wrk(), f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s"]
    cmd += ["-s", str(SCRIPTS / script)]
    if token and script == "get.lua":
        cmd += ["-H", f"Authorization: Bearer {token}"]
    cmd += [f"http://127.0.0.1:{port}{path}", "--", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "WRK_SCRIPTS": str(SCRIPTS)}, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1500:]} {done.stderr[-1500:]}")
    found = json.loads(lines[-1].removeprefix("WRK_JSON "))
    if found["non2xx"] - found["contended"] or found["socket_errors"]:
        sample = ""
        if script == "get.lua":  # one more request, to show what the server answered
            try:
                get_json(port, path, token)
            except RuntimeError as exc:
                sample = str(exc)
        raise RuntimeError(
            f"{path}: {found['non2xx']} non-2xx answers, {found['socket_errors']} socket errors {sample}{done.stderr[-1500:]}"
        )
    duration_s = found["duration_us"] / 1e6
    return {
        "requests": found["requests"],
        "acked": found["acked"],
        "contended": found["contended"],
        "rate": (found["acked"] if script != "get.lua" else found["requests"]) / duration_s,
        "p50_ms": found["p50_us"] / 1000,
        "p99_ms": found["p99_us"] / 1000,
    }
