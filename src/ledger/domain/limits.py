"""Bounds on every value the ledger accepts, declared once.

The API schemas, the aggregates and the read-model columns all derive from these, so whatever a
command accepts always fits where it goes: a text fits its column, an integer fits a 32-bit column,
money fits a 64-bit count of fen, a date is one every store and every timezone can represent.

Texts keep the length the API allowed before these limits existed, so nothing a client could send
before is refused now; the read-model columns widen to match (migration 0003_limits), which also
lets a projection stalled on such a text go on once migrated. Bounds that did not exist before
(lists, quantities, dates, money, control characters) are new and realistic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import TypeVar

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

    def check_optional(self, value: str | None, what: str = "text") -> str | None:
        return None if value is None else self.check(value, what)


@dataclass(frozen=True)
class IntRange:
    minimum: int
    maximum: int

    def check(self, value: int, what: str = "value") -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise OutOfRange(f"{what} must be a whole number from {self.minimum} to {self.maximum}")
        return value


Item = TypeVar("Item")


@dataclass(frozen=True)
class ListLimit:
    """A list of min_items..max_items members."""

    max_items: int
    min_items: int = 0

    def check(self, items: list[Item], what: str = "list") -> list[Item]:
        if not isinstance(items, list | tuple) or not self.min_items <= len(items) <= self.max_items:
            raise OutOfRange(f"{what} must have {self.min_items} to {self.max_items} members")
        return list(items)


# --- dates and times: every store and every timezone offset can represent these -------------
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
EARLIEST_TIME = datetime.combine(EARLIEST_DAY, time.min, tzinfo=timezone.utc)
LATEST_TIME = datetime.combine(LATEST_DAY, time.max, tzinfo=timezone.utc)
FISCAL_YEAR = IntRange(EARLIEST_DAY.year, LATEST_DAY.year)


def check_day(value: date, what: str = "date") -> date:
    if isinstance(value, datetime) or not isinstance(value, date) or not EARLIEST_DAY <= value <= LATEST_DAY:
        raise OutOfRange(f"{what} must fall between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


def check_time(value: datetime, what: str = "time") -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
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


def check_yuan(value: Decimal, what: str = "amount") -> Decimal:
    if not -MAX_YUAN <= value <= MAX_YUAN:
        raise OutOfRange(f"{what} must not exceed {MAX_YUAN} yuan")
    return value


# --- names of people and organisations ------------------------------------------------------
FUND_NAME = TextLimit(500)
CONTRACTOR_NAME = TextLimit(500)
WORKER_NAME = TextLimit(500)
BENEFICIARY_NAME = TextLimit(500)
PANEL_MEMBER_NAME = TextLimit(500)
THIRD_PARTY = TextLimit(200)
# Token holders, as the command line issues them; the audit trail records both.
TOKEN_SUBJECT = TextLimit(200)
TOKEN_ORGANISATION = TextLimit(200)

# --- codes and places -----------------------------------------------------------------------
CONTRACT_NO = TextLimit(500)
CREDIT_CODE = TextLimit(18, min_length=0)  # 统一社会信用代码 has 18; a natural person may have none
HOUSEHOLD_ID = TextLimit(500)
TOWNSHIP = TextLimit(500)
VILLAGE = TextLimit(500)
ATTESTATION = TextLimit(64)
IDEMPOTENCY_KEY = TextLimit(200)

# --- titles and free text -------------------------------------------------------------------
CONTRACT_TITLE = TextLimit(500)
REASON = TextLimit(500)
NOTE = TextLimit(2000, min_length=0)
# A debarment for fraud quotes the contract's number and the termination note.
DEBARMENT_REASON = TextLimit(CONTRACT_NO.max_length + NOTE.max_length + 100)
REPORT = TextLimit(2000, min_length=0)
QUALIFICATION = TextLimit(200, min_length=0)
PROOF = TextLimit(200, min_length=0)  # a reference to the beneficiary's own proof of a visit

# --- visits ---------------------------------------------------------------------------------
LOCATION = TextLimit(500, min_length=0)
VISIT_NOTES = TextLimit(2000, min_length=0)
EVIDENCE_HASH = TextLimit(200, min_length=0)
# Visits in one bulk request (POST /visits/batch, /visits/batch.csv): a day's work of a team.
VISITS_PER_BATCH = ListLimit(1000, min_items=1)
ROSTER_ROWS = ListLimit(1000, min_items=1)  # beneficiaries per roster import (each its own command)

# --- contracts ------------------------------------------------------------------------------
MILESTONE_ID = TextLimit(64)
MILESTONE_TITLE = TextLimit(200)
TRANCHE_ID = TextLimit(64)
# Visits a line buys or a milestone counts: a city's whole programme stays far below this, and
# it fits a 32-bit column with room for the sums the read models keep.
QUANTITY = IntRange(1, 10_000_000)
# A volume milestone's fulfilment names every visit it counted (about 70 bytes each), so one
# event stays a few megabytes at most; a larger programme sets several milestones.
MILESTONE_QUANTITY = IntRange(1, 100_000)
VISIT_INTERVAL_DAYS = IntRange(1, 366)

# --- scores ---------------------------------------------------------------------------------
NEED_SCORE = IntRange(0, 10)  # each need indicator: 0 (no hardship) to 10 (severe)
EVALUATION_SCORE_MAX = Decimal(100)  # each evaluation indicator: 0 to 100, 2 places
EVALUATION_SCORE_PLACES = 2

# --- list sizes -----------------------------------------------------------------------------
SERVICE_LINES = ListLimit(50, min_items=1)  # one line per catalogue item (42 today)
MILESTONES = ListLimit(50)
TRANCHES = ListLimit(50)
PANEL = ListLimit(25)  # the panel rule asks an odd number of at least 3
ATTESTATIONS = ListLimit(20)
REFERRED_SERVICES = ListLimit(50, min_items=1)

# --- read queries: a filter or id in a URL is never longer than the widest column it is compared
# with, and follows the same rule on control characters (as a JSON Schema pattern for the API) --
QUERY_TEXT = TextLimit(500)
QUERY_VALUES = ListLimit(20, min_items=1)  # a repeated filter, e.g. event types to leave out
PRINTABLE_PATTERN = f"^[^{CONTROL_CHARACTERS.pattern[1:-1]}]*$"
