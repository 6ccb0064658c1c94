"""A fact of an event this process does not know (written by a newer process during a rolling
deploy, or by a family since removed) is served on the JSON page, not a 500 that would stop every
follower at its position for good."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store
from tests.feed.helpers import COOP, payment, record, setup_commands


@pytest.fixture
@migrates_the_store
def served(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        position = record(ledger, [*setup_commands(COOP), payment(1)], "setup")
        assert app.state.services.runner.wait_for(position, 10)
        token = create_key(ledger.db, role="admin", coops=[COOP])[1]
        yield {"client": client, "db": ledger.db, "headers": {"Authorization": f"Bearer {token}"}}


def test_a_fact_of_an_unknown_event_is_served_and_the_known_ones_keep_their_form(served):
    db = served["db"]
    with db.transaction() as tx:
        ((last_position, fact_json),) = tx.execute(
            "SELECT position, fact_json FROM feed_facts WHERE coop = ? ORDER BY position DESC LIMIT 1", (COOP,)
        )
        fact = orjson.loads(fact_json)
        future = {**fact, "position": last_position + 1, "kind": "event.FutureThing", "event": "FutureThing",
                  "entry": None, "data": {"widget_id": "W-1", "fee_cents": 1250}}  # fmt: skip
        tx.execute(
            "INSERT INTO feed_facts (coop, position, kind, fact_group, accounts, fact_json) VALUES (?, ?, ?, ?, ?, ?)",
            (COOP, last_position + 1, "event.FutureThing", "restricted", "", orjson.dumps(future).decode()),
        )
    answer = served["client"].get(f"/v1/coops/{COOP}/feed", params={"after": last_position - 1}, headers=served["headers"])
    assert answer.status_code == 200, answer.text
    known, unknown = answer.json()["facts"]
    assert unknown["event"] == "FutureThing" and unknown["data"] == {"widget_id": "W-1", "fee_eur": "12.50"}
    assert known["event"] == fact["event"] and all(isinstance(p["amount"], str) for p in known["entry"]["postings"])
    assert answer.json()["next_after"] == last_position + 1
