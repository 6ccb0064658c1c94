"""The change feed over HTTP (server-sent events, or a JSON page) and the webhook admin routes.

GET /v1/coops/{coop}/feed answers `text/event-stream` when the client asks for it (EventSource
does: `Accept: text/event-stream`), else one bounded JSON page with `next_after`. Each SSE event
carries its log position as `id`, so a reconnect with `Last-Event-ID` (or `?after=`) resumes
exactly after the last fact received.

An idle stream holds no thread and no database connection: it awaits FeedHead, which one thread
per process keeps current (woken by the projection runner after each batch, and every
POLL_S in case another process projected). Pages are read in the threadpool and bounded, so a
stream's memory is one page; a client that goes away cancels the stream at its next await.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import orjson
import structlog
from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from prometheus_client import Gauge
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KEY_CACHE_TTL_S, Services, reader, services, views
from api.errors import PROBLEM_RESPONSES, ApiError
from api.examples import ok, problem
from api.keys import Principal
from api.metrics import REGISTRY
from api.read_examples import FEED_STREAM, READS, WEBHOOKS
from api.webhook_endpoints import (
    check_kinds,
    create_endpoint,
    delete_endpoint,
    deliveries,
    get_endpoint,
    list_endpoints,
    resume_endpoint,
)
from api.webhooks import WebhookWorker
from domain.errors import InvalidCommand
from ledger.db import Database
from ledger.service import Ledger
from projections.feed import FeedFilter, feed_position, read_page
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.feed")

STREAM_PAGE = 200  # facts read per query by a stream: its memory bound
POLL_S = 0.1  # FeedHead re-reads the position at least this often (a wake-up may be missed; another process may project)
RETRY_MS = 1000  # tells EventSource clients how soon to reconnect
KEY_RECHECK_S = KEY_CACHE_TTL_S  # an open stream asks for its key this often: revoked, it ends as a request would fail
STREAMS = Gauge("coopledger_feed_streams", "Open feed streams", registry=REGISTRY)


def heartbeat_s() -> float:
    """Comment lines sent on an otherwise silent stream, so proxies keep it open."""
    return float(os.environ.get("COOPLEDGER_FEED_HEARTBEAT_MS", "15000")) / 1000


class FeedHead:
    """How far the feed is projected, and a way to wait until it moves past a position."""

    def __init__(self, db: Database, runner: ProjectionRunner) -> None:
        self.db, self.runner = db, runner
        self.position = 0
        self.listeners: list[Callable[[], None]] = []  # called in this thread when the feed moves
        self._lock = threading.Lock()
        self._waiters: dict[asyncio.Future[None], tuple[int, asyncio.AbstractEventLoop]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._move(feed_position(self.db))
        self._thread = threading.Thread(target=self._run, name="feed-head", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        advanced = self.runner._advanced  # noqa: SLF001 (the runner's "a batch was applied" condition)
        while not self._stop.is_set():
            with advanced:
                advanced.wait(POLL_S)
            try:
                self._move(feed_position(self.db))
            except Exception:  # supervised: the next pass retries; followers just wait a little longer
                log.exception("feed_head_read_failed")
                self._stop.wait(1.0)

    def _move(self, position: int) -> None:
        with self._lock:
            if position == self.position:
                return
            self.position = position
            ready = [(f, loop) for f, (after, loop) in self._waiters.items() if position > after]
        for future, loop in ready:
            loop.call_soon_threadsafe(_resolve, future)
        for listener in self.listeners:
            listener()

    async def wait_beyond(self, position: int, timeout_s: float) -> bool:
        """True once the feed is projected past `position`; False after `timeout_s`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.position > position:
                return True
            self._waiters[future] = (position, loop)
        try:
            await asyncio.wait({future}, timeout=timeout_s)
            return future.done()
        finally:
            with self._lock:
                self._waiters.pop(future, None)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FeedService:
    """What the app starts and stops beside the projection runner: the head and the webhook worker."""

    def __init__(self, ledger: Ledger, runner: ProjectionRunner) -> None:
        self.head = FeedHead(ledger.db, runner)
        self.worker = WebhookWorker(ledger.db)
        self.head.listeners.append(self.worker.notify)

    def start(self) -> None:
        self.head.start()
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        self.head.stop()


# ---------------------------------------------------------------- the stream


