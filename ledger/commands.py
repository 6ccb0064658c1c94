"""Parsing commands from JSON (the record file, later the API) into domain command objects.

pydantic validates the shapes against the domain's plain dataclasses, so a wrong type names
its field. Numbers come in as Decimal (the JSON is parsed with parse_float=Decimal): a float
never reaches the books.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import typing
from datetime import date
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from functools import cache
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from domain.errors import InvalidCommand
from domain.money import is_number_in
from domain.rule_catalogue import validation_rule
from domain.rules import text
from ledger.handlers import COMMANDS

ENVELOPE_FIELDS = {"command", "idempotency_key", "actor", "reason"}
MAX_KEY_CHARS = 200
MAX_REASON_CHARS = 500


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A parsed command and what travels with it: the idempotency key, who sent it, and why.

    `reason` is optional and lands on every event the command records (the audit trail). A command
    with a `reason` field of its own (ReverseEntry, ExcludeMember...) keeps it as a command field;
    its events carry that reason."""

    command: Any
    idempotency_key: str
    actor: str | None
    reason: str | None


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def parse_command(data: dict[str, Any]) -> tuple[Any, str, str | None]:
    """Returns (command, idempotency_key, actor) from one JSON object, or raises InvalidCommand."""
    envelope = parse_envelope(data)
    return envelope.command, envelope.idempotency_key, envelope.actor


def parse_envelope(data: dict[str, Any], *, reason: str | None = None) -> Envelope:
    """Parses one JSON object into an Envelope, or raises InvalidCommand. `reason` comes from
    outside the object (the HTTP header X-Reason); the object's own "reason" is the same thing."""
    if not isinstance(data, dict):
        raise InvalidCommand("command", "object", "each command is a JSON object")
    name = data.get("command")
    if name not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise InvalidCommand("command", "known_command", f"{name!r} is not a command (known: {known})")
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
        raise InvalidCommand(
            "idempotency_key", "required", f"every command needs an idempotency key (1 to {MAX_KEY_CHARS} characters)"
        )
    _unicode(key, "idempotency_key")
    actor = data.get("actor")
    if isinstance(actor, str):
        _unicode(actor, "actor")
    cls = COMMANDS[name]
    known_fields = _field_names(cls)
    own_reason = "reason" in known_fields
    envelope_reason = _envelope_reason(reason, data, own_reason)
    fields = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS or (k == "reason" and own_reason)}
    unknown = sorted(set(fields) - known_fields)
    if unknown:
        raise InvalidCommand(unknown[0], "unknown_field", f"{name} has no field {unknown[0]!r}")
    for field_name, value in fields.items():
        if isinstance(value, (dict, list)):
            for value_path, inner in _walk(value, str(field_name)):
                _plain_value(inner, value_path)
        else:
            _plain_value(value, field_name)
    for name in _date_fields(cls):
        if fields.get(name) is not None and not isinstance(fields[name], (str, date)):
            # pydantic would read a number as a Unix time: 2147483648 would become 2038-01-19.
            raise InvalidCommand(name, "date", "must be a date written YYYY-MM-DD")
    try:
        command = _adapter(cls).validate_python(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in error["loc"]).replace(".[", "[")
        raise InvalidCommand(loc or "command", validation_rule(error["type"]), error["msg"]) from None
    return Envelope(command, key, actor if isinstance(actor, str) else None, envelope_reason)


def _envelope_reason(header: str | None, data: dict[str, Any], own_reason_field: bool) -> str | None:
    """The envelope's reason, from the X-Reason header or the object's "reason" (one, or both equal)."""
    body = data.get("reason")
    if own_reason_field:
        # ReverseEntry, ExcludeMember...: the command's own reason, checked by its decider, is what
        # its events carry. A header may repeat it, not contradict it.
        if header is not None and (not isinstance(body, str) or header.strip() != body.strip()):
            raise InvalidCommand(
                "X-Reason", "one_reason", "this command has a reason field of its own: leave X-Reason out or repeat it"
            )
        return None
    if header is not None and body is not None and header != body:
        raise InvalidCommand("reason", "one_reason", "the X-Reason header and the body's reason differ: send one")
    value = header if header is not None else body
    if isinstance(value, str):
        _unicode(value, "reason")
    return None if value is None else text(value, "reason", max_chars=MAX_REASON_CHARS)


# JSON may escape a lone UTF-16 surrogate ("\ud800"): Python decodes it into a str that UTF-8 cannot
# encode, so it would fail deep in the store (PostgreSQL, the key's hash) instead of here.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(value: str, field: str) -> None:
    if value.isascii():  # most text, checked in C: no surrogate can hide in ASCII
        return
    if _SURROGATE.search(value):
        raise InvalidCommand(field, "unicode", "must be Unicode text: a lone surrogate (\\ud800-\\udfff) is not a character")


def _plain_value(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise InvalidCommand(path, "decimal", "must be an exact decimal, not a float")
    if isinstance(value, str):
        _unicode(value, path)


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(name for name, _number in _fields(cls))


@cache
def _date_fields(cls: type) -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(f.name for f in dataclasses.fields(cls) if hints[f.name] in (date, date | None))


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _walk(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _walk(v, f"{path}[{i}]")]
    return [(path, value)]


def loads(line: str | bytes) -> Any:
    """One JSON text, numbers with a fraction or exponent as exact Decimals.

    orjson reads it first (a record file's line in a few microseconds, the standard parser with
    parse_float=Decimal takes about 25); a text where orjson met a float (it reads 12.5 and
    integers past 64 bits as floats) or that it refuses (lone surrogates, NaN...) is read again
    by the standard parser, so the result, and any error, is what that parser gives."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line, parse_float=Decimal)
    return json.loads(line, parse_float=Decimal) if _holds_float(value) else value


def _holds_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_holds_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_float(v) for v in value)
    return False


@cache
def _number_fields(cls: type) -> frozenset[str]:
    """The fields of command `cls` that hold a number as sent (domain/money.py, `is_number_in`)."""
    hints = typing.get_type_hints(cls)
    return frozenset(f.name for f in dataclasses.fields(cls) if is_number_in(hints[f.name]))


def _amount(value: Any) -> Any:
    """A number field's value: Decimal, int or decimal text at the edge, read with Decimal(value)
    by the deciders. Compare them as numbers: "12.5" is 12.50."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


@cache
def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, holds a number as sent) of each field of dataclass `cls`, in order."""
    numbers = _number_fields(cls)
    return tuple((f.name, f.name in numbers) for f in dataclasses.fields(cls))


_PLAIN = (str, int, bool, type(None))  # written as they are: the fast path of every command's fingerprint


def _canonical(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            name: _canonical(_amount(getattr(value, name)) if number else getattr(value, name))
            for name, number in _fields(type(value))
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


# What json.dumps(..., sort_keys=True) builds on every call, made once: the same text (stored
# receipts' fingerprints are compared with new ones, so the text must never change).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True)


def fingerprint(command: Any) -> str:
    """Same content, same fingerprint: "12.5" and "12.50" are the same amount."""
    body = _CANONICAL_JSON.encode({"command": type(command).__name__, "fields": _canonical(command)})
    return hashlib.sha256(body.encode()).hexdigest()
