"""The HTTP service: `create_app()` wires the ledger, the projection runner and the routers."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from anyio import to_thread
from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import (
    errors,
    logs,
    openapi_doc,
    problem_pages,
    read_examples,
    routes_activities,
    routes_audit,
    routes_bank,
    routes_commands,
    routes_feed,  # the change feed and the webhook admin
    routes_funding,
    routes_observatory,
    routes_persons,
    routes_queries,
    routes_reports,
    routes_sepa,
)
from api.access_log import AccessLog
from api.answers.service import Health
from api.body_guard import JsonBodyGuard
from api.deps import Services
from api.limits import MAX_BODY_BYTES
from api.metrics import PROJECTION_LAG, REGISTRY, STANDBY_LAG_POSITIONS, STANDBY_REPLAY_LAG_MS, STANDBY_SKIPPED, STANDBY_UP
from api.responses import OrjsonResponse
from api.route_shortcut import RouteShortcut
from ledger import warming
from ledger.migrate import migrate
from ledger.replicas import ReadRouter
from ledger.service import Ledger
from ledger.store import StoreConfig, read_configs
from projections.runner import ProjectionRunner

STATIC = Path(__file__).resolve().parent / "static"
SWAGGER = "/static/vendor/swagger-ui"  # Swagger UI's files, vendored (static/vendor/README.md): /docs works offline

log = structlog.get_logger("coopledger.api")
# How long a stopping server waits for the cache warming still running (it then stops with the store).
WARM_JOIN_S = 5.0


def create_app(
    config: StoreConfig | None = None, *, run_projections: bool = True, read_urls: str | None = None, warm: bool = False
) -> FastAPI:
    """`read_urls`: the hot standbys that serve reads (default: COOPLEDGER_READ_DATABASE_URL).
    `warm`: on start, load the cooperatives that wrote last into the write model's cache, in the
    background (ledger/warming.py); the server entry points ask for it, tests need not."""
    logs.without_locals_if_unconfigured()
    ledger = Ledger(config)
    migrate(ledger.db)
    runner = ProjectionRunner(ledger)
    reads = ReadRouter.from_configs(
        ledger.db,
        read_configs(ledger.config, read_urls),
        [p.name for p in runner.projections],
        runner.wait_for,
        lambda standby, reason: STANDBY_SKIPPED.labels(standby, reason).inc(),
    )
    feed = routes_feed.FeedService(ledger, runner)  # wakes feed followers; delivers webhooks
    app = FastAPI(
        title="coopledger",
        version="1.0.0",
        lifespan=_lifespan(ledger, runner, reads, feed, run_projections, warm),
        default_response_class=OrjsonResponse,
        generate_unique_id_function=openapi_doc.operation_id,  # short operation ids: PayFee, getTrialBalance
        docs_url=None,
        redoc_url=None,  # served below from the package: FastAPI's default loads a CDN
        description="The ledger of cooperatives: record commands (each with an Idempotency-Key), read balances, "
        "standing and governance weights. Authenticate with 'Authorization: Bearer <key>'. Errors are "
        "RFC 9457 problem+json naming the field and the rule. Amounts in requests are exact decimals, as strings "
        '("12.50") or JSON numbers (12.50, read from their digits, never as binary floats); '
        'amounts in responses are exact decimal strings with two places ("300.00"; schema Amount), never numbers: '
        "their unit is the object's `unit` field or the end of the field's name (`_eur`, `_credits`, `_hours`; "
        'hours are decimal hours, "21.50" is 21 h 30).',
    )
    app.state.services = Services(ledger=ledger, runner=runner, reads=reads)
    errors.install(app)
    app.add_middleware(JsonBodyGuard, max_bytes=MAX_BODY_BYTES)  # bodies read, checked, made exact first
    openapi_doc.install(app)
    # First: the commands' router turns away any path outside its prefix with one regular expression
    # (api/prefix_router.py), so reads pay that once, and a command does not wait for every read's route.
    app.include_router(routes_commands.router())
    app.include_router(routes_queries.router())
    app.include_router(routes_activities.router())
    app.state.feed = feed
    app.include_router(routes_feed.router())
    app.include_router(routes_audit.router())
    app.include_router(routes_persons.router())
    app.include_router(routes_bank.router())
    app.include_router(routes_reports.router())
    app.include_router(routes_funding.router())
    observatory = routes_observatory.router()
    app.include_router(observatory)
    # Its JSON, a frequent read, is matched first: not after every route of the routers above (api/route_shortcut.py).
    included = app.router.routes[-1]
    assert getattr(included, "original_router", None) is observatory
    app.router.routes.insert(0, RouteShortcut("/v1/coops/{coop}/observatory", included))
    app.include_router(routes_sepa.router())
    # The observatory page's scripts and styles, and the charting library it vendors (no CDN).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _service_routes(app, ledger, runner, reads)
    problem_pages.install(app)  # the pages a problem's `type` points to
    # Outermost: times and logs everything below it, refuses oversized bodies and NUL characters.
    app.add_middleware(AccessLog, max_body_bytes=MAX_BODY_BYTES)
    return app


def _lifespan(
    ledger: Ledger, runner: ProjectionRunner, reads: ReadRouter, feed: routes_feed.FeedService, run_projections: bool, warm: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    depth = [0]  # lifespans entered and not yet left

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Re-entrant: test clients may enter the lifespan again inside a running one; only the
        # outermost starts the runner and, on exit, stops it and closes the store.
        depth[0] += 1
        outermost = depth[0] == 1
        if outermost and run_projections:
            runner.start()
            feed.start()
        stop_warming = threading.Event()
        warmer = threading.Thread(target=_warm_up, args=(app, ledger, stop_warming), name="warm-up", daemon=True)
        if outermost and warm:
            warmer.start()
        loop_reads = app.state.services.loop_reads
        if outermost:
            await loop_reads.open()
        try:
            yield
        finally:
            depth[0] -= 1
            if outermost:
                await loop_reads.close()
                hub = getattr(app.state, "observatory_hub", None)
                if hub is not None:  # its thread reads the store: stopped before the store closes
                    hub.close()
                stop_warming.set()  # it stops between two cooperatives
                if warmer.is_alive():  # it reads the store: done, or given up, before the store closes
                    await to_thread.run_sync(warmer.join, WARM_JOIN_S)  # the loop keeps serving meanwhile
                feed.stop()  # before the runner: its threads wait on the runner
                runner.stop()
                reads.close()
                ledger.close()

    return lifespan


def _warm_up(app: FastAPI, ledger: Ledger, stop: threading.Event) -> None:
    """What a server's first requests would otherwise pay for, done in the background of its start:
    the routes FastAPI builds on first use, then the write model's cache (ledger/warming.py). A
    failure only leaves them to be built as requests come."""
    started = time.perf_counter()
    try:
        prime_routes(app.router.routes)
        routes_s = time.perf_counter() - started
        loaded = warming.warm_recent(ledger, stop=stop)
    except Exception as exc:  # noqa: BLE001 (caches: requests build what they need themselves)
        log.warning("warm_up_failed", error=f"{type(exc).__name__}: {exc}")
        return
    log.info("warmed_up", routes_s=round(routes_s, 3), cooperatives=len(loaded), seconds=round(time.perf_counter() - started, 3))


def prime_routes(routes: list[Any]) -> None:
    """Builds the routes of included routers, which FastAPI builds on the first request that reaches
    them (a validator for every route's parameters and body): on the event loop, for the command
    routes' router 0.7 s on the shared 2-core machine, every request of the server waiting (py-spy of its first
    command, 2026-12-07). FastAPI guards the build with a lock and keeps it until routes change; a
    FastAPI that builds routes when they are included has no such method: nothing to do."""
    for route in routes:
        build = getattr(route, "effective_candidates", None)
        if build is None:
            continue
        prime_routes(build())  # a router included in an included router is built on its own
        getattr(route, "effective_low_priority_routes", list)()


def _service_routes(app: FastAPI, ledger: Ledger, runner: ProjectionRunner, reads: ReadRouter) -> None:
    """The service's own routes, outside /v1: the API's documentation page, the favicon, health, metrics."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="coopledger – API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})

    @app.get(
        "/health",
        tags=["service"],
        summary="Liveness and projection freshness (no key needed)",
        responses=read_examples.read("health"),
        response_model=Health,
    )
    def health() -> dict[str, Any]:
        position, projected = ledger.position(), runner.position()
        PROJECTION_LAG.set(position - projected)
        body = {
            "status": "ok" if runner.last_error is None else "degraded",
            "position": position,
            "projected": projected,
            "projection_error": runner.last_error,
        }
        if reads.standbys:  # a standby down or lagging is not the service degraded: reads go to the primary
            body["standbys"] = standby_status(reads, projected)
        return body

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", include_in_schema=False)
    def metrics() -> Response:
        projected = runner.position()
        PROJECTION_LAG.set(ledger.position() - projected)
        standby_status(reads, projected)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def standby_status(reads: ReadRouter, projected: int) -> list[dict[str, Any]]:
    """Each standby's state, also set on its gauges (a lag unknown, the standby down, reads as -1)."""
    found = reads.status(projected)
    for row in found:
        STANDBY_UP.labels(row["standby"]).set(1 if row["up"] else 0)
        STANDBY_REPLAY_LAG_MS.labels(row["standby"]).set(-1 if row["replay_lag_ms"] is None else row["replay_lag_ms"])
        STANDBY_LAG_POSITIONS.labels(row["standby"]).set(-1 if row["lag_positions"] is None else row["lag_positions"])
    return found
