"""Request bodies built from the domain's command dataclasses, so the API can never drift from
the commands: one model per command, `coop` taken from the path, amounts as decimal strings."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from api.answers.commands import CommandReport
from api.schema_forms import (
    COMMAND_DATE,
    CONTRIBUTION_PERCENT,
    CREDIT_RATE,
    FORMS_BY_COMMAND_FIELD,
    FORMS_BY_FIELD,
    IDENTIFIER_SCHEMA,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT_OBJECTS,
    RATE,
    REQUIRED_TEXT,
)
from api.wire import WireModel
from domain.advertising import ADVERTISER_KINDS, PERIOD_KINDS
from domain.bank_links import MAX_LINKED_ENTRIES
from domain.donations import DONOR_KINDS
from domain.donations import METHODS as DONATION_METHODS
from domain.governance import ASSEMBLIES
from domain.membership_state import MemberKind
from domain.money import MAX_AMOUNT_MINOR, is_number_in, number_kind
from domain.subscriptions import PERIODS as PLAN_PERIODS
from domain.subscriptions import PLAN_KINDS
from domain.tax_receipts import BASES as RECEIPT_BASES

# Numbers travel as exact decimal strings, or as JSON numbers: the command routes read a JSON number
# with a fraction as the Decimal of its digits (api/exact_json.py), never as a binary float, so 0.1
# is 0.1. Each kind has its own form; the decider checks the value (domain/money.py).
_DECIMAL = r"^[0-9]{1,18}(\.[0-9]{1,12})?$"
# Every unit needs at most 2 places, and an amount is at most MAX_AMOUNT_MINOR minor units
# (domain/money.py): the decider refuses more (rules precision, maximum).
_AMOUNT = (r"^[0-9]{1,13}(\.[0-9]{1,2})?$", MAX_AMOUNT_MINOR // 100)
_DECIMAL_WORDS = 'must be an exact decimal written with a point, e.g. "12.50" or 12.50 (no comma, no spaces)'
_DECIMAL_OR_FRACTION = r"^([0-9]{1,18}(\.[0-9]{1,12})?|[0-9]{1,9}/[1-9][0-9]{0,8})$"


def _number(
    pattern: str,
    rule: str,
    message: str,
    description: str,
    examples: list[str],
    documented: tuple[str, int] | None = None,
    least: int = 0,
) -> Any:
    """A number field's type: a string of that form, or a whole JSON number (0 to 10^18), passed on
    as sent; anything else is one error with `rule` and `message` in words. `documented`: a stricter
    pattern and maximum for the document, where the decider judges the rest (an amount's places and
    size: rules precision and maximum), so clients and generators know them; `least`: the smallest
    whole number the document says (a rate that must be more than 0)."""
    string_pattern, maximum = documented or (pattern, 10**18)
    regex = re.compile(pattern)

    def check(value: Any) -> Any:
        # A JSON number reaches here as an int, or as the Decimal of its digits (api/exact_json.py).
        text = format(value, "f") if isinstance(value, Decimal) and value.is_finite() else value
        if isinstance(value, bool) or not (
            (isinstance(value, int) and 0 <= value <= 10**18) or (isinstance(text, str) and regex.fullmatch(text))
        ):
            raise PydanticCustomError(rule, message)
        return value

    schema = {
        "anyOf": [
            {"type": "string", "pattern": string_pattern, "maxLength": 32},
            {"type": "integer", "minimum": least, "maximum": maximum},
        ],
        "description": description,
        "examples": examples,
    }
    return Annotated[Any, BeforeValidator(check), WithJsonSchema(schema)]


DecimalText = _number(
    _DECIMAL,
    "decimal",
    _DECIMAL_WORDS,
    'An exact, non-negative decimal: a string such as "1500.00", or a JSON number.',
    ["150.00"],
)
AmountValue = _number(
    _DECIMAL,
    "decimal",
    _DECIMAL_WORDS,
    'An amount in the field\'s unit, exact: "1500.00", 1500 or 1500.00 (euros and credits: at most 2 decimals).',
    ["150.00"],
    documented=_AMOUNT,
)
HoursValue = _number(
    _DECIMAL, "decimal", 'must be a number of hours written with a point, e.g. "7.5"', 'Hours, exact: "7.5" is 7 h 30.', ["7.5"]
)
RateValue = _number(
    _DECIMAL_OR_FRACTION,
    "rate",
    'must be a share from 0 to 1 written as a decimal ("0.15") or a fraction ("3/20")',
    'A share from 0 to 1: a decimal ("0.15") or a fraction ("3/20").',
    ["3/20", "0.15"],
    documented=(RATE, 1),  # the decider judges the share (rule rate_range)
)
# A sensor's credits per reading: more than 0, at most 1000 (domain/sensors.py, rules positive and maximum).
CreditRateValue = _number(
    _DECIMAL,
    "decimal",
    _DECIMAL_WORDS,
    'Credits per accepted reading, exact: "0.01" (more than 0, at most 1000, at most 6 decimals).',
    ["0.01"],
    documented=(CREDIT_RATE, 1000),
    least=1,
)
PercentValue = _number(
    _DECIMAL_OR_FRACTION,
    "percent",
    'must be a percentage written as a decimal ("2.5") or a fraction ("100/3")',
    'A percentage: a decimal ("2.5") or a fraction ("100/3").',
    ["5", "100/3"],
)
_NUMBER_SCHEMAS: dict[str | None, Any] = {
    "amount": AmountValue,
    "hours": HoursValue,
    "rate": RateValue,
    "percent": PercentValue,
    "decimal": DecimalText,
    None: DecimalText,  # typed Any before the aliases existed
}


# A contribution's share of the year's result: more than 0% and at most 100% (rule rate_range).
ContributionPercentValue = _number(
    _DECIMAL_OR_FRACTION,
    "percent",
    'must be a percentage written as a decimal ("2.5") or a fraction ("100/3")',
    'A percentage more than 0 and at most 100: a decimal ("2.5") or a fraction ("10/3").',
    ["5", "10/3"],
    documented=(CONTRIBUTION_PERCENT, 100),
    least=1,
)
# Number fields whose document says more than their kind's (the decider still judges them).
FIELD_NUMBER_TYPES = {
    ("SetSensorRewardTerms", "credit_rate"): CreditRateValue,
    ("PledgeContribution", "rate_percent"): ContributionPercentValue,
}

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_text(value: Any) -> Any:
    """Only YYYY-MM-DD: pydantic would read a number, or a string of digits (`?as_of=0`), as a Unix time."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise PydanticCustomError("date", "must be a date written YYYY-MM-DD")


