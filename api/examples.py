"""Examples for the OpenAPI document, so a client sees a realistic body for every route.

Command bodies come from the demo (ledger/demo.py: the same French cooperatives, members and
amounts as `coopledger demo`), first use of each command; a command the demo does not use yet gets
one generated from its dataclass (`generated_body`), so a new command is documented the day it is
added. tests/api/test_openapi_examples.py checks that every operation has its examples, that they
validate against their own schemas and that `parse_command` accepts every command example.

A route that is not a command declares its success example with `ok(example)`:

    @r.get("/feed", summary="...", responses=ok({"coop": DEMO_COOP, "events": [...]}))

or, for the demo's answers kept in api/read_examples.py, with `read(name)`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing
from datetime import date
from functools import lru_cache
from typing import Any

from api.errors import Problem, type_uri
from domain.events import EVENT_CLASSES, FinancialEvent
from domain.money import is_number_in
from ledger.demo import demo_commands
from ledger.handlers import COMMANDS, HANDLERS

DEMO_COOP = "cluster-numerique-sud"
ENVELOPE = {"command", "idempotency_key", "actor", "coop"}

# Values for a generated body, by field name, in the demo's vocabulary; then by type.
FIELD_EXAMPLES: dict[str, Any] = {
    "member_id": "MED-02",
    "host_id": "MED-02",
    "author_id": "SAL-01",
    "structure_id": "BEN-01",
    "employee_id": "CN-01",
    "college": "medias",
    "name": "Radio Garrigue",
    "kind": "organisation",
    "year": 2025,
    "first_year": 2025,
    "years": 3,
    "shares": 10,
    "headcount": 8,
    "entry_number": 26,
    "pledge_id": "PL-ENT01",
    "call_id": "AAP-MEDIAS-2025",
    "application_id": "AAP25-01",
    "subsidy_id": "REG-OCC-AAP25",
    "sensor_id": "CAP-PM-01",
    "certification_id": "CERT-2025-001",
    "subscription_id": "SUB-ENT01",
    "plan_id": "PREST-M",
    "course_id": "FORM-DEM",
    "resolution_id": "AG-2026-01",
    "reason": "Décision du conseil d'administration du 12 mars 2026",
    "label": "Régularisation",
    "piece_ref": "F-2025-0042",
    "period": "2025-04",
    "receipt_number": "2026-0002",
    "public": True,
}
TYPE_EXAMPLES: dict[Any, Any] = {date: "2025-03-01", int: 1, bool: True, str: "exemple", Any: "100.00"}


def _value(name: str, tp: Any) -> Any:
    if name in FIELD_EXAMPLES:
        return FIELD_EXAMPLES[name]
    if is_number_in(tp):  # EurosIn, RateIn... (domain/money.py)
        return TYPE_EXAMPLES[Any]
    if dataclasses.is_dataclass(tp):
        return generated_body(tp)
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return [_value(name, inner)]
    if origin in (typing.Union, types.UnionType):
        return _value(name, next(a for a in typing.get_args(tp) if a is not type(None)))
    return TYPE_EXAMPLES.get(tp, f"{name.replace('_', '-')}-1")


def generated_body(cls: type) -> dict[str, Any]:
    """A body for `cls` built from its fields' names and types (optional fields left out)."""
    hints = typing.get_type_hints(cls)
    return {
        f.name: _value(f.name, hints[f.name])
        for f in dataclasses.fields(cls)
        if f.name != "coop" and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }


@lru_cache(maxsize=1)
def _demo_firsts() -> dict[str, dict[str, Any]]:
    firsts: dict[str, dict[str, Any]] = {}
    for command in demo_commands():
        firsts.setdefault(command["command"], command)
    return firsts