class _ClosingStream(StreamingResponse):
    """Closes the stream's generator when the response ends, however it ends. Starlette cancels
    the sending task when the client goes away, which leaves a generator suspended at a `yield`
    open until garbage collection (indefinitely behind the app's HTTP middleware): closing it here
    runs its `finally` at once."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]


def _sse(fact: dict[str, Any]) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (fact["position"], fact["kind"].encode(), orjson.dumps(fact))


async def _stream(
    db: Database, head: FeedHead, coop: str, flt: FeedFilter, after: int, key_valid: Callable[[], bool]
) -> AsyncIterator[bytes]:
    """Facts after `after`, then new ones as they are projected, with heartbeats. The key is asked
    again at least every KEY_RECHECK_S (through the key cache): a revoked key's stream ends with a
    `key_revoked` event within seconds, as its next request would be refused."""
    STREAMS.inc()
    log.info("feed_stream_opened", coop=coop, role=flt.role, after=after)
    beat_s = heartbeat_s()
    try:
        yield b"retry: %d\n\n" % RETRY_MS
        last_sent = time.monotonic()
        while True:
            if not await run_in_threadpool(key_valid):
                log.info("feed_stream_key_revoked", coop=coop, role=flt.role, after=after)
                yield b"event: key_revoked\ndata: %s\n\n" % orjson.dumps(
                    {"rule": "api_key_valid", "detail": "this API key was revoked: the stream ends"}
                )
                return
            page = await run_in_threadpool(read_page, db, coop, flt, after=after, limit=STREAM_PAGE)
            for fact in page.facts:
                yield _sse(fact)
            if page.facts:
                last_sent = time.monotonic()
            after = page.next_after
            if page.full:
                continue
            quiet_s = time.monotonic() - last_sent
            if quiet_s < beat_s:  # wait for a fact, but no longer than the key may go unchecked
                await head.wait_beyond(after, min(beat_s - quiet_s, KEY_RECHECK_S))
            else:  # silent for a heartbeat's time (facts filtered out count as silence)
                yield b": keep-alive\n\n"
                last_sent = time.monotonic()
    finally:  # runs on client disconnect too: Starlette cancels the stream at its pending await
        STREAMS.dec()
        log.info("feed_stream_closed", coop=coop, role=flt.role, after=after)


def _csv(value: str | None, field: str, max_items: int = 100) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    if len(items) > max_items:
        raise InvalidCommand(field, "max_items", f"at most {max_items} values")
    return items or None


def _filter(role: str, kinds: str | None, account: str | None) -> FeedFilter:
    try:
        wanted = check_kinds(_csv(kinds, "kinds"), role)
    except PermissionError as exc:
        raise ApiError(403, "Forbidden", str(exc), field="kinds", rule="role_feed_kind") from None
    accounts = _csv(account, "account")
    for a in accounts or ():
        if not a.isalnum() or len(a) > 20:
            raise InvalidCommand("account", "account_number", f"{a!r} is not an account number")
    return FeedFilter(role, kinds=wanted, accounts=tuple(accounts) if accounts else None)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(..., max_length=2000, description="http:// or https:// URL the facts are POSTed to.")
    kinds: list[str] = Field(
        default_factory=list, max_length=100, description="Fact kinds wanted (docs/webhooks.md); empty for every kind."
    )
    description: str = Field("", max_length=200)
    after: int | None = Field(
        None,
        ge=0,
        le=2**62,
        description="Deliver facts after this position (0: the whole history); by default only facts recorded from now on.",
    )


ROLE_FEED_KIND = problem(
    403,
    "Forbidden",
    "role clerk may not follow entry.reversed",
    "kinds",
    "role_feed_kind",
    "The key may not reach this cooperative, or its role may not follow these kinds",
)
UNKNOWN_ENDPOINT = problem(
    404,
    "Not found",
    "no webhook endpoint 'wh_000000000000' in cluster-numerique-sud",
    "endpoint_id",
    "known_endpoint",
    "Unknown cooperative or webhook endpoint",
)
WEBHOOK_BODY = Body(
    ...,
    openapi_examples={
        "accounting": {"summary": "Payments and reversals to the accounting software", "value": WEBHOOKS["create"]}
    },
)


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["feed"], responses=PROBLEM_RESPONSES)
    _feed_route(r)
    _webhook_routes(r)
    return r


def _feed_route(r: APIRouter) -> None:
    """GET /feed: the cooperative's facts, as server-sent events or as JSON pages."""

    @r.get(
        "/feed",
        summary="Follow the cooperative's facts: server-sent events (Accept: text/event-stream) or a JSON page",
        responses={
            200: {
                "description": "A JSON page, or an endless text/event-stream (id = log position)",
                "content": {
                    "application/json": {"example": READS["feed"]},
                    "text/event-stream": {"schema": {"type": "string"}, "example": FEED_STREAM},
                },
            },
            **ROLE_FEED_KIND,
        },
    )
    def get_feed(
        coop: str,
        request: Request,
        after: int = Query(0, ge=0, le=2**62, description="Log position already received (the last SSE id)."),
        limit: int = Query(100, ge=1, le=1000, description="Facts per JSON page."),
        kinds: str | None = Query(
            None, max_length=4000, description="Comma-separated fact kinds (default: all the role may follow)."
        ),
        account: str | None = Query(
            None, max_length=400, description="Comma-separated account numbers: facts whose entry touches one."
        ),
        last_event_id: str | None = Header(
            None, alias="Last-Event-ID", max_length=20, description="Sent by EventSource on reconnect; wins over ?after."
        ),
        who: Principal = Depends(reader("feed")),
        svc: Services = Depends(services),
    ) -> Any:
        flt = _filter(who.role, kinds, account)
        if last_event_id is not None:
            if not last_event_id.strip().isdigit():
                raise InvalidCommand("Last-Event-ID", "position", "must be a log position (an integer, 0 or more)")
            after = int(last_event_id)
        if "text/event-stream" in request.headers.get("accept", ""):
            head: FeedHead = request.app.state.feed.head
            token = request.headers.get("authorization", "").partition(" ")[2].strip()  # reader() checked it

            def key_valid() -> bool:
                return svc.keys.get(svc.ledger, token) is not None

            return _ClosingStream(
                _stream(svc.ledger.db, head, coop, flt, after, key_valid),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        # A page may come from a standby; the stream stays on the primary: its wake-ups are the
        # primary runner's positions, and a standby cannot LISTEN.
        page = read_page(views(request), coop, flt, after=after, limit=limit)
        return {"coop": coop, "facts": page.facts, "next_after": page.next_after, "more": page.full}


def _webhook_routes(r: APIRouter) -> None:
    """The webhook admin (role admin): register, list, show, delete and resume endpoints, and read their delivery log."""
    admin = reader("webhooks")

    @r.post(
        "/webhooks",
        status_code=201,
        summary="Register a webhook endpoint (admin); the signing secret is shown once",
        responses={**ok(WEBHOOKS["created"], 201), **ROLE_FEED_KIND},
    )
    def post_webhook(
        coop: str, body: WebhookIn = WEBHOOK_BODY, who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        try:
            endpoint, secret = create_endpoint(
                svc.ledger.db,
                coop,
                url=body.url,
                kinds=body.kinds,
                role=who.role,
                created_by=who.actor,
                description=body.description,
                after=body.after,
            )
        except PermissionError as exc:
            raise ApiError(403, "Forbidden", str(exc), field="kinds", rule="role_feed_kind") from None
        return {**endpoint, "secret": secret}

    @r.get(
        "/webhooks", summary="Webhook endpoints with their status, cursor and last error (admin)", responses=ok(WEBHOOKS["list"])
    )
    def get_webhooks(coop: str, _who: Principal = Depends(admin), svc: Services = Depends(services)) -> dict[str, Any]:
        return {"coop": coop, "endpoints": list_endpoints(svc.ledger.db, coop)}

    @r.get(
        "/webhooks/{endpoint_id}",
        summary="One webhook endpoint (admin)",
        responses={**ok(WEBHOOKS["endpoint"]), **UNKNOWN_ENDPOINT},
    )
    def get_webhook(
        coop: str, endpoint_id: str, _who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        return get_endpoint(svc.ledger.db, coop, endpoint_id)

    @r.delete(
        "/webhooks/{endpoint_id}",
        summary="Stop delivering to an endpoint (admin); its delivery log is kept",
        responses={**ok(WEBHOOKS["deleted"]), **UNKNOWN_ENDPOINT},
    )
    def delete_webhook(
        coop: str, endpoint_id: str, _who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        return delete_endpoint(svc.ledger.db, coop, endpoint_id)

    @r.post(
        "/webhooks/{endpoint_id}/resume",
        summary="Resume a paused endpoint (admin): its waiting facts are retried",
        responses={**ok(WEBHOOKS["endpoint"]), **UNKNOWN_ENDPOINT},
    )
    def post_resume(
        coop: str, endpoint_id: str, request: Request, _who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        endpoint = resume_endpoint(svc.ledger.db, coop, endpoint_id)
        worker: WebhookWorker = request.app.state.feed.worker
        worker.notify()
        return endpoint

    @r.get(
        "/webhooks/{endpoint_id}/deliveries",
        summary="Delivery log: attempts, status, last HTTP status and error (admin)",
        responses={**ok(WEBHOOKS["deliveries"]), **UNKNOWN_ENDPOINT},
    )
    def get_deliveries(
        coop: str,
        endpoint_id: str,
        after: int = Query(0, ge=0, le=2**62),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(admin),
        svc: Services = Depends(services),
    ) -> dict[str, Any]:
        rows = deliveries(svc.ledger.db, coop, endpoint_id, after=after, limit=limit)
        return {
            "coop": coop,
            "endpoint_id": endpoint_id,
            "deliveries": rows,
            "next_after": rows[-1]["position"] if rows else after,
        }