# A day in a body, a query string or a path: YYYY-MM-DD and nothing else.
IsoDate = Annotated[date, BeforeValidator(_date_text), WithJsonSchema({"type": "string", "format": "date"})]
# A day in a command: the deciders take 1901-01-01 .. 2199-12-31 (domain.rules.a_date, rule date_range).
CommandDate = Annotated[
    date, BeforeValidator(_date_text), WithJsonSchema({"type": "string", "format": "date", "pattern": COMMAND_DATE})
]

FIELD_DOCS = {
    "member_id": "The member's identifier in this cooperative (1-64 letters, digits, '.', '_', '-').",
    "effective_date": "The date the fact counts from in the books (YYYY-MM-DD).",
    "year": "The fiscal year, named by the calendar year it starts in.",
    "amount": 'Amount in euros, exact: "12.50" or 12.50.',
    "name": "Name as it should appear in the books.",
    "college": "Code of a voting college of the cooperative.",
    "reason": "Why: kept with the event for auditors.",
    "shares": "Number of capital shares (parts sociales).",
    "entry_number": "Journal number of the entry to reverse.",
    "label": "Text of the journal entry.",
    "piece_ref": "Reference of the supporting document (invoice, bank statement line).",
    "lines": "Debit and credit lines; the entry must balance per unit.",
    "colleges": 'Voting colleges with their weights in percent (e.g. "40" or "100/3"), all or none weighted.',
}


# The command fields the deciders check with domain.rules.identifier: the document says the form,
# the decider still judges it (rule identifier). A field named here that a decider does not check
# would be refused by nothing: tests/api/test_schemathesis.py sends it values the form forbids.
IDENTIFIER_FIELDS = frozenset(
    {
        "advertiser_id", "application_id", "bank_account_id", "call_id", "certification_id", "contract_id",
        "course_id", "donation_id", "employee_id", "member_id", "plan_id", "pledge_id", "resolution_id",
        "sensor_id", "statement_id", "subscription_id", "subsidy_id", "receipt_number", "payout_id", "college",
        "donor_id", "person_id",
    }
)  # fmt: skip
# The fields whose values the decider takes from a fixed list, by command (or nested object) and field.
FIELD_CHOICES: dict[tuple[str, str], tuple[str | None, ...]] = {
    ("AdmitMember", "kind"): tuple(kind.value for kind in MemberKind),
    ("RecordResolution", "assembly"): tuple(ASSEMBLIES),
    ("DefineSubscriptionPlan", "kind"): PLAN_KINDS,
    ("DefineSubscriptionPlan", "period"): PLAN_PERIODS,
    ("RecordDonation", "method"): DONATION_METHODS,
    ("DeclareReceiptEligibility", "basis"): (*RECEIPT_BASES, None),  # none when not eligible
    ("RecordDonation", "donor_kind"): DONOR_KINDS,
    ("Backer", "donor_kind"): DONOR_KINDS,
    ("SignAdvertisingContract", "advertiser_kind"): ADVERTISER_KINDS,
    ("SignAdvertisingContract", "period"): PERIOD_KINDS,
}


