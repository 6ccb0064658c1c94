"""The one place that maps errors to HTTP: RFC 9457 problem+json, never an error with 200."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import structlog
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.problem_rules import ProblemError, ProblemRule, checked_rule
from api.responses import OrjsonResponse
from domain.errors import DomainError
from domain.rule_catalogue import validation_rule
from ledger.group_commit import Overloaded

log = structlog.get_logger("coopledger.api")

STATUS_BY_KIND = {"invalid": 422, "not_found": 404, "conflict": 409}
RETRY_AFTER_S = 2
# The database is away or busy (PostgreSQL restarting, network cut, pool exhausted: PoolTimeout is
# an OperationalError; a lock not granted in time): the client should retry, not report a bug.
# eventsourcing wraps psycopg's and sqlite3's errors in its own classes.
UNAVAILABLE = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    sqlite3.OperationalError,
)
# Another process kept saving first, past the ledger's optimistic-concurrency retries, or another
# request of this process held the cooperative too long (ledger.service.LOCK_WAIT_S): nothing was
# recorded, the same command with the same Idempotency-Key can be sent again.
CONTENTION = (persistence.IntegrityError, TimeoutError, Overloaded)  # Overloaded: the group-commit queue is full
PROBLEMS_PATH = "/problems"


def type_uri(name: str | int) -> str:
    """A problem's `type`: the page saying what its rule (or, with none, its status) is
    (api/problem_pages.py), a reference relative to the API's own address, with its full path as
    RFC 9457 asks of relative ones. (`name`, not `rule`: tests/test_rule_catalogue.py reads every
    argument called `rule` as a rule a refusal names.)"""
    return f"{PROBLEMS_PATH}/{name}"


def _retry_later(rule: str, detail: str) -> OrjsonResponse:
    return problem(
        503,
        "Service unavailable",
        f"{detail}; retry shortly (a command sent again with the same Idempotency-Key is recorded at most once)",
        rule=rule,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


class Problem(BaseModel):
    """RFC 9457 problem details, with the field at fault and the rule it broke."""

    type: str = Field(
        description="A URI reference naming the kind of problem, relative to the API's address: "
        "/problems/<rule>, a page saying what the rule is."
    )
    title: str = Field(description="Short summary.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a person.")
    field: str | None = Field(None, description="The request field at fault, when one is.")
    rule: ProblemRule | None = Field(None, description="The rule that was broken, stable for programs.")
    errors: list[ProblemError] | None = Field(
        None, description="Every error of an invalid request, the first one also in field and rule."
    )


def _example(status: int, title: str, detail: str, field: str | None, rule: str) -> dict[str, Any]:
    """A problem exactly as `problem()` writes it."""
    body: dict[str, Any] = {"type": type_uri(rule), "title": title, "status": status, "detail": detail}
    return {**body, "field": field, "rule": rule} if field is not None else {**body, "rule": rule}


def _documented(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}},
    }


# Every route may answer these; declared once per router so the OpenAPI document says so.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented(
        "A path or query parameter the ledger can never hold (a NUL character)",
        _example(400, "Bad request", "query parameter 'party' holds a NUL character", "party", "no_nul"),
    ),
    401: _documented(
        "No API key, or an unknown or revoked one",
        _example(401, "Unauthorized", "this API key is unknown or revoked", None, "api_key_valid"),
    ),
    403: _documented(
        "The key may not reach this cooperative, or its role may not do this",
        _example(403, "Forbidden", "role reader may not send PayFee", "command", "role_command"),
    ),
    404: _documented(
        "Unknown cooperative, member, account or resolution",
        _example(404, "Not found", "member 'MED-09' is not a member of cluster-numerique-sud", "member_id", "known_member"),
    ),
    409: _documented(
        "Conflict: already recorded, or an idempotency key reused for another body",
        _example(
            409,
            "Command refused",
            "key 'demo-0026' was already used for a different command; use a new key for a new command",
            "idempotency_key",
            "same_key_same_content",
        ),
    ),
    413: _documented(
        "Request body too large",
        _example(413, "Request too large", "bodies are limited to 1000000 bytes", None, "max_body_bytes"),
    ),
    422: _documented(
        "Refused: the problem names the field and the rule",
        _example(
            422,
            "Command refused",
            "800.00 EUR exceeds the 300.00 EUR still due on the 2025 fee of MED-01",
            "amount",
            "no_overpayment",
        ),
    ),
    429: _documented(
        "This key sent more requests than its role's rate limit: retry after Retry-After seconds",
        _example(429, "Too many requests", "this key may send 100 per 1 second writes; retry in 1 s", None, "rate_limited"),
    ),
    503: _documented(
        "The views have not reached min_position yet: retry after Retry-After seconds",
        _example(
            503,
            "Not yet visible",
            "the views have not reached position 1042 yet; retry shortly",
            "min_position",
            "read_your_writes",
        ),
    ),
}

# Only the routes that read a body of their own (a bank statement file) may answer this.
UNSUPPORTED_MEDIA = _documented(
    "The body is not in one of the media types the request body lists",
    _example(
        415,
        "Unsupported Media Type",
        "send the file as one of application/xml, text/xml, application/x-ofx, application/ofx, text/csv",
        None,
        "statement_media",
    ),
)


class ApiError(Exception):
    """An error the API raises itself (authentication, access, unavailable projections)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field, self.rule = status, title, detail, field, rule
        self.headers = headers or {}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    rule: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> OrjsonResponse:
    body: dict[str, Any] = {"type": type_uri(rule or status), "title": title, "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    if checked_rule(rule) is not None:
        body["rule"] = rule
    if extra:
        body.update(extra)
    return OrjsonResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def domain_problem(error: DomainError) -> OrjsonResponse:
    status = STATUS_BY_KIND[error.kind]
    return problem(status, "Command refused" if status != 404 else "Not found", error.message, field=error.field, rule=error.rule)


# What a validation error says, in words, where pydantic's own message shows its machinery (a
# regular expression, a Python type name).
_MESSAGES = {
    "missing": "is required",
    "string_type": "must be text (a JSON string)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "extra_forbidden": "is not a field of this request",
    "greater_than_equal": "is too small",
    "less_than_equal": "is too large",
}
MAX_LISTED_ERRORS = 50  # a body with more errors lists the first ones: enough to fix, bounded


def validation_errors(raw: list[Any]) -> list[dict[str, str]]:
    """Every error of a request (not only the first), as {field, rule, message} in words."""
    found = []
    for item in raw[:MAX_LISTED_ERRORS]:
        loc = [
            str(p) if not isinstance(p, int) else f"[{p}]"
            for p in item.get("loc", ())
            if p not in ("body", "query", "path", "header")
        ]
        field = ".".join(loc).replace(".[", "[") or "body"
        rule = validation_rule(str(item.get("type", "")))
        message = _MESSAGES.get(rule) or str(item.get("msg", "is invalid"))
        if rule == "string_pattern_mismatch" and "[0-9]{1,18}" in str(item.get("ctx", {}).get("pattern", "")):
            rule, message = "decimal", 'must be an exact decimal written with a point, e.g. "12.50" (no comma, no spaces)'
        elif rule == "string_pattern_mismatch":
            message = "does not have the expected form (see the field's description in the API document)"
        if rule in ("greater_than_equal", "less_than_equal") and item.get("ctx"):
            bound = next(iter(item["ctx"].values()))
            message = f"must be {'at least' if rule == 'greater_than_equal' else 'at most'} {bound}"
        found.append({"field": field, "rule": rule, "message": message})
    return found


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers in full for this request's path (HEAD where GET is): asked of
    the routes themselves, method by method, whatever routers hold them."""
    allowed = {
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.routes)
    }
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


def install(app: FastAPI) -> None:

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, error: DomainError) -> OrjsonResponse:
        return domain_problem(error)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, error: ApiError) -> OrjsonResponse:
        return problem(error.status, error.title, error.detail, field=error.field, rule=error.rule, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> OrjsonResponse:
        found = validation_errors(error.errors())
        first = found[0]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in found)
        return problem(422, "Invalid request", detail, field=first["field"], rule=first["rule"], extra={"errors": found})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> OrjsonResponse:
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 405:
            # Starlette names the methods of the first route matching the path only: a path served
            # by several routes (GET and POST /webhooks) would be said to allow one method.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(error.status_code, "HTTP error", str(error.detail), headers=headers or None)

    # Registered per class, not in the catch-all below: Starlette answers these in its exception
    # middleware and carries on, while the catch-all runs in ServerErrorMiddleware, which re-raises
    # after answering (uvicorn then logs a traceback and may drop the connection).
    async def _unavailable(request: Request, error: Exception) -> OrjsonResponse:
        if isinstance(error, sqlite3.OperationalError) and "locked" not in str(error):
            raise error  # a bug (no such table...), not an outage: the catch-all answers 500
        # No traceback: an outage is not a bug, and its message names no personal data.
        log.warning("database_unavailable", path=request.url.path, error=type(error).__name__)
        return _retry_later("database_unavailable", "the database cannot be reached right now")

    async def _contention(request: Request, error: Exception) -> OrjsonResponse:
        log.warning("write_contention", path=request.url.path, error=type(error).__name__)
        return _retry_later("write_contention", "this cooperative is busy with other writers; nothing was recorded")

    for cls in UNAVAILABLE:
        app.add_exception_handler(cls, _unavailable)
    for cls in CONTENTION:
        app.add_exception_handler(cls, _contention)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> OrjsonResponse:
        log.exception("request_failed", path=request.url.path, error=type(error).__name__)
        return problem(500, "Internal error", "the server failed; the error is logged with this request")
