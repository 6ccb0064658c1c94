"""What the webhook admin routes answer (api/routes_webhooks.py): endpoints with their status and
cursor, and their delivery log. They hold no amounts. What is POSTed to an endpoint (the facts) is
the feed's (docs/webhooks.md), not described here. Times are ISO 8601 in UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.wire import WireModel


class WebhookEndpoint(WireModel):
    """An endpoint the cooperative's facts are POSTed to, and where its deliveries stand."""

    endpoint_id: str
    coop: str
    url: str
    kinds: list[str] = Field(description="The fact kinds it follows; empty for every kind its role may see.")
    role: str = Field(description="The role of the key that registered it: what its facts may show.")
    description: str
    status: Literal["active", "paused", "deleted"] = Field(
        description="paused after failing too long (resume it), deleted when stopped for good."
    )
    cursor: int = Field(description="Every fact up to this log position is delivered (or not wanted).")
    failures: int = Field(description="Failed attempts in a row on the fact waiting.")
    failing_since: str | None = Field(None, description="When the failures in a row began.")
    next_attempt_at: str | None = Field(None, description="When the next delivery is tried (active endpoints only).")
    last_error: str | None = Field(None, description="The last failed attempt's error, until a delivery succeeds.")
    paused_at: str | None = None
    created_at: str
    created_by: str = Field(description="The actor that registered it.")


class WebhookEndpointCreated(WebhookEndpoint):
    """The endpoint just registered, with its signing secret: shown this once, never again."""

    secret: str = Field(description="Signs each delivery (docs/webhooks.md): keep it where the receiver checks signatures.")


class WebhookEndpoints(WireModel):
    coop: str
    endpoints: list[WebhookEndpoint] = Field(description="The endpoints not deleted.")


class WebhookDeleted(WireModel):
    endpoint_id: str
    status: Literal["deleted"]


class WebhookDelivery(WireModel):
    """The attempts to deliver one fact to the endpoint."""

    position: int = Field(description="The fact's log position.")
    kind: str = Field(description="The fact's kind, e.g. fee.paid.")
    status: Literal["delivered", "failing"]
    attempts: int
    last_status_code: int | None = Field(None, description="The HTTP status of the last attempt; none when it got no answer.")
    last_error: str | None = None
    first_attempt_at: str
    last_attempt_at: str
    delivered_at: str | None = None


class WebhookDeliveries(WireModel):
    coop: str
    endpoint_id: str
    deliveries: list[WebhookDelivery] = Field(description="By position, a page from `after`.")
    next_after: int = Field(description="Pass it as `after` for the next page.")
