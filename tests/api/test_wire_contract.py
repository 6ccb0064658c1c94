"""Every answer a client reads is typed, and every amount in it follows one convention
(api/wire.py, docs/decisions/0015-amounts-on-the-wire.md): a string `Amount`, its unit in a `unit`
field beside it or at the end of its name, never an integer of cents or minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.wire import AMOUNT_SCHEMA_NAME, UNIT_SUFFIXES, amount, amounts_in
from domain.money import Unit
from ledger.store import StoreConfig

AMOUNT_REF = f"#/components/schemas/{AMOUNT_SCHEMA_NAME}"
MINOR_SUFFIXES = ("_cents", "_minor", "_minutes")
# A number under one of these names would be money or time: it must be an Amount instead.
MONEY_WORDS = {
    "amount", "balance", "debit", "credit", "credits", "eur", "hours", "paid", "due", "billed", "called",
    "received", "awarded", "granted", "price", "cost", "envelope", "outstanding", "remaining", "unspent",
    "available", "reserved", "committed", "earned", "redeemed", "carried", "revenue", "difference",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = Path(tmp_path_factory.mktemp("wire")) / "books.sqlite"
    return create_app(StoreConfig.from_url(f"sqlite:///{path}"), run_projections=False).openapi()


def _json_answers(spec: dict[str, Any]):
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("2") and schema is not None:
                    yield op["operationId"], f"{method.upper()} {path} {status}", schema


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    for _ in range(8):  # a $ref to a $ref: bounded
        ref = schema.get("$ref")
        if ref is None or ref == AMOUNT_REF:
            return schema
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    raise AssertionError(f"$ref chain too long at {schema}")


def _alternatives(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [alt for part in schema[key] for alt in _alternatives(spec, part)]
    return [schema]


def _problems(spec: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """What breaks the convention inside one schema, walked through refs, lists and unions."""
    found: list[str] = []
    for alt in _alternatives(spec, schema):
        if alt.get("$ref") == AMOUNT_REF:
            continue
        if alt.get("type") == "array":
            found += _problems(spec, alt.get("items", {}), f"{where}[]", seen)
        properties = alt.get("properties")
        if alt.get("type") == "object" and properties is None and alt.get("additionalProperties") is not False:
            extra = alt.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                found += _problems(spec, extra, f"{where}{{}}", seen)
            elif alt.get("title") not in seen:
                found.append(f"{where}: an object with no declared properties")
        for name, prop in (properties or {}).items():
            found += _property_problems(spec, alt, name, prop, f"{where}.{name}", seen)
    return found


def _property_problems(spec, owner, name, prop, where, seen) -> list[str]:
    found: list[str] = []
    if name.endswith(MINOR_SUFFIXES):
        found.append(f"{where}: a minor-unit name; amounts are Amount strings (`_eur`, `_credits`, `_hours`)")
    kinds = _alternatives(spec, prop)
    if any(k.get("$ref") == AMOUNT_REF for k in kinds):
        if "unit" not in owner.get("properties", {}) and not name.endswith(tuple(UNIT_SUFFIXES)):
            found.append(f"{where}: an Amount without its unit (no `unit` field beside it, no unit suffix)")
    if any(k.get("type") in ("integer", "number") for k in kinds) and set(name.split("_")) & MONEY_WORDS:
        found.append(f"{where}: a number under a money name; amounts are Amount strings")
    ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
    key = ref or where
    if key not in seen:
        seen.add(key)
        found += _problems(spec, prop, where, seen)
    return found


def test_every_json_answer_has_a_typed_schema(spec):
    untyped = []
    for op_id, where, schema in _json_answers(spec):
        alternatives = _alternatives(spec, schema)
        if not all(alt.get("properties") or alt.get("type") == "array" and alt.get("items") for alt in alternatives):
            untyped.append(f"{op_id} ({where})")
    assert untyped == [], untyped


def test_amounts_in_answers_are_decimal_strings_with_their_unit(spec):
    found = []
    for _op_id, where, schema in _json_answers(spec):
        found += _problems(spec, schema, where, set())
    assert found == [], found
    assert spec["components"]["schemas"][AMOUNT_SCHEMA_NAME]["type"] == "string"


@pytest.mark.parametrize(
    ("minor", "unit", "wire"),
    [(30000, Unit.EUR, "300.00"), (-5, Unit.CREDIT, "-0.05"), (1290, Unit.HOUR, "21.50"), (3, Unit.HOUR, "0.05"),
     (0, Unit.EUR, "0.00"), (10**15, Unit.EUR, "10000000000000.00"), (-60, Unit.HOUR, "-1.00")],
)  # fmt: skip
def test_amount_writes_the_major_unit_with_two_places(minor, unit, wire):
    assert amount(minor, unit) == wire
    assert amounts_in(unit)(minor) == amounts_in(unit.value)(minor) == wire  # the statement page's formatter


def test_amount_refuses_what_two_places_cannot_hold_exactly():
    with pytest.raises(ValueError, match="hundredths of an hour"):
        amount(61, Unit.HOUR)  # 61 minutes is 1.01666... h
    with pytest.raises(ValueError, match="integer of minor units"):
        amount(True, Unit.EUR)
    with pytest.raises(ValueError, match="not a unit"):
        amount(100, "USD")
    # The formatter of many amounts checks the unit once, and each amount as amount() does.
    with pytest.raises(ValueError, match="hundredths of an hour"):
        amounts_in(Unit.HOUR)(61)
    for unit in (Unit.EUR, "CREDIT"):
        with pytest.raises(ValueError, match="integer of minor units"):
            amounts_in(unit)(True)
    with pytest.raises(ValueError, match="not a unit"):
        amounts_in("USD")
