"""The HTTP service: `create_app()` wires the ledger, the projection runner and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Response
from api.responses import OrjsonResponse
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import (
    errors,
    logs,
    examples,
    routes_activities,
    routes_audit,
    routes_commands,
    routes_feed,  # issue 10: the change feed and webhooks
    routes_funding,
    routes_observatory,
    routes_queries,
    routes_reports,
)
from api.access_log import AccessLog
from api.deps import Services
from api.metrics import PROJECTION_LAG, REGISTRY
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.api")
STATIC = Path(__file__).resolve().parent / "static"
SWAGGER = "/static/vendor/swagger-ui"  # Swagger UI's files, vendored (static/vendor/README.md): /docs works offline
MAX_BODY_BYTES = 1_000_000  # a 1,000-command batch fits; anything larger is refused before parsing


def create_app(config: StoreConfig | None = None, *, run_projections: bool = True) -> FastAPI:
    logs.without_locals_if_unconfigured()
    ledger = Ledger(config)
    migrate(ledger.db)
    runner = ProjectionRunner(ledger)
    feed = routes_feed.FeedService(ledger, runner)  # wakes feed followers; delivers webhooks

    depth = [0]  # lifespans entered and not yet left

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Re-entrant: test clients may enter the lifespan again inside a running one; only the
        # outermost starts the runner and, on exit, stops it and closes the store.
        depth[0] += 1
        outermost = depth[0] == 1
        if outermost and run_projections:
            runner.start()
            feed.start()
        try:
            yield
        finally:
            depth[0] -= 1
            if outermost:
                feed.stop()  # before the runner: its threads wait on the runner
                runner.stop()
                ledger.close()

    app = FastAPI(
        title="coopledger", version="1.0.0", lifespan=lifespan, default_response_class=OrjsonResponse,
        docs_url=None, redoc_url=None,  # served below from the package: FastAPI's default loads a CDN
        description="The ledger of cooperatives: record commands (each with an Idempotency-Key), read balances, "
                    "standing and governance weights. Authenticate with 'Authorization: Bearer <key>'. Errors are "
                    "RFC 9457 problem+json naming the field and the rule. Amounts in requests are decimal strings; "
                    "amounts in responses are integers in minor units (EUR cents, CREDIT hundredths, HOUR minutes).",
    )
    app.state.services = Services(ledger=ledger, runner=runner)
    errors.install(app)
    app.include_router(routes_commands.router())
    app.include_router(routes_queries.router())
    app.include_router(routes_activities.router())
    app.state.feed = feed
    app.include_router(routes_feed.router())
    app.include_router(routes_audit.router())
    app.include_router(routes_reports.router())
    app.include_router(routes_funding.router())
    app.include_router(routes_observatory.router())
    # The observatory page's scripts and styles, and the charting library it vendors (no CDN).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="coopledger – API",
                                   swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js", swagger_css_url=f"{SWAGGER}/swagger-ui.css",
                                   swagger_favicon_url="/favicon.ico")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/health", tags=["service"], summary="Liveness and projection freshness (no key needed)",
             responses=examples.read("health"))
    def health() -> dict[str, Any]:
        position, projected = ledger.position(), runner.position()
        PROJECTION_LAG.set(position - projected)
        return {"status": "ok" if runner.last_error is None else "degraded", "position": position,
                "projected": projected, "projection_error": runner.last_error}

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", include_in_schema=False)
    def metrics() -> Response:
        PROJECTION_LAG.set(ledger.position() - runner.position())
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # Outermost: times and logs everything below it, refuses oversized bodies and NUL characters.
    app.add_middleware(AccessLog, max_body_bytes=MAX_BODY_BYTES)

    return app
