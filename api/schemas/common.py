from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ledger.domain.catalogue import SERVICES, Labelled


def describe(enum: type[Labelled]) -> str:
    return "; ".join(f"`{m.value}`: {m.label.zh} / {m.label.en}" for m in enum)  # type: ignore[attr-defined]


ServiceCode = Enum("ServiceCode", {code: code for code in SERVICES}, type=str)  # type: ignore[misc]
SERVICE_CODES_DESCRIPTION = "; ".join(f"`{i.code}`: {i.zh} / {i.en}" for i in SERVICES.values())

Money = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, description="Yuan, 2 decimal places", examples=["1200.00"])]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Note = Annotated[str, Field(default="", max_length=2000)]


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