def command_body(name: str) -> dict[str, Any]:
    """The example body of command `name` (without `coop`, which is in the path)."""
    demo = _demo_firsts().get(name)
    if demo is not None:
        return {k: v for k, v in demo.items() if k not in ENVELOPE}
    return generated_body(COMMANDS[name])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _deciders(cls: type) -> list[Any]:
    """The decider of `cls`: its HANDLERS entry, the function of its module named after it, or
    (special commands) every function of its module whose `cmd` parameter is a `cls`."""
    module = sys.modules[cls.__module__]
    named = HANDLERS.get(cls) or getattr(module, _snake(cls.__name__), None)
    if named is not None:
        return [named]
    return [
        f
        for f in vars(module).values()
        if isinstance(f, types.FunctionType) and f.__annotations__.get("cmd") in (cls, cls.__name__)
    ]


def events_of(name: str) -> list[str]:
    """The events command `name` records, as named in its decider's code (a documentation aid:
    the examples test checks them against what the demo really recorded)."""
    found: list[str] = []
    for decider in _deciders(COMMANDS[name]):
        names = list(dict.fromkeys(decider.__code__.co_names))
        # An event named directly (FeePaid), or as an attribute of a class the decider uses (Cooperative.Created).
        used = [decider.__globals__[n] for n in names if isinstance(decider.__globals__.get(n), type)]
        for n in names:
            for event in (EVENT_CLASSES.get(n), *(getattr(c, n, None) for c in used)):
                if isinstance(event, type) and event in EVENT_CLASSES.values() and event.__name__ not in found:
                    found.append(event.__name__)
    return found


def command_accepted(name: str) -> dict[str, Any]:
    """A CommandAccepted response for `name`, as the API returns it."""
    demo = _demo_firsts().get(name, {})
    events = events_of(name)
    financial = [e for e in events if issubclass(EVENT_CLASSES[e], FinancialEvent)]
    return {
        "coop": demo.get("coop", DEMO_COOP),
        "command": name,
        "idempotency_key": demo.get("idempotency_key", f"{_snake(name).replace('_', '-')}-2026-0001"),
        "position": 1042,
        "journal_numbers": [57] if financial else [],
        "events": events,
        "report": None,  # what a command says beyond its events: a federation, a bank import (api/answers/commands.py)
    }


def command_examples(name: str) -> dict[str, dict[str, Any]]:
    """`openapi_examples` for a command's body."""
    source = "from the demo" if name in _demo_firsts() else "generated from the command's fields"
    return {"demo": {"summary": f"{name} ({source})", "value": command_body(name)}}


def ok(example: Any, status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its success status with this JSON example."""
    entry: dict[str, Any] = {"content": {"application/json": {"example": example}}}
    if description:
        entry["description"] = description
    return {status: entry}


def batch_body() -> dict[str, Any]:
    """A batch as a sensor gateway sends it: a day of readings from two sensors, then a fee payment."""
    readings = [c for c in demo_commands() if c["command"] == "AcceptReadings"][:2]
    pay = _demo_firsts()["PayFee"]
    return {
        "commands": [
            {
                "command": c["command"],
                "idempotency_key": c["idempotency_key"],
                "fields": {k: v for k, v in c.items() if k not in ENVELOPE},
            }
            for c in (*readings, pay)
        ]
    }


def batch_result() -> dict[str, Any]:
    body = batch_body()["commands"]
    first = {
        **command_accepted(body[0]["command"]),
        "idempotency_key": body[0]["idempotency_key"],
        "accepted": True,
        "duplicate": False,
    }
    second = {**first, "idempotency_key": body[1]["idempotency_key"], "position": 1043, "journal_numbers": [58]}
    refused = {
        "accepted": False,
        "coop": DEMO_COOP,
        "command": body[2]["command"],
        "idempotency_key": body[2]["idempotency_key"],
        "error": {"kind": "forbidden", "field": "command", "rule": "role_command", "message": "role clerk may not send PayFee"},
    }
    return {"results": [first, second, refused], "accepted": 2, "refused": 1}


def problem(
    status: int, title: str, detail: str, field: str | None, rule: str, description: str
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for an error a route answers in its own words (replaces the router's generic example)."""
    body: dict[str, Any] = {"type": type_uri(rule), "title": title, "status": status, "detail": detail}
    body |= {"field": field, "rule": rule} if field is not None else {"rule": rule}
    return {
        status: {
            "model": Problem,
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}, "example": body}},
        }
    }
