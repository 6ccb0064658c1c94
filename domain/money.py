"""Units and amounts. Decimal at the edges, integer minor units inside; never a float."""

from __future__ import annotations

import typing
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any

from domain.errors import InvalidCommand

# Bound on any single amount, in minor units: 10^15 cents is ten thousand billion euros.
# It keeps sums far inside a signed 64-bit column even over millions of postings.
MAX_AMOUNT_MINOR = 10**15
MAX_RATE_CHARS = 40
MAX_RATE_DENOMINATOR = 10**12  # a rate finer than a millionth of a millionth is a typing mistake


class Unit(str, Enum):
    """A unit of account. Each has its minor unit: amounts are stored as integers of it."""

    EUR = "EUR"  # minor unit: cent
    CREDIT = "CREDIT"  # sensor reward credits; minor unit: 1/100 credit
    HOUR = "HOUR"  # shared-employee time; minor unit: minute

    @property
    def minor_per_major(self) -> int:
        return 60 if self is Unit.HOUR else 100

    def to_minor(self, amount: object, field: str, *, allow_zero: bool = False) -> int:
        """Converts an exact major-unit number to integer minor units, refusing what cannot be exact."""
        return to_minor(amount, self, field, allow_zero=allow_zero)

    def format(self, amount_minor: int) -> str:
        return format_minor(amount_minor, self)


EUR = Unit.EUR.value  # the unit as a posting names it: [account, party, "EUR", cents]


# ---------------------------------------------------------------- numbers as a command receives them
#
# A command field holding a number accepts an exact decimal written as text ("12.50", "0.05"), an
# int, or a Decimal (the JSON reader parses numbers as Decimal; a float never gets that far). Its
# decider reads it (parse_decimal, to_minor, parse_rate...), refusing anything else, a float or a
# bool included, with an error that names the field and the rule. So the readers of commands take
# such a field as sent and leave the check to the decider: pydantic (ledger/commands.py) asks
# AS_SENT for the field's schema and is told "any", the API (api/schemas.py) asks clients for a
# decimal string, and idempotency fingerprints compare it as a number ("12.5" is "12.50").
# Each alias names the unit the decider reads the number in; the value itself is not converted.


class _AsSent:
    """Marks a number field the decider checks: readers take it as sent (see above). `kind` tells
    readers that document fields (the API) what is written there: an amount, a rate..."""

    def __init__(self, kind: str = "decimal") -> None:
        self.kind = kind

    def __get_pydantic_core_schema__(self, _source: object, _handler: object) -> dict[str, str]:
        return {"type": "any"}  # pydantic's protocol, in plain data: domain/ imports no pydantic

    def __repr__(self) -> str:
        return f"AS_SENT({self.kind})"


AS_SENT = _AsSent()
NumberIn = Decimal | str | int
EurosIn = Annotated[NumberIn, _AsSent("amount")]  # euros, at most 2 decimals (to_minor EUR gives cents); "12.50"
CreditsIn = Annotated[NumberIn, _AsSent("amount")]  # reward credits, at most 2 decimals (to_minor CREDIT: hundredths)
HoursIn = Annotated[NumberIn, _AsSent("hours")]  # hours in whole minutes (to_minor HOUR: minutes); "7.5" is 7 h 30
AmountIn = Annotated[NumberIn, _AsSent("amount")]  # in the major unit of a unit given beside it: euros, credits or hours
RateIn = Annotated[NumberIn, _AsSent("rate")]  # a share from 0 to 1, decimal or fraction (parse_rate): "0.15", "3/20"
PercentIn = Annotated[NumberIn, _AsSent("percent")]  # a percentage, decimal or fraction: "5", "2.5", "10/3"
PerUnitIn = Annotated[NumberIn, AS_SENT]  # a positive decimal per unit: credits per reading, euros per credit


def number_kind(hint: object) -> str | None:
    """What a number field holds ("amount", "rate", "percent", "hours", "decimal"), read from its
    hint with the Annotated extras kept (typing.get_type_hints(..., include_extras=True)); None for
    a field that is not one of the aliases above."""
    for arg in (hint, *typing.get_args(hint)):  # Optional[...] wraps the Annotated one level down
        for extra in getattr(arg, "__metadata__", ()):
            if isinstance(extra, _AsSent):
                return extra.kind
    return None


def is_number_in(hint: object) -> bool:
    """Whether a command field's type hint (as typing.get_type_hints gives it, Annotated stripped)
    is one of the aliases above, optional or not; or Any, as such fields were typed before them
    (FederateCooperatives.share_value still is)."""
    return hint is Any or hint == NumberIn or hint == NumberIn | None


