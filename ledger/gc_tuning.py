"""The garbage collector of a long-running or busy process (a server, `coopledger record`), tuned once
its program is loaded.

Python's cyclic collector runs a young pass every 700 net allocations and, every so often, a full
pass over every object the process holds: the modules, the routes and their models, the cooperatives'
states cached by the write path. A request allocates thousands of objects, so a server spent a large
share of its CPU in passes that found little, and a full pass stalls every request at once.

`tune()` moves every object alive once the app is built out of the collector's reach (`gc.freeze`:
they live as long as the process) and makes a young pass wait for 50,000 allocations. Measured with
`python -m bench.api --quick`, twice each way, side by side on 2026-12-07: server CPU per single
command 3.0-5.2 ms -> 1.8-1.9 ms, per batch of 1,000 commands 274-490 ms -> 210-240 ms, per governance
read 2.0-2.5 ms -> 1.7 ms; the balance read unchanged (0.4 ms). The write path alone
(`Ledger.execute_batch`, 30,000 AcceptReadings, SQLite, twice each way): 123-131 -> 104-108 µs of CPU
per command. Cycles are still collected, later.

Called by the entry points (api/asgi.py, cli/runner.py, cli/main.py), never by the library on its own:
the collector is the process's, and a program embedding the ledger decides for itself.
"""

from __future__ import annotations

import gc

YOUNG_PASS_ALLOCATIONS = 50_000
OLDER_PASSES_EVERY = 20  # young passes per middle pass, and middle passes per full pass


def tune() -> None:
    """For a process's entry point, once its program is loaded (see the module's docstring)."""
    # No gc.collect() first: after the program's imports it found nothing to free (0 objects) and
    # cost 73 ms at the start of every `coopledger` command.
    gc.freeze()
    gc.set_threshold(YOUNG_PASS_ALLOCATIONS, OLDER_PASSES_EVERY, OLDER_PASSES_EVERY)
