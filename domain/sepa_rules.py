"""SEPA direct debit, the rules that are not the cooperative's: account and bank identifiers, the
creditor identifier, mandate references, the interbank calendar, the lead time and return reasons.

IBANs and BICs are checked with schwifty (a validator shipping the registry of countries' formats
and banks: no I/O). The creditor identifier (ICS) is checked here: its check digits are ISO 7064
mod 97-10 over the national identifier, the country code and "00", the creditor business code
(positions 5 to 7) left out, as the EPC's "Creditor Identifier" guidance says.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from domain.errors import InvalidCommand

# The SEPA rulebook (core scheme, since November 2016): the creditor's bank must receive a
# collection at least one TARGET business day before its due date; banks ask their creditors for
# D-2 so the file is on time whatever the hour it is sent. We keep the bank's rule: the due date
# is at least two TARGET business days after the day the batch is issued, and a business day itself.
LEAD_BUSINESS_DAYS = 2
# A mandate not used for 36 months after its last collection (or its signature, never used) lapses:
# the creditor must have a new one signed (SEPA core rulebook, section 4.7.1 "mandate expiry").
MANDATE_LAPSE_MONTHS = 36
SEQUENCES = ("first", "recurring")  # FRST, then RCUR once a collection went through
SEQUENCE_CODES = {"first": "FRST", "recurring": "RCUR"}
# What a mandate reference (RUM) and an end-to-end id may hold: the SEPA character set (the Latin
# characters EPC guidance allows in identifiers), 1 to 35 characters, not starting with "/" and
# without "//" (banks read those as field separators).
_SEPA_ID = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]{1,35}$")
_CREDITOR_ID = re.compile(r"^([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")
_MAX_LOOKAHEAD_DAYS = 30  # a bound for the calendar walk: no run of holidays is that long

# ISO 20022 ExternalReturnReason1Code: the reasons banks give for an R-transaction (return, reject,
# refund) of a direct debit, the common ones. MD01 means there is no valid mandate: the mandate is
# revoked by the return.
RETURN_REASONS: dict[str, str] = {
    "AC01": "Identifiant de compte incorrect (IBAN invalide)",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué, ou prélèvements bloqués par le débiteur",
    "AC13": "Compte de débiteur non autorisé (compte de particulier requis pour B2B)",
    "AG01": "Opération interdite sur ce type de compte",
    "AG02": "Code opération ou séquence invalide",
    "AM04": "Provision insuffisante",
    "AM05": "Opération en double",
    "BE05": "Créancier inconnu du débiteur",
    "CNOR": "Banque du créancier non joignable",
    "DNOR": "Banque du débiteur non joignable",
    "FF01": "Fichier ou format invalide",
    "MD01": "Pas de mandat valide",
    "MD02": "Données du mandat manquantes ou incorrectes",
    "MD06": "Remboursement demandé par le débiteur",
    "MD07": "Débiteur décédé",
    "MS02": "Refus du débiteur (raison non communiquée)",
    "MS03": "Raison non communiquée par la banque",
    "RC01": "BIC incorrect",
    "RR01": "Identification réglementaire du débiteur manquante",
    "RR02": "Nom ou adresse du débiteur manquant",
    "RR03": "Nom ou adresse du créancier manquant",
    "RR04": "Raison réglementaire",
    "SL01": "Service spécifique de la banque du débiteur (liste blanche ou noire)",
}
MANDATE_GONE = "MD01"


def iban(value: Any, field: str = "iban") -> str:
    """The IBAN, compact and upper case, or a refusal naming what is wrong (checksum, length,
    country format)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(field, "iban", f"must be an IBAN, got {value!r}")
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise InvalidCommand(field, "iban", f"{value!r} is not a valid IBAN: {exc}") from None


