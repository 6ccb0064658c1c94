"""Commands in: one route per command (its body generated from the domain's dataclass), and a
batch route. Each takes an Idempotency-Key: same key and body, same response, nothing written;
same key, other body: 409."""

import re
from collections import Counter
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from api import examples
from api.answers.commands import BatchResults, result_answer
from api.deps import any_commander, client_of, commander, document_access, services
from api.errors import PROBLEM_RESPONSES, ApiError, domain_problem
from api.exact_json import ExactJsonRoute
from api.keys import Principal
from api.metrics import COMMANDS
from api.prefix_router import PrefixRouter
from api.roles import may_command
from api.schemas import CommandAccepted, body_model, to_command_fields
from domain.errors import DomainError
from domain.family import command_roles
from ledger.commands import parse_envelope
from ledger.handlers import COMMANDS as COMMAND_CLASSES
from ledger.service import CommandResult

MAX_BATCH = 1000
KEY_DOC = (
    "Unique per command (e.g. a bank line id), 1 to 200 visible ASCII characters (no spaces or accents; "
    "400 otherwise). Retrying with the same key and body records nothing twice."
)
REASON_DOC = (
    "Why this command is sent (optional, at most 500 characters), recorded on its events for the audit trail. "
    "Percent-encode UTF-8 text that is not ASCII (RFC 3986), e.g. Ch%C3%A8que%20rejet%C3%A9, and a '%' as %25; "
    "a malformed escape or bytes that are not UTF-8 are refused (400)."
)


# Header values arrive as bytes that HTTP does not say the encoding of: only visible ASCII is taken
# as is. A key is an identifier (its bytes are compared), a reason is text: UTF-8, percent-encoded.
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
# The forms above, in the OpenAPI document (checked by the functions below, which answer 400):
# (lengths in the pattern too: a generator then makes the longest key without searching for it)
KEY_FORM = {"pattern": r"^[\x21-\x7e]{1,200}$"}
# Something besides spaces (spaces only: refused, rule required).
REASON_FORM = {"pattern": r"[\x21-\x7e]"}
_PERCENT_ENCODED = re.compile(r"(?:[\x20-\x24\x26-\x7e]|%[0-9A-Fa-f]{2})*")  # no '%' but before two hex digits


def header_key(value: str) -> str:
    """The Idempotency-Key header: 1 to 200 visible ASCII characters (letters, digits, punctuation)."""
    if not _VISIBLE_ASCII.fullmatch(value):
        raise ApiError(
            400,
            "Invalid header",
            "Idempotency-Key: use visible ASCII characters only (letters, digits, punctuation; no spaces or accents)",
            field="Idempotency-Key",
            rule="header_visible_ascii",
        )
    return value


def header_reason(value: str) -> str:
    """The X-Reason header: ASCII text where anything else is UTF-8 percent-encoded (RFC 3986)."""
    refused = ApiError(
        400,
        "Invalid header",
        "X-Reason: send ASCII text and percent-encode anything else as UTF-8 (e.g. Ch%C3%A8que%20rejet%C3%A9); "
        "a '%' is written %25",
        field="X-Reason",
        rule="header_percent_encoded_utf8",
    )
    if not _PERCENT_ENCODED.fullmatch(value):
        raise refused
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise refused from None


def _forbidden(who: Principal, name: str) -> dict[str, str] | None:
    """The refusal when the key's role may not send this command, else None."""
    if may_command(who.role, name):
        return None
    return {"kind": "forbidden", "field": "command", "rule": "role_command", "message": f"role {who.role} may not send {name}"}


def _accepted(result: CommandResult, response: Response) -> dict[str, Any]:
    if result.duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    body = result_answer(result.as_dict())
    body.pop("duplicate", None)
    body.pop("accepted", None)
    return body


def _route(name: str, cls: type) -> Any:
    model = body_model(cls)

    async def handler(
        coop: str,
        request: Request,
        response: Response,
        body: model = Body(..., openapi_examples=examples.command_examples(name)),  # type: ignore[valid-type]
        idempotency_key: str = Header(
            ..., alias="Idempotency-Key", min_length=1, max_length=200, description=KEY_DOC, json_schema_extra=KEY_FORM
        ),
        reason: str | None = Header(
            None, alias="X-Reason", max_length=1500, description=REASON_DOC, json_schema_extra=REASON_FORM
        ),
        who: Principal = Depends(commander(name)),
    ) -> Any:
        svc = services(request)
        envelope = parse_envelope(
            {"command": name, "idempotency_key": header_key(idempotency_key), "coop": coop, **to_command_fields(body)},
            reason=None if reason is None else header_reason(reason),
        )
        # Awaited: no worker thread waits for the group commit (ledger/group_commit.py).
        result = await svc.ledger.execute_async(
            envelope.command, envelope.idempotency_key, who.actor, envelope.reason, caller=client_of(request)
        )
        COMMANDS.labels(command=name, outcome="accepted" if result.accepted else "refused").inc()
        if not result.accepted:
            assert result.error is not None
            return domain_problem(result.error)
        request.state.position = result.position
        response.status_code = 201
        return _accepted(result, response)

    handler.__name__ = f"command_{name}"
    doc = (cls.__doc__ or "").strip()
    if doc.startswith(f"{name}("):  # the signature dataclasses write when a class has no docstring
        doc = ""
    handler.__doc__ = (
        f"{name}: {doc or 'record this command.'} Allowed roles: {', '.join(sorted(command_roles().get(name, ())))}."
    )
    return handler


