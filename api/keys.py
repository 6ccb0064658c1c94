"""API keys: created once (the token is shown once), stored hashed, listed, revoked.

A token reads `clk_<key_id>_<secret>`. Only SHA-256(secret) is stored: the secret is 256 random
bits, so a fast hash is enough (no password to stretch). The key_id is not secret: it names the
key in logs and in the audit trail, where the token itself must never appear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.roles import ROLES
from domain.errors import InvalidCommand, NotFound
from domain.rules import identifier
from ledger.db import Database

# A key found valid is trusted for this long without asking the store again: a revoked key
# (`coopledger keys revoke`, from any process) stops working at most this many seconds later.
KEY_CACHE_TTL_S = 2.0
KEY_CACHE_MAX = 1024  # distinct valid keys remembered per process; the cache is emptied when full

TOKEN = re.compile(r"^clk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
MAX_COOPS_PER_KEY = 100


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (safe to log), its role and the cooperatives it may reach."""

    key_id: str
    role: str
    coops: frozenset[str]

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(db: Database, *, role: str, coops: list[str], label: str = "") -> tuple[str, str]:
    """Returns (key_id, token). The token is not stored and cannot be shown again."""
    if role not in ROLES:
        raise InvalidCommand("role", "known_role", f"{role!r} is not one of {', '.join(ROLES)}")
    if not coops or len(coops) > MAX_COOPS_PER_KEY:
        raise InvalidCommand("coops", "required", f"a key is bound to 1 to {MAX_COOPS_PER_KEY} cooperatives")
    bound = sorted({identifier(c, "coops") for c in coops})
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO api_keys (key_id, secret_sha256, role, coops_json, label, created_at, revoked_at)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (key_id, _digest(secret), role, json.dumps(bound), label[:200], datetime.now(UTC).isoformat()),
        )
    return key_id, f"clk_{key_id}_{secret}"


def list_keys(db: Database) -> list[dict[str, Any]]:
    with db.read() as tx:
        rows = tx.execute(
            "SELECT key_id, role, coops_json, label, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
        )
    return [
        {"key_id": k, "role": r, "coops": json.loads(c), "label": label, "created_at": created, "revoked_at": revoked}
        for k, r, c, label, created, revoked in rows
    ]


def revoke_key(db: Database, key_id: str) -> None:
    with db.transaction() as tx:
        found = tx.execute("SELECT revoked_at FROM api_keys WHERE key_id = ?", (key_id,))
        if not found:
            raise NotFound("key_id", "known_key", f"no key {key_id!r}")
        if found[0][0] is None:
            tx.execute_one("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (datetime.now(UTC).isoformat(), key_id))


def authenticate(db: Database, token: str) -> Principal | None:
    """The key's principal, or None for a malformed, unknown or revoked token."""
    match = TOKEN.match(token)
    if match is None:
        return None
    key_id, secret = match.groups()
    with db.read() as tx:
        rows = tx.execute("SELECT secret_sha256, role, coops_json, revoked_at FROM api_keys WHERE key_id = ?", (key_id,))
    if not rows:
        return None
    stored, role, coops, revoked_at = rows[0]
    if revoked_at is not None or not hmac.compare_digest(stored, _digest(secret)):
        return None
    return Principal(key_id=key_id, role=role, coops=frozenset(json.loads(coops)))


class KeyCache:
    """Valid keys remembered for KEY_CACHE_TTL_S, by a hash of the token (never the token itself)."""

    def __init__(self, ttl_s: float = KEY_CACHE_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._found: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def peek(self, token: str) -> Principal | None:
        """The key's principal when remembered and not expired, else None (ask `get`): no I/O."""
        hit = self._found.get(hashlib.sha256(token.encode()).digest())
        return hit[1] if hit is not None and hit[0] > self.clock() else None

    def get(self, ledger: Any, token: str) -> Principal | None:
        digest = hashlib.sha256(token.encode()).digest()
        now = self.clock()
        hit = self._found.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = authenticate(ledger.db, token)  # unknown and revoked keys are not remembered
        with self._lock:
            if found is None:
                self._found.pop(digest, None)
            else:
                if len(self._found) >= KEY_CACHE_MAX:
                    self._found.clear()
                self._found[digest] = (now + self.ttl_s, found)
        return found
