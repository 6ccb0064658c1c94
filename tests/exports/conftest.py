"""Fixtures of the treasurer's toolkit tests: the demo loaded into a fresh store (both stores),
its projections caught up."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from ledger.commands import parse_command
from ledger.demo import demo_commands
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner
from tests.conftest import migrates_the_store

DEMO_COOPS = ("cluster-numerique-sud", "mednum-scic")


def load_demo(ledger: Ledger) -> None:
    batch = []
    for data in demo_commands():
        command, key, actor = parse_command(data)
        batch.append((command, key, actor or "demo"))
    results = ledger.execute_batch(batch)
    refused = [r.as_dict() for r in results if not r.accepted]
    assert not refused, refused[:3]


@pytest.fixture
@migrates_the_store
def demo(store_url: str) -> Iterator[tuple[Ledger, ProjectionRunner]]:
    ledger = Ledger(StoreConfig.from_url(store_url))
    migrate(ledger.db)
    load_demo(ledger)
    runner = ProjectionRunner(ledger)
    runner.catch_up()
    yield ledger, runner
    runner.stop()
    ledger.close()


def require_tool(name: str) -> str:
    """The path of an outside tool the test drives; skipped when missing, failed when CI=true."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make tools installs it from Debian's archive)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    return path
