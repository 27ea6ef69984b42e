"""When a projection cannot apply an event: what is recorded, when it tries again, and which
failures are the store's (an outage: back off, record nothing) rather than the event's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import eventsourcing.persistence as es
from sqlalchemy import exc as sa

from ledger.domain.errors import LedgerError

MESSAGE_LENGTH = 1000  # the column's size


@dataclass(frozen=True)
class Stall:
    """A projection stopped before the event at `position`; it retries at `retry_at`."""

    position: int
    event_type: str
    aggregate_id: str
    error: str
    message: str
    since: datetime
    attempts: int
    retry_at: datetime

    def describe(self) -> str:
        return f"stopped at position {self.position} ({self.event_type} of {self.aggregate_id}): {self.error}: {self.message}"

    def columns(self) -> dict[str, Any]:
        """The values of the position row's stall columns."""
        return {column: getattr(self, name) for name, column in COLUMNS.items()}

    @classmethod
    def of(cls, row: Any) -> Stall | None:
        if row.stalled_position is None:
            return None
        values = {name: getattr(row, column) for name, column in COLUMNS.items()}
        return cls(**{k: utc(v) if isinstance(v, datetime) else v for k, v in values.items()})


# Stall field to its column on projection_positions (projections/tables.py).
COLUMNS = {
    "position": "stalled_position",
    "event_type": "stalled_event_type",
    "aggregate_id": "stalled_aggregate_id",
    "error": "stalled_error",
    "message": "stalled_message",
    "since": "stalled_since",
    "attempts": "attempts",
    "retry_at": "retry_at",
}
NO_STALL = {**{column: None for column in COLUMNS.values()}, "attempts": 0}


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives times back without their zone; they were written in UTC."""
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class ProjectionStalled(LedgerError):
    """A read model stopped at an event it cannot apply; it retries by itself once the cause is fixed."""

    kind = "unavailable"

    def __init__(self, name: str, stall: Stall) -> None:
        super().__init__(f"the {name} read model {stall.describe()}")
        self.name = name
        self.stall = stall


class RebuildRunning(LedgerError):
    """Another rebuild is running on this store: its shadow tables are in use. Wait for it to end."""


class EventFailed(Exception):
    """The event at `index` of a batch could not be applied; the batch's transaction rolled back."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    return min(cap, base * 2 ** max(attempts - 1, 0))


# SQLite reports a missing table or column as an OperationalError too: that is the schema, not an outage.
_SQLITE_SCHEMA_PROBLEMS = ("no such table", "no such column", "has no column")


def is_outage(error: BaseException) -> bool:
    """The store did not answer (down, unreachable, timed out, locked): nothing wrong with the event."""
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (sa.OperationalError, sa.InterfaceError, es.OperationalError, es.InterfaceError)):
        return not any(problem in str(error) for problem in _SQLITE_SCHEMA_PROBLEMS)
    return isinstance(error, (sa.TimeoutError, ConnectionError, TimeoutError))


def error_name(error: BaseException) -> str:
    """The driver's own class for a wrapped database error (DataError, StringDataRightTruncation…)."""
    return type(getattr(error, "orig", None) or error).__name__


def error_message(error: BaseException) -> str:
    """The first line of the driver's message: never the statement or its parameters."""
    text = str(getattr(error, "orig", None) or error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:MESSAGE_LENGTH]


def event_type_of(notification: Any) -> str:
    """'Visit.Delivered' from the stored topic 'ledger.domain.visits:Visit.Delivered'."""
    return str(notification.topic).rsplit(":", 1)[-1][:200]
