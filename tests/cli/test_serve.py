"""`coopledger serve` as an operator starts it: it says where it listens and which store it serves,
logs one line per request by default, and its log holds no deprecation warning nor traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import LIVE_HTTP_TIMEOUT_S
from tests.observatory.test_browser import _free_port

REPO = Path(__file__).resolve().parents[2]


def test_serve_says_where_it_listens_and_logs_requests_without_warnings(tmp_path: Path) -> None:
    port, store = _free_port(), tmp_path / "books.sqlite"
    env = {
        **os.environ,
        "COOPLEDGER_DATABASE_URL": f"sqlite:///{store}",
        "PYTHONWARNINGS": "default",
        "COOPLEDGER_LOG_FORMAT": "json",
        "PYTHONPATH": str(REPO),
    }
    env.pop("COOPLEDGER_LOG_LEVEL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):  # bounded: 20 s
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"{base}/openapi.json", timeout=LIVE_HTTP_TIMEOUT_S).status_code == 200
        assert httpx.get(f"{base}/v1/coops/nowhere/trial-balance", timeout=LIVE_HTTP_TIMEOUT_S).status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert f"coopledger serves sqlite:///{store} (new: created on start) on http://127.0.0.1:{port}" in out, out
    assert '"event": "request"' in err and '"route": "/health"' in err, err[-2000:]
    assert "Deprecat" not in err and "Traceback" not in err, err[-3000:]
