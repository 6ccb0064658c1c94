"""Every fact kind's `data` schema in the OpenAPI document is what the feed sends: an event of every
class (the scenarios of tests/audit/test_tamper_evidence.py record them all), made a fact as the
feed's projection makes it, seen by a role with personal data and by one without, and put in the
wire's form, validates against its kind's schema in the document (`<Event>Fact`, a member of
FeedPage's `facts`) and against the route's response model, which keeps it byte for byte."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from api.answers.feed import fact_model, feed_page_model, wire_fact
from api.app import create_app
from domain.events import EVENT_CLASSES, CoopEvent
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.feed import fact_from_event, view
from tests.audit.test_tamper_evidence import _every_scenario

ROLES = ("admin", "reader")  # with personal data, and without
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
KIND_ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \| \w+ \| (\w+) \| (.*) \|$", re.MULTILINE)


@pytest.fixture
def events(make_ledger: Callable[[], Ledger], store_factory: Any) -> Iterator[list[tuple[int, CoopEvent]]]:
    """(position, event) of every event the scenarios record, at least one of each class."""
    from ledger.migrate import migrate

    main = make_ledger()
    other = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    migrate(other.db)
    _every_scenario(main, other)
    yield [pe for ledger in (main, other) for pe in _log(ledger)]
    other.close()


def _log(ledger: Ledger) -> list[tuple[int, CoopEvent]]:
    recorder, mapper = ledger.app.recorder, ledger.app.mapper
    topics = sorted(cls.TOPIC for cls in EVENT_CLASSES.values())
    found, start = [], 1
    for _ in range(1000):  # bounded: 1000 pages of 500
        batch = recorder.select_notifications(start=start, limit=500, topics=topics)
        found += [(n.id, e) for n in batch if isinstance(e := mapper.to_domain_event(n), CoopEvent)]
        if len(batch) < 500:
            return found
        start = batch[-1].id + 1
    raise AssertionError("event log longer than the test expects")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("facts") / "books.sqlite"
    app = create_app(StoreConfig.from_url(f"sqlite:///{path}"), run_projections=False)
    try:
        return app.openapi()
    finally:
        app.state.services.ledger.close()


def _validator(spec: dict[str, Any], component: str) -> jsonschema_rs.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{component}", "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def _sent(position: int, event: CoopEvent, role: str) -> dict[str, Any] | None:
    """The fact as the feed sends it to `role`: stored as JSON by the projection, read back, viewed
    for the role, then put in the wire's form (api/routes_feed.py, api/webhooks.py)."""
    _kind, _group, fact = fact_from_event(position, event)
    seen = view(orjson.loads(orjson.dumps(fact)), role)
    return None if seen is None else wire_fact(seen)


def test_every_kind_of_fact_the_feed_sends_matches_its_schema_in_the_document(spec, events):
    covered: set[str] = set()
    validators: dict[str, jsonschema_rs.Draft202012Validator] = {}
    page = _validator(spec, "FeedPage")
    wrong = []
    for position, event in events:
        name = type(event).__name__
        for role in ROLES:
            sent = _sent(position, event, role)
            if sent is None:
                continue
            check = validators.setdefault(name, _validator(spec, f"{name}Fact"))
            errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in check.iter_errors(sent)]
            if errors:
                wrong.append(f"{name} as {role}: {errors[:3]}")
                continue
            # What the route does with it: validated by the response model and written back unchanged.
            model = fact_model(name).model_validate(sent)
            assert model.model_dump(mode="json", exclude_unset=True) == sent, name
            assert page.is_valid({"coop": event.coop, "facts": [sent], "next_after": position, "more": False})
            covered.add(name)
    assert wrong == [], wrong[:10]
    assert sorted(set(EVENT_CLASSES) - covered) == []


def test_an_amount_left_in_minor_units_is_refused_by_the_document(spec):
    """The check above can fail: the form of the old feed does not pass the new schemas."""
    fact = {
        "position": 7, "coop": "c", "kind": "fee.paid", "event": "FeePaid", "effective_date": "2025-03-01",
        "recorded_at": "2025-03-01T00:00:00+00:00", "actor": "key:1", "idempotency_key": "k",
        "data": {"reason": None, "member_id": "m1", "year": 2025, "amount_eur": "20.00"},
        "entry": {"number": 3, "label": "Cotisation", "reverses": None, "chain_hash": "ab", "postings": [
            {"account": "512", "party": None, "unit": "EUR", "amount": "20.00"},
            {"account": "411", "party": "m1", "unit": "EUR", "amount": "-20.00"}]},
    }  # fmt: skip
    check = _validator(spec, "FeePaidFact")
    assert check.is_valid(fact)
    assert not check.is_valid({**fact, "data": {**fact["data"], "amount_eur": 2000}})
    assert not check.is_valid({**fact, "data": {"reason": None, "member_id": "m1", "year": 2025, "amount_cents": 2000}})
    cents_posting = {**fact["entry"]["postings"][0], "amount": 2000}
    assert not check.is_valid({**fact, "entry": {**fact["entry"], "postings": [cents_posting]}})
    assert not check.is_valid({**fact, "kind": "fee.called"})  # a kind is one event's
    assert _validator(spec, "FeedPage").is_valid({"coop": "c", "facts": [fact], "next_after": 7, "more": False})
    assert feed_page_model().model_validate({"coop": "c", "facts": [fact], "next_after": 7, "more": False})


def test_the_documented_data_fields_are_those_the_feed_sends():
    """docs/webhooks.md's table of kinds names each kind's `data` fields by their wire names (the
    personal ones in italics; `reason`, in every kind, is left out unless the event requires one)."""
    documented = {event: fields for _kind, event, fields in KIND_ROW.findall(DOC.read_text(encoding="utf-8"))}
    assert set(documented) == set(EVENT_CLASSES)
    wrong = {}
    for event, fields in sorted(documented.items()):
        names = {re.match(r"\*?([a-z_]+)", f.strip()).group(1) for f in re.split(r",(?![^()]*\))", fields)}
        data = fact_model(event).model_fields["data"].annotation
        sent = set(data.model_fields) - ({"reason"} if "reason" not in names else set())
        if names != sent:
            wrong[event] = sorted(names ^ sent)
    assert wrong == {}
