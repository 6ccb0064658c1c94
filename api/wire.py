"""Amounts as the HTTP API writes them in responses (docs/decisions/0015-amounts-on-the-wire.md).

One convention for every response: an amount is a JSON string holding an exact decimal in the
major unit, with exactly two decimal places and a leading `-` when negative: `"300.00"` euros,
`"14.00"` reward credits, `"21.50"` hours (21 h 30). Never an integer of cents or minutes, never
a JSON number (a client's float would round it). Its unit is said once, in one of two ways:
- a `unit` field in the same object, for rows whose unit varies (a trial balance, a statement, a
  journal posting, a balance): `{"unit": "HOUR", "debit": "21.50", ...}`;
- otherwise the field's name ends with its unit: `fee_paid_eur`, `earned_credits`, `logged_hours`.

Inside the ledger amounts stay integers of the unit's minor unit (cents, hundredths of a credit,
minutes): only api/ converts, with the functions below. tests/api/test_wire_contract.py walks the
OpenAPI document and refuses any other form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from domain.money import Unit

AMOUNT_PATTERN = r"^-?[0-9]{1,16}\.[0-9]{2}$"
AMOUNT_SCHEMA_NAME = "Amount"
UNIT_SUFFIXES = {"_eur": Unit.EUR, "_credits": Unit.CREDIT, "_hours": Unit.HOUR}

# The component every amount field refers to; api/openapi_doc.py adds it to the document once.
AMOUNT_COMPONENT: dict[str, Any] = {
    "type": "string",
    "pattern": AMOUNT_PATTERN,
    "description": (
        "An exact amount in the major unit, as a decimal string with exactly two places: "
        '"300.00" euros, "14.00" reward credits, "21.50" hours (21 h 30). Its unit is the `unit` '
        "field of the same object, or the end of the field's name (`_eur`, `_credits`, `_hours`). "
        "Never a JSON number: parse it as a decimal, not a float."
    ),
    "examples": ["300.00", "-12.50"],
}

# The $ref wrapped in `allOf`: pydantic looks a bare `$ref` up among its own definitions (a KeyError
# for this component, which api/openapi_doc.py adds), and a field's description can sit beside it.
Amount = Annotated[str, WithJsonSchema({"allOf": [{"$ref": f"#/components/schemas/{AMOUNT_SCHEMA_NAME}"}]})]
UnitCode = Literal["EUR", "CREDIT", "HOUR"]


class WireModel(BaseModel):
    """Base of every response model: a key the model does not declare is an error (a test's 500),
    so a projection that grows a field cannot leak it undocumented. Every field is `required` in the
    OpenAPI document, those with a default too: an answer always carries each of its keys (null when
    not set), so a generated client reads `party: string | null`, never `party?: ...` (undefined)."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


_UNIT_CODES = frozenset(u.value for u in Unit)


def amount(minor: int, unit: Unit | str = Unit.EUR) -> str:
    """Integer minor units of `unit` as the wire's decimal string: 30000 EUR -> "300.00",
    1290 HOUR (minutes) -> "21.50", -5 CREDIT -> "-0.05"."""
    # Raised, not asserted: under `python -O` an assert vanishes and a wrong amount would be written.
    # Checked without building a Unit (a statement page formats hundreds of amounts).
    if type(minor) is not int:  # noqa: E721 (exactly int: a bool is an int subclass)
        raise ValueError(f"an amount is an integer of minor units, got {minor!r}")
    if (unit.value if isinstance(unit, Unit) else unit) not in _UNIT_CODES:
        raise ValueError(f"{unit!r} is not a unit")
    if unit == Unit.HOUR:
        # Hours arrive with at most two decimals that make whole minutes (domain/money.to_minor):
        # multiples of 0.05 h, 3 minutes. Sums and differences keep that, so two places are exact.
        if minor % 3 != 0:
            raise ValueError(f"{minor} minutes is not a whole number of hundredths of an hour")
        return _hundredths(minor * 5 // 3)
    return _hundredths(minor)  # cents, hundredths of a credit


def amounts_in(unit: Unit | str) -> Callable[[int], str]:
    """`amount(·, unit)` for many amounts of one unit (a statement page formats three a line): the
    unit checked once, not per amount; an EUR or CREDIT amount is then only checked an integer."""
    if (unit.value if isinstance(unit, Unit) else unit) not in _UNIT_CODES:
        raise ValueError(f"{unit!r} is not a unit")
    if unit == Unit.HOUR:
        return lambda minor: amount(minor, Unit.HOUR)
    return _checked_hundredths


def _checked_hundredths(minor: int) -> str:
    if type(minor) is not int:  # noqa: E721 (as in amount)
        raise ValueError(f"an amount is an integer of minor units, got {minor!r}")
    return _hundredths(minor)


def _hundredths(hundredths: int) -> str:
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


def eur(cents: int | None) -> str | None:
    """Cents as an `_eur` field; None stays None (an amount not set)."""
    return None if cents is None else amount(cents, Unit.EUR)


def credits(hundredths: int | None) -> str | None:
    return None if hundredths is None else amount(hundredths, Unit.CREDIT)


def hours(minutes: int | None) -> str | None:
    return None if minutes is None else amount(minutes, Unit.HOUR)


def rename_minor_fields(row: dict[str, Any], *, minor_unit: Unit | str | None = None) -> dict[str, Any]:
    """A projection's row with its integer amounts in the wire's form: `x_cents` -> `x_eur`,
    `x_minutes` -> `x_hours`, and `x_minor` -> `x_credits` (or, given `minor_unit`, that unit's
    suffix). Other keys are kept as they are. For rows whose amount keys follow the projections'
    naming; a row with plain `debit`/`balance` columns converts them itself beside its `unit`."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key.endswith("_cents"):
            out[key.removesuffix("_cents") + "_eur"] = eur(value)
        elif key.endswith("_minutes"):
            out[key.removesuffix("_minutes") + "_hours"] = hours(value)
        elif key.endswith("_minor"):
            unit = Unit(minor_unit) if minor_unit is not None else Unit.CREDIT
            suffix = next(s for s, u in UNIT_SUFFIXES.items() if u is unit)
            out[key.removesuffix("_minor") + suffix] = None if value is None else amount(value, unit)
        else:
            out[key] = value
    return out
