"""Money at the edges: exact Decimals in, integer minor units inside, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import InvalidCommand
from domain.money import MAX_AMOUNT_MINOR, Unit, format_minor, minor_to_decimal, parse_decimal, to_minor


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (Decimal("12.34"), Unit.EUR, 1234),
        (Decimal("12.5"), Unit.EUR, 1250),
        (Decimal("1.230"), Unit.EUR, 123),  # a trailing zero is not extra precision
        (Decimal("0.01"), Unit.EUR, 1),
        (Decimal("1E+2"), Unit.EUR, 10000),
        ("250.50", Unit.EUR, 25050),  # decimal strings are exact too
        (7, Unit.EUR, 700),  # and so are ints
        (Decimal("3.07"), Unit.CREDIT, 307),
        (Decimal("1.5"), Unit.HOUR, 90),  # minutes
        (Decimal("0.05"), Unit.HOUR, 3),  # 3 minutes
        (Decimal("7.75"), Unit.HOUR, 465),
    ],
)
def test_exact_amounts_convert_to_minor_units(amount, unit, expected):
    assert to_minor(amount, unit, "amount") == expected
    assert isinstance(to_minor(amount, unit, "amount"), int)


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan"), True])
def test_floats_and_bools_are_refused(value):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(value, Unit.EUR, "amount")
    assert (exc.value.field, exc.value.rule) == ("amount", "decimal")


@pytest.mark.parametrize("value", ["abc", "", "1,50", None, [1]])
def test_non_numbers_are_refused(value):
    with pytest.raises(InvalidCommand) as exc:
        parse_decimal(value, "price")
    assert (exc.value.field, exc.value.rule) == ("price", "decimal")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_decimals_are_refused(value):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(Decimal(value), Unit.EUR, "amount")
    assert (exc.value.field, exc.value.rule) == ("amount", "decimal")


@pytest.mark.parametrize(
    ("amount", "unit"),
    [
        (Decimal("10.001"), Unit.EUR),
        (Decimal("0.009"), Unit.EUR),
        (Decimal("1E-31"), Unit.EUR),
        (Decimal("0.001"), Unit.CREDIT),
        (Decimal("0.01"), Unit.HOUR),  # 0.6 minute
        (Decimal("1.23"), Unit.HOUR),  # 73.8 minutes
        # 29 significant digits: multiplying in the default 28-digit context would round it
        # to exactly 100 cents and hide the extra precision.
        (Decimal("1.0000000000000000000000000001"), Unit.EUR),
        (Decimal("99999999999.99999999999999999"), Unit.EUR),
    ],
)
def test_over_precise_amounts_are_refused(amount, unit):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(amount, unit, "amount")
    assert (exc.value.field, exc.value.rule) == ("amount", "precision")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.00"), Decimal("-0"), Decimal("-0.00")])
def test_zero_is_refused_unless_allowed_and_minus_zero_becomes_zero(amount):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(amount, Unit.EUR, "amount")
    assert exc.value.rule == "positive"
    assert to_minor(amount, Unit.EUR, "amount", allow_zero=True) == 0
    assert format_minor(to_minor(amount, Unit.EUR, "amount", allow_zero=True), Unit.EUR) == "0.00"


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("-100"), Decimal("-1E+999999999")])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(amount, Unit.EUR, "amount")
    assert (exc.value.field, exc.value.rule) == ("amount", "positive")
    with pytest.raises(InvalidCommand) as exc:
        to_minor(amount, Unit.EUR, "amount", allow_zero=True)
    assert exc.value.rule == "non_negative"


def test_maximum_is_inclusive_at_ten_thousand_billion_euros():
    assert MAX_AMOUNT_MINOR == 10**15
    assert to_minor(Decimal("10000000000000"), Unit.EUR, "amount") == 10**15
    assert to_minor(Decimal("9999999999999.99"), Unit.EUR, "amount") == 10**15 - 1


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("10000000000000.01"),
        Decimal("1E+30"),
        Decimal("123456789012345678901234567890123456789"),
        # Past Decimal's exponent limit: arithmetic would raise decimal.Overflow, not a DomainError.
        Decimal("1E+999999999"),
    ],
)
def test_huge_amounts_are_refused_as_a_domain_error(amount):
    with pytest.raises(InvalidCommand) as exc:
        to_minor(amount, Unit.EUR, "amount")
    assert (exc.value.field, exc.value.rule) == ("amount", "maximum")


@pytest.mark.parametrize(
    ("minor", "unit", "text"),
    [
        (12345, Unit.EUR, "123.45"),
        (5, Unit.EUR, "0.05"),
        (-150, Unit.EUR, "-1.50"),
        (0, Unit.CREDIT, "0.00"),
        (90, Unit.HOUR, "1:30"),
        (-61, Unit.HOUR, "-1:01"),
    ],
)
def test_format_minor(minor, unit, text):
    assert format_minor(minor, unit) == text


@pytest.mark.parametrize("text", ["0.01", "12.34", "250.50", "9999999999999.99", "1.5"])
def test_decimal_round_trip_is_exact(text):
    minor = to_minor(Decimal(text), Unit.EUR, "amount")
    assert minor_to_decimal(minor, Unit.EUR) == Decimal(text)
