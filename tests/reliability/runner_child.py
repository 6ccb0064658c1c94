"""A projection runner run as its own process, made to stop inside a batch so that the test
can SIGKILL it there: on its STALL_AT-th batch, the last projection (after every other one has
written that batch's rows, uncommitted) writes MARKER and sleeps (at most 60 s).

    python -m tests.reliability.runner_child DATABASE_URL BATCH_SIZE STALL_AT MARKER
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner


def main() -> None:
    url, batch_size, stall_at, marker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    ledger = Ledger(StoreConfig.from_url(url))
    runner = ProjectionRunner(ledger, batch_size=batch_size)
    last = runner.projections[-1]
    real_process = last.process
    calls = [0]

    def process(tx: Any, batch: Any) -> None:
        real_process(tx, batch)
        calls[0] += 1
        if calls[0] == stall_at:
            marker.write_text(str(max(position for position, _event in batch)))
            time.sleep(60)  # killed here, mid-transaction

    last.process = process  # type: ignore[method-assign]
    runner.catch_up()


if __name__ == "__main__":
    main()
