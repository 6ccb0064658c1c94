"""Webhook endpoints, as an admin registers them through the API: checked on the way in (an
http(s) URL with a host, printable text, fact kinds the key's role may follow, at most
MAX_ENDPOINTS_PER_COOP per cooperative), listed, resumed after a pause, deleted (the row and its
delivery log are kept). Delivering to them is api/webhooks.py's worker.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import orjson
import structlog

from api import outbound
from domain.errors import InvalidCommand, NotFound
from ledger.db import Database
from projections.feed import FEED_ACCESS, feed_position, kind_groups

log = structlog.get_logger("coopledger.webhooks")

MAX_ENDPOINTS_PER_COOP = 50
MAX_URL_CHARS = 2000

_COLUMNS = (
    "endpoint_id, coop, url, kinds_json, role, description, status, cursor, failures, failing_since,"
    " next_attempt_at, last_error, paused_at, created_at, created_by"
)


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def _endpoint(row: tuple[Any, ...]) -> dict[str, Any]:
    (
        endpoint_id,
        coop,
        url,
        kinds,
        role,
        description,
        status,
        cursor,
        failures,
        failing_since,
        next_attempt_at,
        last_error,
        paused_at,
        created_at,
        created_by,
    ) = row
    return {
        "endpoint_id": endpoint_id,
        "coop": coop,
        "url": url,
        "kinds": orjson.loads(kinds),
        "role": role,
        "description": description,
        "status": status,
        "cursor": int(cursor),
        "failures": int(failures),
        "failing_since": _iso(failing_since),
        "next_attempt_at": _iso(next_attempt_at) if status == "active" else None,
        "last_error": last_error,
        "paused_at": _iso(paused_at),
        "created_at": _iso(created_at),
        "created_by": created_by,
    }


ENDPOINT_ID = re.compile(r"^wh_[0-9a-f]{12}$")


def _printable(value: str, field: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidCommand(field, "printable", "must not contain control characters")
    return value


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise InvalidCommand("url", "url", f"must be a URL of at most {MAX_URL_CHARS} characters")
    _printable(url, "url")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidCommand("url", "url", f"{url!r} is not an http:// or https:// URL with a host")
    # Read for their checks, which would otherwise raise later, as a 500: a port from 0 to 65535,
    # and a host name the resolver can encode (labels of 1 to 63 characters).
    try:
        parsed.port  # noqa: B018
        parsed.hostname.encode("idna")
    except ValueError:  # UnicodeError is one
        raise InvalidCommand("url", "url", f"{url!r} has no valid host name or port (0 to 65535)") from None
    try:
        outbound.addresses(url)
    except outbound.DestinationRefused as exc:
        raise InvalidCommand(
            "url",
            "public_destination",
            f"the server does not send to {parsed.hostname}: {exc}; a receiver on this server's network "
            f"is allowed by naming its host in the server setting {outbound.ALLOWED_HOSTS_ENV}",
        ) from None
    return url


def check_kinds(kinds: list[str] | None, role: str, field: str = "kinds") -> tuple[str, ...] | None:
    """Known kinds the role may follow; None (every kind the role may follow) for none given."""
    if not kinds:
        return None
    for kind in kinds:
        group = kind_groups().get(kind)
        if group is None:
            raise InvalidCommand(field, "known_kind", f"{kind!r} is not a fact kind (see docs/webhooks.md)")
        if group not in FEED_ACCESS[role].groups:
            raise PermissionError(f"role {role} may not follow {kind}")
    return tuple(dict.fromkeys(kinds))


def create_endpoint(
    db: Database,
    coop: str,
    *,
    url: str,
    kinds: list[str] | None,
    role: str,
    created_by: str,
    description: str = "",
    after: int | None = None,
) -> tuple[dict[str, Any], str]:
    """Registers an endpoint; returns it and its signing secret (shown this once). Without `after`
    it receives facts recorded from now on; with `after=0`, the cooperative's whole history."""
    url, description = _check_url(url), _printable(description, "description")
    wanted = check_kinds(kinds, role)
    if after is not None and (not isinstance(after, int) or after < 0):
        raise InvalidCommand("after", "position", "must be a log position (an integer, 0 or more)")
    endpoint_id, secret, now = f"wh_{secrets.token_hex(6)}", f"whsec_{secrets.token_urlsafe(32)}", time.time()
    cursor = feed_position(db) if after is None else after
    with db.transaction() as tx:
        count = tx.execute("SELECT COUNT(*) FROM webhook_endpoints WHERE coop = ? AND status <> 'deleted'", (coop,))[0][0]
        if count >= MAX_ENDPOINTS_PER_COOP:
            raise InvalidCommand("url", "max_endpoints", f"{coop} already has {MAX_ENDPOINTS_PER_COOP} endpoints")
        tx.execute(
            f"INSERT INTO webhook_endpoints ({_COLUMNS}, secret, lease_owner, lease_until)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, 'active', ?, 0, NULL, ?, NULL, NULL, ?, ?, ?, NULL, NULL)",
            (
                endpoint_id,
                coop,
                url,
                orjson.dumps(list(wanted or [])).decode(),
                role,
                description[:200],
                cursor,
                now,
                now,
                created_by,
                secret,
            ),
        )
    log.info("webhook_created", coop=coop, endpoint_id=endpoint_id, kinds=list(wanted or []), cursor=cursor)
    return get_endpoint(db, coop, endpoint_id), secret


