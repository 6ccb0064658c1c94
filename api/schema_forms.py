"""The forms the deciders check, written as JSON schema patterns and bounds for the OpenAPI
document, so clients and request generators know them. The document only says them: the decider
still judges every value, with its own rule and message (domain/rules.py and the deciders)."""

from __future__ import annotations

from domain.accounts import ACCOUNT_NUMBER
from domain.certifications import MAX_RENEWAL_WINDOW_DAYS
from domain.rules import EARLIEST_DATE, IDENTIFIER, LATEST_DATE
from domain.statutes import MAX_COLLEGES, MAX_FEE_BRACKETS

# What str.strip() removes (every character for which str.isspace() holds), written out so a
# JavaScript client reads the same class as Python does (their \s differ).
_SPACE_CHARS = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE = f"[{_SPACE_CHARS}]"
# Neither a space nor a control character: what a required text's first character after the strip is.
_VISIBLE = rf"[^\x00-\x1f{_SPACE_CHARS}]"
# domain.rules.text: stripped of spaces, not empty, and then no control character (below U+0020).
REQUIRED_TEXT = rf"^{_SPACE}*{_VISIBLE}[^\x00-\x1f]*{_SPACE}*$"
# domain.rules.text(required=False): the same, or nothing but spaces.
OPTIONAL_TEXT = rf"^{_SPACE}*({_VISIBLE}[^\x00-\x1f]*)?{_SPACE}*$"
# The objects whose text fields may be empty (a bank statement's line: domain.bank).
OPTIONAL_TEXT_OBJECTS = frozenset({"BankLineIn"})

# domain.rules.a_date: 1901-01-01 .. 2199-12-31 (the day itself is format date's to say).
assert (EARLIEST_DATE.isoformat(), LATEST_DATE.isoformat()) == ("1901-01-01", "2199-12-31")
COMMAND_DATE = r"^(190[1-9]|19[1-9][0-9]|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _rate_fractions() -> str:
    """Fractions from 0 to 1 a regex can say: 0/d, n/d with single digits n <= d, and a numerator
    with fewer digits than its denominator. The decider also takes 15/20 (same length, at most 1):
    the document is stricter there, which keeps generators on values the decider takes."""
    alternatives = ["0/[1-9][0-9]{0,8}", *(f"{n}/[{n}-9]" for n in range(1, 10))]
    alternatives += [f"[1-9][0-9]{{0,{k - 1}}}/[1-9][0-9]{{{k},8}}" for k in range(1, 9)]
    return "|".join(alternatives)


# domain.money.parse_rate: a share from 0 to 1, as a decimal or a fraction.
RATE = rf"^(0{{1,18}}(\.[0-9]{{1,12}})?|0{{0,17}}1(\.0{{1,12}})?|{_rate_fractions()})$"


def _places_not_all_zero(most: int) -> str:
    """1 to `most` decimal places, not all of them zeros (a number below 1 that is more than 0)."""
    return "|".join(f"0{{{z}}}[1-9][0-9]{{0,{most - 1 - z}}}" for z in range(most))


def _contribution_percent() -> str:
    """domain.contributions: a percentage more than 0 and at most 100, "5", "2.5" (at most 6
    places) or "10/3" (at most 6 digits each side). A fraction is said when its numerator has at
    most one digit more than its denominator (so it is at most 100 times it): the decider also takes
    a few more (300/3), the document stays on values it takes."""
    places = _places_not_all_zero(6)
    decimals = rf"(0{{0,2}}[1-9]|0?[1-9][0-9])(\.[0-9]{{1,6}})?|100(\.0{{1,6}})?|0{{1,3}}\.({places})"
    fractions = "|".join(f"[1-9][0-9]{{0,{min(digits, 5)}}}/[1-9][0-9]{{{digits - 1}}}" for digits in range(1, 7))
    return rf"^({decimals}|{fractions})$"


CONTRIBUTION_PERCENT = _contribution_percent()
# domain.sensors: credits per reading, more than 0 and at most 1000, in at most 6 places.
CREDIT_RATE = rf"^0{{0,15}}([1-9][0-9]{{0,2}}(\.[0-9]{{1,6}})?|1000(\.0{{1,6}})?|0?\.({_places_not_all_zero(6)}))$"

# The form of an IBAN (country, check digits, 11 to 30 letters or digits) and of a SEPA creditor
# identifier (domain.sepa_rules): their check digits the decider alone can say.
IBAN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
CREDITOR_ID = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$"
# A resolution's own majority, from 1/2 to 1 (domain.governance, rules fraction and majority): a
# fraction such as 3/4 (its numerator against its denominator the decider judges), or a decimal.
THRESHOLD = r"^([1-9][0-9]{0,8}/[1-9][0-9]{0,8}|0?\.[5-9][0-9]{0,11}|1(\.0{1,12})?)$"

IDENTIFIER_SCHEMA = {"pattern": IDENTIFIER.pattern, "maxLength": 64}

# What the document says of a command field, by field name (any command) or by command and field.
FORMS_BY_FIELD: dict[str, dict[str, object]] = {
    "iban": {"pattern": IBAN},
    "creditor_id": {"pattern": CREDITOR_ID},
    "threshold": {"pattern": THRESHOLD},
    # Statutes name at least one college and one fee bracket (domain.statutes, rules required, max_items).
    "colleges": {"minItems": 1, "maxItems": MAX_COLLEGES},
    "fee_schedule": {"minItems": 1, "maxItems": MAX_FEE_BRACKETS},
}
FORMS_BY_COMMAND_FIELD: dict[tuple[str, str], dict[str, object]] = {
    # A gift earmarked for a project names it by an identifier (domain.donations, rule identifier);
    # a grant application's project is a title (text).
    **{
        (command, "project"): IDENTIFIER_SCHEMA
        for command in ("RecordDonation", "RecordCrowdfundingPayout", "UseEarmarkedDonation")
    },
    ("AddAccount", "number"): {"pattern": ACCOUNT_NUMBER.pattern},
    ("SetCertificationTerms", "renewal_window_days"): {"minimum": 1, "maximum": MAX_RENEWAL_WINDOW_DAYS},
}


def comma_list(item: str) -> str:
    """A comma-separated list of `item`s as a query parameter holds it (api/routes_feed.py's _csv):
    each value stripped of spaces, and empty ones skipped."""
    one = rf"{_SPACE}*({item})?{_SPACE}*"
    return rf"^{one}(,{one})*$"


# An account number in the feed's ?account= filter: letters or digits, at most 20 (an auxiliary
# account may carry letters).
FEED_ACCOUNT = "[A-Za-z0-9]{1,20}"
# A webhook's URL (api/webhook_endpoints.py): http:// or https://, a host name, a port from 0 to
# 65535 if any, then anything printable. A host name
# is labels of 1 to 63 letters, digits or '-', between dots.
_PORT = "[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
WEBHOOK_URL = rf"^https?://{_LABEL}(\.{_LABEL})*\.?(:({_PORT}))?([/?#][^\x00-\x1f\x7f]*)?$"