def parse_decimal(value: object, field: str) -> Decimal:
    """Accepts Decimal, int or a decimal string. Refuses floats: they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidCommand(field, "decimal", 'must be an exact decimal (a string such as "12.50"), not a float')
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise InvalidCommand(field, "decimal", f"{value!r} is not a decimal number") from None
    else:
        raise InvalidCommand(field, "decimal", f"must be a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidCommand(field, "decimal", "must be a finite number")
    return result


def to_minor(value: object, unit: Unit, field: str, *, allow_zero: bool = False) -> int:
    """An exact number of `unit` (a Decimal, an int or decimal text: see NumberIn) in its minor units."""
    amount = parse_decimal(value, field)
    if amount < 0 or (amount == 0 and not allow_zero):
        rule = "non_negative" if allow_zero else "positive"  # both in the rule catalogue
        raise InvalidCommand(field, rule, f"must be {'zero or more' if allow_zero else 'more than zero'}, got {amount}")
    if amount.is_zero():
        return 0  # also turns -0 into 0
    # Decimal arithmetic rounds to 28 significant digits and overflows past 10^999999: check
    # the size and the decimal places on the digits themselves before multiplying. Every unit
    # needs at most 2 places (a whole number of minutes in decimal hours is a multiple of 0.05).
    _sign, digits, exponent = amount.as_tuple()
    places = -exponent - (len(digits) - len("".join(map(str, digits)).rstrip("0")))  # 1.230 has 2
    if amount.adjusted() > 20:
        raise InvalidCommand(field, "maximum", f"{amount} {unit.value} exceeds the maximum amount")
    minor = amount * unit.minor_per_major  # exact when places <= 2: at most 24 digits
    if places > 2 or minor != minor.to_integral_value():
        if unit is Unit.HOUR:
            detail = "whole minutes"
        else:
            detail = "at most 2 decimal places"
        raise InvalidCommand(field, "precision", f"{amount} {unit.value} is over-precise: {detail}")
    result = int(minor)
    if result > MAX_AMOUNT_MINOR:
        raise InvalidCommand(field, "maximum", f"{amount} {unit.value} exceeds the maximum amount")
    return result


def format_minor(amount_minor: int, unit: Unit) -> str:
    """Renders minor units as an exact major-unit decimal string, e.g. 12345 EUR -> '123.45'."""
    if unit is Unit.HOUR:
        sign = "-" if amount_minor < 0 else ""
        hours, minutes = divmod(abs(amount_minor), 60)
        return f"{sign}{hours}:{minutes:02d}"
    return str(Decimal(amount_minor).scaleb(-2).quantize(Decimal("0.01")))


def minor_to_decimal(amount_minor: int, unit: Unit) -> Decimal:
    return Decimal(amount_minor) / unit.minor_per_major


def parse_rate(value: Any, field: str) -> Fraction:
    """A share between 0 and 1 as an exact fraction: Decimal, int, "0.035" or "7/200"; never a float."""
    if isinstance(value, str) and "/" in value:
        if len(value) > MAX_RATE_CHARS:
            raise InvalidCommand(field, "rate", f"a rate is at most {MAX_RATE_CHARS} characters")
        try:
            rate = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise InvalidCommand(field, "rate", f"{value!r} is not a rate such as 0.05 or 1/20") from None
    else:
        number = parse_decimal(value, field)  # refuses floats with rule "decimal"
        # Bound the work before building the fraction: 1E-999999 would make a huge denominator.
        if not number.is_zero() and (number.adjusted() > 1 or number.as_tuple().exponent < -30):  # type: ignore[operator]
            raise InvalidCommand(field, "rate_range", f"a rate is between 0 and 1 (e.g. 0.05 for 5%), got {value}")
        rate = Fraction(0) if number.is_zero() else Fraction(number)
    if not 0 <= rate <= 1:
        raise InvalidCommand(field, "rate_range", f"a rate is between 0 and 1 (e.g. 0.05 for 5%), got {value}")
    if rate.denominator > MAX_RATE_DENOMINATOR:
        raise InvalidCommand(field, "rate_range", f"{value} is finer than a rate needs to be")
    return rate


def share_half_up(amount_cents: int, rate: Fraction) -> int:
    """amount × rate in whole cents, rounded to the nearest cent, halves up (amount >= 0)."""
    assert amount_cents >= 0 and 0 <= rate <= 1
    quotient, remainder = divmod(amount_cents * rate.numerator, rate.denominator)
    return quotient + (1 if 2 * remainder >= rate.denominator else 0)
