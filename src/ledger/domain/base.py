"""What every aggregate of the ledger shares."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, timezone
from typing import Any

from eventsourcing.domain import Aggregate

# Ids derived from natural keys (credit codes, hashes, idempotency keys) live in this namespace.
LEDGER_NAMESPACE = uuid.UUID("6c1f7a4e-4c1b-5b53-9a57-2f8f8f0d3f21")


def derived_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(LEDGER_NAMESPACE, "/".join(str(p) for p in parts))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def add_years(day: date, years: int) -> date:
    # Only 29 February may be missing in the target year; a year past 9999 is an error to raise,
    # not a day to shift.
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return day.replace(year=year, day=28)
    return day.replace(year=year)


class LedgerAggregate(Aggregate):
    """An aggregate that can describe itself as plain data for the API."""

    @property
    def owner_organisation(self) -> str | None:
        """The contractor whose object this is; None if it belongs to no contractor."""
        return None

    def as_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["id"] = self.id
        state["version"] = self.version
        state["created_on"] = self.created_on
        state["modified_on"] = self.modified_on
        state["type"] = type(self).__name__
        return state
