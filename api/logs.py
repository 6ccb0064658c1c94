"""Structured logs: readable lines on a terminal, JSON lines otherwise, always on stderr."""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure(level: str | None = None) -> None:
    level_name = (level or os.environ.get("COOPLEDGER_LOG_LEVEL", "WARNING")).upper()
    as_json = os.environ.get("COOPLEDGER_LOG_FORMAT", "console" if sys.stderr.isatty() else "json") == "json"
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level_name, logging.WARNING)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def without_locals_if_unconfigured() -> None:
    """For code that embeds the app without `configure()` (tests, other ASGI servers): structlog's
    defaults render exceptions with rich tracebacks that print every frame's local variables,
    which may hold an API key. Keep the defaults, but render tracebacks without locals."""
    if structlog.is_configured():
        return
    processors = list(structlog.get_config()["processors"])
    assert processors and isinstance(processors[-1], structlog.dev.ConsoleRenderer), processors
    processors[-1] = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(processors=processors)
