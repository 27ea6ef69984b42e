"""Queries over the read models, scoped by role as the write side is; and projection status.

Every query accepts `min_position` (a command's response position): it waits, up to a bounded
time, until the read models have passed it, so a client reads its own writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from api.deps import CurrentActor
from api.responses import found
from api.schemas.common import ERRORS
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.errors import ContractNotFound, FundNotFound, InvalidInput, LedgerError
from projections import queries
from projections.paging import BadCursor
from projections.readside import ReadSide

router = APIRouter(responses=ERRORS)
R = Role


class ReadModelsBehind(LedgerError):
    """The read models have not reached the requested position yet; retry shortly."""

    kind = "unavailable"


def get_read_side(request: Request) -> ReadSide:
    return request.app.state.read_side


ReadSideDep = Annotated[ReadSide, Depends(get_read_side)]
MinPosition = Annotated[int | None, Query(ge=0, description="Wait until the read models have passed this log position")]
Cursor = Annotated[str | None, Query(description="From a previous page's next_cursor")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _org(by: Actor) -> str | None:
    return by.organisation_id if by.is_contractor else None


def _fresh(request: Request, read_side: ReadSide, min_position: int | None, *names: str) -> None:
    if min_position is None:
        return
    timeout = request.app.state.settings.read_wait_seconds
    if not read_side.wait_for(min_position, names, timeout):
        raise ReadModelsBehind(f"the read models have not reached position {min_position} within {timeout} s")


def _paged(items: list[dict[str, Any]], next_cursor: str | None) -> Any:
    return found({"items": items, "next_cursor": next_cursor})


def _query(read_side: ReadSide, fn: Any, **kwargs: Any) -> Any:
    try:
        with read_side.engine.connect() as conn:
            return fn(conn, **kwargs)
    except BadCursor as e:
        raise InvalidInput(str(e)) from None


@router.get("/read/caseload", tags=["read models"], summary="Caseload by contractor, worker, township or village")
def caseload(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    group_by: Literal["contractor", "worker", "township", "village"] = "contractor",
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    as_of: Annotated[datetime | None, Query(description="When a case counts as overdue; default now")] = None,
    contractor_id: str | None = None,
    township: str | None = None,
    village: str | None = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "caseload")
    now = datetime.now(timezone.utc)
    end = _aware(period_end) or now
    items, next_cursor = _query(
        read_side,
        queries.caseload,
        by=group_by,
        org=_org(by),
        period_start=_aware(period_start) or end - timedelta(days=30),
        period_end=end,
        as_of=_aware(as_of) or now,
        township=township,
        village=village,
        contractor_id=contractor_id,
        cursor=cursor,
        limit=limit,
        policy=request.app.state.ledger.policy,
    )
    return _paged(items, next_cursor)


@router.get("/read/contracts", tags=["read models"], summary="Contract fulfilment: budget, money and share done")
def contracts(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    contractor_id: str | None = None,
    fund_id: str | None = None,
    status: str | None = None,
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


@router.get("/read/contracts/{contract_id}", tags=["read models"], summary="One contract: lines, milestones, tranches, evaluations")
def contract(request: Request, contract_id: str, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "fulfilment")
    item = _query(read_side, queries.contract, contract_id=contract_id, org=_org(by))
    if item is None:
        raise ContractNotFound(f"no contract {contract_id}")
    return found(item)


@router.get("/read/payable-tranches", tags=["read models"], summary="Tranches whose milestone is fulfilled and that await release")
def payable(request: Request, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None, cursor: Cursor = None, limit: Limit = 50):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR)
    _fresh(request, read_side, min_position, "fulfilment")
    return _paged(*_query(read_side, queries.payable_tranches, org=_org(by), policy=request.app.state.ledger.policy, cursor=cursor, limit=limit))


@router.get("/read/funds", tags=["read models"], summary="Fund usage: appropriated, committed, disbursed, available")
def funds(request: Request, by: CurrentActor, read_side: ReadSideDep, fiscal_year: int | None = None, source: str | None = None, min_position: MinPosition = None, cursor: Cursor = None, limit: Limit = 50):
    by.require(R.PURCHASER, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "funds")
    return _paged(*_query(read_side, queries.funds, fiscal_year=fiscal_year, source=source, cursor=cursor, limit=limit))


@router.get("/read/funds/{fund_id}", tags=["read models"], summary="One fund, broken down by township, service class and beneficiary category")
def fund(request: Request, fund_id: str, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None):
    by.require(R.PURCHASER, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "funds")
    item = _query(read_side, queries.fund, fund_id=fund_id)
    if item is None:
        raise FundNotFound(f"no fund {fund_id}")
    return found(item)


@router.get("/read/audit", tags=["read models"], summary="The audit trail: every event in global order")
def audit(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    actor_id: str | None = None,
    role: str | None = None,
    organisation_id: str | None = None,
    aggregate_id: str | None = None,
    aggregate_type: str | None = None,
    event_type: Annotated[str | None, Query(description="e.g. Contract.TrancheReleased")] = None,
    correlation_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    order: Literal["asc", "desc"] = "asc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    by.require(R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
    _fresh(request, read_side, min_position, "audit")
    filters = {
        "actor_id": actor_id,
        "role": role,
        "organisation_id": organisation_id,
        "aggregate_id": aggregate_id,
        "aggregate_type": aggregate_type,
        "event_type": event_type,
        "correlation_id": correlation_id,
    }
    items, next_cursor = _query(
        read_side, queries.audit, org=_org(by), filters=filters, since=_aware(since), until=_aware(until), descending=order == "desc", cursor=cursor, limit=limit
    )
    return _paged(items, next_cursor)


@router.get("/projections/status", tags=["read models"], summary="Each projection's position, the head of the log, the lag")
def status(by: CurrentActor, read_side: ReadSideDep):
    return found(read_side.status())


def _aware(value: datetime | None) -> datetime | None:
    """Query times without a zone are read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
