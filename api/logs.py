"""structlog, configured once: readable in development, JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_configured = False
# A national ID number: 17 digits and a check character. The service never logs one on purpose;
# this catches one inside a message it does not control (a driver's error, a traceback).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def redact_id_numbers(_logger: Any, _method: str, line: str) -> str:
    return ID_NUMBER.sub("[id-number]", line)


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
            redact_id_numbers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True