# Bounds the deciders check (domain.rules.whole_number, or a count of items), by command and field.
_YEAR = {"minimum": 1901, "maximum": 2199}
FIELD_BOUNDS: dict[tuple[str, str], dict[str, int]] = {
    **{(command, "year"): _YEAR for command in ("CallFee", "PayFee", "CancelContributionResult", "DeclareContributionResult")},
    **{(command, "year"): _YEAR for command in ("PayContribution", "IssueDirectDebits", "IssueTaxReceipts")},
    ("CloseFiscalYear", "year"): {"minimum": 1901, "maximum": 2198},  # a year closes into the next one
    ("ReverseEntry", "entry_number"): {"minimum": 1, "maximum": 2**62},
    ("FederateCooperatives", "founders"): {"minItems": 1, "items": {"type": "string", **IDENTIFIER_SCHEMA}},
    ("LinkBankLine", "entry_numbers"): {
        "minItems": 1,
        "maxItems": MAX_LINKED_ENTRIES,
        "items": {"type": "integer", "minimum": 1, "maximum": 2**62},
    },
}


def _documented_form(cls: type, name: str, hint: Any) -> dict[str, Any] | None:
    """What the document says of a field beyond its type (the decider still judges it, with its rule)."""
    key = (cls.__name__, name)
    if key in FIELD_CHOICES:
        return {"enum": list(FIELD_CHOICES[key])}
    if key in FIELD_BOUNDS:
        return FIELD_BOUNDS[key]
    if key in FORMS_BY_COMMAND_FIELD:
        return FORMS_BY_COMMAND_FIELD[key]
    if name in FORMS_BY_FIELD:
        return FORMS_BY_FIELD[name]
    if name in IDENTIFIER_FIELDS:
        return IDENTIFIER_SCHEMA
    # Any other text: domain.rules.text (rules required and text), which a bank line's may leave empty.
    if not _text_field(hint):
        return None
    return {"pattern": OPTIONAL_TEXT if cls.__name__ in OPTIONAL_TEXT_OBJECTS else REQUIRED_TEXT}


def _text_field(hint: Any) -> bool:
    return hint is str or (_nullable(hint) and [a for a in typing.get_args(hint) if a is not type(None)] == [str])


def _api_type(tp: Any, kind: str | None = None) -> Any:
    if is_number_in(tp):  # EurosIn, RateIn... (domain/money.py), optional or not: the decider checks the number
        return _NUMBER_SCHEMAS[kind]
    if tp is date:
        return CommandDate
    if dataclasses.is_dataclass(tp):
        return body_model(tp)
    origin = typing.get_origin(tp)
    if origin in (list, typing.List):  # noqa: UP006
        (inner,) = typing.get_args(tp)
        return list[_api_type(inner)]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        assert len(args) == 1, f"unsupported union {tp}"
        return _api_type(args[0], kind) | None
    return tp


def _nullable(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


@cache
def body_model(cls: type) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    extras = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "coop":
            continue
        tp = FIELD_NUMBER_TYPES.get((cls.__name__, f.name)) or _api_type(hints[f.name], number_kind(extras[f.name]))
        doc = FIELD_DOCS.get(f.name, f.name.replace("_", " ").capitalize() + ".")
        extra = _documented_form(cls, f.name, hints[f.name])
        if f.default is not dataclasses.MISSING:
            fields[f.name] = (tp, Field(default=f.default, description=doc, json_schema_extra=extra))
        elif _nullable(hints[f.name]):
            # May be left out, meaning null: the OpenAPI document drops nulls from its examples
            # (FastAPI writes it with exclude_none), so a published example must be valid without them.
            fields[f.name] = (tp, Field(default=None, description=doc, json_schema_extra=extra))
        else:
            fields[f.name] = (tp, Field(description=doc, json_schema_extra=extra))
    model = create_model(f"{cls.__name__}Body", __config__=ConfigDict(extra="forbid"), **fields)
    model.__doc__ = (cls.__doc__ or cls.__name__).strip()
    return model


def to_command_fields(body: BaseModel) -> dict[str, Any]:
    """The body as plain JSON values, ready for ledger.commands.parse_command."""

    def plain(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return {k: plain(v) for k, v in value}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, date):
            return value.isoformat()
        return value

    return {k: plain(v) for k, v in body}


class CommandAccepted(WireModel):
    """A command was recorded (or had been, under the same idempotency key)."""

    coop: str
    command: str
    idempotency_key: str
    position: int = Field(description="Where the command sits in the log: pass it as min_position to read your write.")
    journal_numbers: list[int] = Field(description="Journal entries the command recorded, if it moved value.")
    events: list[str] = Field(description="Names of the events recorded.")
    report: CommandReport | None = Field(
        None,
        description="What the command did beyond its events, when it says (a federation; a bank statement's new and known lines; "
        "the bank lines confirmed or tied; a direct debit's return), its shape named by its `kind`.",
    )
