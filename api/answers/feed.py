"""The change feed's answers: a page of facts (`FeedPage`), one model per fact kind with its typed
`data`, and the conversion of a stored fact to the wire's form (api/wire.py), used alike by the
JSON page, the server-sent events and the webhooks' bodies (api/routes_feed.py, api/webhooks.py).

The per-kind models are built from the event classes (their annotations, as api/schemas.py builds
request bodies from the commands) and api/answers/feed_shapes.py (the dicts inside events), so a new
event is typed without a line here. A fact is one of them, told apart by its `kind`.

Amounts: the feed's view stores facts as the events hold them (integers of minor units) and they
are converted here, each time they are read. Converting once, when the projection writes its rows,
would spare each read the conversion, but: it costs about 10 µs a fact (measured on the demo's
books: a 1,000-fact page reads in about 6 ms and converts in about 10 ms more, less than the
response model's own check of it); projections/ sits below api/ and cannot use api/wire.py; every
other view keeps minor units too (docs/decisions/0015-amounts-on-the-wire.md); and the stored rows
need no rebuild when the wire's form changes (docs/webhooks.md "Amounts").
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, create_model

from api.answers.feed_shapes import NESTED, EffectValue, Many, Shape
from api.wire import Amount, UnitCode, WireModel, amount
from domain.events import EVENT_CLASSES
from domain.family import fact_of, families
from domain.money import Unit
from projections.feed import data_fields, is_personal

# Stored names whose wire name is not the plain suffix swap (`credits_credits`, a bare `hours`).
RENAMED: dict[str, tuple[str, Unit]] = {"minutes": ("worked_hours", Unit.HOUR), "credits_minor": ("amount_credits", Unit.CREDIT)}
MINOR_SUFFIXES: dict[str, tuple[str, Unit]] = {
    "_cents": ("_eur", Unit.EUR),
    "_minor": ("_credits", Unit.CREDIT),
    "_minutes": ("_hours", Unit.HOUR),
}


def wire_name(stored: str) -> tuple[str, Unit | None]:
    """The wire's name of a stored field, and the unit of its amount (None: not an amount)."""
    if stored in RENAMED:
        return RENAMED[stored]
    for suffix, (wire_suffix, unit) in MINOR_SUFFIXES.items():
        if stored.endswith(suffix):
            return stored.removesuffix(suffix) + wire_suffix, unit
    return stored, None


# ---------------------------------------------------------------- converting a fact


def _convert_any(value: Any) -> Any:
    """A value of no declared shape (an undone event's effect): amounts found by their names."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name, unit = wire_name(key)
            out[name] = amount(item, unit) if unit is not None and isinstance(item, int) else _convert_any(item)
        return out
    if isinstance(value, list):
        return [_convert_any(v) for v in value]
    return value


def _converter(key: str, spec: Any) -> Callable[[Any], Any] | None:
    """How one stored value of `spec` becomes its wire form; None: as it is."""
    _name, unit = wire_name(key)
    if unit is not None:
        return lambda v: None if v is None else amount(v, unit)
    if isinstance(spec, Many):
        row = _row_converter(spec.shape)
        return lambda v: None if v is None else [row(r) for r in v]
    if isinstance(spec, Shape):
        return _row_converter(spec)
    if typing.get_origin(spec) is dict or spec is dict:
        return _convert_any
    return None


def _row_converter(shape: Shape) -> Callable[[Any], Any]:
    keys = [k for k, _ in shape.fields]
    steps = {k: (wire_name(k)[0], _converter(k, spec)) for k, spec in shape.fields}

    def convert(row: Any) -> Any:
        if row is None:
            return None
        stored = dict(zip(keys, row, strict=True)) if shape.positional else row
        out = {}
        for key, value in stored.items():
            # A key the shape does not know passes as stored: the response model then refuses it.
            name, step = steps.get(key, (key, None))
            out[name] = value if step is None else step(value)
        return out

    return convert


def _spec(cls: type, field: str) -> Any:
    return NESTED.get(f"{cls.__name__}.{field}") or typing.get_type_hints(cls)[field]


@cache
def _data_converter(event_name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    cls = EVENT_CLASSES.get(event_name)
    if cls is None:  # an event this process does not know: amounts found by their names
        return _convert_any
    return _row_converter(Shape(event_name, tuple((f, _spec(cls, f)) for f in data_fields(cls))))


def wire_fact(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact as the feed's view stores it (amounts in minor units), in the wire's form: the same
    keys, but `data`'s amounts as `_eur`/`_credits`/`_hours` Amount strings and each posting's
    amount an Amount in its unit. Keys the role's view left out stay out."""
    out = dict(fact)
    out["data"] = _data_converter(fact["event"])(fact["data"])
    entry = fact.get("entry")
    if entry is not None:
        out["entry"] = {**entry, "postings": [{**p, "amount": amount(p["amount"], p["unit"])} for p in entry["postings"]]}
    return out


# ---------------------------------------------------------------- the models


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def _field_type(key: str, spec: Any) -> Any:
    """The wire's type of a stored value of `spec`."""
    _name, unit = wire_name(key)
    if unit is not None:
        return Amount | None if _optional(spec) else Amount
    if isinstance(spec, Many):
        return list[shape_model(spec.shape)]  # type: ignore[misc]
    if isinstance(spec, Shape):
        return shape_model(spec)
    if _optional(spec):
        (inner,) = [a for a in typing.get_args(spec) if a is not type(None)]
        return _field_type(key, inner) | None
    if typing.get_origin(spec) is dict:
        key_type, value_type = typing.get_args(spec)
        return dict[key_type, EffectValue if value_type is Any else value_type]  # type: ignore[valid-type]
    assert spec != list[list[Any]] and spec != list[dict[str, Any]], f"{key}: declare its shape in api/answers/feed_shapes.py"
    return spec


