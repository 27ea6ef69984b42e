"""structlog, configured once: readable in development, JSON lines in production."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def configure_logging(environment: str, level: str = "INFO") -> None:
    global _configured
    if _configured:
        return
    renderer = structlog.processors.JSONRenderer() if environment == "production" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True
