"""Per-key request rate limits: one tool cannot take the whole server.

Counted per API key with the `limits` library (a moving window in this process's memory): each
server process counts its own requests, so with `--workers N` a key may send N times the limit in
all. Writes (commands; a batch counts once) are limited by default; reads are not, unless set.
Settings, in the `limits` notation (`100/second`, `6000/minute`) or `off`:

    COOPLEDGER_WRITE_RATE_LIMIT           default for every role's commands (default 100/second)
    COOPLEDGER_WRITE_RATE_LIMIT_<ROLE>    one role's (e.g. COOPLEDGER_WRITE_RATE_LIMIT_CLERK=20/second)
    COOPLEDGER_READ_RATE_LIMIT            reads, every role (default off)
    COOPLEDGER_READ_RATE_LIMIT_<ROLE>     one role's reads

Over the limit: 429 problem+json, rule `rate_limited`, with Retry-After in seconds.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse, storage, strategies

from api.errors import ApiError
from api.keys import Principal

DEFAULTS = {"write": "100/second", "read": "off"}


def _setting(kind: str, role: str) -> RateLimitItem | None:
    base = f"COOPLEDGER_{kind.upper()}_RATE_LIMIT"
    raw = os.environ.get(f"{base}_{role.upper()}") or os.environ.get(base) or DEFAULTS[kind]
    if raw.strip().lower() == "off":
        return None
    try:
        return parse(raw)
    except ValueError:
        raise ValueError(f"{base}: {raw!r} is not a rate such as 100/second or 6000/minute, or off") from None


@dataclass
class RateLimits:
    """The limits of one server process, read from the environment when first used per role."""

    _storage: storage.MemoryStorage = field(default_factory=storage.MemoryStorage)
    _items: dict[tuple[str, str], RateLimitItem | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._window = strategies.MovingWindowRateLimiter(self._storage)

    def item(self, kind: str, role: str) -> RateLimitItem | None:
        if (kind, role) not in self._items:
            self._items[(kind, role)] = _setting(kind, role)
        return self._items[(kind, role)]

    def check(self, who: Principal, kind: str) -> None:
        """Counts one request of `kind` ("write" or "read") for the key; 429 when over its limit."""
        limit = self.item(kind, who.role)
        if limit is None or self._window.hit(limit, kind, who.key_id):
            return
        reset_at, _remaining = self._window.get_window_stats(limit, kind, who.key_id)
        wait_s = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            429,
            "Too many requests",
            f"this key may send {limit} {kind}s; retry in {wait_s} s",
            rule="rate_limited",
            headers={"Retry-After": str(wait_s)},
        )
