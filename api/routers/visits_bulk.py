"""Bulk posting of visits: a day's visits in one request, as JSON or as a CSV file.

Every item is answered alone (recorded, already_recorded or refused with the code POST /visits
would give); only faults of the request as a whole (role, body, size, CSV header) refuse it all.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, LedgerDep, Milestones
from api.schemas.bulk import BatchResult, BatchVisit, VisitBatch, check_items
from api.schemas.common import ERRORS
from ledger.bulk_visits import REFUSED, ItemResult, VisitDraft
from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.errors import InvalidInput

log = structlog.get_logger("ledger.api")
router = APIRouter(responses=ERRORS)

COLUMNS = list(BatchVisit.model_fields)
REQUIRED_COLUMNS = [name for name, f in BatchVisit.model_fields.items() if f.is_required()]


class RowRefused(dict):  # type: ignore[type-arg]
    """The result of a CSV row that cannot be read as a visit at all."""


class InvalidCsv(InvalidInput):
    """The CSV file cannot be read as a batch of visits: its header, or its number of rows."""


BATCH_DESCRIPTION = f"""
Posts 1 to {limits.VISITS_PER_BATCH.max_items} visits at once. Each item is a POST /visits body plus `client_id`,
the client's own id for the visit and its idempotency key (scoped to the contractor organisation): send a
batch again after a lost answer and its visits answer `already_recorded` with their first `visit_id` and
`position`; nothing is recorded twice, even when retries race. A `client_id` sent again with a different visit
is refused `IdempotencyKeyReused`; repeated inside one batch, its later copies answer like such retries.

