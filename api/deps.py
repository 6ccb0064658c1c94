"""What every route needs: the running ledger, the caller's key, access checks, read-your-writes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Query, Request

from api.errors import ApiError
from api.keys import Principal, authenticate
from api.roles import may_read
from ledger.service import Ledger
from projections.runner import ProjectionRunner

READ_YOUR_WRITES_TIMEOUT_S = 2.0


@dataclass
class Services:
    ledger: Ledger
    runner: ProjectionRunner


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Unauthorized", "send an API key as 'Authorization: Bearer <key>'", rule="api_key_required",
                       headers={"WWW-Authenticate": "Bearer"})
    found = authenticate(services(request).ledger.db, token.strip())
    if found is None:
        raise ApiError(401, "Unauthorized", "this API key is unknown or revoked", rule="api_key_valid",
                       headers={"WWW-Authenticate": "Bearer"})
    request.state.key_id = found.key_id  # for the request log: the key's id, never the token
    return found


def check_coop(who: Principal, coop: str) -> None:
    if coop not in who.coops:
        raise ApiError(403, "Forbidden", f"this key is not bound to cooperative {coop!r}", field="coop", rule="key_coop")


def reader(kind: str):  # noqa: ANN201 (a dependency factory)
    """A dependency: the caller may read `kind` of the cooperative in the path."""

    def check(coop: str, request: Request, who: Principal = Depends(principal)) -> Principal:
        check_coop(who, coop)
        if not may_read(who.role, kind):
            raise ApiError(403, "Forbidden", f"role {who.role} may not read {kind}", rule="role_read")
        request.state.coop = coop
        return who

    return check


def fresh(
    request: Request,
    min_position: int | None = Query(None, ge=0, description="Wait (at most 2 s) until the views include this position, "
                                     "as returned by a command, so you read your own write."),
    _who: Principal = Depends(principal),  # authenticate before waiting: no anonymous 2 s holds
) -> None:
    if min_position is None:
        return
    if not services(request).runner.wait_for(min_position, READ_YOUR_WRITES_TIMEOUT_S):
        raise ApiError(503, "Not yet visible", f"the views have not reached position {min_position} yet; retry shortly",
                       field="min_position", rule="read_your_writes", headers={"Retry-After": "1"})
