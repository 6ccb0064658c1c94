"""The hottest reads' parameters and dependencies solved by a plan made once, not per request.

FastAPI solves a route's dependencies on every request by walking its dependency tree and
working out again, for each parameter, facts fixed when the route was built (is it a sequence, a
model, which alias): measured on the statement page, 0.23 ms of a 0.65 ms read, more than its SQL
and its answer together (docs/decisions/0017-reads-answer-their-bytes.md). A `LeanRoute` works
those facts out once, when FastAPI builds the route's handler, into a `_Step` tree, and at each
request only reads each value, validates it with FastAPI's own field (the same pydantic
validator, the same error) and calls the dependencies in FastAPI's order:

- sub-dependencies first, depth first, in declaration order; one whose own parameters failed is
  not called, its siblings still are (so a missing key is a 401 before a bad `limit` is a 422, as
  with FastAPI); a dependency called once per request however many ask for it (FastAPI's cache);
- then the parameters: path ones, then query ones; errors gathered and raised together as
  FastAPI's `RequestValidationError` (api/errors.py turns it into the same problem+json).

Only what the plan knows is served so: `async` endpoints declaring `response_class=Answer`
(they return their Response), whose dependencies are `async` functions taking path and query
parameters of plain types and the Request. Anything else (a header, a body, a sequence, a
dependency with `yield`, security scopes, a concurrency limit, dependency overrides set by a
test) keeps FastAPI's handler. tests/api/test_lean_route.py checks, for valid and invalid
requests of every lean route, that the plan gives what FastAPI's own solver gives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import fastapi.routing as fastapi_routing
from fastapi import params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from api.responses import Answer

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# A dependency tree deeper than this is not one of ours: FastAPI's handler keeps it.
MAX_DEPTH = 8


@dataclass(frozen=True)
class _Param:
    name: str
    alias: str
    where: str  # "path" or "query": the loc of its errors, as FastAPI writes it
    field: Any  # FastAPI's ModelField: its validate() is the one FastAPI calls


@dataclass(frozen=True)
class _Step:
    call: Callable[..., Any]
    name: str | None  # the argument its value is passed as (None: a router's dependency)
    params: tuple[_Param, ...]
    request_name: str | None
    steps: tuple[_Step, ...]  # sub-dependencies, solved first, in order
    use_cache: bool


class LeanRoute(APIRoute):
    """An APIRoute whose handler, for routes the plan knows, solves a plan made once."""

    lean = False  # whether this route's handler is the plan's (tests read it)

    def get_route_handler(self) -> Handler:
        fastapi_handler = super().get_route_handler()
        route = _effective(self)
        plan = plan_of(route.dependant) if route.response_class is Answer else None
        self.lean = plan is not None
        if plan is None:
            return fastapi_handler
        provider = route.dependency_overrides_provider

        async def handle(request: Request) -> Response:
            # Looked up each request, as FastAPI does: a test may assign a new dict to the app.
            if getattr(provider, "dependency_overrides", None):  # a dependency replaced: FastAPI's handler knows how
                return await fastapi_handler(request)
            values, errors = await solve(plan, request, {})
            if errors:
                raise RequestValidationError(errors)
            response = await plan.call(**values)
            # An Answer route builds its response (docs/decisions/0017-reads-answer-their-bytes.md);
            # anything else is a bug in the route, refused rather than sent unvalidated.
            if not isinstance(response, Response):
                raise TypeError(f"{plan.call.__name__} returned {type(response).__name__}, not its Answer")
            return response

        return handle


def _effective(route: APIRoute) -> Any:
    """The route as included, with its routers' dependencies: FastAPI (0.16x) builds an included
    route's handler with that context set; earlier versions copied the route on inclusion."""
    var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = var.get() if var is not None else None
    return context if context is not None and getattr(context, "original_route", None) is route else route


def plan_of(dependant: Any, name: str | None = None, depth: int = 0) -> _Step | None:
    """The plan of a dependant, or None when it uses anything the plan does not know."""
    call = dependant.call
    if depth > MAX_DEPTH or call is None or not inspect.iscoroutinefunction(call):
        return None
    unknown = (
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.http_connection_param_name,
        dependant.websocket_param_name,
        dependant.background_tasks_param_name,
        dependant.response_param_name,
        dependant.security_scopes_param_name,
        getattr(dependant, "own_oauth_scopes", None),
        getattr(dependant, "parent_oauth_scopes", None),
        getattr(dependant, "concurrency", None),  # a dependency limited to N at once (FastAPI's semaphore)
    )
    if any(unknown):
        return None
    found = [_param(field, "path") for field in dependant.path_params]
    found += [_param(field, "query") for field in dependant.query_params]
    steps = [plan_of(sub, sub.name, depth + 1) for sub in dependant.dependencies]
    if any(p is None for p in found) or any(s is None for s in steps):
        return None
    return _Step(call, name, tuple(found), dependant.request_param_name, tuple(steps), dependant.use_cache)  # type: ignore[arg-type]


def _param(field: Any, where: str) -> _Param | None:
    info = field.field_info
    if not isinstance(info, params.Path | params.Query) or info.validation_alias is not None:
        return None
    if any(type(m).__name__ == "Json" for m in info.metadata) or not _plain(info.annotation):
        return None
    return _Param(field.name, field.alias, where, field)


def _plain(annotation: Any) -> bool:
    """One value read as it comes: str, int, a date, a Literal, or optional. Refused: anything
    iterable but text (a list, a Sequence, a Deque, a mapping: FastAPI reads every repeated
    value for those) and models."""
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        return all(_plain(arg) for arg in get_args(annotation) if arg is not type(None))
    kind = get_origin(annotation) or annotation
    if kind in (str, bytes) or kind is Literal:
        return True
    if isinstance(kind, type):
        return not issubclass(kind, Iterable | BaseModel)
    return get_origin(annotation) is None  # Any, a type variable: one value as FastAPI reads it


async def solve(step: _Step, request: Request, cache: dict[Any, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The values to call `step.call` with, and the validation errors, as FastAPI's solver gives them."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for sub in step.steps:
        sub_values, sub_errors = await solve(sub, request, cache)
        if sub_errors:
            errors.extend(sub_errors)
            continue
        if sub.use_cache and sub.call in cache:
            solved = cache[sub.call]
        else:
            solved = await sub.call(**sub_values)
        if sub.name is not None:
            values[sub.name] = solved
        cache.setdefault(sub.call, solved)
    for p in step.params:
        raw = (request.path_params if p.where == "path" else request.query_params).get(p.alias)
        loc = (p.where, p.alias)
        if raw is None:  # absent: the default, validated only if the field asks it (as FastAPI does)
            info = p.field.field_info
            if info.is_required():
                errors.append({"type": "missing", "loc": loc, "msg": "Field required", "input": None})
                continue
            raw = deepcopy(p.field.default)
            if not info.validate_default:
                values[p.name] = raw
                continue
        value, found = p.field.validate(raw, values, loc=loc)
        if found:
            errors.extend(found)
        else:
            values[p.name] = value
    if step.request_name:
        values[step.request_name] = request
    return values, errors
