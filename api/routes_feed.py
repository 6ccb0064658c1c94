"""The change feed over HTTP (server-sent events, or a JSON page); the webhook admin routes
(api/routes_webhooks.py) are registered on its router.

GET /v1/coops/{coop}/feed answers `text/event-stream` when the client asks for it (EventSource
does: `Accept: text/event-stream`), else one bounded JSON page with `next_after`. Each SSE event
carries its log position as `id`, so a reconnect with `Last-Event-ID` (or `?after=`) resumes
exactly after the last fact received.

An idle stream holds no thread and no database connection: it awaits FeedHead, which one thread
per process keeps current (woken by the projection runner after each batch, and, while a stream
waits, every POLL_S in case another process projected: with nobody following, the head reads
nothing but the runner's batches). Pages are read in the threadpool and bounded, so a
stream's memory is one page; a client that goes away cancels the stream at its next await.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import orjson
import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from prometheus_client import Gauge
from starlette.concurrency import run_in_threadpool

from api.answers.feed import feed_page_model, wire_fact
from api.deps import Services, reader, services, views_now
from api.errors import PROBLEM_RESPONSES, ApiError
from api.keys import KEY_CACHE_TTL_S, Principal
from api.metrics import REGISTRY
from api.read_examples import FEED_STREAM, READS
from api.responses import OrjsonResponse
from api.routes_webhooks import KIND_NAME, ROLE_FEED_KIND, webhook_routes
from api.schema_forms import FEED_ACCOUNT, comma_list
from api.webhook_endpoints import check_kinds
from api.webhooks import WebhookWorker
from domain.errors import InvalidCommand
from domain.events import EVENT_CLASSES
from ledger.db import Database
from ledger.service import Ledger
from projections.feed import FeedFilter, feed_position, read_page
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.feed")

STREAM_PAGE = 200  # facts read per query by a stream: its memory bound
POLL_S = (
    0.1  # while a stream waits, FeedHead re-reads the position this often (a wake-up may be missed; another process may project)
)
RETRY_MS = 1000  # tells EventSource clients how soon to reconnect
LAST_EVENT_ID = re.compile(r"^\s*[0-9]{1,18}\s*$")  # a log position, as an `id:` of the stream wrote it
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
                woken = advanced.wait(POLL_S)
            # Nothing projected by this process's runner, and no stream waits: no query. A process
            # whose views another process projects (no runner thread here: `advanced` never fires)
            # reads every pass, so its webhook deliveries still wake within POLL_S.
            if not woken and not self._waiters and self.runner.running:
                continue
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
    """One fact as an SSE event, in the wire's form: the same data as in a JSON page."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (fact["position"], fact["kind"].encode(), orjson.dumps(wire_fact(fact)))


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


_FEED_ACCOUNT = re.compile(FEED_ACCOUNT)


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
        if not _FEED_ACCOUNT.fullmatch(a):
            raise InvalidCommand("account", "account_number", f"{a!r} is not an account number")
    return FeedFilter(role, kinds=wanted, accounts=tuple(accounts) if accounts else None)


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["feed"], responses=PROBLEM_RESPONSES)
    _feed_route(r)
    webhook_routes(r)  # the webhook admin shares the feed's prefix and tag
    return r


# The patterns document the lists' forms; _filter judges them, with rules known_kind and account_number.
_KINDS = Query(
    None,
    max_length=4000,
    description="Comma-separated fact kinds (default: all the role may follow).",
    json_schema_extra={"pattern": comma_list(KIND_NAME)},
)
_ACCOUNTS = Query(
    None,
    max_length=400,
    description="Comma-separated account numbers: facts whose entry touches one.",
    json_schema_extra={"pattern": comma_list(FEED_ACCOUNT)},
)


def _feed_route(r: APIRouter) -> None:
    """GET /feed: the cooperative's facts, as server-sent events or as JSON pages."""

    @r.get(
        "/feed",
        response_model=feed_page_model(),
        # A role without personal data gets facts without `actor`, `entry.label` and the personal
        # data fields: left out, not null (projections/feed.py view).
        response_model_exclude_unset=True,
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
        kinds: str | None = _KINDS,
        account: str | None = _ACCOUNTS,
        last_event_id: str | None = Header(
            None,
            alias="Last-Event-ID",
            max_length=20,
            description="Sent by EventSource on reconnect; wins over ?after.",
            json_schema_extra={"pattern": LAST_EVENT_ID.pattern},
        ),
        who: Principal = Depends(reader("feed")),
        svc: Services = Depends(services),
    ) -> Any:
        flt = _filter(who.role, kinds, account)
        if last_event_id is not None:
            # ASCII digits only: str.isdigit() also takes '²', which int() then refuses (a 500).
            if not LAST_EVENT_ID.fullmatch(last_event_id):
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
        page = read_page(views_now(request), coop, flt, after=after, limit=limit)
        facts = [wire_fact(f) for f in page.facts]
        body = {"coop": coop, "facts": facts, "next_after": page.next_after, "more": page.full}
        if any(f["event"] not in EVENT_CLASSES for f in facts):
            # An event this process does not know (a newer process wrote it during a rolling deploy,
            # a family since removed): no model can check its data, and a 500 here would stop every
            # follower at that position for good. Served as the view holds it, redacted for the
            # role like any fact, its amounts found by their names (api/answers/feed.py).
            return OrjsonResponse(body)
        return body