def _describe(key: str, unit: Unit | None) -> str:
    name = wire_name(key)[0]
    words = name.replace("_", " ").capitalize()
    if unit is not None:
        return f"In {unit.value} (the event stores it as `{key}`, in minor units)."
    if is_personal(key):
        return f"{words} (personal: left out for a role without personal data)."
    return f"{words}."


def _fields_of(shape: Shape) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, spec in shape.fields:
        name, unit = wire_name(key)
        tp = _field_type(key, spec)
        # Not required: personal fields, which the view of a role that may not read them leaves out
        # (projections/feed.py), and nullable ones, which the OpenAPI document's examples leave out
        # (FastAPI drops their nulls). The feed sends null where it has null.
        default = None if is_personal(key) or _optional(tp) else ...
        field = Field(default, description=_describe(key, unit))
        fields[name] = (tp | None if default is None and not _optional(tp) else tp, field)
    return fields


@cache
def shape_model(shape: Shape) -> type[WireModel]:
    model = create_model(shape.title, __base__=FeedWireModel, **_fields_of(shape))
    model.__doc__ = shape.doc or shape.title
    return model


class FeedWireModel(WireModel):
    """The feed's models: a field with a default is not required in the document, unlike other
    answers, because the view of a role without personal data leaves personal fields out
    (projections/feed.py; the route answers with exclude_unset)."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=False)


class FactPosting(FeedWireModel):
    """One line of a fact's journal entry: debit positive, credit negative."""

    account: str = Field(description="Account number in the cooperative's chart.")
    party: str | None = Field(None, description="The member, donor, funder... the line is kept for, if any.")
    unit: UnitCode = Field(description="The unit of `amount`.")
    amount: Amount = Field(description="In `unit`, signed: a debit is positive, a credit negative.")


class FactEntry(FeedWireModel):
    """The journal entry of a fact that moved value."""

    number: int = Field(description="Journal number, gap-free per cooperative.")
    label: str | None = Field(None, description="Text of the entry (personal: left out for a role without personal data).")
    reverses: int | None = Field(None, description="The journal number of the entry this one undoes, if a reversal.")
    chain_hash: str = Field(description="The entry's link in the cooperative's hash chain (GET /chain).")
    postings: list[FactPosting] = Field(description="The lines; they balance per unit.")


class FactBase(FeedWireModel):
    """What every fact says, whatever its kind. Nullable fields are not required, here as in the
    kinds' data: the document's examples leave their nulls out; the feed sends them."""

    position: int = Field(description="The event's position in the log: the feed's cursor (`after`, SSE id).")
    coop: str = Field(description="The cooperative's slug.")
    kind: str = Field(description="The fact's kind, stable (docs/webhooks.md lists them).")
    event: str = Field(description="The name of the event recorded.")
    effective_date: date = Field(description="When the fact counts in the books (YYYY-MM-DD).")
    recorded_at: str = Field(description="When it was recorded (ISO 8601 with its offset).")
    actor: str | None = Field(None, description="Who recorded it (personal: left out for a role without personal data).")
    idempotency_key: str = Field(description="The command's idempotency key.")
    entry: FactEntry | None = Field(None, description="Its journal entry, for the kinds that move value; else null.")


def kind_of(event_name: str) -> str:
    declared = fact_of(event_name)
    return declared.kind if declared is not None else f"event.{event_name}"


@cache
def fact_model(event_name: str) -> type[FactBase]:
    """The fact of one event class: its kind, and its data typed from the event's annotations."""
    cls = EVENT_CLASSES[event_name]
    kind = kind_of(event_name)
    data = shape_model(
        Shape(f"{event_name}FactData", tuple((f, _spec(cls, f)) for f in data_fields(cls)), doc=f"The data of a `{kind}` fact.")
    )
    model = create_model(
        f"{event_name}Fact",
        __base__=FactBase,
        kind=(Literal[kind], Field(description="The fact's kind.")),
        event=(Literal[event_name], Field(description="The name of the event recorded.")),
        data=(data, Field(description="The event's own fields, amounts in the wire's form.")),
    )
    model.__doc__ = f"A `{kind}` fact: a {event_name} event."
    return model


@cache
def _page_model(event_names: tuple[str, ...]) -> type[WireModel]:
    facts = [fact_model(n) for n in event_names]
    fact = Annotated[Union[tuple(facts)], Field(discriminator="kind")]  # noqa: UP007 (a tuple of models)
    model = create_model(
        "FeedPage",
        __base__=WireModel,
        coop=(str, Field(description="The cooperative's slug.")),
        facts=(list[fact], Field(description="The facts after `after`, as the key's role may see them, in position order.")),
        next_after=(int, Field(description="Pass it back as `after`: every matching fact up to here was returned.")),
        more=(bool, Field(description="The page is full: more facts may follow at once.")),
    )
    model.__doc__ = "A page of the change feed: facts, each typed by its kind (docs/webhooks.md)."
    return model


def feed_page_model() -> type[WireModel]:
    """The page's model over every event class registered now (a family outside the package, such
    as the tests' example family, registers before the app is made)."""
    families()  # every shipped family's events registered
    return _page_model(tuple(sorted(EVENT_CLASSES)))
