"""Query and path parameters of the read routes, each bounded from ledger.domain.limits, so every
value a query can carry is one each store can compare and each clock can represent: a refusal is
a 422 ValidationError, never a 500 from the database or from date arithmetic."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

from ledger.domain import limits

# ISO 8601 with a zone; a bare number would otherwise be read as a Unix time.
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})")
TIME_EXAMPLE = "2026-01-31T08:00:00Z"
CURSOR_LENGTH = 2000  # far above what encode() makes of the widest sort value and key


def _iso_with_zone(value: Any) -> Any:
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):
        return value
    raise ValueError(f"an ISO 8601 time with a time zone, e.g. {TIME_EXAMPLE}")


def _within_limits(value: datetime) -> datetime:
    if not limits.EARLIEST_TIME <= value <= limits.LATEST_TIME:
        raise ValueError(f"a time from {limits.EARLIEST_TIME.isoformat()} to {limits.LATEST_TIME.isoformat()}")
    return value.astimezone(timezone.utc)


Time = Annotated[AwareDatetime, BeforeValidator(_iso_with_zone), AfterValidator(_within_limits)]
"""A time in a query: ISO 8601 with a zone, within the ledger's dates; handed on in UTC."""


def time_query(description: str) -> Any:
    return Query(description=f"{description}; ISO 8601 with a time zone, e.g. {TIME_EXAMPLE}", examples=[TIME_EXAMPLE])


def text_query(description: str | None = None) -> Any:
    """A filter by text or id: bounded, no control characters (PostgreSQL cannot compare a NUL)."""
    bound = limits.QUERY_TEXT
    return Query(min_length=bound.min_length, max_length=bound.max_length, pattern=limits.PRINTABLE_PATTERN, description=description)


Filter = Annotated[str | None, text_query()]
IdInPath = Annotated[str, Path(min_length=limits.QUERY_TEXT.min_length, max_length=limits.QUERY_TEXT.max_length, pattern=limits.PRINTABLE_PATTERN)]
FiscalYear = Annotated[int | None, Query(ge=limits.FISCAL_YEAR.minimum, le=limits.FISCAL_YEAR.maximum)]
MinPosition = Annotated[
    int | None,
    Query(ge=limits.POSITION.minimum, le=limits.POSITION.maximum, description="Wait until the read models have passed this log position (a command's `position`)"),
]
Cursor = Annotated[str | None, Query(min_length=1, max_length=CURSOR_LENGTH, description="From a previous page's next_cursor")]


FilterValue = Annotated[str, StringConstraints(min_length=limits.QUERY_TEXT.min_length, max_length=limits.QUERY_TEXT.max_length, pattern=limits.PRINTABLE_PATTERN)]


def values_query(description: str) -> Any:
    """A filter given any number of times (?x=a&x=b), each value bounded as a Filter is."""
    bound = limits.QUERY_VALUES
    return Query(min_length=bound.min_items, max_length=bound.max_items, description=f"{description}; repeat for more, up to {bound.max_items}")
