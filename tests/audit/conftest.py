"""The command line configures structlog globally when it starts (WARNING level, loggers cached on
first use); run in-process by CliRunner, that would silence the log assertions of the tests that
run next. Here the CLI configures as usual but caches nothing, and the session's configuration is
put back after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

import api.logs


@pytest.fixture(autouse=True)
def _leave_logging_alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = structlog.get_config()
    real = api.logs.configure

    def configure(level: str | None = None) -> None:
        real(level)
        structlog.configure(cache_logger_on_first_use=False)

    monkeypatch.setattr(api.logs, "configure", configure)
    yield
    structlog.configure(**saved)
