"""Fixtures of the federation tests: the demo's three associations (ledger/demo_federation.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.commands import loads, parse_envelope
from ledger.service import CommandResult, Ledger


def demo_lines(part: Callable[..., None]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []

    def add(command: str, /, **fields: Any) -> None:
        lines.append(
            {"command": command, "idempotency_key": f"fed-{part.__name__}-{len(lines) + 1:03d}", "actor": "test", **fields}
        )

    part(add)
    return lines


def refused(ledger: Any, command: Any, key: str) -> Any:
    """The command is refused and writes nothing. Returns the error."""
    position = ledger.position()
    result = ledger.execute(command, key)
    assert not result.accepted, command
    assert ledger.position() == position  # a refusal writes nothing
    return result.error


class CommandRunner:
    """Commands on one store, each accepted (or refused, writing nothing) under a fresh key
    `<prefix>-<n>`. The carry tests subclass it with their founders' set-up."""

    prefix = "cmd"

    def __init__(self, ledger: Any) -> None:
        self.ledger, self.n = ledger, 0

    def do(self, *commands: Any) -> None:
        for command in commands:
            self.n += 1
            result = self.ledger.execute(command, f"{self.prefix}-{self.n}")
            assert result.accepted, (command, result.error and result.error.as_dict())

    def refused(self, command: Any) -> Any:
        self.n += 1
        return refused(self.ledger, command, f"{self.prefix}-{self.n}")

    def federate(self, slug: str, founders: list[str]) -> Any:
        raise NotImplementedError("each carry test's Founders knows how it federates")

    def refused_federation(self, slug: str, founders: list[str]) -> Any:
        """The federation is refused: nothing written, no founder sealed. Returns the error."""
        position = self.ledger.position()
        result = self.federate(slug, founders)
        assert not result.accepted
        assert self.ledger.position() == position  # nothing written, no founder sealed
        assert all(self.ledger.cooperative(s).sealed_by_federation is None for s in founders)
        return result.error


def run(ledger: Ledger, lines: list[dict[str, Any]]) -> list[CommandResult]:
    """Executes JSON command lines as `coopledger record` does; every one must be accepted."""
    results = []
    for line in lines:
        envelope = parse_envelope(loads(json.dumps(line)))
        result = ledger.execute(envelope.command, envelope.idempotency_key, "test")
        assert result.accepted, (line["command"], result.error and result.error.as_dict())
        results.append(result)
    return results


@pytest.fixture
def founded(ledger: Ledger, runner: Any) -> Iterator[tuple[Ledger, Any]]:
    """A store with the three associations' closed 2025, not federated yet, projections caught up."""
    from ledger import demo_federation

    run(ledger, demo_lines(demo_federation.founders))
    runner.catch_up()
    yield ledger, runner
