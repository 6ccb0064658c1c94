"""One demo store per module for the command-line tests that only read it (the demo takes ~2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api.cli import build

cli = build()


def run(url: str, *args: str, lang: str | None = None) -> Result:
    argv = ["--database-url", url, *(["--lang", lang] if lang else []), *args]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def text(result: Result) -> str:
    """Output with the typographic spaces of French numbers made plain, for readable assertions."""
    return result.output.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'books.sqlite'}"
    result = run(url, "demo", "--json")
    assert result.exit_code == 0, result.output
    yield url


def lines_of(path: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
