"""Queries over the read models, scoped by role as the write side is; projection status and
readiness.

Every query accepts `min_position` (a command's response position): it waits, up to a bounded
time, until the read models have passed it, so a client reads its own writes. A position past
the head of the log, or one a stalled projection cannot reach, is answered at once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.deps import CurrentActor
from api.errors import error_body
from api.params import Cursor, Filter, FilterValue, FiscalYear, IdInPath, MinPosition, Time, text_query, time_query, values_query
from api.responses import found
from api.schemas.common import ERRORS
from api.schemas.reads import (
    AuditEntry,
    CaseloadRow,
    ContractDetail,
    ContractSummary,
    FundDetail,
    FundUsage,
    Page,
    PayableTranche,
    ProjectionsStatus,
    Readiness,
    RedFlag,
)
from ledger.application import to_plain
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.errors import ContractNotFound, FundNotFound, InvalidInput, LedgerError
from projections import queries
from projections.flags import KINDS as FLAG_KINDS
from projections.paging import BadCursor
from projections.readside import ReadSide

router = APIRouter()
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    503: {**ERRORS[503], "description": "The read models or the store cannot answer now; see Retry-After"},
}
R = Role
READY_TIMEOUT_SECONDS = 2.0  # /health/ready answers within this even when the database hangs


class ReadModelsBehind(LedgerError):
    """The read models have not reached the requested position yet; retry shortly."""

    kind = "unavailable"


class PositionBeyondHead(InvalidInput):
    """min_position lies past the last event in the log: the read models can never reach it."""


class InvalidPeriod(InvalidInput):
    """The period starts after it ends."""


def get_read_side(request: Request) -> ReadSide:
    return request.app.state.read_side


ReadSideDep = Annotated[ReadSide, Depends(get_read_side)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _org(by: Actor) -> str | None:
    return by.organisation_id if by.is_contractor else None


def _fresh(request: Request, read_side: ReadSide, min_position: int | None, *names: str) -> None:
    if min_position is None:
        return
    head = read_side.ledger.head()
    if min_position > head:
        raise PositionBeyondHead(f"min_position {min_position} is past the head of the log ({head})")
    timeout = request.app.state.settings.read_wait_seconds
    if short := read_side.behind(min_position, names, timeout):
        at = ", ".join(f"{name} at {position}" for name, position in short.items())
        raise ReadModelsBehind(f"the read models have not reached position {min_position} within {timeout} s ({at})")


def _period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise InvalidPeriod(f"the period starts ({start.isoformat()}) after it ends ({end.isoformat()})")


def _paged(items: list[dict[str, Any]], next_cursor: str | None) -> Any:
    return found({"items": items, "next_cursor": next_cursor})


def _query(read_side: ReadSide, fn: Any, **kwargs: Any) -> Any:
    try:
        with read_side.engine.connect() as conn:
            return fn(conn, **kwargs)
    except BadCursor as e:
        raise InvalidInput(str(e)) from None


def _one(read_side: ReadSide, fn: Any, missing: LedgerError, **kwargs: Any) -> Any:
    """One object from a read model, or the given not-found error (which never echoes the id)."""
    item = _query(read_side, fn, **kwargs)
    if item is None:
        raise missing
    return found(item)


@router.get("/read/caseload", tags=["read models"], responses=READ_ERRORS, summary="Caseload by contractor, worker, township or village", response_model=Page[CaseloadRow])
def caseload(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    group_by: Literal["contractor", "worker", "township", "village"] = "contractor",
    period_start: Annotated[Time | None, time_query("Start of the period whose visits count; default 30 days before its end")] = None,
    period_end: Annotated[Time | None, time_query("End of the period (exclusive); default now")] = None,
    as_of: Annotated[Time | None, time_query("When a case counts as overdue; default now")] = None,
    contractor_id: Filter = None,
    township: Filter = None,
    village: Filter = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _period(period_start, period_end)
    _fresh(request, read_side, min_position, "caseload", "rollups")  # figures from both
    now = datetime.now(timezone.utc)
    end = period_end or now
    items, next_cursor = _query(
        read_side,
        queries.caseload,
        by=group_by,
        org=_org(by),
        period_start=period_start or end - timedelta(days=30),
        period_end=end,
        as_of=as_of or now,
        township=township,
        village=village,
        contractor_id=contractor_id,
        cursor=cursor,
        limit=limit,
        policy=request.app.state.ledger.policy,
    )
    return _paged(items, next_cursor)


@router.get("/read/contracts", tags=["read models"], responses=READ_ERRORS, summary="Contract fulfilment: budget, money and share done", response_model=Page[ContractSummary])
def contracts(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    contractor_id: Filter = None,
    fund_id: Filter = None,
    status: Filter = None,
    sort: Literal["signed_at", "contract_no", "end_date"] = "signed_at",
    order: Literal["asc", "desc"] = "asc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "fulfilment")
    items, next_cursor = _query(
        read_side, queries.contracts, org=_org(by), contractor_id=contractor_id, fund_id=fund_id, status=status, sort=sort, descending=order == "desc", cursor=cursor, limit=limit
    )
    return _paged(items, next_cursor)


@router.get("/read/contracts/{contract_id}", tags=["read models"], responses=READ_ERRORS, summary="One contract: lines, milestones, tranches, evaluations", response_model=ContractDetail)
def contract(request: Request, contract_id: IdInPath, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "fulfilment")
    return _one(read_side, queries.contract, ContractNotFound("no such contract"), contract_id=contract_id, org=_org(by))


@router.get("/read/payable-tranches", tags=["read models"], responses=READ_ERRORS, summary="Tranches whose milestone is fulfilled and that await release", response_model=Page[PayableTranche])
def payable(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    contractor_id: Filter = None,
    fund_id: Filter = None,
    contract_no: Filter = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR)
    _fresh(request, read_side, min_position, "fulfilment")
    filters = {"contractor_id": contractor_id, "fund_id": fund_id, "contract_no": contract_no}
    return _paged(*_query(read_side, queries.payable_tranches, org=_org(by), policy=request.app.state.ledger.policy, **filters, cursor=cursor, limit=limit))


@router.get("/read/funds", tags=["read models"], responses=READ_ERRORS, summary="Fund usage: appropriated, committed, disbursed, available", response_model=Page[FundUsage])
def funds(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    fiscal_year: FiscalYear = None,
    source: Filter = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "funds")
    return _paged(*_query(read_side, queries.funds, fiscal_year=fiscal_year, source=source, cursor=cursor, limit=limit))


@router.get("/read/funds/{fund_id}", tags=["read models"], responses=READ_ERRORS, summary="One fund, broken down by township, service class and beneficiary category", response_model=FundDetail)
def fund(request: Request, fund_id: IdInPath, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None):
    by.require(R.PURCHASER, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "funds")
    return _one(read_side, queries.fund, FundNotFound("no such fund"), fund_id=fund_id)


@router.get("/read/audit", tags=["read models"], responses=READ_ERRORS, summary="The audit trail: every business event in global order (bookkeeping on request)", response_model=Page[AuditEntry])
def audit(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    actor_id: Filter = None,
    role: Filter = None,
    organisation_id: Filter = None,
    aggregate_id: Filter = None,
    aggregate_type: Filter = None,
    event_type: Annotated[str | None, text_query("e.g. Contract.TrancheReleased")] = None,
    correlation_id: Filter = None,
    contract_id: Annotated[str | None, text_query("The contract the event belongs to, e.g. every event of its visits")] = None,
    include: Annotated[
        Literal["business", "all"],
        Query(description="`business` leaves out the ledger's bookkeeping (volume tallies, idempotency records, API tokens) unless an aggregate or type is named; `all` keeps everything"),
    ] = "business",
    exclude_event_type: Annotated[list[FilterValue] | None, values_query("Event types to leave out, e.g. Visit.Confirmed")] = None,
    exclude_aggregate_type: Annotated[list[FilterValue] | None, values_query("Aggregate types to leave out, e.g. Evaluation")] = None,
    since: Annotated[Time | None, time_query("Events recorded at or after this time")] = None,
    until: Annotated[Time | None, time_query("Events recorded before this time")] = None,
    order: Literal["asc", "desc"] = "asc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _period(since, until)
    _fresh(request, read_side, min_position, "audit")
    filters = {
        "actor_id": actor_id,
        "role": role,
        "organisation_id": organisation_id,
        "aggregate_id": aggregate_id,
        "aggregate_type": aggregate_type,
        "event_type": event_type,
        "correlation_id": correlation_id,
        "contract_id": contract_id,
    }
    items, next_cursor = _query(
        read_side,
        queries.audit,
        org=_org(by),
        filters=filters,
        since=since,
        until=until,
        descending=order == "desc",
        cursor=cursor,
        limit=limit,
        business_only=include == "business",
        exclude_event_types=exclude_event_type,
        exclude_aggregate_types=exclude_aggregate_type,
    )
    return _paged(items, next_cursor)


@router.get("/projections/status", tags=["read models"], responses=READ_ERRORS, summary="Each projection's state (running, lagging, stalled), position and lag", response_model=ProjectionsStatus)
def status(request: Request, by: CurrentActor, read_side: ReadSideDep):
    return found(read_side.status(request.app.state.settings.ready_max_lag_seconds))


@router.get(
    "/health/ready",
    tags=["health"],
    summary="Ready to serve: the store answers and every read model is running",
    response_model=Readiness,
    responses={
        **{status: ERRORS[status] for status in (400, 413, 500)},
        503: {**ERRORS[503], "description": "Not ready: `detail` names why (NotReady), or the store did not answer (StoreUnavailable)"},
    },
)
async def ready(request: Request, read_side: ReadSideDep):
    """No token needed. Answers within a bounded time even if the database hangs: one check runs
    at a time in a worker thread, and callers that arrive meanwhile share its answer."""
    max_lag = request.app.state.settings.ready_max_lag_seconds
    state = request.app.state
    probe = getattr(state, "readiness_probe", None)
    if probe is None or probe.done():
        probe = state.readiness_probe = asyncio.get_running_loop().run_in_executor(None, read_side.readiness, max_lag)
    try:
        is_ready, detail = await asyncio.wait_for(asyncio.shield(probe), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # a timeout or a store that refuses: not ready, and say so
        why = "did not answer in time" if isinstance(exc, TimeoutError) else "is unavailable"
        return _not_ready("StoreUnavailable", f"the store {why}")
    if not is_ready:
        return _not_ready("NotReady", to_plain({"status": "not_ready", **detail}))
    return found({"status": "ready", **detail})


def _not_ready(code: str, detail: Any) -> JSONResponse:
    return JSONResponse(error_body(code, detail), status_code=503, headers={"Retry-After": "5"})


@router.get("/read/red-flags", tags=["read models"], responses=READ_ERRORS, summary="Red flags, each naming the events that show it", response_model=Page[RedFlag])
def red_flags(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    kind: Literal[FLAG_KINDS] | None = None,  # type: ignore[valid-type]
    contractor_id: Filter = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.AUDITOR, R.CONTRACTOR)
    _fresh(request, read_side, min_position, "flags")
    return _paged(*_query(read_side, queries.red_flags, org=_org(by), kind=kind, contractor_id=contractor_id, cursor=cursor, limit=limit))
