"""Numbers, money, percentages and dates for people, by Babel (CLDR): French by default
(1 234,56 ; 40,00 % ; 31 déc. 2025), English on request (1,234.56 ; 40.00% ; Dec 31, 2025).

The CLI tables, the API's human-readable texts and the observatory use these, so one locale
rule holds everywhere. Money is never a float: amounts reach Babel as exact Decimals.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from domain.money import Unit, format_minor

LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, "fr_FR"))


@cache
def _percent_pattern(lang: str, digits: int) -> str:
    # The locale's own pattern ("#,##0 %" in French, "#,##0%" in English) with fixed decimals.
    pattern = _locale(lang).percent_formats[None].pattern
    return re.sub(r"0(?=[^0]*$)", "0." + "0" * digits, pattern, count=1) if digits else pattern


def amount(amount_minor: int, unit: str = "EUR", lang: str = "fr") -> str:
    """Minor units as a grouped decimal (EUR cents, CREDIT hundredths); HOUR minutes as h:mm."""
    u = Unit(unit)
    if u is Unit.HOUR:
        return format_minor(amount_minor, u)
    return number(Decimal(amount_minor).scaleb(-2), lang, digits=2)


def money(amount_minor: int, lang: str = "fr", unit: str = "EUR") -> str:
    """An amount with its unit, in the locale's order: 150,00 € / €150.00; other units as '12,50 CREDIT'."""
    if unit == "EUR":
        from babel.numbers import format_currency

        return format_currency(Decimal(amount_minor).scaleb(-2), "EUR", locale=_locale(lang))
    return f"{amount(amount_minor, unit, lang)}\u00a0{unit}"


def number(value: Decimal | int, lang: str = "fr", digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale(lang), decimal_quantization=True)


def percent(share: Fraction | Decimal | str | None, lang: str = "fr", digits: int = 2) -> str:
    """A share of 1 (Fraction('2/5'), '2/5', '0.4') as a percentage: 40,00 % / 40.00%."""
    if share is None:
        return "—"
    value = Fraction(share) if not isinstance(share, Fraction) else share
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format_percent(exact, format=_percent_pattern(lang, digits), locale=_locale(lang))


def percent_points(points: Fraction | Decimal | str | None, lang: str = "fr", digits: int = 2) -> str:
    """A weight already in percentage points ('100/3' meaning 33.33 %)."""
    if points is None:
        return "—"
    return percent(Fraction(points) / 100, lang, digits)


def day(value: date | str | None, lang: str = "fr", length: str = "medium") -> str:
    """A date for a sentence, 31 déc. 2025 / 31 Dec 2025 ("medium"), or a column, 31/12/2025 ("short")."""
    if value is None:
        return "—"
    when = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(when, format="dd/MM/y" if length == "short" else length, locale=_locale(lang))


def _affixes(pattern: str) -> list[str]:
    """A CLDR pattern's text before and after its number: "#,##0.00\u00a0¤" -> ["", "\u00a0¤"]."""
    match = re.search(r"[#0,.]+", pattern)
    assert match is not None, pattern
    return [pattern[: match.start()], pattern[match.end() :]]


@cache
def browser_locale(lang: str) -> dict[str, object]:
    """What the observatory page needs to format as Babel does here: symbols, affixes, month names."""
    from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

    locale = _locale(lang)
    return {
        "decimal": get_decimal_symbol(locale),
        "group": get_group_symbol(locale),
        "minus": get_minus_sign_symbol(locale),
        "euro": [a.replace("¤", "€") for a in _affixes(locale.currency_formats["standard"].pattern)],
        "percent": _affixes(locale.percent_formats[None].pattern),
        "months": [locale.months["format"]["abbreviated"][m] for m in range(1, 13)],
    }
