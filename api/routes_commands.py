"""Commands in: one route per command (its body generated from the domain's dataclass), and a
batch route. Each takes an Idempotency-Key: same key and body, same response, nothing written;
same key, other body: 409."""


from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from api.deps import Services, check_coop, principal, services
from api.errors import PROBLEM_RESPONSES, ApiError, domain_problem
from api.keys import Principal
from api.metrics import COMMANDS
from api.roles import may_command
from api.schemas import CommandAccepted, body_model, to_command_fields
from domain.errors import DomainError
from ledger.commands import parse_command
from ledger.handlers import COMMANDS as COMMAND_CLASSES
from ledger.service import CommandResult

MAX_BATCH = 1000
KEY_DOC = "Unique per command (e.g. a bank line id). Retrying with the same key and body records nothing twice."


def _forbidden(who: Principal, name: str) -> dict[str, str] | None:
    """The refusal when the key's role may not send this command, else None."""
    if may_command(who.role, name):
        return None
    return {"kind": "forbidden", "field": "command", "rule": "role_command", "message": f"role {who.role} may not send {name}"}


def _accepted(result: CommandResult, response: Response) -> dict[str, Any]:
    if result.duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    body = result.as_dict()
    body.pop("duplicate", None)
    body.pop("accepted", None)
    return body


def _commander(name: str) -> Any:
    """A dependency: the key reaches the cooperative and its role may send `name`. It runs
    before the body is validated, so a forbidden caller learns nothing about the body's rules."""

    def check(coop: str, request: Request, who: Principal = Depends(principal)) -> Principal:
        check_coop(who, coop)
        request.state.coop = coop
        denied = _forbidden(who, name)
        if denied is not None:
            raise ApiError(403, "Forbidden", denied["message"], field="command", rule="role_command")
        return who

    return check


def _route(name: str, cls: type) -> Any:
    model = body_model(cls)

    def handler(
        coop: str, request: Request, response: Response,
        body: model = Body(...),  # type: ignore[valid-type]
        idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200, description=KEY_DOC),
        who: Principal = Depends(_commander(name)), svc: Services = Depends(services),
    ) -> Any:
        command, key, _actor = parse_command({"command": name, "idempotency_key": idempotency_key, "coop": coop,
                                              **to_command_fields(body)})
        result = svc.ledger.execute(command, key, who.actor)
        COMMANDS.labels(command=name, outcome="accepted" if result.accepted else "refused").inc()
        if not result.accepted:
            assert result.error is not None
            return domain_problem(result.error)
        request.state.position = result.position
        response.status_code = 201
        return _accepted(result, response)

    handler.__name__ = f"command_{name}"
    handler.__doc__ = f"{name}: {(cls.__doc__ or '').strip() or 'record this command.'}"
    return handler


class BatchItem(BaseModel):
    command: str = Field(description="The command's name, e.g. PayFee.")
    idempotency_key: str = Field(min_length=1, max_length=200, description=KEY_DOC)
    fields: dict[str, Any] = Field(description="The command's fields, as in its own route's body.")


class BatchBody(BaseModel):
    commands: list[BatchItem] = Field(max_length=MAX_BATCH, description=f"Up to {MAX_BATCH} commands, saved together.")


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}/commands", tags=["commands"], responses=PROBLEM_RESPONSES)
    for name, cls in sorted(COMMAND_CLASSES.items()):
        r.add_api_route(f"/{name}", _route(name, cls), methods=["POST"], status_code=201, response_model=CommandAccepted,
                        summary=name)

    @r.post("", summary="Many commands in one request, each accepted or refused on its own")
    def batch(coop: str, request: Request, body: BatchBody, who: Principal = Depends(principal),
              svc: Services = Depends(services)) -> dict[str, Any]:
        check_coop(who, coop)
        request.state.coop = coop
        results: list[dict[str, Any] | None] = [None] * len(body.commands)
        items = []
        for i, item in enumerate(body.commands):
            denied = _forbidden(who, item.command)
            if denied is not None:
                results[i] = {"accepted": False, "command": item.command, "idempotency_key": item.idempotency_key, "error": denied}
                continue
            try:
                command, key, _ = parse_command({"command": item.command, "idempotency_key": item.idempotency_key,
                                                 **item.fields, "coop": coop})
            except DomainError as error:
                results[i] = {"accepted": False, "command": item.command, "idempotency_key": item.idempotency_key,
                              "error": error.as_dict()}
                continue
            items.append((i, command, key))
        for (i, _c, _k), result in zip(items, svc.ledger.execute_batch([(c, k, who.actor) for _i, c, k in items])):
            COMMANDS.labels(command=result.command, outcome="accepted" if result.accepted else "refused").inc()
            results[i] = result.as_dict()
        positions = [r["position"] for r in results if r and r.get("position")]
        request.state.position = max(positions) if positions else None
        return {"results": results, "accepted": sum(1 for r in results if r and r["accepted"]),
                "refused": sum(1 for r in results if r and not r["accepted"])}

    return r
