"""Fixtures of the fault tests: server processes that are always killed afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import Server


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Makes `coopledger serve` processes (not started); every one is killed when the test ends."""
    made: list[Server] = []

    def make(url: str, env: dict[str, str] | None = None) -> Server:
        server = Server(url, tmp_path / f"server-{len(made) + 1}.log", env)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.kill()
