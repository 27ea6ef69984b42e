"""Bounds on every value the ledger accepts, declared once.

The API schemas, the aggregates and the read-model columns all derive from these, so whatever a
command accepts always fits where it goes: a text fits its column, an integer fits a 32-bit column,
money fits a 64-bit count of fen, a date is one every store and every timezone can represent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal

from ledger.domain.errors import InvalidInput

# Control characters other than tab and newline have no place in a record, and PostgreSQL cannot
# store NUL in text at all.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidText(InvalidInput):
    """The text is empty, too long, or holds control characters."""


class OutOfRange(InvalidInput):
    """The value lies outside the range the ledger accepts."""


@dataclass(frozen=True)
class TextLimit:
    """A bounded text: 1..max_length characters (or 0 if optional), no control characters."""

    max_length: int
    min_length: int = 1

    def check(self, value: str, what: str = "text") -> str:
        if not isinstance(value, str):
            raise InvalidText(f"{what} must be text")
        if not self.min_length <= len(value) <= self.max_length:
            raise InvalidText(f"{what} must have {self.min_length} to {self.max_length} characters")
        if CONTROL_CHARACTERS.search(value):
            raise InvalidText(f"{what} must not contain control characters")
        return value


@dataclass(frozen=True)
class IntRange:
    minimum: int
    maximum: int

    def check(self, value: int, what: str = "value") -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise OutOfRange(f"{what} must be a whole number from {self.minimum} to {self.maximum}")
        return value


# --- dates and times: every store and every timezone offset can represent these -------------
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
EARLIEST_TIME = datetime.combine(EARLIEST_DAY, time.min, tzinfo=timezone.utc)
LATEST_TIME = datetime.combine(LATEST_DAY, time.max, tzinfo=timezone.utc)
FISCAL_YEAR = IntRange(EARLIEST_DAY.year, LATEST_DAY.year)


def check_day(value: date, what: str = "date") -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise OutOfRange(f"{what} must fall between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


def check_time(value: datetime, what: str = "time") -> datetime:
    if value.tzinfo is None:
        raise OutOfRange(f"{what} must carry a time zone")
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise OutOfRange(f"{what} must fall between {EARLIEST_TIME.isoformat()} and {LATEST_TIME.isoformat()}")
    return value


# --- positions in the global log (64-bit) ----------------------------------------------------
POSITION = IntRange(0, 2**63 - 1)

# --- money: yuan with 2 places; in fen it fits a 64-bit integer with room for sums -----------
MAX_YUAN = Decimal("999999999999.99")  # under a trillion yuan; 14 digits
MONEY_MAX_DIGITS = 14
MONEY_PLACES = 2

# --- read queries: a filter or id in a URL is never longer than the widest column it is compared
# with, and follows the same rule on control characters (as a JSON Schema pattern for the API) --
QUERY_TEXT = TextLimit(200)
PRINTABLE_PATTERN = f"^[^{CONTROL_CHARACTERS.pattern[1:-1]}]*$"
