"""What the OpenAPI document says beyond what FastAPI writes: how to authenticate, short operation
ids, the tags, the headers a client must read, and no error a route cannot answer.

Generated clients name methods after operation ids (`PayFee`, `getTrialBalance`), check the
security scheme, and read declared response headers only: `Idempotent-Replayed` tells a replay
from a first write, `Retry-After` when to come back.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.errors import PROBLEM_RESPONSES
from api.wire import AMOUNT_COMPONENT, AMOUNT_SCHEMA_NAME
from domain.family import rules

SECURITY_SCHEME = "apiKey"
PUBLIC_PATHS = ("/health", "/metrics")  # answered without a key
OPTIONAL_KEY_PATHS = ("/v1/coops/{coop}/observatory",)  # public when the cooperative made it public
TAGS = {
    "commands": "Record a command (one route per command, and a batch). Each takes an Idempotency-Key.",
    "queries": "Balances, statements, the journal, members' standing, governance weights and tallies.",
    "activities": "Certifications, calls for projects, the cooperation fund, subsidies, sensors, shared hours.",
    "funding": "Donations, dedicated funds, tax-receipt lists, advertising contracts and revenue.",
    "reports": "Trial balance, balance sheet, income statement, statements: the accountant's reports.",
    "audit": "The hash chain's head, verification of the stored events, fiscal years, the audit trail.",
    "feed": "The change feed (JSON pages and Server-Sent Events) and signed webhooks.",
    "persons": "A person's data: what is held on them (right of access).",
    "bank": "Bank accounts, statements imported (CAMT.053, OFX, CSV), proposals and the reconciliation.",
    "direct debit": "SEPA mandates, direct-debit batches and their pain.008 files.",
    "observatory": "The cooperative's indicators.",
    "service": "Health and metrics of the service itself.",
}
METHODS_WITHOUT_BODY = ("get", "delete")


def operation_id(route: APIRoute) -> str:
    """`PayFee` for a command's route, else the route function's name in camelCase: `getTrialBalance`."""
    name = route.name
    if name.startswith("command_"):
        return name.removeprefix("command_")
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _headers(spec: dict[str, Any]) -> None:
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if method in METHODS_WITHOUT_BODY:  # nothing to conflict with, nothing too large
                for status in ("409", "413"):
                    responses.pop(status, None)
            if method == "post" and "/commands/" in path and "201" in responses:
                responses["201"].setdefault("headers", {})["Idempotent-Replayed"] = {
                    "description": "true when this answer replays the first one sent with the same Idempotency-Key "
                    "(nothing was written this time); absent on a first write.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            for status in ("429", "503"):
                if status in responses:
                    responses[status].setdefault("headers", {})["Retry-After"] = {
                        "description": "Seconds to wait before sending the request again.",
                        "schema": {"type": "integer", "minimum": 0},
                    }
            if not operation.get("description"):
                operation["description"] = operation.get("summary", "")
            # The outermost middleware (api/access_log.py) refuses a NUL character in any path or
            # query, whatever the route: routes outside /v1 (/health) declare no problems of their own.
            if "400" not in responses:
                declared = PROBLEM_RESPONSES[400]
                responses["400"] = {"description": declared["description"], "content": declared["content"]}


def _security(spec: dict[str, Any]) -> None:
    spec.setdefault("components", {})["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `coopledger keys create`, sent as 'Authorization: Bearer <key>'. "
            "Its role (admin, treasurer, clerk, board, auditor, reader) decides what it may do (x-roles).",
        }
    }
    spec["security"] = [{SECURITY_SCHEME: []}]
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if path in PUBLIC_PATHS:
                operation["security"] = []
            elif path in OPTIONAL_KEY_PATHS:
                operation["security"] = [{}, {SECURITY_SCHEME: []}]


def _examples_with_nulls(spec: dict[str, Any], routes: list[Any]) -> None:
    """FastAPI writes the document with exclude_none, which also drops an example's null members;
    an answer keeps them (every field of a response model is always there, null when not set, and
    the document says it is required), so each response example is put back as its route declares it."""
    for context in iter_route_contexts(routes):  # a router's routes as included: full path, its responses too
        route = context.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = spec["paths"].get(route.path_format, {})
        for method in route.methods:
            responses = operations.get(method.lower(), {}).get("responses", {})
            for status, declared in route.responses.items():
                for media, content in declared.get("content", {}).items():
                    published = responses.get(str(status), {}).get("content", {}).get(media)
                    if published is not None and "example" in content:
                        published["example"] = jsonable_encoder(content["example"])


def install(app: FastAPI) -> None:
    """Builds the document once, on first request, with the additions above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                servers=[{"url": "/", "description": "This server"}],
            )
            used = {tag for ops in spec.get("paths", {}).values() for op in ops.values() for tag in op.get("tags", ())}
            spec["tags"] = [{"name": name, "description": TAGS.get(name, name)} for name in sorted(used)]
            _security(spec)
            _headers(spec)
            _examples_with_nulls(spec, app.routes)
            spec["components"].setdefault("schemas", {})[AMOUNT_SCHEMA_NAME] = AMOUNT_COMPONENT  # api/wire.py
            spec["components"]["schemas"]["ProblemRule"]["enum"] = list(rules())  # with families' own rules
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
