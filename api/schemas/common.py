from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ledger.domain import limits
from ledger.domain.catalogue import SERVICES, Labelled
from ledger.domain.limits import IntRange, ListLimit, TextLimit


def describe(enum: type[Labelled]) -> str:
    return "; ".join(f"`{m.value}`: {m.label.zh} / {m.label.en}" for m in enum)  # type: ignore[attr-defined]


ServiceCode = Enum("ServiceCode", {code: code for code in SERVICES}, type=str)  # type: ignore[misc]
SERVICE_CODES_DESCRIPTION = "; ".join(f"`{i.code}`: {i.zh} / {i.en}" for i in SERVICES.values())

# --- the domain's limits as field constraints, so a value past one is a 422 ------------------
# A pattern rather than a validator, so the OpenAPI shows clients (and schemathesis) the rule.
NO_CONTROL_CHARACTERS = "^[^" + limits.CONTROL_CHARACTERS.pattern[1:-1] + "]*$"


def text(limit: TextLimit, **field: Any) -> Any:
    """A str within a domain TextLimit: its lengths and no control characters (a command may
    narrow it, as a field that must not be empty)."""
    bounds = {"min_length": limit.min_length, "max_length": limit.max_length, "pattern": NO_CONTROL_CHARACTERS}
    return Annotated[str, Field(**{**bounds, **field})]


def whole(limit: IntRange, **field: Any) -> Any:
    """An int within a domain IntRange."""
    return Annotated[int, Field(ge=limit.minimum, le=limit.maximum, **field)]


def members(limit: ListLimit, **field: Any) -> Any:
    """The Field of a list within a domain ListLimit (a command may narrow it)."""
    return Field(**{"min_length": limit.min_items, "max_length": limit.max_items, **field})


Money = Annotated[
    Decimal,
    Field(
        gt=0,
        le=limits.MAX_YUAN,
        max_digits=limits.MONEY_MAX_DIGITS,
        decimal_places=limits.MONEY_PLACES,
        description=f"Yuan, 2 decimal places, at most {limits.MAX_YUAN}",
        examples=["1200.00"],
    ),
]
Day = Annotated[date, Field(ge=limits.EARLIEST_DAY, le=limits.LATEST_DAY, description=f"{limits.EARLIEST_DAY} to {limits.LATEST_DAY}")]
Moment = Annotated[
    AwareDatetime,
    Field(ge=limits.EARLIEST_TIME, le=limits.LATEST_TIME, description=f"With a time zone, {limits.EARLIEST_DAY} to {limits.LATEST_DAY} in UTC"),
]
Text = text(limits.REASON)
Note = text(limits.NOTE, default="")


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Reason(Command):
    reason: Text


class Created(BaseModel):
    """New ids, the position of the command's last event in the global log, and whether this
    is a replay of an earlier response to the same Idempotency-Key."""

    model_config = ConfigDict(extra="allow")
    position: int
    replayed: bool = False


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code")
    detail: Any


RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "MalformedRequest: the body cannot be read (e.g. it is not UTF-8)"},
    401: {"model": ErrorBody, "description": "Missing, unknown or revoked token"},
    403: {"model": ErrorBody, "description": "The role may not do this"},
    404: {"model": ErrorBody, "description": "No such object, or another organisation's"},
    409: {"model": ErrorBody, "description": "A business rule refuses the command"},
    413: {"model": ErrorBody, "description": "RequestTooLarge: the body passes the service's limit (1 MB by default)"},
    422: {"model": ErrorBody, "description": "The request's shape or values are wrong"},
    500: {"model": ErrorBody, "description": "InternalError: unexpected; the detail gives the request id to find it in the log"},
    503: {
        "model": ErrorBody,
        "description": "StoreUnavailable or StoreError: a store is down or timed out; retry with the same Idempotency-Key to record a command exactly once",
        "headers": RETRY_AFTER_HEADER,
    },
}
