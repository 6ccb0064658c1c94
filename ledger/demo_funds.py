"""Demo commands for issue 3's funds families. `add(command, **fields)` appends one command
with a fixed idempotency key (see ledger/demo.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def commands(add: Callable[..., None], *, cluster: str, scic: str) -> None:
    """Being written."""
