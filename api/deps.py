"""What every route needs: the running ledger, the caller's key, access checks, read-your-writes.

How a route declares who may call it (one source, read by the check itself, by the OpenAPI
document's `x-roles` and by tests/api/test_role_matrix.py, which runs every /v1 route against
every role):

- a read: depend on `reader(kind)`, `kind` a key of `api.roles.READ_ROLES`:
      def get_feed(coop: str, _who: Principal = Depends(reader("feed")), ...)
- one command: depend on `commander(name)`, `name` a command some family declares (domain/family.py `command_roles`);
- several commands in one request: `any_commander()` (roles that may send at least one command);
- a dependency of your own (say a page that is public when the cooperative chose so): decorate it
  with `@declares(Access(...))`, e.g. `Access("read", "observatory", anonymous="if_published")`.

A /v1 route whose dependencies declare no `Access` fails the role-matrix test, naming the route;
so does an `Access` naming a kind or command missing from api/roles.py.

The dependencies FastAPI solves on every request (`reader`, `commander`, `any_commander`, `fresh`,
`views`) are `async def`: a `def` dependency costs a hop to the threadpool and back, and these
mostly look at memory (the key cache, the cooperatives already seen, the primary chosen when no
standby is configured). What may wait on the database (a key not cached, a cooperative not seen
yet, a standby's probe, `min_position`) still runs in the threadpool, never on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Query, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.answer_memo import AnswerMemo
from api.errors import ApiError
from api.keys import KeyCache, Principal
from api.metrics import READS
from api.rate_limits import RateLimits
from api.roles import READ_ROLES, ROLES, may_command, may_read
from domain.cooperative import coop_id
from domain.family import command_roles
from ledger.db import Database
from ledger.loop_reads import LoopReads
from ledger.replicas import ReadRouter
from ledger.service import Ledger
from projections.registry import cooperative_summary
from projections.runner import ProjectionRunner

READ_YOUR_WRITES_TIMEOUT_S = 2.0
# Reads waiting for the views to reach a `min_position` at once, per process: each holds a worker
# thread for up to the timeout above, so more would starve every other request. The next one is
# answered 503 at once (Retry-After), without waiting.
MAX_WAITING_READS = 8
_WAITING_READS = threading.BoundedSemaphore(MAX_WAITING_READS)


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    """Who may call a route.

    table: "read" (READ_ROLES[name]), "command" (command_roles()[name]), "any_command" (every role
    that may send some command) or "public" (no key at all, every caller).
    anonymous: "never" (a key is required), "if_published" (no key needed once the cooperative
    made this public; the role matrix builds a cooperative that did not), "always" (same as public).
    """

    table: str
    name: str = ""
    anonymous: str = "never"

    def roles(self) -> frozenset[str]:
        """The roles allowed; KeyError naming what api/roles.py lacks."""
        if self.table == "read":
            if self.name not in READ_ROLES:
                raise KeyError(f"read kind {self.name!r} is not in api.roles.READ_ROLES")
            return frozenset(READ_ROLES[self.name])
        if self.table == "command":
            roles = command_roles()
            if self.name not in roles:
                raise KeyError(f"command {self.name!r} is declared by no family")
            return roles[self.name]
        if self.table == "any_command":
            return frozenset().union(*command_roles().values())
        if self.table == "public":
            return frozenset(ROLES)
        raise KeyError(f"unknown access table {self.table!r}")

    @property
    def needs_key(self) -> bool:
        return self.table != "public" and self.anonymous != "always"


def declares(access: Access) -> Callable[[F], F]:
    """Marks a dependency as the declaration of its route's access."""

    def mark(fn: F) -> F:
        fn.access = access  # type: ignore[attr-defined]
        return fn

    return mark


def route_access(route: Any) -> list[Access]:
    """The Access declarations among a route's dependencies: an APIRoute, or a RouteContext of
    `fastapi.routing.iter_route_contexts(app.routes)` (whose dependant has the routers' ones too)."""
    found: list[Access] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        access = getattr(dep.call, "access", None)
        if isinstance(access, Access) and access not in found:
            found.append(access)
        pending.extend(dep.dependencies)
    return found


def document_access(routes: list[Any]) -> None:
    """Writes each route's declared roles into its OpenAPI operation as `x-roles`. Call it at the
    end of a router's factory, before the app includes it (included routes share the dict)."""
    for route in routes:
        if isinstance(route, APIRoute):
            declared = route_access(route)
            if declared:
                try:
                    roles = sorted(set().union(*(a.roles() for a in declared)))
                except KeyError:  # not in api/roles.py: refused to every role (the role matrix test names it)
                    roles = []
                route.openapi_extra = {
                    **(route.openapi_extra or {}),
                    "x-roles": roles,
                    "x-anonymous": declared[0].anonymous if declared[0].needs_key else "always",
                }


