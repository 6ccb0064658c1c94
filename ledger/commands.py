"""Parsing commands from JSON (the record file, later the API) into domain command objects.

pydantic validates the shapes against the domain's plain dataclasses, so a wrong type names
its field. Numbers come in as Decimal (the JSON is parsed with parse_float=Decimal): a float
never reaches the books.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.errors import InvalidCommand
from ledger.handlers import COMMANDS

ENVELOPE_FIELDS = {"command", "idempotency_key", "actor"}
MAX_KEY_CHARS = 200


@lru_cache(maxsize=None)
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def parse_command(data: dict[str, Any]) -> tuple[Any, str, str | None]:
    """Returns (command, idempotency_key, actor) from one JSON object, or raises InvalidCommand."""
    if not isinstance(data, dict):
        raise InvalidCommand("command", "object", "each command is a JSON object")
    name = data.get("command")
    if name not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise InvalidCommand("command", "known_command", f"{name!r} is not a command (known: {known})")
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
        raise InvalidCommand("idempotency_key", "required", f"every command needs an idempotency key (1 to {MAX_KEY_CHARS} characters)")
    actor = data.get("actor")
    cls = COMMANDS[name]
    fields = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS}
    known_fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - known_fields)
    if unknown:
        raise InvalidCommand(unknown[0], "unknown_field", f"{name} has no field {unknown[0]!r}")
    for value_path, value in _walk(fields):
        if isinstance(value, float):
            raise InvalidCommand(value_path, "decimal", "must be an exact decimal, not a float")
    try:
        command = _adapter(cls).validate_python(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in error["loc"]).replace(".[", "[")
        raise InvalidCommand(loc or "command", error["type"], error["msg"]) from None
    return command, key, actor if isinstance(actor, str) else None


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _walk(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _walk(v, f"{path}[{i}]")]
    return [(path, value)]


def loads(line: str | bytes) -> Any:
    return json.loads(line, parse_float=Decimal)


def _amount(value: Any) -> Any:
    """Command fields typed Any are amounts: Decimal, int or decimal text at the edge, read
    with Decimal(value) by the deciders. Compare them as numbers: "12.5" is 12.50."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(_amount(getattr(value, f.name)) if f.type in ("Any", Any) else getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        # normalize() in the default context rounds past 28 digits and overflows on huge
        # exponents (a refused amount must not crash the fingerprint): normalise exactly.
        exact = value.normalize(Context(prec=len(value.as_tuple().digits), Emax=MAX_EMAX, Emin=MIN_EMIN))
        return format(exact, "f") if abs(exact.adjusted()) <= 100 else str(exact)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def fingerprint(command: Any) -> str:
    """Same content, same fingerprint: "12.5" and "12.50" are the same amount."""
    body = json.dumps({"command": type(command).__name__, "fields": _canonical(command)}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