def bic(value: Any, account: str, field: str = "bic") -> str:
    """The BIC (8 or 11 characters), consistent with the IBAN `account`: the same country and, when
    schwifty's bank registry knows the IBAN's bank, that bank's institution code."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(field, "bic", f"must be a BIC, got {value!r}")
    try:
        code = BIC(value.strip().upper())
    except SchwiftyException as exc:
        raise InvalidCommand(field, "bic", f"{value!r} is not a valid BIC: {exc}") from None
    known = IBAN(account)
    if code.country_code != known.country_code:
        raise InvalidCommand(
            field, "bic_matches_iban", f"BIC {code} is of country {code.country_code}, the IBAN of {known.country_code}"
        )
    expected = known.bic
    if expected is not None and str(expected)[:4] != str(code)[:4]:
        raise InvalidCommand(
            field, "bic_matches_iban", f"BIC {code} is not of the IBAN's bank ({known.bank_code}: {str(expected)[:8]}...)"
        )
    return str(code)


def creditor_id(value: Any, field: str = "creditor_id") -> str:
    """A SEPA creditor identifier (ICS in France): country, check digits, business code, national id."""
    match = _CREDITOR_ID.match(value.replace(" ", "").upper()) if isinstance(value, str) else None
    if match is None:
        raise InvalidCommand(field, "creditor_id", f"{value!r} is not a creditor identifier such as FR12ZZZ123456")
    country, check, _business, national = match.groups()
    if check != creditor_check_digits(country, national):
        raise InvalidCommand(field, "creditor_id", f"{value!r}: check digits {check} are wrong")
    return match.group(0)


def creditor_check_digits(country: str, national: str) -> str:
    """ISO 7064 mod 97-10 over national id + country + "00", letters as 10..35."""
    digits = "".join(str(int(ch, 36)) for ch in national + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def sepa_id(value: Any, field: str) -> str:
    """A mandate reference or an end-to-end id: 1 to 35 characters of the SEPA set."""
    if not isinstance(value, str) or not _SEPA_ID.match(value) or value.startswith("/") or "//" in value:
        raise InvalidCommand(
            field, "sepa_id", f"{value!r} must be 1 to 35 letters, digits or / - ? : ( ) . , ' + (no leading / nor //)"
        )
    if value != value.strip():
        raise InvalidCommand(field, "sepa_id", f"{value!r} must not start or end with a space")
    return value


def sequence(value: Any, field: str = "sequence") -> str:
    if value not in SEQUENCES:
        raise InvalidCommand(field, "sequence", f"{value!r} is not one of {SEQUENCES}")
    return str(value)


def return_reason(value: Any, field: str = "reason_code") -> str:
    if value not in RETURN_REASONS:
        raise InvalidCommand(field, "return_reason", f"{value!r} is not a known return reason code ({', '.join(RETURN_REASONS)})")
    return str(value)


# ---------------------------------------------------------------- the TARGET calendar


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm of Meeus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def is_business_day(day: date) -> bool:
    """A TARGET2 business day: Monday to Friday, except 1 January, Good Friday, Easter Monday,
    1 May, 25 and 26 December (the days SEPA interbank settlement is closed)."""
    if day.weekday() >= 5 or (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return False
    easter = _easter(day.year)
    return day not in (easter - timedelta(days=2), easter + timedelta(days=1))


def earliest_collection(today: date) -> date:
    """The first due date a batch issued `today` may have: LEAD_BUSINESS_DAYS business days later."""
    day, counted = today, 0
    for _ in range(_MAX_LOOKAHEAD_DAYS):
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
            if counted == LEAD_BUSINESS_DAYS:
                return day
    raise AssertionError(f"no {LEAD_BUSINESS_DAYS} business days within {_MAX_LOOKAHEAD_DAYS} days of {today}")


def lapses_on(last_used: date) -> date:
    """The day a mandate last used (or signed) on `last_used` is no longer valid."""
    month = last_used.month - 1 + MANDATE_LAPSE_MONTHS
    year, month = last_used.year + month // 12, month % 12 + 1
    for day in range(last_used.day, 0, -1):  # 29 February and 31sts fall back to the month's last day
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def mask_iban(value: str | None) -> str | None:
    """An IBAN as lists show it: country and check digits, then the last four characters."""
    if not value:
        return None
    return f"{value[:4]} **** {value[-4:]}"
