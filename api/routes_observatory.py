"""The observatory: indicators as JSON (/v1/coops/{coop}/observatory), a live page
(/observatory/{coop}) and its server-sent events (/observatory/{coop}/events).

Who may look: anyone when the cooperative made its observatory public (SetObservatoryVisibility),
otherwise a key of any role bound to the cooperative. The JSON API takes the key in the
Authorization header only. A browser cannot set that header on a page load or an EventSource, so
the page also accepts the key once as `?key=`: it is checked, stored in an HttpOnly, SameSite=Strict
cookie scoped to /observatory/{coop} (scripts cannot read it, other sites cannot send it) and the
browser is redirected to the bare URL, so the key does not stay in the address bar or the history.
The cookie is only honoured on the page and its event stream, never on /v1 (no cookie-borne
writes, hence no CSRF surface).

Live updates: one thread per app (the Hub) waits on the projection runner (runner.wait_for: its
condition, woken by every catch-up; on PostgreSQL the runner itself LISTENs) while at least one
stream is open, and wakes the streams; each stream is an async generator that rebuilds the JSON
in a worker thread, borrowing a database connection only while reading. A stream sends a
heartbeat comment every HEARTBEAT_S, checks every DISCONNECT_CHECK_S whether its client left and
then ends, which unsubscribes it; the Hub's thread ends with the last stream.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import anyio
import orjson
import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import deps, observatory_pages
from api.answers.observatory import Observatory
from api.deps import Services, authenticated, check_read, choose_views, principal, reader, services
from api.errors import PROBLEM_RESPONSES, ApiError
from api.format import browser_locale
from api.keys import Principal, authenticate
from api.lean_route import LeanRoute
from api.observatory_reads import build, cached, public_and_position
from api.read_examples import read
from api.responses import Answer
from api.schemas import IsoDate
from projections.observatory import is_public, last_event
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.observatory")
PAGE = Path(__file__).resolve().parent / "templates" / "observatory.html"
COOKIE = "coopledger_observatory_key"
HEARTBEAT_S = 15.0
DISCONNECT_CHECK_S = 1.0
ACCESS_RECHECK_S = 2.0  # a quiet stream checks its viewer's access this often (as the key cache's lifetime)
ACCESS_ENDED = b'event: access_ended\ndata: {"rule":"api_key_valid","detail":"this page may no longer be watched"}\n\n'
# Numbers, money and months on the page formatted as the CLI and the API format them (Babel).
LOCALE_JSON = orjson.dumps({lang: browser_locale(lang) for lang in ("fr", "en")}).decode().replace("</", "<\\/")


# ---------------------------------------------------------------- access


def _cookie_path(coop: str) -> str:
    return f"/observatory/{coop}"


def watcher(*, cookie: bool) -> Any:
    """A dependency: None when the observatory of the cooperative in the path is public today;
    otherwise the caller's key (header, or for the page and its stream also the cookie), checked
    exactly as reader("observatory") checks it. Without `cookie` (the JSON route) it is awaited
    on the event loop and leaves the views' position, read with the setting, in
    request.state.observatory_position."""
    inner = reader("observatory")

    async def check_header(coop: str, request: Request) -> Principal | None:
        request.state.coop = coop
        # One statement, one round trip: the setting in force today and the views' position (the
        # route's cache key, as fresh as the access check).
        public, request.state.observatory_position = await public_and_position(request, coop, date.today())
        if public:
            return None
        return await inner(coop, request)  # the header only: what reader("observatory") checks

    def check(coop: str, request: Request) -> Principal | None:
        svc = services(request)
        request.state.coop = coop
        if is_public(svc.ledger.db, coop, date.today()):
            return None
        token = request.cookies.get(COOKIE) if cookie and not request.headers.get("authorization") else None
        if token is None:
            who = principal(request)  # the header; 401 without one, as every /v1 route
        else:
            found = authenticate(svc.ledger.db, token)
            if found is None:
                raise ApiError(
                    401,
                    "Unauthorized",
                    "the key in this page's cookie is unknown or revoked: open the page again with ?key=<key>",
                    rule="api_key_valid",
                )
            request.state.key_id = found.key_id
            who = found
        return check_read("observatory", coop, request, who)

    chosen: Any = check if cookie else check_header
    # The role convention of reader() (whatever attributes it puts on its check) applies here too;
    # its declaration, if any (api/deps.py Access), says that no key is needed once published.
    for name, value in vars(inner).items():
        if not name.startswith("__"):
            setattr(chosen, name, value)
    access = getattr(inner, "access", None)
    if dataclasses.is_dataclass(access) and hasattr(access, "anonymous"):
        chosen.access = dataclasses.replace(access, anonymous="if_published")
    return chosen


PAGE_WATCHER = watcher(cookie=True)  # the page, its stream and the stream's re-checks: one checker


# ---------------------------------------------------------------- live: one waiting thread per app


class Hub:
    """Wakes every open stream when the projections pass a new position."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner
        self._lock = threading.Lock()
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None
        self.closed = threading.Event()  # set at shutdown, before the store closes: streams end

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        listener = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._listeners.add(listener)
            if self._thread is None and not self.closed.is_set():
                self._thread = threading.Thread(target=self._run, name="observatory-hub", daemon=True)
                self._thread.start()
        return listener

    def unsubscribe(self, listener: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def close(self, timeout_s: float = 30.0) -> None:
        """Stops the thread and wakes every stream to end, before the app closes the store: a thread
        still reading a SQLite connection while another closes it can crash the process."""
        self.closed.set()
        with self._lock:
            thread, listeners = self._thread, list(self._listeners)
        for loop, event in listeners:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)
        if thread is not None:
            # Bounded: wait_for returns within a second, unless it is catching the views up itself
            # (no runner thread): then it finishes that batch first.
            thread.join(timeout_s)
            if thread.is_alive():  # said, not raised: the shutdown goes on to close what it can
                log.warning("observatory_hub_still_running", waited_s=timeout_s)

    def _run(self) -> None:
        position = self.runner.position()
        while not self.closed.is_set():
            with self._lock:
                if not self._listeners:
                    self._thread = None  # the next subscriber starts a new thread
                    return
            try:
                advanced = self.runner.wait_for(position + 1, timeout_s=1.0)
                if advanced:
                    position = self.runner.position()
            except Exception as exc:  # the store closed under us (shutdown) or failed: streams stop being woken
                log.warning("observatory_hub_stopped", error=f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self._thread = None
                return
            if advanced:
                with self._lock:
                    for loop, event in list(self._listeners):
                        loop.call_soon_threadsafe(event.set)
        with self._lock:
            self._thread = None


_hub_lock = threading.Lock()


def hub_of(request: Request) -> Hub:
    state = request.app.state
    with _hub_lock:
        if getattr(state, "observatory_hub", None) is None:
            state.observatory_hub = Hub(services(request).runner)
        return state.observatory_hub  # type: ignore[no-any-return]


def _sse(event: str, data: bytes, ident: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {ident}\n" if ident is not None else "")
    return head.encode() + b"data: " + data + b"\n\n"


def _next_push(svc: Services, coop: str, sent: tuple[int, str] | None) -> tuple[Any, tuple[int, str], bytes | None, int]:
    """(the cooperative's last event, its mark, the JSON when the mark moved since `sent` else None,
    the position to send)."""
    today = date.today()
    last = last_event(svc.ledger.db, coop)
    mark = ((last or {}).get("position", 0), today.isoformat())
    if mark == sent:
        return last, mark, None, svc.runner.position()
    body = build(svc, coop, today)
    return last, mark, body, orjson.loads(body)["position"] if body is not None else 0


def _still_allowed(coop: str, request: Request) -> bool:
    """Whether the page's viewer may still watch: public today, or its key is still valid (a key
    revoked, or a public observatory made private, ends the stream as a new request would fail)."""
    try:
        PAGE_WATCHER(coop, request)
    except ApiError:
        return False
    return True


async def _stream(request: Request, svc: Services, coop: str) -> AsyncIterator[bytes]:
    hub = hub_of(request)
    listener = hub.subscribe()
    sent: tuple[int, str] | None = None  # (the cooperative's last event position, day) of the last full JSON
    try:
        yield b"retry: 1000\n\n"
        checked_at = time.monotonic()  # the route's dependency checked the viewer just now
        while not hub.closed.is_set():
            if time.monotonic() - checked_at >= ACCESS_RECHECK_S:  # not on every wake-up: at most this often
                if not await anyio.to_thread.run_sync(_still_allowed, coop, request):
                    yield ACCESS_ENDED
                    return
                checked_at = time.monotonic()
            # One hop to a worker thread per wake-up (each hop waits for a free thread: lag, under load).
            last, mark, body, position = await anyio.to_thread.run_sync(_next_push, svc, coop, sent)
            if body is not None:  # the cooperative recorded something (or the day changed): the whole JSON
                sent = mark
                yield _sse("observatory", body, position)
            elif mark != sent:  # no such cooperative in the views (any more): the stream ends
                return
            else:  # other cooperatives moved the log: only say how fresh the figures are
                yield _sse(
                    "fresh",
                    orjson.dumps({"position": position, "last_event": last, "generated_at": datetime.now(UTC).isoformat()}),
                    position,
                )
            waited_s = 0.0
            while not listener[1].is_set():
                try:
                    await asyncio.wait_for(listener[1].wait(), timeout=DISCONNECT_CHECK_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    waited_s += DISCONNECT_CHECK_S
                    if time.monotonic() - checked_at >= ACCESS_RECHECK_S:  # quiet for a while: still allowed?
                        if not await anyio.to_thread.run_sync(_still_allowed, coop, request):
                            yield ACCESS_ENDED
                            return
                        checked_at = time.monotonic()
                    if waited_s >= HEARTBEAT_S:
                        yield b": heartbeat\n\n"
                        waited_s = 0.0
            listener[1].clear()
    finally:
        hub.unsubscribe(listener)


# ---------------------------------------------------------------- routes


def router() -> APIRouter:
    r = APIRouter(tags=["observatory"], responses=PROBLEM_RESPONSES, route_class=LeanRoute)  # api/lean_route.py
    _json_route(r)
    _page_routes(r)
    document = getattr(deps, "document_access", None)  # x-roles in the OpenAPI document, where api/deps.py has it
    if document is not None:
        document(r.routes)
    return r


def _json_route(r: APIRouter) -> None:
    """GET /v1/coops/{coop}/observatory: the indicators as JSON (a key in the Authorization header only)."""

    @r.get(
        "/v1/coops/{coop}/observatory",
        summary="Every indicator: definition, value(s), monthly series, freshness",
        responses=read("observatory"),
        response_model=Observatory,
        response_class=Answer,
    )
    async def get_observatory(
        coop: str,
        request: Request,
        as_of: IsoDate | None = Query(None, description="Day YYYY-MM-DD the figures are for (default: today)."),
        min_position: int | None = Query(
            None,
            ge=0,
            description="Wait (at most 2 s, with a key) until the views include this position, as returned by a command.",
        ),
        who: Principal | None = Depends(watcher(cookie=False)),
    ) -> Response:
        if min_position is not None and who is None:
            # Published: anyone reads without a key, but waiting may hold the server 2 s, so it takes a
            # valid key even then. A key sent while the page is public is checked here: the publication
            # may have reached the views between the command and this read.
            if not request.headers.get("authorization"):
                raise ApiError(
                    401,
                    "Unauthorized",
                    "waiting for a position needs an API key",
                    field="min_position",
                    rule="api_key_required",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            await authenticated(request)
        svc, today = services(request), as_of or date.today()
        if min_position is None and svc.reads is not None and not svc.reads.standbys:
            # The primary, at the position read with the access check: no thread unless the cache misses.
            db, position = choose_views(request, None), request.state.observatory_position
            body = cached(db, coop, position, today) or await run_in_threadpool(build, svc, coop, today, db, position)
        else:  # waits for min_position, or reads a standby (its own position): in a worker thread
            body = await run_in_threadpool(_chosen_build, request, svc, coop, today, min_position)
        if body is None:
            raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
        return Answer(body)


def _chosen_build(request: Request, svc: Services, coop: str, today: date, min_position: int | None) -> bytes | None:
    db = choose_views(request, min_position)  # a standby, or the primary; 503 when none reached it
    return build(svc, coop, today, db)


def _page_routes(r: APIRouter) -> None:
    """The live page and its event stream (a key in the header, or once as ?key=, then in a cookie)."""

    @r.get("/observatory/{coop}", response_class=HTMLResponse, include_in_schema=False)
    def page(
        coop: str, request: Request, key: str | None = Query(None, max_length=200), svc: Services = Depends(services)
    ) -> Response:
        # Unknown first (404 whatever the key); a browser (Accept: text/html) gets pages, not problem JSON.
        browser = "text/html" in request.headers.get("accept", "")
        if last_event(svc.ledger.db, coop) is None:
            if browser:
                return observatory_pages.unknown_cooperative(request, coop)
            raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
        if key is not None:  # a browser's first visit with a key: check it, keep it in a cookie, drop it from the URL
            who = authenticate(svc.ledger.db, key)
            try:
                if who is None:
                    raise ApiError(401, "Unauthorized", "this API key is unknown or revoked", rule="api_key_valid")
                check_read("observatory", coop, request, who)
            except ApiError as error:
                if browser and error.status in (401, 403):
                    return observatory_pages.ask_for_key(request, coop, error.status, wrong=True)
                raise
            response = RedirectResponse(_cookie_path(coop), status_code=303)
            response.set_cookie(
                COOKIE, key, path=_cookie_path(coop), httponly=True, samesite="strict", secure=request.url.scheme == "https"
            )
            return response
        try:
            PAGE_WATCHER(coop, request)
        except ApiError as error:
            if browser and error.status in (401, 403):
                return observatory_pages.ask_for_key(request, coop, error.status, wrong=COOKIE in request.cookies)
            raise
        html = PAGE.read_text(encoding="utf-8").replace("{{coop}}", escape(coop)).replace("{{locale}}", LOCALE_JSON)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @r.get("/observatory/{coop}/events", include_in_schema=False)
    def events(
        coop: str, request: Request, _who: Principal | None = Depends(PAGE_WATCHER), svc: Services = Depends(services)
    ) -> StreamingResponse:
        return StreamingResponse(
            _stream(request, svc, coop),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
