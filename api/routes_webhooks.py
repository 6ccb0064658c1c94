"""The webhook admin routes (role admin): register, list, show, delete and resume endpoints, and read
their delivery log. Registered on the feed's router (api/routes_feed.py), under its prefix and tag."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.answers.webhooks import WebhookDeleted, WebhookDeliveries, WebhookEndpoint, WebhookEndpointCreated, WebhookEndpoints
from api.deps import Services, reader, services
from api.errors import ApiError
from api.examples import ok, problem
from api.keys import Principal
from api.read_examples import WEBHOOKS
from api.schema_forms import WEBHOOK_URL
from api.webhook_endpoints import create_endpoint, delete_endpoint, deliveries, get_endpoint, list_endpoints, resume_endpoint
from api.webhooks import WebhookWorker
from domain.family import kind_groups

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


# The fact kinds, as one alternative of a pattern (the feed's ?kinds= list).
KIND_NAME = "|".join(re.escape(kind) for kind in sorted(kind_groups()))


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The document states the forms; create_endpoint judges them (rules url and known_kind).
    url: str = Field(
        ...,
        max_length=2000,
        description="http:// or https:// URL the facts are POSTed to.",
        json_schema_extra={"pattern": WEBHOOK_URL},
    )
    kinds: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Fact kinds wanted (docs/webhooks.md); empty for every kind.",
        json_schema_extra={"items": {"type": "string", "enum": sorted(kind_groups())}},
    )
    description: str = Field("", max_length=200)
    after: int | None = Field(
        None,
        ge=0,
        le=2**62,
        description="Deliver facts after this position (0: the whole history); by default only facts recorded from now on.",
    )


def webhook_routes(r: APIRouter) -> None:
    """The webhook admin, in the order the routes were always registered: endpoints, then their deliveries."""
    admin = reader("webhooks")  # one checker for every admin route
    _endpoint_routes(r, admin)
    _delivery_routes(r, admin)


def _endpoint_routes(r: APIRouter, admin: Any) -> None:
    """Register, list, show and delete endpoints."""

    @r.post(
        "/webhooks",
        status_code=201,
        summary="Register a webhook endpoint (admin); the signing secret is shown once",
        response_model=WebhookEndpointCreated,
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
        "/webhooks",
        summary="Webhook endpoints with their status, cursor and last error (admin)",
        response_model=WebhookEndpoints,
        responses=ok(WEBHOOKS["list"]),
    )
    def get_webhooks(coop: str, _who: Principal = Depends(admin), svc: Services = Depends(services)) -> dict[str, Any]:
        return {"coop": coop, "endpoints": list_endpoints(svc.ledger.db, coop)}

    @r.get(
        "/webhooks/{endpoint_id}",
        summary="One webhook endpoint (admin)",
        response_model=WebhookEndpoint,
        responses={**ok(WEBHOOKS["endpoint"]), **UNKNOWN_ENDPOINT},
    )
    def get_webhook(
        coop: str, endpoint_id: str, _who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        return get_endpoint(svc.ledger.db, coop, endpoint_id)

    @r.delete(
        "/webhooks/{endpoint_id}",
        summary="Stop delivering to an endpoint (admin); its delivery log is kept",
        response_model=WebhookDeleted,
        responses={**ok(WEBHOOKS["deleted"]), **UNKNOWN_ENDPOINT},
    )
    def delete_webhook(
        coop: str, endpoint_id: str, _who: Principal = Depends(admin), svc: Services = Depends(services)
    ) -> dict[str, Any]:
        return delete_endpoint(svc.ledger.db, coop, endpoint_id)


def _delivery_routes(r: APIRouter, admin: Any) -> None:
    """Resume a paused endpoint; read its delivery log."""

    @r.post(
        "/webhooks/{endpoint_id}/resume",
        summary="Resume a paused endpoint (admin): its waiting facts are retried",
        response_model=WebhookEndpoint,
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
        response_model=WebhookDeliveries,
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
