"""Small validation helpers shared by the deciders. Each error names the field and the rule."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from domain.errors import InvalidCommand

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_TEXT_CHARS = 500
# Dates outside this window are typing mistakes, not cooperative history.
EARLIEST_DATE = date(1901, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise InvalidCommand(field, "identifier", f"{value!r} is not an identifier (1 to 64 letters, digits, '.', '_' or '-')")
    return value


def text(value: Any, field: str, *, required: bool = True, max_chars: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(field, "text", f"must be text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise InvalidCommand(field, "required", "must not be empty")
    if len(value) > max_chars:
        raise InvalidCommand(field, "max_length", f"must be at most {max_chars} characters, got {len(value)}")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidCommand(field, "text", "must not contain control characters")
    return value


def a_date(value: Any, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, type(None)):
        raise InvalidCommand(field, "date", f"must be a date (YYYY-MM-DD), got {value!r}")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidCommand(field, "date_range", f"{value} is outside {EARLIEST_DATE} .. {LATEST_DATE}")
    return value


def whole_number(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidCommand(field, "integer", f"must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidCommand(field, "range", f"must be between {minimum} and {maximum}, got {value}")
    return value


def not_before(value: date, limit: date, field: str, what: str) -> None:
    if value < limit:
        raise InvalidCommand(field, "not_before", f"{value} is before {what} ({limit})")