@dataclass
class Services:
    ledger: Ledger
    runner: ProjectionRunner
    # Where reads go: a hot standby when configured and usable, else the primary (ledger/replicas.py).
    reads: ReadRouter | None = None
    keys: KeyCache = field(default_factory=KeyCache)
    limits: RateLimits = field(default_factory=RateLimits)  # per key, per process (api/rate_limits.py)
    # Cooperatives seen to exist. A cooperative is never deleted (history is kept), so once seen
    # it need not be looked up again: reads skip the summary query (it counts members and entries).
    known_coops: set[str] = field(default_factory=set)
    loop_reads: LoopReads | None = None  # reads of the primary awaited on the event loop (opened by the lifespan)
    # Answers that are a pure function of the rows a read returned, by those rows (api/answer_memo.py): bounded.
    answers: AnswerMemo = field(default_factory=AnswerMemo)

    def __post_init__(self) -> None:
        if self.reads is None:  # no standby: every read on the primary
            self.reads = ReadRouter(self.ledger.db, [], self.runner.wait_for)
        if self.loop_reads is None:
            self.loop_reads = LoopReads(self.ledger.db)


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def client_of(request: Request) -> Any:
    """Who sends a command, for the group commit's gathering (ledger/group_commit.py): the client's
    connection, (host, port), given as a list by some ASGI servers; None when the server gives none."""
    client = request.scope.get("client")
    return tuple(client) if client else None


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "Unauthorized",
            "send an API key as 'Authorization: Bearer <key>'",
            rule="api_key_required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def _caller(request: Request, found: Principal | None) -> Principal:
    if found is None:
        raise ApiError(
            401,
            "Unauthorized",
            "this API key is unknown or revoked",
            rule="api_key_valid",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.key_id = found.key_id  # for the request log: the key's id, never the token
    request.state.principal = found  # the request's other dependencies need not look again
    return found


def principal(request: Request) -> Principal:
    """The caller's key (401 without a valid one). May read the store: call it from a thread."""
    token = _bearer_token(request)
    svc = services(request)
    return _caller(request, svc.keys.get(svc.ledger, token))


async def authenticated(request: Request) -> Principal:
    """principal(), on the event loop when the key cache knows the key, else in the threadpool."""
    known = getattr(request.state, "principal", None)
    if known is not None:
        return known  # type: ignore[no-any-return]
    token = _bearer_token(request)
    svc = services(request)
    found = svc.keys.peek(token)
    if found is None:
        found = await run_in_threadpool(svc.keys.get, svc.ledger, token)
    return _caller(request, found)


def check_coop(who: Principal, coop: str) -> None:
    if coop not in who.coops:
        raise ApiError(403, "Forbidden", f"this key is not bound to cooperative {coop!r}", field="coop", rule="key_coop")


def known_coop(svc: Services, coop: str, db: Database | None = None) -> dict[str, Any] | None:
    """404 for an unknown cooperative, 503 for one recorded but not projected yet (in `db`, the
    views the request reads). Returns the summary when it had to read it (the first time; then the
    slug is cached: never deleted)."""
    if coop in svc.known_coops:
        return None
    summary = cooperative_summary(db or svc.ledger.db, coop)
    if summary is None:
        # Founded but not projected yet is not "unknown": say when to look again, as for min_position.
        if svc.ledger.app.recorder.select_events(coop_id(coop), limit=1):
            raise ApiError(
                503,
                "Not yet visible",
                f"cooperative {coop!r} is recorded but not in the views yet; retry shortly",
                field="coop",
                rule="read_your_writes",
                headers={"Retry-After": "1"},
            )
        raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
    svc.known_coops.add(coop)
    return summary


def check_read(kind: str, coop: str, request: Request, who: Principal) -> Principal:
    """What `reader(kind)` checks once the key is known, for callers that hold the principal
    already. Reads the store the first time it meets a cooperative: call it from a thread."""
    check_coop(who, coop)
    if not may_read(who.role, kind):
        raise ApiError(403, "Forbidden", f"role {who.role} may not read {kind}", rule="role_read")
    services(request).limits.check(who, "read")
    request.state.coop = coop
    known_coop(services(request), coop, getattr(request.state, "views", None))
    return who


def reader(kind: str):  # noqa: ANN201 (a dependency factory)
    """A dependency: the caller may read `kind` of the cooperative in the path, which exists
    (checked after the key, so a key learns nothing of cooperatives it is not bound to)."""

    @declares(Access("read", kind))
    async def check(coop: str, request: Request) -> Principal:
        who = await authenticated(request)
        if coop in services(request).known_coops:  # nothing to read: no thread
            return check_read(kind, coop, request, who)
        return await run_in_threadpool(check_read, kind, coop, request, who)

    return check


def commander(name: str):  # noqa: ANN201 (a dependency factory)
    """A dependency: the key reaches the cooperative and its role may send command `name`. It
    runs before the body is validated, so a forbidden caller learns nothing about the body's rules."""

    @declares(Access("command", name))
    async def check(coop: str, request: Request) -> Principal:
        who = await authenticated(request)
        check_coop(who, coop)
        request.state.coop = coop
        if not may_command(who.role, name):
            raise ApiError(403, "Forbidden", f"role {who.role} may not send {name}", field="command", rule="role_command")
        services(request).limits.check(who, "write")
        return who

    return check


@declares(Access("any_command"))
async def any_commander(coop: str, request: Request) -> Principal:
    """A dependency for the batch route: a role that may send no command at all (auditor,
    reader) is refused outright; each command is then checked against the role on its own."""
    who = await authenticated(request)
    check_coop(who, coop)
    request.state.coop = coop
    if who.role not in Access("any_command").roles():
        raise ApiError(403, "Forbidden", f"role {who.role} may send no command", field="command", rule="role_command")
    services(request).limits.check(who, "write")  # a batch counts once
    return who


async def fresh(
    request: Request,
    min_position: int | None = Query(
        None,
        ge=0,
        description="Wait (at most 2 s) until the views include this position, "
        "as returned by a command, so you read your own write.",
    ),
) -> Database:
    """Chooses the views this request reads (a standby, or the primary) and, with min_position,
    waits until they include it; the route reads them through `views`."""
    await authenticated(request)  # authenticate before waiting: no anonymous 2 s holds
    return await _choose(request, min_position)


async def _choose(request: Request, min_position: int | None) -> Database:
    reads = services(request).reads
    if min_position is None and reads is not None and not reads.standbys:  # the primary: no wait, no probe
        return choose_views(request, None)
    return await run_in_threadpool(choose_views, request, min_position)


def choose_views(request: Request, min_position: int | None) -> Database:
    svc = services(request)
    reads = svc.reads
    assert reads is not None  # set by Services.__post_init__
    if min_position is None:
        db = reads.choose(None, READ_YOUR_WRITES_TIMEOUT_S)
    else:
        db = _wait_for_position(svc, reads, min_position)
    if db is None:
        raise ApiError(
            503,
            "Not yet visible",
            f"the views have not reached position {min_position} yet; retry shortly",
            field="min_position",
            rule="read_your_writes",
            headers={"Retry-After": "1"},
        )
    READS.labels(database=reads.name_of(db)).inc()
    request.state.views = db
    return db


def _wait_for_position(svc: Services, reads: ReadRouter, min_position: int) -> Database | None:
    """The views once they include `min_position`; refused at once for a position the log has not
    reached (no wait would ever see it), or when MAX_WAITING_READS requests already wait."""
    end = svc.ledger.position()
    if min_position > end:
        raise ApiError(
            422,
            "Invalid query",
            f"min_position {min_position} is beyond the end of the log ({end}): give a position a command returned",
            field="min_position",
            rule="recorded_position",
        )
    if not _WAITING_READS.acquire(blocking=False):
        raise ApiError(
            503,
            "Too many waiting reads",
            f"{MAX_WAITING_READS} reads already wait for the views; retry shortly",
            field="min_position",
            rule="read_your_writes_busy",
            headers={"Retry-After": "1"},
        )
    try:
        return reads.choose(min_position, READ_YOUR_WRITES_TIMEOUT_S)
    finally:
        _WAITING_READS.release()


async def views(request: Request) -> Database:
    """The views a read route reads: those `fresh` chose (a router dependency, solved first), else
    chosen now without waiting."""
    found = getattr(request.state, "views", None)
    return found if found is not None else await _choose(request, None)


def views_now(request: Request) -> Database:
    """`views` for a caller in a thread (it may probe a standby)."""
    found = getattr(request.state, "views", None)
    return found if found is not None else choose_views(request, None)
