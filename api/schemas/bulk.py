"""Bulk posting of visits: a batch of RecordVisit items, each with the client's own id.

The request's outer shape (an object with 1..VISITS_PER_BATCH items) is checked as a whole; each
item is checked on its own (`check_items`), so one malformed visit is refused alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from api.schemas.common import Command, members, text
from api.schemas.services import RecordVisit
from ledger.domain import limits

CLIENT_ID_DESCRIPTION = (
    f"The client's own id for this visit, 1 to {limits.IDEMPOTENCY_KEY.max_length} characters: its idempotency key, "
    "scoped to the contractor organisation. Sending it again with the same visit answers already_recorded."
)


class BatchVisit(RecordVisit):
    client_id: text(limits.IDEMPOTENCY_KEY) = Field(description=CLIENT_ID_DESCRIPTION)  # type: ignore[valid-type]


ITEM_FIELDS = ", ".join(f"`{name}`" for name in BatchVisit.model_fields)
EXAMPLE_ITEM = {"client_id": "phone-7/2026-03-01/1", **RecordVisit.model_config["json_schema_extra"]["examples"][0]}  # type: ignore[index]


class VisitBatch(Command):
    # Items are any objects here, checked one by one later: a malformed visit is refused alone
    # (200, its result says why), so the document must not promise a 422 for it.
    visits: list[dict[str, Any]] = members(
        limits.VISITS_PER_BATCH,
        description=(f"1 to {limits.VISITS_PER_BATCH.max_items} visits, each a POST /visits body (RecordVisit) plus client_id: {ITEM_FIELDS}. Each is checked and answered alone."),
        examples=[[EXAMPLE_ITEM]],
    )


class BatchItemResult(BaseModel):
    client_id: str | None = Field(description="As sent; null if the item had no usable client_id")
    status: Literal["recorded", "already_recorded", "refused"]
    visit_id: str | None = Field(default=None, description="recorded or already_recorded: the visit's id")
    position: int | None = Field(default=None, description="recorded or already_recorded: the position of the visit in the global log")
    row: int | None = Field(default=None, description="CSV only: the item's row in the file (the header is row 1)")
    error: str | None = Field(default=None, description="refused: the stable code POST /visits would give the same visit")
    detail: Any = None


class BatchResult(BaseModel):
    results: list[BatchItemResult] = Field(description="One per item, in the order sent")
    recorded: int
    already_recorded: int
    refused: int
    position: int = Field(description="The log position to pass as min_position to read the batch's effects")


_ITEMS = TypeAdapter(list[BatchVisit])


def check_items(items: list[Any]) -> list[BatchVisit | list[dict[str, Any]]]:
    """Each item as a BatchVisit, or the problems that refuse it (shaped like a 422's detail).

    The whole list is checked in one call, the fast path; only when something is wrong are the
    items checked one by one, to tell which."""
    try:
        return list(_ITEMS.validate_python(items))
    except ValidationError as e:
        problems: dict[int, list[dict[str, Any]]] = {}
        for error in e.errors(include_url=False, include_input=False):
            loc = error.get("loc", ())
            if loc and isinstance(loc[0], int):
                problems.setdefault(loc[0], []).append({"loc": list(loc[1:]), "msg": error.get("msg"), "type": error.get("type")})
    return [problems[i] if i in problems else BatchVisit.model_validate(item) for i, item in enumerate(items)]
