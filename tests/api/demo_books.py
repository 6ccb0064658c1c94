"""The demo's books served by the app, with keys of the roles asked: the books the tests of the
hottest reads (test_fast_answers, test_lean_route) read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from ledger.demo import SCIC
from ledger.store import StoreConfig
from tests.builders import record_demo

VIEWS_TIMEOUT_S = 30


@contextmanager
def serving_the_demo(store_url: str, roles: Sequence[str]) -> Iterator[dict[str, Any]]:
    """{"app", "client", "keys": {role: token}}, once the views include the whole demo."""
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        record_demo(ledger)
        keys = {role: create_key(ledger.db, role=role, coops=[SCIC])[1] for role in roles}
        assert app.state.services.runner.wait_for(ledger.position(), VIEWS_TIMEOUT_S)
        yield {"app": app, "client": client, "keys": keys}
