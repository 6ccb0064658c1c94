"""An application embedded without `coopledger serve` (which configures logging) must not print
local variables in tracebacks: a frame's locals may hold an API key."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import structlog
{setup}
log = structlog.get_logger()
def authenticate(token="clk_0123456789ab_SECRET-IN-A-LOCAL"):
    raise ValueError("no such key")
try:
    authenticate()
except ValueError:
    log.exception("unhandled")
"""


def _stderr_and_stdout(setup: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(setup=setup)], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout + done.stderr


def test_structlog_defaults_would_print_the_key_and_create_app_stops_it(tmp_path):
    # The hazard is real with structlog's defaults (rich tracebacks show locals)...
    assert "SECRET-IN-A-LOCAL" in _stderr_and_stdout("")
    # ...and creating the app (here on a throwaway SQLite store) renders tracebacks without them.
    url = f"sqlite:///{tmp_path}/books.sqlite"
    setup = f"from api.app import create_app\nfrom ledger.store import StoreConfig\ncreate_app(StoreConfig.from_url({url!r}))"
    out = _stderr_and_stdout(setup)
    assert "ValueError: no such key" in out and "SECRET-IN-A-LOCAL" not in out