def list_endpoints(db: Database, coop: str) -> list[dict[str, Any]]:
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE coop = ? AND status <> 'deleted'"  # noqa: S608
            " ORDER BY created_at, endpoint_id",
            (coop,),
        )
    return [_endpoint(r) for r in rows]


def get_endpoint(db: Database, coop: str, endpoint_id: str) -> dict[str, Any]:
    if not ENDPOINT_ID.match(endpoint_id):
        raise NotFound("endpoint_id", "known_endpoint", f"no webhook endpoint {endpoint_id!r} in {coop}")
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE coop = ? AND endpoint_id = ?"  # noqa: S608
            " AND status <> 'deleted'",
            (coop, endpoint_id),
        )
    if not rows:
        raise NotFound("endpoint_id", "known_endpoint", f"no webhook endpoint {endpoint_id!r} in {coop}")
    return _endpoint(rows[0])


def _set_status(db: Database, coop: str, endpoint_id: str, sql: str, params: tuple[Any, ...]) -> None:
    get_endpoint(db, coop, endpoint_id)
    with db.transaction() as tx:
        tx.execute_one(f"UPDATE webhook_endpoints SET {sql} WHERE coop = ? AND endpoint_id = ?", (*params, coop, endpoint_id))  # noqa: S608


def resume_endpoint(db: Database, coop: str, endpoint_id: str) -> dict[str, Any]:
    """A paused endpoint is retried at once; its undelivered facts are still behind its cursor."""
    _set_status(
        db,
        coop,
        endpoint_id,
        "status = ?, failures = 0, failing_since = NULL, paused_at = NULL, next_attempt_at = ?",
        ("active", time.time()),
    )
    log.info("webhook_resumed", coop=coop, endpoint_id=endpoint_id)
    return get_endpoint(db, coop, endpoint_id)


def delete_endpoint(db: Database, coop: str, endpoint_id: str) -> dict[str, Any]:
    """Stops deliveries. The row and its delivery log are kept (status 'deleted')."""
    _set_status(db, coop, endpoint_id, "status = ?", ("deleted",))
    log.info("webhook_deleted", coop=coop, endpoint_id=endpoint_id)
    return {"endpoint_id": endpoint_id, "status": "deleted"}


def deliveries(db: Database, coop: str, endpoint_id: str, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """The delivery log of an endpoint, by position: attempts, status, last HTTP status and error."""
    get_endpoint(db, coop, endpoint_id)
    with db.read() as tx:
        rows = tx.execute(
            "SELECT position, kind, status, attempts, last_status_code, last_error, first_attempt_at, last_attempt_at,"
            " delivered_at FROM webhook_deliveries WHERE endpoint_id = ? AND position > ? ORDER BY position LIMIT ?",
            (endpoint_id, after, max(1, min(limit, 1000))),
        )
    return [
        {
            "position": int(p),
            "kind": k,
            "status": s,
            "attempts": int(a),
            "last_status_code": code,
            "last_error": err,
            "first_attempt_at": _iso(first),
            "last_attempt_at": _iso(last),
            "delivered_at": _iso(done),
        }
        for p, k, s, a, code, err, first, last, done in rows
    ]
