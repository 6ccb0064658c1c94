"""Numbers for people: French by default (1 234,56), English on request (1,234.56)."""

from __future__ import annotations

from domain.money import Unit, format_minor


THIN_SPACE = "\u202f"  # French thousands separator (espace fine insécable)


def amount(amount_minor: int, unit: str = "EUR", lang: str = "fr") -> str:
    u = Unit(unit)
    if u is Unit.HOUR:
        return format_minor(amount_minor, u)
    text = format_minor(abs(amount_minor), u)
    whole, _, cents = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sign = "-" if amount_minor < 0 else ""
    if lang == "en":
        return f"{sign}{','.join(groups)}.{cents}"
    return f"{sign}{THIN_SPACE.join(groups)},{cents}"
