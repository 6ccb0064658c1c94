"""Request bodies built from the domain's command dataclasses, so the API can never drift from
the commands: one model per command, `coop` taken from the path, amounts as decimal strings."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from domain.money import is_number_in

# Amounts travel as strings: a JSON number would be parsed as a binary float on the way in.
DecimalText = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,18}(\.[0-9]{1,12})?$",
        max_length=32,
        description='An exact, non-negative decimal written as a string, e.g. "1500.00".',
        examples=["150.00"],
    ),
]


def _date_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")  # pydantic would read a number as Unix time
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]

FIELD_DOCS = {
    "member_id": "The member's identifier in this cooperative (1-64 letters, digits, '.', '_', '-').",
    "effective_date": "The date the fact counts from in the books (YYYY-MM-DD).",
    "year": "The fiscal year, named by the calendar year it starts in.",
    "amount": "Amount in euros, an exact decimal string.",
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


def _api_type(tp: Any) -> Any:
    if is_number_in(tp):  # EurosIn, RateIn... (domain/money.py), optional or not: the decider checks the number
        return DecimalText
    if tp is date:
        return IsoDate
    if dataclasses.is_dataclass(tp):
        return body_model(tp)
    origin = typing.get_origin(tp)
    if origin in (list, typing.List):  # noqa: UP006
        (inner,) = typing.get_args(tp)
        return list[_api_type(inner)]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        assert len(args) == 1, f"unsupported union {tp}"
        return _api_type(args[0]) | None
    return tp


def _nullable(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


@cache
def body_model(cls: type) -> type[BaseModel]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "coop":
            continue
        tp = _api_type(hints[f.name])
        doc = FIELD_DOCS.get(f.name, f.name.replace("_", " ").capitalize() + ".")
        if f.default is not dataclasses.MISSING:
            fields[f.name] = (tp, Field(default=f.default, description=doc))
        elif _nullable(hints[f.name]):
            # May be left out, meaning null: the OpenAPI document drops nulls from its examples
            # (FastAPI writes it with exclude_none), so a published example must be valid without them.
            fields[f.name] = (tp, Field(default=None, description=doc))
        else:
            fields[f.name] = (tp, Field(description=doc))
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


class CommandAccepted(BaseModel):
    """A command was recorded (or had been, under the same idempotency key)."""

    coop: str
    command: str
    idempotency_key: str
    position: int = Field(description="Where the command sits in the log: pass it as min_position to read your write.")
    journal_numbers: list[int] = Field(description="Journal entries the command recorded, if it moved value.")
    events: list[str] = Field(description="Names of the events recorded.")
    report: dict[str, Any] | None = Field(
        None,
        description="What the command did beyond its events, when it says (a federation; a bank statement's new and known lines; "
        "the bank lines confirmed at once).",
    )