Each item is checked alone: a refused item (`error` is the code POST /visits would give, or
`ValidationError` with the problems as `detail`) never sinks its neighbours. The answer is 200 with one
result per item in the order sent.
"""

CSV_DESCRIPTION = f"""
The same batch as a CSV file (`Content-Type: text/csv`, UTF-8, an optional byte-order mark): a header row of
column names ({", ".join(f"`{c}`" for c in COLUMNS)}; the optional ones may be left out), then one visit per row,
1 to {limits.VISITS_PER_BATCH.max_items} rows. An empty cell is an absent value. Each result carries its `row`
(the header is row 1); a row with the wrong number of cells is refused alone as `MalformedRow`.
"""

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.post("/visits/batch", tags=["visits"], summary="Post many visits at once, each answered alone", description=BATCH_DESCRIPTION, response_model=BatchResult)
def record_batch(body: VisitBatch, by: CurrentActor, ledger: LedgerDep, milestones: Milestones) -> JSONResponse:
    by.require(Role.CONTRACTOR)
    return _record(ledger, milestones, by, body.visits, rows=None, source="json")


async def csv_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/csv":
        raise HTTPException(415, "send the file as Content-Type: text/csv")
    return await request.body()


@router.post(
    "/visits/batch.csv",
    tags=["visits"],
    summary="Post many visits as a CSV file, each row answered alone",
    description=CSV_DESCRIPTION,
    response_model=BatchResult,
    openapi_extra=CSV_BODY,
    responses={415: {"description": "The body is not sent as text/csv"}},
)
def record_batch_csv(raw: Annotated[bytes, Depends(csv_body)], by: CurrentActor, ledger: LedgerDep, milestones: Milestones) -> JSONResponse:
    by.require(Role.CONTRACTOR)
    items, rows = read_csv(raw)
    return _record(ledger, milestones, by, items, rows=rows, source="csv")


def _record(ledger: LedgerDep, milestones: Milestones, by: Actor, items: list[Any], rows: list[int] | None, source: str) -> JSONResponse:
    return JSONResponse(record_items(ledger, milestones, by, items, rows, source))


def record_items(ledger: Any, milestones: Any, by: Actor, items: list[Any], rows: list[int] | None, source: str) -> dict[str, Any]:
    """Records the readable items and answers each one (the console's CSV upload uses it too)."""
    readable = [n for n, item in enumerate(items) if not isinstance(item, RowRefused)]
    checked: list[Any] = list(items)
    for n, item in zip(readable, check_items([items[n] for n in readable]), strict=True):
        checked[n] = item
    drafts = [_draft(item) for item in checked if isinstance(item, BatchVisit)]
    answered = iter(ledger.record_visits(by, drafts) if drafts else [])
    results: list[dict[str, Any]] = []
    for n, item in enumerate(checked):
        if isinstance(item, BatchVisit):
            result = _plain(next(answered))
        elif isinstance(item, RowRefused):
            result = dict(item)
        else:
            result = {"client_id": _client_id(items[n]), "status": REFUSED, "error": "ValidationError", "detail": item}
        if rows is not None:
            result["row"] = rows[n]
        results.append(result)
    if any(r["status"] == "recorded" for r in results):
        milestones.after_command()  # let delivered volume reach the contract's milestones
    counts = Counter(r["status"] for r in results)
    refusals = Counter(r["error"] for r in results if r["status"] == REFUSED)
    # Counts only: never the ids, which could lead to a person.
    log.info("visit_batch", source=source, items=len(results), recorded=counts["recorded"], already_recorded=counts["already_recorded"], refused=counts[REFUSED], refusals=dict(refusals))
    position = max((r["position"] for r in results if "position" in r), default=None) or ledger.head()
    return {"results": results, "recorded": counts["recorded"], "already_recorded": counts["already_recorded"], "refused": counts[REFUSED], "position": position}


def _draft(item: BatchVisit) -> VisitDraft:
    return VisitDraft(
        client_id=item.client_id,
        case_id=item.case_id,
        worker_id=item.worker_id,
        service_code=item.service_code,  # type: ignore[arg-type]
        started_at=item.started_at,
        ended_at=item.ended_at,
        location=item.location,
        notes=item.notes,
        evidence_hash=item.evidence_hash,
    )


def _plain(r: ItemResult) -> dict[str, Any]:
    """The result with only the keys that apply to its status."""
    if r.status == REFUSED:
        return {"client_id": r.client_id, "status": r.status, "error": r.error, "detail": r.detail}
    return {"client_id": r.client_id, "status": r.status, "visit_id": r.visit_id, "position": r.position}


def _client_id(item: Any) -> str | None:
    """The client_id of a refused item, when it is one the client could have meant."""
    value = item.get("client_id") if isinstance(item, dict) else None
    try:
        return limits.IDEMPOTENCY_KEY.check(value, "client_id")
    except InvalidInput:
        return None


def read_csv(raw: bytes) -> tuple[list[Any], list[int]]:
    """The rows as items (dicts of the cells given, or a refusal of a row that cannot be read)
    and their row numbers in the file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, "the CSV file must be UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InvalidCsv("the file is empty: a header row of column names comes first") from None
    except csv.Error:
        raise InvalidCsv("the header row cannot be read") from None
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise InvalidCsv(
            f"the header must name each of {', '.join(REQUIRED_COLUMNS)} once, optionally {', '.join(c for c in COLUMNS if c not in REQUIRED_COLUMNS)}; unknown: {unknown[:5]}, missing: {missing}"
        )
    items: list[Any] = []
    rows: list[int] = []
    row = 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            items.append(RowRefused(client_id=None, status=REFUSED, error="MalformedRow", detail=f"the row cannot be read: {e}"))
            rows.append(row)
            continue
        if not cells or all(not c.strip() for c in cells):
            continue  # a blank line is no visit
        if len(cells) != len(header):
            record = dict(zip(header, cells, strict=False))
            detail = f"the row has {len(cells)} cells; the header names {len(header)}"
            items.append(RowRefused(client_id=_client_id(record), status=REFUSED, error="MalformedRow", detail=detail))
        else:
            items.append({name: cell for name, cell in zip(header, cells, strict=True) if cell != ""})
        rows.append(row)
        if len(items) > limits.VISITS_PER_BATCH.max_items:
            break
    if not limits.VISITS_PER_BATCH.min_items <= len(items) <= limits.VISITS_PER_BATCH.max_items:
        raise InvalidCsv(f"the file must hold 1 to {limits.VISITS_PER_BATCH.max_items} visits, one per row after the header")
    return items, rows
