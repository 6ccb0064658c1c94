"""The outermost layer of the HTTP service, as plain ASGI (Starlette's `@app.middleware("http")`
wraps every request in a task and a memory stream, which cost a third of a balance read's CPU).

For every request it writes one structured log line and one latency observation; before the
application sees anything it refuses, as problem+json:
- a declared body larger than the limit (413; bodies without a Content-Length are bounded by
  body_guard.JsonBodyGuard as they stream in);
- a path or query parameter holding a NUL character (400): no text field of the ledger may hold
  one, and PostgreSQL cannot even compare against it, so it must never reach a query.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, unquote

import structlog

from api import errors
from api.metrics import REQUEST_SECONDS

log = structlog.get_logger("coopledger.api")

Scope = dict[str, Any]
Receive = Any
Send = Any


class AccessLog:
    def __init__(self, app: Any, *, max_body_bytes: int) -> None:
        assert max_body_bytes > 0
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Routes record what they touched (coop, position, key id) here; the same dict reaches them.
        state = scope.setdefault("state", {})
        status = [500]  # what the client got; stays 500 if the application died before answering

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        refusal = self._refusal(scope)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            duration_s = time.perf_counter() - started
            method = scope["method"]
            REQUEST_SECONDS.labels(method, template, str(status[0])).observe(duration_s)
            # One line per request; the key's id at most, never the token or personal data.
            log.info(
                "request",
                method=method,
                route=template,
                status=status[0],
                duration_ms=round(duration_s * 1000, 2),
                coop=_get(state, "coop"),
                position=_get(state, "position"),
                key_id=_get(state, "key_id"),
            )

    def _refusal(self, scope: Scope) -> Any:
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return errors.problem(
                413, "Request too large", f"bodies are limited to {self.max_body_bytes} bytes", rule="max_body_bytes"
            )
        if "\x00" in scope.get("path", ""):
            return errors.problem(400, "Bad request", "the path holds a NUL character", field="path", rule="no_nul")
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    field = unquote(name).replace("\x00", "\\0") or "query"
                    return errors.problem(
                        400, "Bad request", f"query parameter {field!r} holds a NUL character", field=field, rule="no_nul"
                    )
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _get(state: Any, name: str) -> Any:
    # Starlette keeps request.state in the scope as a dict (or a State wrapping one).
    if isinstance(state, dict):
        return state.get(name)
    return getattr(state, name, None)
