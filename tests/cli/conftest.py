"""One demo store per module for the command-line tests that only read it (the demo takes ~2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import build

cli = build()


def run(url: str, *args: str, lang: str | None = None) -> Result:
    argv = ["--database-url", url, *(["--lang", lang] if lang else []), *args]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def text(result: Result) -> str:
    """Output with the typographic spaces of French numbers made plain, for readable assertions."""
    return result.output.replace("\u202f", " ").replace("\u00a0", " ")


def load_demo(url: str) -> None:
    """The demo, through the ledger rather than the CLI: a module-scoped fixture runs before the
    autouse fixture that keeps the CLI's logging configuration from leaking into later tests."""
    from ledger.commands import parse_command
    from ledger.demo import demo_commands
    from ledger.migrate import migrate
    from ledger.service import Ledger
    from ledger.store import StoreConfig

    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        results = ledger.execute_batch([(c, k, a or "demo") for c, k, a in map(parse_command, demo_commands())])
        assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'books.sqlite'}"
    load_demo(url)
    yield url


def lines_of(path: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