class BatchItem(BaseModel):
    command: str = Field(description="The command's name, e.g. PayFee.")
    idempotency_key: str = Field(min_length=1, max_length=200, description=KEY_DOC)
    fields: dict[str, Any] = Field(description="The command's fields, as in its own route's body.")
    reason: str | None = Field(None, max_length=500, description="Why this command is sent (optional), for the audit trail.")


class BatchBody(BaseModel):
    commands: list[BatchItem] = Field(max_length=MAX_BATCH, description=f"Up to {MAX_BATCH} commands, saved together.")


def router() -> APIRouter:
    r = PrefixRouter(
        prefix="/v1/coops/{coop}/commands", tags=["commands"], responses=PROBLEM_RESPONSES, route_class=ExactJsonRoute
    )
    _batch_route(r)  # first: the prefix's own path, matched before the dozens of command routes
    _command_routes(r)
    _unknown_command_route(r)  # last: the routes above match first
    document_access(r.routes)  # x-roles in the OpenAPI document
    return r


def _command_routes(r: APIRouter) -> None:
    """One route per command, its body generated from the command's dataclass."""
    for name, cls in sorted(COMMAND_CLASSES.items()):
        r.add_api_route(
            f"/{name}",
            _route(name, cls),
            methods=["POST"],
            status_code=201,
            response_model=CommandAccepted,
            summary=name,
            responses=examples.ok(examples.command_accepted(name), 201, "Recorded"),
        )


def _batch_route(r: APIRouter) -> None:
    """POST on the prefix itself: many commands in one request, each accepted or refused on its own."""

    @r.post(
        "",
        summary="Many commands in one request, each accepted or refused on its own",
        response_model=BatchResults,
        responses=examples.ok(examples.batch_result(), 200, "Each command's result, in order"),
    )
    def batch(
        coop: str,
        request: Request,
        body: BatchBody = Body(
            ...,
            openapi_examples={"readings": {"summary": "A sensor gateway's batch (as a clerk)", "value": examples.batch_body()}},
        ),
        who: Principal = Depends(any_commander),
    ) -> dict[str, Any]:
        svc = services(request)  # a plain call, as in the command routes
        results: list[dict[str, Any] | None] = [None] * len(body.commands)
        refused_here = {"accepted": False, "coop": coop}  # refused before the ledger: not allowed, or not a command
        items = []
        for i, item in enumerate(body.commands):
            denied = _forbidden(who, item.command)
            if denied is not None:
                results[i] = {**refused_here, "command": item.command, "idempotency_key": item.idempotency_key, "error": denied}
                continue
            try:
                envelope = parse_envelope(
                    {"command": item.command, "idempotency_key": item.idempotency_key, **item.fields, "coop": coop},
                    reason=item.reason,
                )
            except DomainError as error:
                results[i] = {
                    **refused_here,
                    "command": item.command,
                    "idempotency_key": item.idempotency_key,
                    "error": error.as_dict(),
                }
                continue
            items.append((i, envelope.command, envelope.idempotency_key, envelope.reason))
        outcomes: Counter[tuple[str, str]] = Counter()
        for (i, *_item), result in zip(
            items, svc.ledger.execute_batch([(c, k, who.actor, why) for _i, c, k, why in items]), strict=True
        ):
            outcomes[(result.command, "accepted" if result.accepted else "refused")] += 1
            results[i] = result_answer(result.as_dict())
        for (command, outcome), count in outcomes.items():  # a metric's labels looked up once per kind, not per command
            COMMANDS.labels(command=command, outcome=outcome).inc(count)
        positions = [r["position"] for r in results if r and r.get("position")]
        request.state.position = max(positions) if positions else None
        return {
            "results": results,
            "accepted": sum(1 for r in results if r and r["accepted"]),
            "refused": sum(1 for r in results if r and not r["accepted"]),
        }


def _unknown_command_route(r: APIRouter) -> None:
    """A command name no route above matched."""

    @r.post("/{name}", include_in_schema=False)
    def unknown_command(coop: str, name: str, _who: Principal = Depends(any_commander)) -> None:
        """A mistyped command gets the list `coopledger record` gives, not a bare "Not Found" (to a key that may
        send commands, as the batch route checks it)."""
        raise ApiError(
            404,
            "Not found",
            f"no command {name!r} (known: {', '.join(sorted(COMMAND_CLASSES))})",
            field="command",
            rule="known_command",
        )
